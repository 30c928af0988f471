"""`linkctl watch`, `linkctl history`, `linkctl status`: the live watcher and its store.

The daemon and the store are imported inside the commands: every `linkctl` run
loads this module.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from linkctl.cli.durations import StoreTimeout

if TYPE_CHECKING:
    from linkctl.store import HistoryRow, LinkStatus

DEFAULT_STORE = "sqlite:///var/lib/linkctl/events.db"

Store = Annotated[str, typer.Option("--store", help="sqlite:///PATH or postgresql://USER@HOST/DB")]


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"


Fmt = Annotated[Format, typer.Option("--format", "-f", help="table or json")]
HostGlob = Annotated[
    str | None, typer.Option("--host", help="only this host, or hosts matching a glob (web-*); default: all")
]


def register(app: typer.Typer) -> None:
    app.command("watch")(watch_cmd)
    app.command("history")(history_cmd)
    app.command("status")(status_cmd)


def watch_cmd(
    netns: Annotated[
        list[str] | None,
        typer.Option("--netns", "-n", help="namespace to watch (repeat; '' is linkctl's own); may appear later"),
    ] = None,
    iface: Annotated[list[str] | None, typer.Option("--iface", help="link name glob (repeat), e.g. 'eth*'")] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="watch.yaml (default /etc/linkctl/watch.yaml if present)")
    ] = None,
    store: Annotated[str | None, typer.Option("--store", help="sqlite:///PATH or postgresql://...")] = None,
    host: Annotated[
        str | None, typer.Option("--host", help="the name this machine's rows and alerts carry (default: hostname)")
    ] = None,
    listen: Annotated[
        str | None, typer.Option("--listen", help="Prometheus metrics on HOST:PORT ('' turns them off)")
    ] = None,
    kernel_log: Annotated[
        Path | None, typer.Option("--kernel-log", help="follow this file instead of /dev/kmsg (across rotation)")
    ] = None,
    install_unit: Annotated[
        bool,
        typer.Option(
            "--install-unit",
            help="install and enable linkctl-watch.service running this linkctl (and watch.yaml if absent), then exit",
        ),
    ] = False,
    root: Annotated[Path, typer.Option("--root", help="with --install-unit: install under this root")] = Path("/"),
) -> None:
    """Follow link events as they happen: record them, detect flapping, alert, serve metrics."""
    if install_unit:
        _install_unit(root, config)
        return
    from linkctl.cli.watch_printer import Printer
    from linkctl.watch.config import load_config
    from linkctl.watch.daemon import run_watch

    overrides: dict[str, Any] = {
        "netns": netns or None,
        "iface": iface or None,
        "store": store,
        "host": host,
        "listen": listen,
        "kernel_log": kernel_log,
    }
    stdout = sys.stdout
    raise typer.Exit(run_watch(load_config(config, overrides), lambda core: Printer(stdout, core, stdout.isatty())))


def _install_unit(root: Path, config: Path | None) -> None:
    from linkctl.diagnose.persist import install_watch

    for line in install_watch(root, config=config.absolute() if config else None).lines():
        typer.echo(line)


def history_cmd(
    iface: Annotated[str | None, typer.Argument(help="link name or glob; all links if omitted")] = None,
    store: Store = DEFAULT_STORE,
    since: Annotated[str, typer.Option("--since", help="a duration (90s, 30m, 24h, 7d) or ISO 8601 time")] = "24h",
    netns: Annotated[str | None, typer.Option("--netns", "-n", help="only this namespace ('' is the host's)")] = None,
    host: HostGlob = None,
    fmt: Fmt = Format.TABLE,
    store_timeout: StoreTimeout = None,
) -> None:
    """The recorded link events, oldest first."""
    from linkctl.store import parse_since, read_store

    start = parse_since(since)
    with read_store(store, store_timeout) as db:
        rows = db.history(iface, since=start, netns=netns, host=host)
    if fmt is Format.JSON:
        _write_json([row.to_json() for row in rows])
    else:
        _history_table(rows)


def status_cmd(
    store: Store = DEFAULT_STORE,
    host: HostGlob = None,
    since: Annotated[
        str, typer.Option("--since", help="count transitions from: a duration (90s, 30m, 24h, 7d) or ISO 8601 time")
    ] = "24h",
    fmt: Fmt = Format.TABLE,
    store_timeout: StoreTimeout = None,
) -> None:
    """Each watched link, worst first (flapping now, then most transitions since --since):
    its host, state, since when, whether it is flapping."""
    from linkctl.store import parse_since, read_store

    start = parse_since(since)
    with read_store(store, store_timeout) as db:
        links = db.status(host=host, since=start)
    if fmt is Format.JSON:
        _write_json([link.to_json() for link in links])
    else:
        _status_table(links)


def _write_json(data: list[dict[str, Any]]) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def _history_table(rows: list[HistoryRow]) -> None:
    from linkctl.cli.table import write_table

    lines = []
    for row in rows:
        changes = "" if row.carrier is None else str(row.carrier.changes)
        words = row.driver.text if row.driver and row.driver.text else (row.detail or "")
        lines.append(
            [
                row.time.astimezone().isoformat(timespec="milliseconds"),
                row.host,
                row.netns or "-",
                row.ifname,
                row.event.value,
                str(row.transitions),
                changes,
                row.source.value,
                words,
            ]
        )
    write_table(("time", "host", "netns", "link", "event", "transitions", "carrier changes", "source", "driver"), lines)


def _status_table(links: list[LinkStatus]) -> None:
    from linkctl.cli.table import write_table

    rows = [
        [
            link.host,
            link.netns or "-",
            link.ifname,
            link.state.label,
            link.since.astimezone().isoformat(timespec="seconds"),
            "yes" if link.flapping else "no",
            str(link.transitions),
            "" if link.carrier_changes is None else str(link.carrier_changes),
        ]
        for link in links
    ]
    write_table(("host", "netns", "link", "state", "since", "flapping now", "transitions", "carrier changes"), rows)

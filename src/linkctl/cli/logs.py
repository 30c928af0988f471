"""`linkctl logs ...`: kernel log parsing and analysis (front end only).

The readers are imported inside the commands: every `linkctl` run loads this module.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from linkctl.cli import logs_plain
from linkctl.cli.output import emit
from linkctl.errors import LinkctlError, printable

if TYPE_CHECKING:
    from linkctl.domain.events import KernelLogLine

logs_app = typer.Typer(help="Read kernel logs into link events and flap reports.", no_args_is_help=True)


class SourceOpt(StrEnum):
    KMSG = "kmsg"
    DMESG = "dmesg"
    JOURNAL = "journal"


class ParseFormat(StrEnum):
    JSONL = "jsonl"
    TABLE = "table"


class ReportFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    HTML = "html"


Files = Annotated[
    list[str] | None, typer.Argument(help="log files: plain, .gz, a rotated set (read oldest first), or - for stdin")
]
Source = Annotated[
    SourceOpt | None, typer.Option("--source", help="read /dev/kmsg, run dmesg, or ask journald, instead of files")
]
Year = Annotated[
    int | None, typer.Option("--year", help="year of year-less syslog stamps (default: from the file's mtime)")
]
Quiet = Annotated[bool, typer.Option("-q", "--quiet", help="no progress bar, no notes on stderr (errors still)")]


def register(app: typer.Typer) -> None:
    app.add_typer(logs_app, name="logs")


@logs_app.command("parse")
def parse_cmd(
    files: Files = None,
    source: Source = None,
    fmt: Annotated[ParseFormat, typer.Option("-f", "--format", help="jsonl or table")] = ParseFormat.JSONL,
    year: Year = None,
    quiet: Quiet = False,
) -> None:
    """Print the link events of kernel logs, one per line, in input order.

    Reading files with the events going to a file or a pipe, a progress bar is drawn on stderr
    when it is a terminal (not under CI=true, not with -q)."""
    # Events printed to the terminal show the progress themselves (and a bar would garble them).
    events = _events(files, source, year, quiet or sys.stdout.isatty())
    # A reader that left (`| head`) or a full disk: the guard's, as for every command (cli/guard.py).
    if fmt is ParseFormat.JSONL:
        logs_plain.write_jsonl(events)
    else:
        _write_table(events)
    sys.stdout.flush()


@logs_app.command("analyze")
def analyze_cmd(
    files: Files = None,
    source: Source = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="ignore events before T: a duration back from now (24h, 7d) or ISO 8601"),
    ] = None,
    until: Annotated[str | None, typer.Option("--until", help="ignore events after T (a duration ago, or ISO)")] = None,
    iface: Annotated[str | None, typer.Option("--iface", help="only this link")] = None,
    fmt: Annotated[ReportFormat, typer.Option("-f", "--format", help="text, json or html")] = ReportFormat.TEXT,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="write the report here (- for stdout)")] = None,
    year: Year = None,
    compare_at: Annotated[
        str | None, typer.Option("--compare-at", help="also give each link's flap rate before and after T")
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Group link events into down bursts and judge each link (a progress bar on stderr while
    files are read, when it is a terminal: not under CI=true, not with -q)."""
    from linkctl.logs.analysis import analyze

    lo, hi = _time_arg(since, "--since"), _time_arg(until, "--until")
    at = _time_arg(compare_at, "--compare-at")
    if fmt is ReportFormat.HTML and output is None:
        raise LinkctlError("--format html needs -o FILE (or -o - for stdout)")
    _not_an_input(output, files or [])
    # A generator: the analysis takes the events one by one and keeps none of them.
    unread: list[str] = []  # filled as the files are read: the report says it is of the rest
    events = (
        e
        for e in _events(files, source, year, quiet, unread)
        if (iface is None or e.ifname == iface) and _within(e, lo, hi)
    )
    report = analyze(events, files=_names(files, source), compare_at=at)
    report.read_in_part = unread
    text = _render(report, fmt)
    if quiet:
        import contextlib
        import io

        with contextlib.redirect_stderr(io.StringIO()):  # emit's "wrote FILE" note
            emit(text, output)
    else:
        emit(text, output)


def _render(report: object, fmt: ReportFormat) -> str:
    import json

    from linkctl.logs.analysis import Report, report_json
    from linkctl.logs.report_html import render_html
    from linkctl.logs.report_text import render_text

    assert isinstance(report, Report)
    if fmt is ReportFormat.JSON:
        return json.dumps(report_json(report), indent=2) + "\n"
    if fmt is ReportFormat.HTML:
        return render_html(report)
    return render_text(report)


def _events(
    files: list[str] | None,
    source: SourceOpt | None,
    year: int | None,
    quiet: bool = False,
    unread: list[str] | None = None,
) -> Iterator[KernelLogLine]:
    from linkctl.logs import sources

    if files and source is not None:
        raise LinkctlError("give FILE arguments or --source, not both")
    if files:
        for path in files:
            if path != "-":
                _readable(path)
        return logs_plain.read(files, quiet, year, unread)
    if source is not None:
        return sources.read_source(sources.Source(source.value), year)
    if sys.stdin.isatty():
        raise LinkctlError("no input: give FILE (or - for stdin), or --source kmsg|dmesg|journal")
    return sources.read_files(["-"], year, unread=unread)


def _not_an_input(output: Path | None, files: list[str]) -> None:
    """Refuses -o naming a file the report is read from: `logs analyze kern.log -o kern.log`
    replaced the log with its report."""
    if output is None or str(output) == "-":
        return
    for path in files:
        try:
            same = path != "-" and os.path.samefile(path, output)
        except OSError:
            continue  # not there (yet): not the same file
        if same:
            raise LinkctlError(f"-o {output}: is the input {path}; the report would replace the log: give another FILE")


def _readable(path: str) -> None:
    """Refuses a FILE argument that is not there, naming why: a symlink loop was said to be
    'no such file' (Path.exists() is False for both)."""
    try:
        os.stat(path)
    except FileNotFoundError:
        raise LinkctlError(f"{path}: no such file") from None
    except OSError as exc:
        raise LinkctlError(f"{path}: {exc.strerror}") from None


def _names(files: list[str] | None, source: SourceOpt | None) -> list[str]:
    if files:
        return list(files)
    return [source.value] if source is not None else ["-"]


def _time_arg(text: str | None, option: str) -> datetime | None:
    """An ISO 8601 time, or a duration back from now (24h, 7d), as `history --since` takes them."""
    if text is None:
        return None
    from linkctl.store.records import duration_ago

    ago = duration_ago(text)
    if ago is not None:
        return ago
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise LinkctlError(
            f"{option} {text!r}: not a time; use a duration back from now (90s, 30m, 24h, 7d, 2w) or ISO 8601 "
            "such as 2024-03-30T06:32:00"
        ) from None


def _within(event: KernelLogLine, lo: datetime | None, hi: datetime | None) -> bool:
    if lo is None and hi is None:
        return True
    if event.time is None:
        return False
    when = _utc(event.time)
    return (lo is None or when >= _utc(lo)) and (hi is None or when <= _utc(hi))


def _utc(when: datetime) -> datetime:
    # Zone-less stamps are compared as they are written, as `analysis` does.
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _write_table(events: Iterator[KernelLogLine]) -> None:
    write = sys.stdout.write
    write(
        f"{'TIME':26} {'HOST':12} {'EVENT':17} {'LINK':15} {'SPEED':>7} {'DUPLEX':6} {'FLOW':5} {'DRIVER':10} WHERE\n"
    )
    for e in events:
        when = e.time.isoformat(sep=" ") if e.time else (f"[{e.uptime:.6f}]" if e.uptime is not None else "-")
        speed = str(e.speed_mbps) if e.speed_mbps else "-"
        write(
            f"{when[:26]:26} {_fit(e.host or '-', 12)} {e.event.log_name:17} "
            f"{_fit(e.ifname or '-', 15)} {speed:>7} {e.duplex.value if e.duplex else '-':6} "
            f"{e.flow_control.value if e.flow_control else '-':5} "
            f"{_fit(e.driver or '-', 10)} {printable(f'{e.file}:{e.line}')}\n"
        )


def _fit(text: str, cells: int) -> str:
    """`text` cut or padded to `cells` terminal cells, what a terminal would act on escaped: a
    name's wide characters take two cells each (counted as one, they pushed the columns after
    them out of line), a bidi override in it turned the rest of the line around."""
    text = printable(text)
    if text.isascii():
        return f"{text[:cells]:{cells}}"
    from rich.cells import set_cell_size

    return set_cell_size(text, cells)

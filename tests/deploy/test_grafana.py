"""The Grafana dashboard (deploy/grafana/linkctl.json): every panel's PromQL runs against a
real Prometheus scraping a real `linkctl watch --listen` and a real node_exporter, all three
inside a throwaway network namespace that plays one host (the watcher watches its own
namespace, as on a host: netns=""), whose veth has just flapped. Every panel must return
series; node_exporter's are skipped, with the reason, where prometheus-node-exporter is not
installed (scripts/setup.sh --test installs it)."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.conftest import LINKCTL
from tests.helpers.processes import stop
from tests.watch.test_daemon import Watcher, add_pairs, ip, namespace, toggle, unique
from tests.watch.test_metrics import free_port, running_prometheus, scrape_job

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "linkctl.json"
# What Grafana substitutes before it sends a query; "All" is the variables' allValue.
GRAFANA_VARS = {"$__rate_interval": "1m", "$__range": "1h", "$host": ".*", "$device": ".*"}
NODE_SERIES = re.compile(r"\bnode_[a-z_]+")
WAIT = 90.0  # bounded waits for conditions, never asserted as timings
CLONE_NEWNET = 0x40000000
T = TypeVar("T")


def panel_queries() -> list[tuple[str, str]]:
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    out = []
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            out.append((f"{panel['title']} [{target['refId']}]", target["expr"]))
    return out


def needs_node_exporter(expr: str) -> bool:
    return NODE_SERIES.search(expr) is not None


def grafana_expand(expr: str) -> str:
    for name, value in GRAFANA_VARS.items():
        expr = expr.replace(name, value)
    return expr


def query(base: str, expr: str) -> tuple[str, list[dict[str, Any]], str]:
    """(status, result, error) from /api/v1/query; a parse error is an HTTP 400 with a body."""
    url = f"{base}/api/v1/query?query={urllib.parse.quote(expr)}"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            body = json.load(response)
    except urllib.error.HTTPError as err:
        try:
            body = json.load(err)
        except ValueError:  # not the API's answer: a server still starting (503 "not ready")
            return "unreachable", [], f"HTTP {err.code}"
    except OSError as err:
        return "unreachable", [], str(err)
    return body["status"], body.get("data", {}).get("result", []), body.get("error", "")


def wait_for(base: str, expr: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + WAIT
    while True:
        status, result, error = query(base, expr)
        assert status in ("success", "unreachable"), f"{expr}: {error}"
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


class InHost:
    """A thread inside the namespace that plays the host: what it starts (Prometheus) and the
    sockets it opens (the queries) are in that namespace, whose loopback is the host's."""

    def __init__(self, ns: str) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, initializer=_enter, initargs=(ns,))

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        return self.pool.submit(fn, *args).result()

    @contextlib.contextmanager
    def entered(self, cm: contextlib.AbstractContextManager[T]) -> Iterator[T]:
        value = self.run(cm.__enter__)
        try:
            yield value
        finally:
            self.run(cm.__exit__, None, None, None)


def _enter(ns: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns into {ns}")
    finally:
        os.close(fd)


@contextlib.contextmanager
def node_exporter(ns: str) -> Iterator[str | None]:
    """node_exporter in the namespace as `ip netns exec` runs a program: /sys is the
    namespace's too, so its netclass collector sees the namespace's links."""
    binary = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")
    if binary is None:
        yield None
        return
    listen = f"127.0.0.1:{free_port()}"
    proc = subprocess.Popen(
        ["ip", "netns", "exec", ns, binary, f"--web.listen-address={listen}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield listen
    finally:
        stop(proc, timeout=30)


@contextlib.contextmanager
def watcher_in(ns: str, url: str, listen: str, kernel_log: Path) -> Iterator[Watcher]:
    """`linkctl watch` started in the namespace, watching it as a host watches its own (no --netns)."""
    argv = ["ip", "netns", "exec", ns, *LINKCTL, "watch", "--store", url, "--listen", listen]
    watcher = Watcher.command([*argv, "--kernel-log", str(kernel_log)])
    try:
        watcher.wait_ready()
        yield watcher
    finally:
        watcher.stop()


Scraped = tuple[InHost, str, bool]


@pytest.fixture(scope="module")
def scraped() -> Iterator[Scraped]:
    """(the host's thread, Prometheus's base URL, whether node_exporter is scraped too),
    once a veth has flapped."""
    if shutil.which("prometheus") is None:
        pytest.skip("no prometheus binary (apt-get install prometheus)")
    store = Path(tempfile.mkdtemp(prefix="linkctl-grafana-"))
    try:
        with namespace() as ns:
            ip("-n", ns, "link", "set", "lo", "up")
            name = unique()
            add_pairs(ns, [name])
            host = InHost(ns)
            listen = f"127.0.0.1:{free_port()}"
            (store / "kern.log").write_text("")
            with (
                watcher_in(ns, f"sqlite://{store / 'events.db'}", listen, store / "kern.log"),
                node_exporter(ns) as node,
            ):
                jobs = scrape_job("linkctl", listen)
                if node is not None:
                    jobs += scrape_job("node", node)
                with host.entered(running_prometheus(jobs)) as base:
                    assert host.run(wait_for, base, 'up{job="linkctl"} == 1'), "Prometheus never scraped linkctl"
                    # The peer set down and up 4 times by hand: 8 carrier transitions on each end, a
                    # flap (the rate rule: 5 in 300 s) of the end whose carrier it takes, not its own.
                    toggle(ns, [name], 4)
                    flapping = host.run(wait_for, base, f'linkctl_link_flapping{{netns="",device="{name}"}} == 1')
                    assert flapping, "Prometheus never saw the veth flapping"
                    if node is not None:
                        assert host.run(wait_for, base, 'up{job="node"} == 1'), "Prometheus never scraped node_exporter"
                        joined = f'node_network_carrier_changes_total{{device="{name}"}} >= 8'
                        assert host.run(wait_for, base, joined), "node_exporter never saw the veth's transitions"
                    yield host, base, node is not None
            host.pool.shutdown()
    finally:
        shutil.rmtree(store, ignore_errors=True)


def test_the_dashboard_has_the_panels_the_fleet_needs() -> None:
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    titles = [p["title"] for p in board["panels"] if p["type"] != "row"]
    assert len(set(titles)) == len(titles)
    assert len({p["id"] for p in board["panels"]}) == len(board["panels"])
    for wanted in (
        "Links flapping now",
        "Carrier transitions per host/link",
        "Down time per host/link",
        "Flap episodes",
    ):
        assert wanted in titles
    assert any(title.startswith("node_exporter:") for title in titles)
    for title, expr in panel_queries():
        assert expr.strip(), title
        # linkctl's link label is node_exporter's: no `ifname` anywhere
        assert "ifname" not in expr, title


def test_the_dashboard_is_what_build_py_writes(tmp_path: Path) -> None:
    script = ROOT / "deploy" / "grafana" / "build.py"
    copy = tmp_path / "build.py"
    shutil.copy(script, copy)
    subprocess.run(["python3", str(copy)], check=True, timeout=60)
    assert (tmp_path / "linkctl.json").read_text(encoding="utf-8") == DASHBOARD.read_text(encoding="utf-8")


@pytest.mark.parametrize(("title", "expr"), panel_queries(), ids=[t for t, _ in panel_queries()])
def test_each_panel_query_runs_on_a_real_prometheus(scraped: Scraped, title: str, expr: str) -> None:
    host, base, with_node = scraped
    promql = grafana_expand(expr)
    assert "$" not in promql.replace("$1", ""), f"{title}: a Grafana variable left unexpanded: {promql}"
    status, _, error = host.run(query, base, promql)
    assert status == "success", f"{title}: {error}"
    if needs_node_exporter(expr) and not with_node:
        pytest.skip("node_exporter is not installed (apt-get install prometheus-node-exporter): the query parses")
    assert host.run(wait_for, base, promql), f"{title}: no series for {promql}"

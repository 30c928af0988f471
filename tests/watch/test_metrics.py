from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from linkctl.domain.events import DriverWords, EventKind
from linkctl.watch.core import DumpReason, WatchCore
from linkctl.watch.flap import FlapConfig
from linkctl.watch.kernel_log import KernelLogRecord
from linkctl.watch.metrics import WatchMetrics, serve
from tests.helpers.processes import stop

from .helpers import at, flapping, msg


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def busy_core() -> tuple[WatchCore, WatchMetrics]:
    core = WatchCore(FlapConfig(nagios_enabled=False))
    metrics = WatchMetrics(core)
    metrics.observe(core.on_dump(None, [msg(0, 1, 0)], at(0), DumpReason.STARTUP))
    blue = [msg(0, 1, 0, ifindex=3, ifname="veth1", netns="blue")]
    metrics.observe(core.on_dump("blue", blue, at(0), DumpReason.STARTUP))
    for message in flapping(every=2):
        metrics.observe(core.on_link(message))
    metrics.observe(core.on_link(msg(20, 1, 1, ifindex=3, ifname="veth1", netns="blue")))
    words = DriverWords(text="transmit queue 0 timed out", driver="e1000e")
    metrics.observe(core.on_kernel_log(KernelLogRecord(at(21), "eth0", EventKind.TX_TIMEOUT, words)))
    metrics.observe(core.on_kernel_log(KernelLogRecord(at(21), "veth9", EventKind.TX_TIMEOUT, words)))
    metrics.observe(
        core.on_dump("blue", [msg(30, 1, 1, ifindex=3, ifname="veth1", netns="blue")], at(30), DumpReason.OVERFLOW)
    )
    return core, metrics


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_mirror_the_watcher_state() -> None:
    _, metrics = busy_core()
    got = samples(metrics.render().decode())
    eth0 = (("device", "eth0"), ("netns", ""))
    veth = (("device", "veth1"), ("netns", "blue"))
    assert got[("linkctl_network_up", eth0)] == 1.0
    assert got[("linkctl_network_up", veth)] == 0.0
    assert got[("linkctl_network_carrier_changes_total", eth0)] == 7.0
    assert got[("linkctl_network_carrier_up_changes_total", eth0)] == 4.0
    assert got[("linkctl_network_carrier_down_changes_total", eth0)] == 3.0
    assert got[("linkctl_link_flapping", eth0)] == 1.0
    assert got[("linkctl_link_flapping", veth)] == 0.0
    assert got[("linkctl_link_flap_episodes_total", eth0)] == 1.0
    assert got[("linkctl_link_down_duration_seconds_count", eth0)] == 3.0
    assert got[("linkctl_link_down_duration_seconds_sum", eth0)] == 6.0
    key = (
        "linkctl_kernel_events_total",
        (("device", "eth0"), ("driver", "e1000e"), ("event", "tx_timeout"), ("netns", "")),
    )
    assert got[key] == 1.0
    assert got[("linkctl_watch_resyncs_total", (("netns", "blue"),))] == 1.0
    # A line about a link no watched namespace has: counted apart, by kind only.
    unattributed = ("linkctl_kernel_events_unattributed_total", (("event", "tx_timeout"),))
    assert got[unattributed] == 1.0
    assert not [k for k in got if ("device", "veth9") in k[1]]


def test_promtool_accepts_the_output() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("no promtool (apt-get install prometheus)")
    _, metrics = busy_core()
    result = subprocess.run(
        [promtool, "check", "metrics"],
        input=metrics.render(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert result.stdout.decode().strip() == ""


def test_serve_binds_loopback_and_answers() -> None:
    _, metrics = busy_core()
    server = serve(metrics, f"127.0.0.1:{free_port()}")
    try:
        host, port = server.address
        assert host == "127.0.0.1"
        with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=10) as response:
            body = response.read().decode()
        assert "linkctl_network_carrier_changes_total" in body
    finally:
        server.stop()


@contextlib.contextmanager
def running_prometheus(scrape_configs: str) -> Iterator[str]:
    """A real Prometheus on 127.0.0.1 (a free port, a temp data dir), scraping every second
    what `scrape_configs` (YAML list items) name; always stopped. Yields its base URL."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("no prometheus binary (apt-get install prometheus)")
    work = Path(tempfile.mkdtemp(prefix="linkctl-prom-"))
    proc: subprocess.Popen[bytes] | None = None
    try:
        (work / "prometheus.yml").write_text(
            f"global: {{scrape_interval: 1s, evaluation_interval: 1s}}\nscrape_configs:\n{scrape_configs}",
            encoding="utf-8",
        )
        port = free_port()
        with (work / "prometheus.log").open("wb") as log:
            proc = subprocess.Popen(
                [
                    binary,
                    f"--config.file={work / 'prometheus.yml'}",
                    f"--storage.tsdb.path={work / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=work,
            )
        yield f"http://127.0.0.1:{port}"
    finally:
        if proc is not None:
            stop(proc, timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def scrape_job(job: str, target: str) -> str:
    return f"  - job_name: {job}\n    static_configs: [{{targets: ['{target}']}}]\n"


@pytest.fixture
def prometheus_scraping() -> Iterator[tuple[str, WatchCore, WatchMetrics]]:
    core, metrics = busy_core()
    server = serve(metrics, f"127.0.0.1:{free_port()}")
    try:
        host, port = server.address
        with running_prometheus(scrape_job("linkctl", f"{host}:{port}")) as base:
            yield base, core, metrics
    finally:
        server.stop()


def _query(base: str, expr: str) -> list[dict[str, Any]]:
    url = f"{base}/api/v1/query?query={urllib.parse.quote(expr)}"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body = json.load(response)
    except OSError:
        return []
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def _wait_for(base: str, expr: str) -> list[dict[str, Any]]:
    for _ in range(600):  # bounded: about a minute
        found = _query(base, expr)
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"Prometheus never returned {expr}")


def test_real_prometheus_scrapes_the_series(
    prometheus_scraping: tuple[str, WatchCore, WatchMetrics],
) -> None:
    base, _, _ = prometheus_scraping
    changes = _wait_for(base, 'linkctl_network_carrier_changes_total{device="eth0"}')
    (series,) = changes
    assert series["metric"]["job"] == "linkctl"
    assert series["metric"].get("netns", "") == ""  # the host namespace
    assert float(series["value"][1]) == 7.0
    (flapping,) = _wait_for(base, 'linkctl_link_flapping{device="eth0"}')
    assert float(flapping["value"][1]) == 1.0
    (veth,) = _wait_for(base, 'linkctl_network_up{netns="blue",device="veth1"}')
    assert float(veth["value"][1]) == 0.0
    (hist,) = _wait_for(base, 'linkctl_link_down_duration_seconds_count{device="eth0"}')
    assert float(hist["value"][1]) == 3.0
    (resyncs,) = _wait_for(base, 'linkctl_watch_resyncs_total{netns="blue"}')
    assert float(resyncs["value"][1]) == 1.0


def _naming(metrics: WatchMetrics, device: str) -> set[str]:
    """The families with a series of `device`."""
    return {name for (name, labels) in samples(metrics.render().decode()) if ("device", device) in labels}


def test_a_removed_or_renamed_link_takes_its_series_with_it() -> None:
    # A host whose containers each bring a veth: 100 of them left 3,400 series of links long
    # gone (17 for each one's down-time histogram), growing for as long as the watcher ran.
    core, metrics = busy_core()
    eth0 = {
        "linkctl_link_down_duration_seconds_bucket",
        "linkctl_link_down_duration_seconds_count",
        "linkctl_link_down_duration_seconds_sum",
        "linkctl_link_down_duration_seconds_created",
        "linkctl_kernel_events_total",
        "linkctl_kernel_events_created",
    }
    assert eth0 <= _naming(metrics, "eth0")
    metrics.observe(core.on_link(msg(40, 2, 1, ifindex=3, ifname="veth1", netns="blue")))
    assert "linkctl_link_down_duration_seconds_count" in _naming(metrics, "veth1")
    metrics.observe(core.on_link_gone(None, 7, at(41)))
    assert _naming(metrics, "eth0") == set()
    metrics.observe(core.on_link(msg(42, 2, 1, ifindex=3, ifname="ctr0", netns="blue")))  # renamed
    assert _naming(metrics, "veth1") == set()
    assert "linkctl_network_up" in _naming(metrics, "ctr0")
    # A new link of an old name starts its own series.
    metrics.observe(core.on_link(msg(43, 1, 0, ifindex=8, ifname="eth0")))
    metrics.observe(core.on_link(msg(44, 1, 1, ifindex=8, ifname="eth0")))
    metrics.observe(core.on_link(msg(45, 2, 1, ifindex=8, ifname="eth0")))
    got = samples(metrics.render().decode())
    key = ("linkctl_link_down_duration_seconds_count", (("device", "eth0"), ("netns", "")))
    assert got[key] == 1.0


def test_a_link_set_down_by_hand_is_told_from_one_without_carrier() -> None:
    core = WatchCore(FlapConfig(nagios_enabled=False))
    metrics = WatchMetrics(core)
    links = [
        msg(0, 1, 0, carrier=False, ifindex=2, ifname="eth0"),  # admin up, no carrier: a lost cable
        msg(0, 1, 0, carrier=False, admin_up=False, ifindex=3, ifname="eth1"),  # ip link set eth1 down
    ]
    metrics.observe(core.on_dump(None, links, at(0), DumpReason.STARTUP))
    text = metrics.render().decode()
    assert 'linkctl_network_admin_up{device="eth0",netns=""} 1.0' in text
    assert 'linkctl_network_admin_up{device="eth1",netns=""} 0.0' in text
    assert 'linkctl_network_up{device="eth0",netns=""} 0.0' in text

#!/usr/bin/env python3
"""`linkctl watch`: latency to the store, exactness in a storm, cost; node_exporter beside it.

In a fresh namespace with N veth pairs (both ends up, IPv6 off as in
/work/shared/measurements.md):

1. idle: CPU and RSS of the watcher with 2N links and nothing happening;
2. latency: this process (not the watcher) sets one peer down or up through
   netlink; the time until the watcher has committed the event to the store,
   which it prints after the commit (the line's arrival here is the end mark);
3. storm: every peer down and up T times with `ip -batch`; the transitions the
   watcher recorded against the kernel's counters (sum of IFLA_CARRIER_CHANGES
   deltas), the watcher's CPU seconds and peak RSS;
4. node_exporter (Debian's prometheus-node-exporter, netclass and netdev
   collectors) runs in the same namespace, scraped every second: what it counted
   (node_network_carrier_changes_total), how many carrier flips a 1 s scrape saw,
   and when it had the kernel's final count.

Run as root: `.venv/bin/python bench/watch_latency.py` (--pairs 500 --samples 1000
--toggles 10 are the defaults). Prints a report and writes JSON with --json FILE.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import os
import queue
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linkctl.domain.events import EventKind
from linkctl.kernel import netns as netns_mod
from linkctl.kernel.netlink import RtnlSocket
from linkctl.kernel.rtnl import LinkAttrs, set_link
from linkctl.kernel.rtnl_const import RTM_NEWLINK
from linkctl.nla import IFINFOMSG, iter_messages
from linkctl.store import open_store
from linkctl.watch.daemon import open_event_socket

RUNNER = "import typer\nfrom linkctl.cli import watch\napp = typer.Typer()\nwatch.register(app)\napp()\n"
NODE_EXPORTER = "prometheus-node-exporter"
CARRIER = tuple(k.value for k in EventKind if k.is_carrier)  # admin_down/admin_up count the carrier too


def ip(*args: str, stdin: str | None = None) -> None:
    subprocess.run(["ip", *args], input=stdin, text=True, check=True, capture_output=True, timeout=600)


def make_namespace(pairs: int) -> tuple[str, list[str]]:
    ns = f"lkb-{uuid.uuid4().hex[:6]}"
    ip("netns", "add", ns)
    for key in ("all", "default"):
        subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{key}.disable_ipv6=1"], check=True)
    names = [f"b{i}" for i in range(pairs)]
    lines = ["link set lo up"]
    lines += [f"link add {n} type veth peer name {n}p" for n in names]
    lines += [f"link set {n} up\nlink set {n}p up" for n in names]
    ip("-n", ns, "-batch", "-", stdin="\n".join(lines) + "\n")
    return ns, names


def kernel_counts(ns: str) -> dict[str, int]:
    with RtnlSocket(ns) as rs:
        return {link.name: link.carrier_changes or 0 for link in rs.dump_links(stats=False)}


# -- the watcher process ---------------------------------------------------------------


class Watcher:
    def __init__(self, ns: str, store_url: str) -> None:
        self.dir = tempfile.mkdtemp(prefix="lkb-")
        notify_path = os.path.join(self.dir, "notify")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(notify_path)
        env = {**os.environ, "NOTIFY_SOCKET": notify_path, "PYTHONPATH": os.pathsep.join(sys.path)}
        args = ["watch", "--netns", ns, "--store", store_url, "--listen", ""]
        self.proc = subprocess.Popen(
            [sys.executable, "-c", RUNNER, *args], stdout=subprocess.PIPE, text=True, env=env, bufsize=1
        )
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        self.resyncs = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.rstrip().endswith("resync after ENOBUFS"):
                self.resyncs += 1
            self.lines.put((time.monotonic(), line))

    def wait_ready(self, timeout: float = 300.0) -> None:
        self.notify.settimeout(timeout)
        while b"READY=1" not in self.notify.recv(4096):
            pass

    def wait_line(self, needle: str, timeout: float = 10.0) -> float:
        """Arrival time of the next line containing `needle`."""
        end = time.monotonic() + timeout
        while True:
            arrived, line = self.lines.get(timeout=max(0.001, end - time.monotonic()))
            if needle in line:
                return arrived

    def drain(self) -> None:
        with contextlib.suppress(queue.Empty):
            while True:
                self.lines.get_nowait()

    def cpu_seconds(self) -> float:
        return proc_cpu(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=60)
        self.notify.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_mem(pid: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


# -- node_exporter -----------------------------------------------------------------------


@dataclass
class Scrape:
    time: float
    seconds: float
    carrier_changes: float
    carrier: dict[str, float]


@dataclass
class NodeExporter:
    ns: str
    port: int
    proc: subprocess.Popen[bytes] | None = None
    scrapes: list[Scrape] = field(default_factory=list)
    stop_event: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> None:
        argv = [
            "ip", "netns", "exec", self.ns, NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{self.port}",
            "--collector.disable-defaults", "--collector.netclass", "--collector.netdev",
        ]  # fmt: skip
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.thread = threading.Thread(target=self._scrape_loop, daemon=True)
        self.thread.start()

    def _scrape_loop(self) -> None:
        # This thread stays inside the namespace: its sockets reach the exporter's 127.0.0.1.
        with netns_mod.entered(self.ns):
            while not self.stop_event.wait(max(0.0, 1.0 - (time.monotonic() % 1.0))):
                with contextlib.suppress(OSError, http.client.HTTPException):
                    self.scrapes.append(self._scrape())

    def _scrape(self) -> Scrape:
        start = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("GET", "/metrics")
        body = conn.getresponse().read().decode()
        conn.close()
        total = 0.0
        carrier: dict[str, float] = {}
        for line in body.splitlines():
            if line.startswith("node_network_carrier_changes_total{"):
                total += float(line.rsplit(" ", 1)[1])
            elif line.startswith("node_network_carrier{"):
                device = line.split('device="', 1)[1].split('"', 1)[0]
                carrier[device] = float(line.rsplit(" ", 1)[1])
        return Scrape(start, time.monotonic() - start, total, carrier)

    def cpu_seconds(self) -> float:
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        pids = [self.proc.pid, *(int(p) for p in children)]
        return sum(proc_cpu(p) for p in pids)

    def rss_mb(self) -> float:
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        return sum(proc_mem(int(p)).get("VmHWM", 0.0) for p in children)

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout=60)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def ensure_node_exporter() -> bool:
    if shutil.which(NODE_EXPORTER):
        return True
    result = subprocess.run(
        ["apt-get", "install", "-y", "prometheus-node-exporter"], capture_output=True, check=False, timeout=600
    )
    return result.returncode == 0 and shutil.which(NODE_EXPORTER) is not None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- measurements --------------------------------------------------------------------------


def measure_idle(watcher: Watcher, exporter: NodeExporter | None, seconds: float) -> dict[str, Any]:
    cpu0 = watcher.cpu_seconds()
    ne0 = exporter.cpu_seconds() if exporter else 0.0
    time.sleep(seconds)
    cpu = watcher.cpu_seconds() - cpu0
    out: dict[str, Any] = {"seconds": seconds, "cpu_percent": 100 * cpu / seconds, **proc_mem(watcher.proc.pid)}
    if exporter:
        out["node_exporter_cpu_percent"] = 100 * (exporter.cpu_seconds() - ne0) / seconds
    return out


def measure_latency(watcher: Watcher, ns: str, name: str, samples: int) -> dict[str, Any]:
    """Peer down/up from this process; until the watcher's line for the far end (printed after commit).

    A raw listener here times the kernel's own part: when the far end's RTM_NEWLINK
    can be read at all.
    """
    listener = open_event_socket(ns)
    listener.setblocking(True)
    listener.settimeout(10)
    try:
        with RtnlSocket(ns) as rs:
            peer = rs.get_link(f"{name}p")
            far = rs.get_link(name)
            assert peer is not None and far is not None
            watcher.drain()
            latencies, kernel, lost = _samples(watcher, rs, listener, peer.ifindex, far.ifindex, name, samples)
            if samples % 2 == 1:
                rs.batch([set_link(rs.next_seq(), peer.ifindex, LinkAttrs(up=True))])
    finally:
        listener.close()
    return {"missing": lost, **_percentiles(latencies), "kernel": _percentiles(kernel)}


def _samples(
    watcher: Watcher, rs: RtnlSocket, listener: socket.socket, peer: int, far: int, name: str, samples: int
) -> tuple[list[float], list[float], int]:
    latencies: list[float] = []
    kernel: list[float] = []
    lost = 0
    for i in range(samples):
        up = i % 2 == 1
        needle = f" {name} {'link_up' if up else 'link_down'} "
        start = time.monotonic()
        rs.batch([set_link(rs.next_seq(), peer, LinkAttrs(up=up))])
        kernel.append(_far_end_message(listener, far) - start)
        try:
            latencies.append(watcher.wait_line(needle) - start)
        except queue.Empty:
            lost += 1
    return latencies, kernel, lost


def _far_end_message(listener: socket.socket, ifindex: int) -> float:
    while True:
        buf = listener.recv(1 << 16)
        arrived = time.monotonic()
        for mtype, _f, _s, s, _e in iter_messages(buf):
            if mtype == RTM_NEWLINK and IFINFOMSG.unpack_from(buf, s)[2] == ifindex:
                return arrived


def _percentiles(values: list[float]) -> dict[str, float]:
    ms = sorted(x * 1000 for x in values)
    return {
        "samples": len(ms),
        "p50_ms": statistics.median(ms),
        "p99_ms": ms[int(0.99 * (len(ms) - 1))],
        "max_ms": ms[-1],
        "mean_ms": statistics.fmean(ms),
    }


def recorded(store_url: str, ns: str, since_id: int) -> tuple[int, int]:
    with open_store(store_url) as store:
        rows = [r for r in store.history(netns=ns) if r.id > since_id and r.event.value in CARRIER]
    return sum(r.transitions for r in rows), len(rows)


def last_event_id(store_url: str) -> int:
    with open_store(store_url) as store:
        rows = store.history(limit=1)
    return rows[-1].id if rows else 0


def caught_up(store_url: str, ns: str, kernel: dict[str, int]) -> bool:
    with open_store(store_url, readonly=True) as store:
        stored = {s.ifname: s.carrier_changes for s in store.status() if s.netns == ns}
    return stored == kernel


def measure_storm(
    watcher: Watcher, exporter: NodeExporter | None, ns: str, names: list[str], toggles: int, store_url: str
) -> dict[str, Any]:
    before = kernel_counts(ns)
    first_id = last_event_id(store_url)
    cpu0 = watcher.cpu_seconds()
    ne_cpu0 = exporter.cpu_seconds() if exporter else 0.0
    scrapes0 = len(exporter.scrapes) if exporter else 0
    down = "\n".join(f"link set {n}p down" for n in names)
    up = "\n".join(f"link set {n}p up" for n in names)
    start = time.monotonic()
    ip("-n", ns, "-batch", "-", stdin=f"{down}\n{up}\n" * toggles)
    storm_end = time.monotonic()
    after = kernel_counts(ns)
    deadline = storm_end + 300
    while not caught_up(store_url, ns, after) and time.monotonic() < deadline:
        time.sleep(0.1)
    done = time.monotonic()
    transitions, events = recorded(store_url, ns, first_id)
    kernel = sum(after.values()) - sum(before.values())
    out: dict[str, Any] = {
        "pairs": len(names),
        "toggles": toggles,
        "administrative_changes": 2 * toggles * len(names),
        "storm_seconds": storm_end - start,
        "kernel_transitions": kernel,
        "recorded_transitions": transitions,
        "recorded_events": events,
        "lost": kernel - transitions,
        "caught_up_after_storm_s": done - storm_end,
        "watcher_cpu_seconds": watcher.cpu_seconds() - cpu0,
        "resyncs": watcher.resyncs,
        **proc_mem(watcher.proc.pid),
    }
    if exporter:
        time.sleep(3)  # let a few more scrapes land
        out["node_exporter"] = node_exporter_view(exporter, scrapes0, start, storm_end, sum(after.values()))
        out["node_exporter"]["cpu_seconds"] = exporter.cpu_seconds() - ne_cpu0
    return out


def node_exporter_view(exporter: NodeExporter, first: int, start: float, end: float, final: int) -> dict[str, Any]:
    scrapes = exporter.scrapes[first:]
    flips = 0
    for prev, cur in itertools.pairwise(scrapes):
        flips += sum(1 for dev, v in cur.carrier.items() if dev in prev.carrier and prev.carrier[dev] != v)
    complete = [s for s in scrapes if s.carrier_changes >= final]
    return {
        "scrapes_during_and_after": len(scrapes),
        "scrape_seconds_max": max((s.seconds for s in scrapes), default=None),
        "carrier_flips_seen_by_scrapes": flips,
        "final_counter_sum": scrapes[-1].carrier_changes if scrapes else None,
        "kernel_counter_sum": final,
        "had_final_count_after_storm_s": (complete[0].time - end) if complete else None,
        "storm_started_at_s": 0.0,
        "series": [(round(s.time - start, 2), s.carrier_changes) for s in scrapes[:20]],
    }


# -- main ------------------------------------------------------------------------------------


@contextlib.contextmanager
def bench_namespace(pairs: int) -> Iterator[tuple[str, list[str]]]:
    ns, names = make_namespace(pairs)
    try:
        yield ns, names
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)


def run(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {}
    workdir = tempfile.mkdtemp(prefix="lkb-store-")
    store_url = f"sqlite://{workdir}/events.db"
    with bench_namespace(args.pairs) as (ns, names):
        exporter = None
        if not args.no_node_exporter and ensure_node_exporter():
            exporter = NodeExporter(ns, free_port())
            exporter.start()
        watcher = Watcher(ns, store_url)
        try:
            start = time.monotonic()
            watcher.wait_ready()
            report["startup_s"] = time.monotonic() - start
            report["links"] = len(kernel_counts(ns))
            time.sleep(2)
            report["idle"] = measure_idle(watcher, exporter, args.idle)
            report["latency"] = measure_latency(watcher, ns, names[0], args.samples)
            time.sleep(2)
            report["storm"] = measure_storm(watcher, exporter, ns, names, args.toggles, store_url)
            report["idle_after_storm"] = measure_idle(watcher, None, args.idle)
            if exporter:
                report["node_exporter_rss_mb"] = exporter.rss_mb()
        finally:
            watcher.stop()
            if exporter:
                exporter.stop()
            shutil.rmtree(workdir, ignore_errors=True)
    return report


def print_report(r: dict[str, Any]) -> None:
    lat, storm, idle = r["latency"], r["storm"], r["idle"]
    print(f"links watched: {r['links']} (start-up to READY {r['startup_s']:.2f} s)")
    print(
        f"latency to store, {lat['samples']} samples: p50 {lat['p50_ms']:.2f} ms  p99 {lat['p99_ms']:.2f} ms  "
        f"max {lat['max_ms']:.2f} ms  (missing {lat['missing']})"
    )
    k = lat["kernel"]
    print(
        f"  of which the kernel (raw listener): p50 {k['p50_ms']:.2f} ms  p99 {k['p99_ms']:.2f} ms  "
        f"max {k['max_ms']:.2f} ms"
    )
    print(
        f"storm {storm['pairs']} pairs x {storm['toggles']}: kernel {storm['kernel_transitions']} transitions, "
        f"recorded {storm['recorded_transitions']} in {storm['recorded_events']} events, lost {storm['lost']}, "
        f"resyncs {storm['resyncs']}; storm {storm['storm_seconds']:.2f} s, caught up "
        f"{storm['caught_up_after_storm_s']:.2f} s after; watcher CPU {storm['watcher_cpu_seconds']:.2f} s, "
        f"peak RSS {storm['VmHWM']:.1f} MB"
    )
    print(f"idle: CPU {idle['cpu_percent']:.3f} % over {idle['seconds']:.0f} s, RSS {idle['VmRSS']:.1f} MB")
    ne = storm.get("node_exporter")
    if ne:
        print(
            f"node_exporter (1 s scrapes): final carrier_changes sum {ne['final_counter_sum']:.0f} "
            f"(kernel {ne['kernel_counter_sum']}), had it {ne['had_final_count_after_storm_s']} s after the storm, "
            f"carrier flips visible to scrapes {ne['carrier_flips_seen_by_scrapes']}, "
            f"scrape up to {ne['scrape_seconds_max']:.2f} s, CPU {ne['cpu_seconds']:.2f} s in the storm, "
            f"idle CPU {idle.get('node_exporter_cpu_percent', float('nan')):.2f} %"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=500)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--toggles", type=int, default=10)
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of idle measurement")
    parser.add_argument("--no-node-exporter", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: namespaces and veth pairs")
    report = run(args)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

"""`linkctl watch` against the real kernel: namespaces and veth pairs flapped by the test.

Every watcher runs as a separate process (as systemd runs it) and is stopped in
`finally`; every namespace has a unique name and is deleted in `finally`. Waits
are bounded by deadlines and assert what was recorded, never how fast.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from linkctl.domain.events import EventKind
from linkctl.kernel.netlink import RtnlSocket
from linkctl.store import open_store

pytestmark = pytest.mark.kernel

LINKCTL = [sys.executable, "-m", "linkctl"]
DEADLINE = 60.0
# The kinds whose transitions the kernel counted: the peers set down and up by `toggle` are
# admin_down and admin_up, carrying the carrier changes their close and open made.
CARRIER = tuple(k.value for k in EventKind if k.is_carrier)


def _need_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root for namespaces, veth pairs and /dev/kmsg")


def unique(prefix: str = "lk") -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ip(*args: str, stdin: str | None = None) -> None:
    subprocess.run(["ip", *args], input=stdin, text=True, check=True, capture_output=True, timeout=120)


def add_pairs(ns: str, names: list[str]) -> None:
    """veth pairs NAME/NAMEp, both ends up; IPv6 off, which makes this fast."""
    for key in ("all", "default"):
        subprocess.run(
            ["ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{key}.disable_ipv6=1"],
            check=True,
            timeout=30,
        )
    lines = [f"link add {n} type veth peer name {n}p" for n in names]
    lines += [f"link set {n} up\nlink set {n}p up" for n in names]
    ip("-n", ns, "-batch", "-", stdin="\n".join(lines) + "\n")


def toggle(ns: str, names: list[str], times: int) -> None:
    """Set each peer down and up `times` times, as fast as `ip -batch` goes."""
    for _ in range(times):
        down = "\n".join(f"link set {n}p down" for n in names)
        up = "\n".join(f"link set {n}p up" for n in names)
        ip("-n", ns, "-batch", "-", stdin=f"{down}\n{up}\n")


def kernel_counts(ns: str) -> dict[str, int]:
    with RtnlSocket(ns) as rs:
        return {link.name: link.carrier_changes or 0 for link in rs.dump_links(stats=False)}


def kmsg(line: str) -> None:
    with open("/dev/kmsg", "w") as f:
        f.write(line + "\n")


@contextlib.contextmanager
def namespace(name: str | None = None) -> Iterator[str]:
    _need_root()
    name = name or unique("lkw-")
    ip("netns", "add", name)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)


class Watcher:
    """One `linkctl watch` process, its stdout lines, its readiness via $NOTIFY_SOCKET."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None, argv: list[str] | None = None) -> None:
        self.dir = tempfile.mkdtemp(prefix="lkw-notify-")
        self.notify_path = os.path.join(self.dir, "notify")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        self.lines: list[str] = []
        self.cond = threading.Condition()
        full_env = {**os.environ, "NOTIFY_SOCKET": self.notify_path, "PYTHONPATH": os.pathsep.join(sys.path)}
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            argv or [*LINKCTL, "watch", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=full_env,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    @classmethod
    def command(cls, argv: list[str], env: dict[str, str] | None = None) -> Watcher:
        """A watcher started by a command of its own (in a namespace, as another host)."""
        return cls([], env, argv)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()

    def wait_ready(self) -> None:
        self.notify.settimeout(DEADLINE)
        try:
            while True:
                data = self.notify.recv(4096).decode()
                if "READY=1" in data:
                    return
        except TimeoutError:
            raise AssertionError(f"watcher never ready: {self.stderr()}") from None

    def wait_line(self, pred: Callable[[str], bool]) -> str:
        end = time.monotonic() + DEADLINE
        with self.cond:
            while True:
                for line in self.lines:
                    if pred(line):
                        return line
                left = end - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(f"no such line; have {self.lines[-20:]}; stderr {self.stderr()}")
                self.cond.wait(min(left, 1.0))

    def stderr(self) -> str:
        if self.proc.poll() is None or self.proc.stderr is None:
            return "(running)"
        return self.proc.stderr.read()

    def terminate(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        return int(self.proc.returncode)

    def stop(self) -> int:
        self.terminate()
        self.reader.join(timeout=10)
        self.notify.close()
        with contextlib.suppress(OSError):
            os.unlink(self.notify_path)
            os.rmdir(self.dir)
        return int(self.proc.returncode)

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)


@contextlib.contextmanager
def watching(args: list[str], env: dict[str, str] | None = None) -> Iterator[Watcher]:
    watcher = Watcher(args, env)
    try:
        watcher.wait_ready()
        yield watcher
    finally:
        watcher.stop()


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite://{tmp_path / 'events.db'}"  # sqlite:///tmp/...: three slashes


def history(url: str, ns: str) -> list[dict[str, Any]]:
    with open_store(url) as store:
        return [row.to_json() for row in store.history(netns=ns)]


def recorded_transitions(url: str, ns: str) -> int:
    return sum(int(str(r["transitions"])) for r in history(url, ns) if r["event"] in CARRIER)


def wait_caught_up(url: str, ns: str) -> dict[str, int]:
    """Until the store's last-known counters are the kernel's: the watcher has read everything."""
    end = time.monotonic() + DEADLINE
    while True:
        kernel = kernel_counts(ns)
        with open_store(url) as store:
            stored = {s.ifname: s.carrier_changes for s in store.status() if s.netns == ns}
        if stored == kernel:
            return kernel
        if time.monotonic() > end:
            missing = {k: (v, stored.get(k)) for k, v in kernel.items() if stored.get(k) != v}
            raise AssertionError(f"watcher never caught up: {dict(list(missing.items())[:10])}")
        time.sleep(0.2)


def base_args(ns: list[str], url: str, listen: str = "") -> list[str]:
    args = ["--store", url, "--listen", listen]
    for name in ns:
        args += ["--netns", name]
    return args


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LINKCTL, *args], capture_output=True, text=True, timeout=120, check=False)


# -- tests -----------------------------------------------------------------------------


def test_a_flap_is_recorded_with_the_kernel_count_and_the_drivers_words(store_url: str) -> None:
    with namespace() as ns:
        name = unique()
        add_pairs(ns, [name])
        with watching(base_args([ns], store_url)) as w:
            ip("-n", ns, "link", "set", f"{name}p", "down")
            kmsg(f"<6>veth: {name} NIC Link is Down")  # e1000e's words; a NIC's driver's are not a veth's
            w.wait_line(lambda line: f" {name} link_down " in line)
            ip("-n", ns, "link", "set", f"{name}p", "up")
            kmsg(f"<6>veth: {name} NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx")
            w.wait_line(lambda line: f" {name} link_up " in line)
            counts = wait_caught_up(store_url, ns)
            rows = _wait_rows_with_driver(store_url, ns, name, 2)
            assert w.stop() == 0
    down, up = rows
    assert (down["event"], up["event"]) == ("link_down", "link_up")
    assert down["source"] == up["source"] == "netlink"
    assert down["transitions"] == up["transitions"] == 1
    assert up["carrier_changes"] == counts[name]
    assert down["driver"]["driver"] == "veth" and "Link is Down" in down["driver"]["text"]
    assert up["driver"]["speed_mbps"] == 1000 and up["driver"]["duplex"] == "full"


def _wait_rows_with_driver(url: str, ns: str, name: str, count: int) -> list[dict[str, Any]]:
    end = time.monotonic() + DEADLINE
    while True:
        rows = [r for r in history(url, ns) if r["ifname"] == name and r["event"] in CARRIER]
        if len(rows) >= count and all(r["driver"] for r in rows):
            return rows
        if time.monotonic() > end:
            raise AssertionError(f"no driver words joined: {rows}")
        time.sleep(0.2)


def test_a_renamed_link_is_followed_and_joined_under_its_new_name(store_url: str) -> None:
    with namespace() as ns:
        old, new = unique("lo"), unique()
        add_pairs(ns, [old])
        with watching(base_args([ns], store_url)) as w:
            ip("-n", ns, "link", "set", old, "down")
            ip("-n", ns, "link", "set", old, "name", new)
            w.wait_line(lambda line: f" {new} renamed " in line and f"from={old}" in line)
            ip("-n", ns, "link", "set", new, "up")
            kmsg(f"<6>veth: {new} NIC Link is Up 100 Mbps Half Duplex, Flow Control: None")
            rows = _wait_rows_with_driver(store_url, ns, new, 1)
            cli_rows = json.loads(cli("history", new, "--store", store_url, "--format", "json").stdout)
    up = rows[-1]
    # Set up by hand: an admin up, its carrier counted and the driver's words joined to it.
    assert up["event"] == "admin_up" and up["transitions"] == 1 and up["driver"]["speed_mbps"] == 100
    assert [r["event"] for r in cli_rows] == ["renamed", "admin_up"]  # the down was under the old name
    assert cli_rows[0]["detail"] == old
    for row in cli_rows:
        assert {"time", "netns", "ifname", "event", "carrier_changes", "transitions", "source", "driver"} <= set(row)


def test_a_storm_is_counted_exactly_and_readable_while_watch_runs(store_url: str) -> None:
    with namespace() as ns:
        names = [f"s{i}{uuid.uuid4().hex[:6]}" for i in range(100)]
        add_pairs(ns, names)
        port = free_port()
        with watching(base_args([ns], store_url, f"127.0.0.1:{port}")):
            before = kernel_counts(ns)
            toggle(ns, names, 10)
            after = wait_caught_up(store_url, ns)
            expected = sum(after.values()) - sum(before.values())
            assert expected >= 100 * 10 * 2 * 2  # both ends of each pair, down and up
            assert recorded_transitions(store_url, ns) == expected
            status = json.loads(cli("status", "--store", store_url, "--format", "json").stdout)
            hist = json.loads(cli("history", "--store", store_url, "--format", "json").stdout)
            body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30).read().decode()
    mine = {s["ifname"]: s for s in status if s["netns"] == ns}
    assert {n: mine[n]["carrier_changes"] for n in after} == after
    assert any(s["flapping"] for s in mine.values())  # 20 transitions in seconds: the rate rule holds
    assert sum(r["transitions"] for r in hist if r["netns"] == ns and r["event"] in CARRIER) == expected
    for name in names[:5]:
        series = f'linkctl_network_carrier_changes_total{{device="{name}",netns="{ns}"}} {float(after[name])}'
        assert series in body


def test_kill_minus_9_mid_storm_then_restart_loses_and_repeats_nothing(store_url: str) -> None:
    with namespace() as ns:
        names = [f"k{i}{uuid.uuid4().hex[:6]}" for i in range(50)]
        add_pairs(ns, names)
        rounds = {"done": 0}
        first = Watcher(base_args([ns], store_url))
        second: Watcher | None = None
        storm: threading.Thread | None = None
        stop = threading.Event()
        try:
            first.wait_ready()
            before = kernel_counts(ns)

            def run_storm() -> None:
                # Until told to stop: the kill and the restart both land mid-storm, however
                # fast or slow this machine toggles.
                while not stop.is_set() and rounds["done"] < 500:
                    toggle(ns, names, 1)
                    rounds["done"] += 1

            storm = threading.Thread(target=run_storm)
            storm.start()
            _wait_until(lambda: rounds["done"] >= 3)
            first.kill9()
            killed_at = rounds["done"]
            _wait_until(lambda: rounds["done"] >= killed_at + 2)  # the kernel counts on, unheard
            second = Watcher(base_args([ns], store_url))
            second.wait_ready()
            restarted_at = rounds["done"]
            _wait_until(lambda: rounds["done"] >= restarted_at + 2)  # heard again, still storming
            stop.set()
            storm.join(timeout=DEADLINE)
            after = wait_caught_up(store_url, ns)
        finally:
            first.stop()
            if second is not None:
                second.stop()
            if storm is not None:
                stop.set()
                storm.join(timeout=DEADLINE)
    rows = [r for r in history(store_url, ns) if r["event"] in CARRIER]
    assert sum(int(str(r["transitions"])) for r in rows) == sum(after.values()) - sum(before.values())
    gaps = [r for r in rows if r["event"] == "gap"]
    assert gaps and all(r["source"] == "resync" and int(str(r["transitions"])) > 0 for r in gaps)
    readings = [(r["netns"], r["ifname"], r["carrier_changes"]) for r in rows]
    assert len(readings) == len(set(readings))  # no counter reading recorded twice


def _wait_until(cond: Callable[[], bool]) -> None:
    end = time.monotonic() + DEADLINE
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


def test_an_overflowing_socket_is_resynced_and_the_counts_still_match(store_url: str) -> None:
    with namespace() as ns:
        names = [f"o{i}{uuid.uuid4().hex[:6]}" for i in range(100)]
        add_pairs(ns, names)
        port = free_port()
        env = {"LINKCTL_WATCH_RCVBUF": "4096"}
        with watching(base_args([ns], store_url, f"127.0.0.1:{port}"), env) as w:
            before = kernel_counts(ns)
            w.proc.send_signal(signal.SIGSTOP)  # nobody reads: the tiny buffer must overflow
            try:
                toggle(ns, names, 10)
            finally:
                w.proc.send_signal(signal.SIGCONT)
            w.wait_line(lambda line: line.endswith("resync after ENOBUFS"))
            after = wait_caught_up(store_url, ns)
            body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30).read().decode()
            assert recorded_transitions(store_url, ns) == sum(after.values()) - sum(before.values())
    resyncs = [line for line in body.splitlines() if line.startswith(f'linkctl_watch_resyncs_total{{netns="{ns}"}}')]
    assert resyncs and float(resyncs[0].split()[-1]) >= 1
    assert any(r["event"] == "gap" and r["source"] == "resync" for r in history(store_url, ns))


def test_a_namespace_that_appears_later_and_a_link_that_moves_are_followed(store_url: str) -> None:
    with namespace() as home:
        later = unique("lkw-")
        name = unique()
        add_pairs(home, [name])
        try:
            with watching(base_args([home, later], store_url)) as w:
                ip("netns", "add", later)
                w.wait_line(lambda line: line.endswith(f"watching namespace {later!r}"))
                ip("-n", home, "link", "set", name, "netns", later)
                w.wait_line(lambda line: f"{home} {name} moved " in line and f"to={later}" in line)
                w.wait_line(lambda line: f"{later} {name} link_added " in line)
                ip("-n", later, "link", "set", name, "up")  # a moved link arrives admin down: the move closes it
                w.wait_line(lambda line: f"{later} {name} admin_up " in line)
                ip("netns", "del", later)
                w.wait_line(lambda line: f"{later} {name} link_removed " in line)
        finally:
            subprocess.run(["ip", "netns", "del", later], check=False, capture_output=True)


def test_a_kernel_log_file_is_followed_across_rotation_and_truncation(store_url: str, tmp_path: Path) -> None:
    with namespace() as ns:
        log = tmp_path / "kern.log"
        log.write_text("May  1 12:00:00 host kernel: e1000e: old NIC Link is Down\n")
        names = [unique() for _ in range(3)]
        for name in names:  # a line is recorded when a watched namespace has a link of its name
            ip("-n", ns, "link", "add", name, "type", "veth")
        with watching([*base_args([ns], store_url), "--kernel-log", str(log)]) as w:
            _append(log, f"May  1 12:00:01 host kernel: veth: {names[0]} NIC Link is Down")
            w.wait_line(lambda line: f" {names[0]} link_down " in line and "source=kmsg" in line)
            log.rename(tmp_path / "kern.log.1")
            _append(log, f"May  1 12:00:02 host kernel: veth: {names[1]} NIC Link is Up 10 Mbps Half Duplex")
            w.wait_line(lambda line: f" {names[1]} link_up " in line)
            log.write_text("")  # copytruncate
            _append(log, f"May  1 12:00:03 host kernel: NETDEV WATCHDOG: {names[2]} (veth): transmit queue 0 timed out")
            w.wait_line(lambda line: f" {names[2]} tx_timeout " in line)
    rows = {r["ifname"]: r for r in history(store_url, ns) if r["source"] == "kmsg"}
    assert "old" not in rows  # what was in the file before the watcher started is not news
    assert rows[names[1]]["driver"]["speed_mbps"] == 10
    assert rows[names[2]]["event"] == "tx_timeout" and rows[names[2]]["source"] == "kmsg"


def _append(path: Path, line: str) -> None:
    with path.open("a") as f:
        f.write(line + "\n")


def test_systemd_is_told_ready_alive_and_stopping(store_url: str) -> None:
    with namespace() as ns:
        watcher = Watcher(base_args([ns], store_url), {"WATCHDOG_USEC": "400000"})
        try:
            watcher.wait_ready()
            seen = _notifications(watcher, "WATCHDOG=1")
            assert watcher.terminate() == 0  # SIGTERM: a clean stop, exit status 0
            seen += _notifications(watcher, "STOPPING=1")
        finally:
            watcher.stop()
    assert "WATCHDOG=1" in seen and "STOPPING=1" in seen


def _notifications(watcher: Watcher, wanted: str) -> str:
    """Datagrams on $NOTIFY_SOCKET until one holds `wanted` (bounded)."""
    seen = ""
    watcher.notify.settimeout(DEADLINE)
    with contextlib.suppress(OSError):
        while wanted not in seen:
            seen += watcher.notify.recv(4096).decode() + "\n"
    return seen

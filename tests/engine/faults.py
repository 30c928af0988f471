"""Helpers of the fault tests: real linkctl processes, real signals, the kernel's view of links and
of their addresses, routes and rules; a Trial signals a change at seeded points and judges each end."""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tests.conftest import LINKCTL, ip

# What `ip -j -d link show` says that moves on its own or is the kernel's bookkeeping, not state.
_VOLATILE = {"ifindex", "link_index", "stats", "stats64", "operstate", "linkmode", "carrier_changes",
             "carrier_up_count", "carrier_down_count", "link_netnsid", "min_mtu", "max_mtu", "inet6_addr_gen_mode",
             "addr_info", "qdisc", "num_tx_queues", "num_rx_queues", "gso_max_size", "gso_max_segs",
             "tso_max_size", "tso_max_segs", "gro_max_size", "gso_ipv4_max_size", "gro_ipv4_max_size",
             "parentbus", "parentdev", "address", "broadcast", "promiscuity", "allmulti", "link"}  # fmt: skip
_CARRIER_FLAGS = {"LOWER_UP", "NO-CARRIER", "M-DOWN"}


def links(ns: str) -> dict[str, dict[str, object]]:
    """The namespace as `ip -j -d link show` sees it, without counters, indexes and carrier flags.

    MAC addresses are left out: a veth made again gets a new random one, which is what the kernel
    does for `ip link add` too (a declared MAC is checked by the declaration's own tests).
    """
    out = subprocess.run(["ip", "-n", ns, "-j", "-d", "link", "show"], capture_output=True, text=True, check=True)
    seen: dict[str, dict[str, object]] = {}
    for link in json.loads(out.stdout):
        kept = {k: v for k, v in link.items() if k not in _VOLATILE}
        kept["flags"] = sorted(set(link.get("flags", [])) - _CARRIER_FLAGS)
        info = kept.get("linkinfo")
        if isinstance(info, dict):
            info.pop("info_slave_data", None)
        seen[str(link["ifname"])] = kept
    return seen


def _ip_json(ns: str, *args: str) -> list[dict[str, object]]:
    out = subprocess.run(["ip", "-n", ns, "-j", *args], capture_output=True, text=True, check=True).stdout
    found: list[dict[str, object]] = json.loads(out) if out.strip() else []
    return found


# What `ip -j addr` says of an address that moves on its own: lifetimes, DAD still running.
_ADDR_VOLATILE = {"valid_life_time", "preferred_life_time", "tentative"}
_ROUTE_CARRIER = {"linkdown"}  # a carrier flag, as for links; "dead" (no address on the link) is state


def _route(route: dict[str, object]) -> str:
    kept = {k: v for k, v in route.items() if k != "flags"}
    kept["flags"] = sorted(set(route.get("flags", [])) - _ROUTE_CARRIER)  # type: ignore[call-overload]
    if isinstance(hops := route.get("nexthops"), list):  # the order of next hops is not declared: sorted
        kept["nexthops"] = sorted(json.dumps(_route(h), sort_keys=True) for h in hops)
    return json.dumps(kept, sort_keys=True)


def layer3(ns: str) -> dict[str, object]:
    """Addresses (`ip -j addr`, IPv6 link-local ones left out), the routes a person made (`ip -j route
    show table all`, proto boot or static, both families), the rules (`ip -j rule`, both families) and
    each link's IPv6 switch."""
    addresses = {
        str(link["ifname"]): sorted(
            json.dumps({k: v for k, v in a.items() if k not in _ADDR_VOLATILE}, sort_keys=True)
            for a in link.get("addr_info", [])  # type: ignore[attr-defined]
            if not (a.get("family") == "inet6" and a.get("scope") == "link")
        )
        for link in _ip_json(ns, "address")
    }
    routes = sorted(
        _route(r)
        for family in ("-4", "-6")
        for r in _ip_json(ns, family, "route", "show", "table", "all")
        if r.get("protocol") in ("boot", "static")
    )
    rules = sorted(json.dumps(r, sort_keys=True) for family in ("-4", "-6") for r in _ip_json(ns, family, "rule"))
    return {"addresses": addresses, "routes": routes, "rules": rules, "ipv6_off": ipv6_switches(ns)}


def ipv6_switches(ns: str) -> dict[str, str]:
    """net.ipv6.conf.*.disable_ipv6 of every link (and of all, default): what the link-local addresses
    left out of `layer3` follow."""
    found = ["find", "/proc/sys/net/ipv6/conf", "-name", "disable_ipv6", "-exec", "grep", "-H", ".", "{}", "+"]
    out = subprocess.run(["ip", "netns", "exec", ns, *found], capture_output=True, text=True, check=True).stdout
    return {line.split("/")[-2]: line.rsplit(":", 1)[1] for line in out.splitlines()}


def links_and_layer3(ns: str) -> dict[str, object]:
    return {"links": links(ns), "layer3": layer3(ns)}


def env(runtime: Path) -> dict[str, str]:
    return {**os.environ, "LINKCTL_RUNTIME_DIR": str(runtime)}


def start(
    args: list[str], runtime: Path, stdin: int | IO[str] = subprocess.DEVNULL, script: bool = False
) -> subprocess.Popen[str]:
    """`script`: the installed `linkctl` program, as users run it, rather than `python -m linkctl`."""
    program = [str(Path(sys.executable).parent / "linkctl")] if script else LINKCTL
    return subprocess.Popen(
        [*program, *args], stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env(runtime), start_new_session=True,
    )  # fmt: skip


class Spawned:
    """A linkctl process whose output goes to files: a full pipe would stall it (a 600-step plan is
    more than a pipe holds) and move the points where a test's signals land."""

    def __init__(self, args: list[str], runtime: Path) -> None:
        self._out = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed in finish()
        self._err = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed in finish()
        self.proc = subprocess.Popen(
            [*LINKCTL, *args], stdin=subprocess.DEVNULL, stdout=self._out, stderr=self._err, text=True,
            env=env(runtime), start_new_session=True,
        )  # fmt: skip

    def finish(self, limit: float = 180) -> tuple[int, str]:
        """(exit code, stdout and stderr) once it has ended."""
        code = self.proc.wait(timeout=limit)
        said = []
        for fh in (self._out, self._err):
            fh.seek(0)
            said.append(fh.read())
            fh.close()
        return code, "".join(said)


def run(args: list[str], runtime: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LINKCTL, *args], capture_output=True, text=True, env=env(runtime), timeout=180)


def wait_for_line(stream: IO[str], text: str, limit: float = 60) -> str:
    """Read until a line holds `text`; what was read up to that line. Bounded: a hung process fails the
    test. Lines are read in a thread: a select() on the pipe cannot see a line already in the text
    stream's buffer (two lines written at once), and would wait out the limit with it there."""
    got: list[str] = []
    found = threading.Event()

    def read() -> None:
        for line in iter(stream.readline, ""):
            got.append(line)
            if text in line:
                found.set()
                return
        found.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    found.wait(limit)
    if not got or text not in got[-1]:
        raise AssertionError(f"{text!r} never came; got: {''.join(got)[-2000:]}")
    return "".join(got)


def wait_gone(pid: int, limit: float = 120) -> None:
    """Until the process `pid` (not our child: a guardian) has ended."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        if not select.select([fd], [], [], limit)[0]:
            raise AssertionError(f"pid {pid} still runs after {limit:g} s")
    finally:
        os.close(fd)


def guardian_of(runtime: Path) -> int:
    data = json.loads((runtime / "change.journal").read_text())
    assert data["command"] == "try" and data["guardian"], data
    return int(data["guardian"])


@dataclass
class Scenario:
    """A change signalled at many points. `before`: the file that makes the state before, and puts it
    back after a change that stayed (so it declares absent what the change adds: routes and rules are
    declared additively); `read`: the namespace as the outcomes are judged by."""

    before: str
    change: str
    read: Callable[[str], object] = links
    # IPv6 off: thousands of links brought up spend most of the kernel's time on it, not on links.
    sysctls: tuple[str, ...] = ("net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
    try_timeout: int = 2  # `try --timeout`: the seconds a trial waits, unconfirmed, before it rolls back


def difference(now: object, want: object, limit: int = 40) -> str:
    """The lines that differ between two readings, for a failure's message (the whole of 600 links is
    too much to read)."""
    import difflib

    a = json.dumps(want, indent=1, sort_keys=True).splitlines()
    b = json.dumps(now, indent=1, sort_keys=True).splitlines()
    lines = [line for line in difflib.unified_diff(a, b, "expected", "found", n=1, lineterm="")]
    return "\n".join(lines[:limit]) + (f"\n... {len(lines) - limit} more lines" if len(lines) > limit else "")


class Trial:
    def __init__(self, ns: str, tmp: Path, scenario: Scenario, is_try: bool) -> None:
        self.ns, self.is_try, self.runtime, self.read = ns, is_try, tmp / "run", scenario.read
        self.try_timeout = scenario.try_timeout
        self.before_file = tmp / "before.yml"
        self.before_file.write_text(scenario.before)
        self.change = tmp / "change.yml"
        self.change.write_text(scenario.change)
        if scenario.sysctls:
            ip("netns", "exec", ns, "sysctl", "-qw", *scenario.sysctls)
        self.reset()
        self.before = self.read(ns)
        self.after = self._after()
        self.reset()
        self._is(self.before, "the file of the state before does not put it back", "")

    def _after(self) -> object:
        res = run(["apply", str(self.change), "-n", self.ns], self.runtime)
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr
        return self.read(self.ns)

    def reset(self) -> None:
        res = run(["apply", str(self.before_file), "-n", self.ns], self.runtime)
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr

    def args(self) -> list[str]:
        if self.is_try:
            return ["try", str(self.change), "-n", self.ns, "--timeout", str(self.try_timeout)]
        return ["apply", str(self.change), "-n", self.ns]

    def calibrate(self) -> tuple[float, float]:
        """(seconds to the journal, to the end) of an undisturbed run."""
        journal = self.runtime / "change.journal"
        start_at = time.monotonic()
        spawned = Spawned(self.args(), self.runtime)
        first = None
        while spawned.proc.poll() is None:
            if first is None and journal.exists():
                first = time.monotonic() - start_at
            time.sleep(0.002)
        spawned.finish()
        total = time.monotonic() - start_at
        self.reset()
        return (first or total / 2), total

    def strike_at_points(self, sig: int, points: int, seed: str) -> Counter[str]:
        """Signals at `points` seeded moments: a quarter before the journal appears (the first change),
        the rest spread to 1.05x an undisturbed run's length; the outcomes counted."""
        first, total = self.calibrate()
        rng = random.Random(seed)
        delays = sorted(
            rng.uniform(0, first) if i < points // 4 else rng.uniform(first, total * 1.05) for i in range(points)
        )
        outcomes = Counter(self.strike(sig, delay) for delay in delays)
        print(f"{seed}: {points} points in 0-{total:.2f} s (journal at {first:.2f} s): {dict(outcomes)}")
        return outcomes

    def strike(self, sig: int, delay: float) -> str:
        """Signal a run `delay` s after it starts; check the kernel; say which outcome it was."""
        self._is(self.before, "the namespace was not as before at the start", "")
        spawned = Spawned(self.args(), self.runtime)
        time.sleep(delay)
        guardian = None
        if sig == signal.SIGKILL and self.is_try and (self.runtime / "change.journal").exists():
            guardian = guardian_of(self.runtime)
        spawned.proc.send_signal(sig)
        code, said = spawned.finish()
        if guardian is None and self.is_try and (self.runtime / "change.journal").exists():
            guardian = guardian_of(self.runtime)
        if guardian is not None:
            wait_gone(guardian, 120)
        outcome = self._judge(sig, code, said)
        assert not (self.runtime / "change.journal").exists(), f"{outcome}: a journal was left\n{said}"
        return outcome

    def _is(self, want: object, what: str, said: str) -> None:
        now = self.read(self.ns)
        same = now == want  # a bool: pytest's own rendering of two namespaces would run to thousands of lines
        assert same, f"{what}\n{difference(now, want)}\n--- linkctl said:\n{said[-3000:]}"

    def _judge(self, sig: int, code: int, said: str) -> str:
        assert "ROLLBACK" not in said and "Traceback" not in said, said[-5000:]
        assert not ("rolled back" in said and "nothing was changed" in said), f"two endings told:\n{said}"
        if code == -sig and sig != signal.SIGKILL and said == "":
            # The signal's default action, before the interpreter had set up linkctl's handlers.
            self._is(self.before, "ended by the signal before linkctl ran, yet changed", said)
            return "ended by the signal before linkctl ran"
        if sig == signal.SIGKILL:
            rec = run(["recover", "-n", self.ns], self.runtime)
            assert rec.returncode == 0, rec.stdout + rec.stderr
            now = self.read(self.ns)
            if "rolling back" in rec.stdout:
                assert "as they were before" in rec.stdout, rec.stdout
                self._is(self.before, "recovered, yet not as before", rec.stdout)
                return "killed, recovered"
            if now == self.after:
                assert not self.is_try, "a trial that nobody confirmed kept its change"
                self.reset()
                return "killed after the change was verified"
            self._is(self.before, "killed: neither before nor after, and nothing to recover", said)
            return "killed: nothing changed, or the guardian rolled back"
        if "applied and verified" in said and "rolled back" not in said:
            self._is(self.after, "said applied and verified, yet not as declared", said)
            self.reset()
            return "finished before the signal"
        if "after the change was made and verified: it stays" in said:
            assert code == 128 + sig, said
            self._is(self.after, "the change stays, yet not as declared", said)
            self.reset()
            return "signal after the verified change"
        self._is(self.before, f"exit {code}: neither as before nor as declared", said)
        if "nothing was changed" in said:
            assert code == 128 + sig, said
            return "before any change"
        if self.is_try and code == 3:  # rolled back at its deadline
            if sig == signal.SIGHUP:  # the terminal is gone: not written to, the record says it
                record = (self.runtime / "try-outcome.json").read_text()
                assert '"rolled back"' in record and "as they were before" in record, record
            else:
                assert "rolled back" in said, said
            return "try: deadline rollback"
        assert "rolled back" in said, said
        assert code == 128 + sig and "as they were before" in said, said
        return "rolled back"


def holding(change: Path, ns: str, runtime: Path, timeout: int) -> tuple[subprocess.Popen[str], int]:
    """A `linkctl try` holding its change: the process and its guardian's pid."""
    proc = start(["try", str(change), "-n", ns, "--timeout", str(timeout)], runtime)
    assert proc.stdout is not None
    wait_for_line(proc.stdout, "confirm within")
    return proc, guardian_of(runtime)

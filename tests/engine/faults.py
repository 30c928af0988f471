"""Helpers of the fault tests: real linkctl processes, real signals, the kernel's view of links."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO

from tests.conftest import LINKCTL

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

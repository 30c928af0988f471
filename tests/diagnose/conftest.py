"""Fixtures: namespaces made and removed by the test, and recorded ethtool outputs of
real drivers (tests/diagnose/data/SET/) standing in for the `ethtool` program."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from linkctl.diagnose.evidence import Sources
from linkctl.kernel.ethtool import RunResult
from linkctl.kernel.sysinfo import Roots
from linkctl.model.state import HostState, IfFlag, Link, NetnsState, OperState, Stats
from tests.conftest import ip as ip  # re-exported: this folder's tests import it from here

DATA = Path(__file__).parent / "data"
BAD_JSON = RunResult(1, "", "ethtool: bad command line argument(s)\nFor more information run ethtool -h\n")
UNSUPPORTED = RunResult(1, "", "netlink error: Operation not supported\n")

# argv after the program and before the interface -> capture file (ethtool 6.1 behaviour)
FILES = {
    (): "ethtool.txt",
    ("--show-eee",): "eee.txt",
    ("-a",): "pause.txt",
    ("--json", "-a"): "pause.json",
    ("-c",): "coalesce.txt",
    ("--json", "-c"): "coalesce.json",
    ("-g",): "rings.txt",
    ("--json", "-g"): "rings.json",
    ("-i",): "driver.txt",
    ("-k",): "features.txt",
    ("--json", "-k"): "features.json",
    ("-S",): "stats.txt",
}


def recorded(name: str, calls: list[list[str]] | None = None) -> Callable[[str | None, list[str]], RunResult]:
    base = DATA / name

    def run(netns: str | None, argv: list[str]) -> RunResult:
        if calls is not None:
            calls.append(argv)
        key = tuple(argv[1:-1])
        fname = FILES.get(key)
        if fname is None:
            return UNSUPPORTED
        path = base / fname
        if path.exists():
            return RunResult(0, path.read_text(), "")
        return BAD_JSON if key[:1] == ("--json",) else UNSUPPORTED

    return run


def recorded_host(name: str) -> tuple[HostState, str]:
    meta = json.loads((DATA / name / "link.json").read_text())
    up = IfFlag.UP | IfFlag.LOWER_UP | IfFlag.RUNNING | IfFlag.BROADCAST | IfFlag.MULTICAST
    links = [
        Link(
            2,
            meta["name"],
            flags=up,
            mtu=1500,
            operstate=OperState.UP,
            carrier=True,
            carrier_changes=meta["carrier_changes"],
            carrier_up_count=meta["carrier_up_count"],
            carrier_down_count=meta["carrier_down_count"],
            mac="00:1b:21:aa:bb:cc",
            parent_bus="pci",
            stats=Stats(),
        )
    ]
    for i, other in enumerate(meta["other_nics"], 3):
        links.append(Link(i, other, flags=up, mtu=1500, mac=f"00:1b:21:aa:bb:{i:02x}", parent_bus="pci"))
    return HostState({None: NetnsState.of(None, links)}), meta["name"]


def _proc(base: Path, tmp: Path) -> Path:
    """The set's /proc, with the driver loaded as a module in /proc/modules (the recorded machines'
    drivers were: their module parameters are declared in modprobe.d, not on the kernel command line)."""
    proc = tmp / f"proc-{base.name}"
    if not proc.exists():
        shutil.copytree(base / "proc", proc) if (base / "proc").exists() else proc.mkdir()
        driver = next(
            (ln.split()[1] for ln in (base / "driver.txt").read_text().splitlines() if ln.startswith("driver:")), ""
        )
        (proc / "modules").write_text(f"{driver} 294912 0 - Live 0x0000000000000000\n")
    return proc


def recorded_sources(name: str, tmp: Path) -> Sources:
    base = DATA / name
    empty = tmp / "empty"
    empty.mkdir(exist_ok=True)
    roots = Roots(
        sys=base / "sys" if (base / "sys").exists() else empty,
        proc=_proc(base, tmp),
        etc=empty,
        dev=empty,
        run=empty,
        lib_modules=empty,
    )
    logs = [str(base / "kern.log")] if (base / "kern.log").exists() else None
    return Sources(runner=recorded(name), roots=roots, logs=logs, journal=False, kmsg_path=str(empty / "kmsg"))


def _root() -> bool:
    return os.geteuid() == 0 and shutil.which("ip") is not None


kernel = pytest.mark.skipif(not _root(), reason="needs root and iproute2 to make namespaces")


@pytest.fixture
def make_netns() -> Iterator[Callable[[], str]]:
    """Unique namespaces, removed at the end even when the test fails."""
    made: list[str] = []

    def make() -> str:
        name = f"lkd-{uuid.uuid4().hex[:10]}"
        ip("netns", "add", name)
        made.append(name)
        return name

    try:
        yield make
    finally:
        for name in made:
            subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)

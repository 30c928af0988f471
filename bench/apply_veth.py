#!/usr/bin/env python3
"""Create N veth pairs (MTU 9000, txqueuelen 2000, up) with `ip -batch` and with `linkctl apply`.

Each run gets a fresh namespace with IPv6 disabled (see measurements.md: with IPv6
on, the kernel's cost of bringing thousands of links up dominates), and the same
work: both ends of each pair configured and up. Prints times and ratios, then a
no-op re-apply against the `ip -j -d link show` dump.

usage: bench/apply_veth.py N [N ...]   (root; e.g. 100 1000 5000)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VENV = Path(__file__).resolve().parent.parent / ".venv" / "bin"
LINKCTL = [str(VENV / "linkctl")] if (VENV / "linkctl").exists() else ["linkctl"]


def fresh_ns(name: str) -> None:
    subprocess.run(["ip", "netns", "add", name], check=True)
    for key in ("all", "default"):
        knob = f"net.ipv6.conf.{key}.disable_ipv6=1"
        subprocess.run(["ip", "netns", "exec", name, "sysctl", "-qw", knob], check=True)


def drop_ns(name: str) -> None:
    subprocess.run(["ip", "netns", "del", name], check=False)
    time.sleep(2)  # the kernel frees the links in the background: let the CPUs settle


def timed(cmd: list[str], stdout: int | None = subprocess.DEVNULL) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=stdout)
    return time.perf_counter() - t0


def ip_batch(n: int, ns: str, tmp: Path) -> float:
    lines = [f"link add v{i} type veth peer name p{i}" for i in range(n)]
    for i in range(n):
        lines.append(f"link set dev v{i} mtu 9000 txqueuelen 2000 up")
        lines.append(f"link set dev p{i} mtu 9000 txqueuelen 2000 up")
    path = tmp / "batch.txt"
    path.write_text("\n".join(lines) + "\n")
    return timed(["ip", "-n", ns, "-batch", str(path)])


def declaration(n: int, tmp: Path) -> str:
    out = ["interfaces:"]
    for i in range(n):
        out.append(f"- {{name: v{i}, type: veth, mtu: 9000, txqueuelen: 2000, state: up, veth: {{peer: p{i}}}}}")
        out.append(f"- {{name: p{i}, type: veth, mtu: 9000, txqueuelen: 2000, state: up, veth: {{peer: v{i}}}}}")
    path = tmp / f"veth{n}.yml"
    path.write_text("\n".join(out) + "\n")
    return str(path)


def run(n: int) -> None:
    pid = os.getpid()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        ns = f"bench-ip-{pid}"
        fresh_ns(ns)
        try:
            t_ip = ip_batch(n, ns, tmp)
        finally:
            drop_ns(ns)
        ns = f"bench-lk-{pid}"
        fresh_ns(ns)
        path = declaration(n, tmp)
        try:
            t_lk = timed([*LINKCTL, "apply", path, "--netns", ns])
            t_noop = timed([*LINKCTL, "apply", path, "--netns", ns])
            t_dump = timed(["ip", "-n", ns, "-j", "-d", "link", "show"])
            t_py = timed([sys.executable, "-c", "import linkctl.cli.links"])
        finally:
            drop_ns(ns)
    print(f"N={n} pairs ({2 * n} links)")
    print(f"  ip -batch (create, then set):   {t_ip:8.3f} s")
    print(f"  linkctl apply:                  {t_lk:8.3f} s   ratio {t_lk / t_ip:5.2f}x of ip -batch")
    print(f"  linkctl apply again (no-op):    {t_noop:8.3f} s")
    print(f"  ip -j -d link show:             {t_dump:8.3f} s   no-op ratio {t_noop / t_dump:5.2f}x")
    print(f"  (python start + imports alone:  {t_py:8.3f} s)")


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("run as root: it creates network namespaces")
    for arg in sys.argv[1:] or ["100", "1000"]:
        run(int(arg))

#!/usr/bin/env python3
"""`linkctl show` against `ip -s -d link show` on N veth pairs (2N links) in a fresh namespace.

Times, in turns, `ip -s -d link show` and `linkctl show --stats` (the table),
then `ip -j -s -d link show` and `linkctl show --stats --format json`, and
`linkctl show --format yaml` (the declaration), each the median of R runs,
output to /dev/null. Prints the times and the ratios.

usage: bench/show_links.py [--rounds R] [N]   (root; N defaults to 1000, R to 5)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VENV = Path(__file__).resolve().parent.parent / ".venv" / "bin"
LINKCTL = [str(VENV / "linkctl")] if (VENV / "linkctl").exists() else ["linkctl"]


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def populate(ns: str, n: int) -> None:
    subprocess.run(["ip", "netns", "add", ns], check=True)
    for key in ("all", "default"):
        knob = f"net.ipv6.conf.{key}.disable_ipv6=1"
        subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw", knob], check=True)
    lines = [f"link add v{i} mtu 9000 up type veth peer name p{i}" for i in range(n)]
    lines += [f"link set dev p{i} up" for i in range(n)]
    with tempfile.NamedTemporaryFile("w", suffix=".batch") as fh:
        fh.write("\n".join(lines) + "\n")
        fh.flush()
        subprocess.run(["ip", "-n", ns, "-batch", fh.name], check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: it creates a network namespace")
    ns = f"bench-show-{os.getpid()}"
    populate(ns, args.n)
    pairs = {
        "table": (["ip", "-n", ns, "-s", "-d", "link", "show"], [*LINKCTL, "show", "-n", ns, "--stats"]),
        "json": (
            ["ip", "-n", ns, "-j", "-s", "-d", "link", "show"],
            [*LINKCTL, "show", "-n", ns, "--stats", "--format", "json"],
        ),
        "yaml": (["ip", "-n", ns, "-d", "link", "show"], [*LINKCTL, "show", "-n", ns, "--format", "yaml"]),
    }
    try:
        print(f"{2 * args.n + 1} links, medians of {args.rounds} runs taken in turns")
        for name, (ref, ours) in pairs.items():
            t_ref, t_ours = [], []
            for _ in range(args.rounds):
                t_ref.append(timed(ref))
                t_ours.append(timed(ours))
            a, b = statistics.median(t_ref), statistics.median(t_ours)
            print(f"  {name:5s}  {' '.join(ref[3:]):24s} {a:6.3f} s   linkctl {b:6.3f} s   ratio {b / a:6.2f}x")
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Create N veth pairs (MTU 9000, txqueuelen 2000, up) with `ip -batch` and with `linkctl apply`.

Each run gets a fresh namespace with IPv6 disabled (see measurements.md: with IPv6
on, the kernel's cost of bringing thousands of links up dominates; --ipv6 keeps
it on), and the same work: both ends of each pair configured and up. Rounds
alternate the two tools, each after the CPUs went idle again (a deleted
namespace's links are freed by the kernel in the background, for seconds).
Prints medians and ratios, then a no-op re-apply against the `ip -j -d link show`
dump: answered from apply's receipt (linkctl/fastpath/), and once more with
receipts off (the full path). Each round also times linkctl's requests alone
(bench/requests_only.py, in a third fresh namespace): the kernel's share of an
apply, and so how much time 1.0x of `ip -batch` leaves for linkctl's Python.

With --l3, each pair's first end also gets an IPv4 and an IPv6 address and a route through it
(IPv6 is then on), and the no-op is held against one dump each of links, addresses and routes.

usage: bench/apply_veth.py [--rounds R] [--ipv6] [--l3] N [N ...]   (root; e.g. 100 1000 5000; R defaults to 3)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE.parent / ".venv" / "bin"
LINKCTL = [str(VENV / "linkctl")] if (VENV / "linkctl").exists() else ["linkctl"]
# The interpreter linkctl runs on (the bench's own may be another, behind a pyenv shim).
PYTHON = str(VENV / "python") if (VENV / "python").exists() else sys.executable


IPV6 = False  # --ipv6: keep a fresh namespace's default (IPv6 on): the kernel's own work grows
L3 = False  # --l3: addresses and a route on each pair


def l3_of(i: int) -> tuple[str, str, str, str]:
    """Pair i's IPv4 address (/30), its gateway, its IPv6 address (/64) and the route's destination."""
    net = f"10.{i >> 6}.{(i & 63) * 4}"
    return f"{net}.1", f"{net}.2", f"fd00:{i:x}::1", f"100.64.{i >> 8}.{i & 255}/32"


def fresh_ns(name: str) -> None:
    subprocess.run(["ip", "netns", "add", name], check=True)
    if IPV6:
        return
    for key in ("all", "default"):
        knob = f"net.ipv6.conf.{key}.disable_ipv6=1"
        subprocess.run(["ip", "netns", "exec", name, "sysctl", "-qw", knob], check=True)


def drop_ns(name: str) -> None:
    subprocess.run(["ip", "netns", "del", name], check=False)
    wait_idle()  # the kernel frees the links in the background, for seconds: not during the next run


def cpu_times() -> tuple[int, int]:
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    return values[3] + values[4], sum(values)  # idle + iowait, total


def wait_idle(share: float = 0.95, limit: float = 120.0) -> None:
    """Until the CPUs were idle for `share` of two half-second windows in a row."""
    deadline, calm = time.monotonic() + limit, 0
    while calm < 2 and time.monotonic() < deadline:
        idle0, total0 = cpu_times()
        time.sleep(0.5)
        idle1, total1 = cpu_times()
        calm = calm + 1 if (idle1 - idle0) >= share * max(total1 - total0, 1) else 0


def timed(cmd: list[str], stdout: int | None = subprocess.DEVNULL) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=stdout)
    return time.perf_counter() - t0


def ip_batch(n: int, ns: str, tmp: Path) -> float:
    lines = [f"link add v{i} type veth peer name p{i}" for i in range(n)]
    for i in range(n):
        lines.append(f"link set dev v{i} mtu 9000 txqueuelen 2000 up")
        lines.append(f"link set dev p{i} mtu 9000 txqueuelen 2000 up")
    for i in range(n) if L3 else ():
        v4, gw, v6, dst = l3_of(i)
        lines += [
            f"address add {v4}/30 dev v{i}",
            f"address add {v6}/64 dev v{i}",
            f"route add {dst} via {gw} dev v{i}",
        ]
    path = tmp / "batch.txt"
    path.write_text("\n".join(lines) + "\n")
    return timed(["ip", "-n", ns, "-batch", str(path)])


def declaration(n: int, tmp: Path) -> str:
    out = ["interfaces:"]
    routes = []
    for i in range(n):
        l3 = ""
        if L3:
            v4, gw, v6, dst = l3_of(i)
            l3 = (
                f", ipv4: {{enabled: true, address: [{{ip: {v4}, prefix-length: 30}}]}}"
                f", ipv6: {{enabled: true, address: [{{ip: '{v6}', prefix-length: 64}}]}}"
            )
            routes.append(f"  - {{destination: {dst}, next-hop-interface: v{i}, next-hop-address: {gw}}}")
        out.append(f"- {{name: v{i}, type: veth, mtu: 9000, txqueuelen: 2000, state: up, veth: {{peer: p{i}}}{l3}}}")
        out.append(f"- {{name: p{i}, type: veth, mtu: 9000, txqueuelen: 2000, state: up, veth: {{peer: v{i}}}}}")
    if routes:
        out += ["routes:", "  config:", *routes]
    path = tmp / f"veth{n}{'-l3' if L3 else ''}.yml"
    path.write_text("\n".join(out) + "\n")
    return str(path)


def median_of(cmd: list[str], runs: int, env: dict[str, str] | None = None) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def requests_only(path: str, ns: str) -> float:
    """linkctl's netlink requests alone, timed inside a process that read and planned first."""
    out = subprocess.run([PYTHON, str(HERE / "requests_only.py"), path, ns], check=True, capture_output=True)
    return float(out.stdout)


Times = list[float]


def first_apply(n: int, tmp: Path, env: dict[str, str], rounds: int) -> tuple[Times, Times, Times, str]:
    """`rounds` first applies, each round ip -batch, linkctl's requests alone, then linkctl, in fresh namespaces.

    Returns (ip -batch times, requests-alone times, linkctl apply times, the namespace left with linkctl's links).
    """
    pid = os.getpid()
    path = declaration(n, tmp)
    t_ip, t_req, t_lk = [], [], []
    ns = ""
    for r in range(rounds):
        ns = f"bench-ip-{pid}-{r}"
        fresh_ns(ns)
        try:
            t_ip.append(ip_batch(n, ns, tmp))
        finally:
            drop_ns(ns)
        ns = f"bench-rq-{pid}-{r}"
        fresh_ns(ns)
        try:
            t_req.append(requests_only(path, ns))
        finally:
            drop_ns(ns)
        ns = f"bench-lk-{pid}-{r}"
        fresh_ns(ns)
        try:
            t0 = time.perf_counter()
            subprocess.run([*LINKCTL, "apply", path, "--netns", ns], check=True, stdout=subprocess.DEVNULL, env=env)
            t_lk.append(time.perf_counter() - t0)
        except BaseException:
            drop_ns(ns)  # a failed run (linkctl not found, refused) left its namespace behind
            raise
        if r < rounds - 1:
            drop_ns(ns)
    return t_ip, t_req, t_lk, ns


def run(n: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        env = {**os.environ, "LINKCTL_RUNTIME_DIR": str(tmp / "run")}  # receipts: not in /run
        ips, reqs, lks, ns = first_apply(n, tmp, env, rounds)
        t_ip, t_lk = statistics.median(ips), statistics.median(lks)
        apply = [*LINKCTL, "apply", declaration(n, tmp), "--netns", ns]
        try:
            # Medians of runs taken in turn: single runs of 20-50 ms vary by 30 % here.
            dump = ["ip", "-n", ns, "-j", "-d", "link", "show"]
            addr, route = (
                ["ip", "-n", ns, "-j", "address", "show"],
                ["ip", "-n", ns, "-j", "route", "show", "table", "all"],
            )
            t_noop, t_dump = [], []
            for _ in range(7):
                t_noop.append(median_of(apply, 1, env))
                # With --l3 the reference is one dump of each: links, addresses, routes.
                t_dump.append(median_of(dump, 1) + (median_of(addr, 1) + median_of(route, 1) if L3 else 0.0))
            t_full = median_of(apply, 3, {**env, "LINKCTL_RECEIPTS": "off"})
            t_py = median_of([PYTHON, "-c", "pass"], 5)
            t_pyd = median_of([PYTHON, "-c", "import pydantic.main"], 5)
        finally:
            drop_ns(ns)
    noop, dump_s = statistics.median(t_noop), statistics.median(t_dump)
    ipv6 = "IPv6 on" if IPV6 else "IPv6 off"
    l3 = ", an IPv4 and an IPv6 address and a route on each pair" if L3 else ""
    print(f"N={n} pairs ({2 * n} links){l3}, {ipv6}, first apply: median of {rounds} rounds")
    print(f"  ip -batch (create, then set):   {t_ip:8.3f} s")
    print(f"  linkctl apply:                  {t_lk:8.3f} s   ratio {t_lk / t_ip:5.2f}x of ip -batch")
    # The kernel's own time for the same work drifts by 20-30 % over minutes here:
    # each round's two runs are neighbours, so their ratio is steadier than the medians'.
    ratios = [lk / ip for ip, lk in zip(ips, lks, strict=True)]
    rounds_said = "  ".join(f"{ip:.3f}/{lk:.3f}" for ip, lk in zip(ips, lks, strict=True))
    print(f"  per round (ip/linkctl):         {rounds_said}")
    print(f"  median of the rounds' ratios:   {statistics.median(ratios):5.2f}x")
    # The fastest run of each tool is the one least slowed by the rest of the machine.
    print(f"  best of each (ip/linkctl):      {min(ips):.3f}/{min(lks):.3f}   ratio {min(lks) / min(ips):5.2f}x")
    # What 1.0x leaves for linkctl's Python: ip -batch's time less the kernel's work for linkctl's requests.
    t_req = statistics.median(reqs)
    print(f"  linkctl's requests alone:       {t_req:8.3f} s   ratio {t_req / t_ip:5.2f}x (no Python before or after)")
    print(f"  left at 1.0x for the rest:      {t_ip - t_req:8.3f} s   (start, load, validate, plan, verify)")
    print(f"  python start + import pydantic: {t_pyd:8.3f} s   (linkctl spends {t_lk - t_req:.3f} s in all)")
    dumps = "ip -j link + addr + route dumps:" if L3 else "ip -j -d link show:            "
    print(f"  {dumps} {dump_s:8.3f} s   (median of 7)")
    print(f"  linkctl apply again (no-op):    {noop:8.3f} s   ratio {noop / dump_s:5.2f}x of the dump (median of 7)")
    print(f"  the same, receipts off:         {t_full:8.3f} s   ratio {t_full / dump_s:5.2f}x (full path: parse, plan)")
    print(f"  (linkctl's python starting alone: {t_py:6.3f} s)")


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("run as root: it creates network namespaces")
    args = sys.argv[1:]
    rounds = 3
    if "--ipv6" in args:
        args.remove("--ipv6")
        IPV6 = True
    if "--l3" in args:
        args.remove("--l3")
        L3 = IPV6 = True  # IPv6 addresses need IPv6 on
    if "--rounds" in args:
        at = args.index("--rounds")
        rounds = int(args[at + 1])
        del args[at : at + 2]
    for arg in args or ["100", "1000"]:
        run(int(arg), rounds)

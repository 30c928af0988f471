"""Benchmark: `linkctl logs parse` against `grep -c -F 'Link is'` on a 1 GiB syslog.

Writes (once, cached under /tmp) a realistic syslog of many daemons where one line in
10,000 is a kernel link event, then times both programs in the same run on a warm page
cache and prints the times, the ratio and linkctl's peak RSS. Each program runs once untimed
first (the file, its libraries and its modules in the page cache for all alike), then the
rounds alternate them, so that a busy moment lands on all. `--against OTHER_LINKCTL` times a
second linkctl (another tree's) in the same rounds. The machine's load average is printed
with each round: other work on the cores stretches every wall-clock figure.

    .venv/bin/python bench/scan_logs.py [--size-mib 1024] [--rounds 3] [--path FILE] [--against LINKCTL]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

HOSTS = ["aurora", "borealis"]
NOISE = [
    "sshd[{pid}]: Accepted publickey for deploy from 10.{a}.{b}.{c} port {port} ssh2: "
    "ED25519 SHA256:Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5",
    "sshd[{pid}]: pam_unix(sshd:session): session opened for user deploy(uid=1000) by (uid=0)",
    "sshd[{pid}]: Disconnected from user deploy 10.{a}.{b}.{c} port {port}",
    "CRON[{pid}]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
    "systemd[1]: Started session-{pid}.scope - Session {pid} of User deploy.",
    "systemd[1]: Starting apt-daily.service - Daily apt download activities...",
    "systemd[1]: logrotate.service: Deactivated successfully.",
    "systemd-logind[{pid}]: New session {pid} of user deploy.",
    "NetworkManager[{pid}]: <info>  [{b}.{c}] dhcp4 (eth1): state changed new lease, address=10.{a}.{b}.{c}",
    "postfix/smtpd[{pid}]: connect from mail-{a}.example.net[192.0.2.{c}]",
    "postfix/qmgr[{pid}]: 4B{a}C{b}: from=<noreply@example.com>, size={port}, nrcpt=1 (queue active)",
    "dhclient[{pid}]: DHCPACK of 10.{a}.{b}.{c} from 10.{a}.{b}.1 (xid=0x{port:x})",
    'kernel: [{up}] audit: type=1400 audit({up}:{pid}): apparmor="DENIED" operation="open" '
    'profile="snap.lxd" name="/proc/{pid}/mounts" pid={pid} comm="lxd"',
    "kernel: [{up}] UFW BLOCK IN=eth0 OUT= MAC=52:54:00:12:34:56 SRC=198.51.100.{c} "
    "DST=10.{a}.{b}.{c} LEN=40 PROTO=TCP SPT={port} DPT=23 WINDOW=1024 SYN URGP=0",
    "kernel: [{up}] EXT4-fs (dm-0): mounted filesystem with ordered data mode. Quota mode: none.",
    'rsyslogd: [origin software="rsyslogd" swVersion="8.2302.0" x-pid="{pid}"] rsyslogd was HUPed',
    'containerd[{pid}]: time="2024-03-30T06:32:{b:02d}Z" level=info msg="shim disconnected" '
    "id={port:x}{pid:x} namespace=moby",
    'dockerd[{pid}]: time="2024-03-30T06:32:{b:02d}Z" level=info msg="ignoring event" '
    "module=libcontainerd namespace=moby topic=/tasks/delete",
    'nginx[{pid}]: 10.{a}.{b}.{c} - - "GET /api/v1/items/{port} HTTP/1.1" 200 {pid}',
    "chronyd[{pid}]: Selected source 192.0.2.{c} (2.debian.pool.ntp.org)",
]
EVENTS = [
    "kernel: [{up}] e1000e 0000:00:19.0 eth0: NIC Link is Down",
    "kernel: [{up}] e1000e 0000:00:19.0 eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx",
    "kernel: [{up}] igb 0000:03:00.1 eno2: igb: eno2 NIC Link is Down",
    "kernel: [{up}] igb 0000:03:00.1 eno2: igb: eno2 NIC Link is Up 1000 Mbps Full Duplex, Flow Control: RX",
    "kernel: [{up}] ixgbe 0000:05:00.0 enp5s0f0: NIC Link is Up 10 Gbps, Flow Control: RX/TX",
    "kernel: [{up}] ixgbe 0000:05:00.0 enp5s0f0: NIC Link is Down",
    "kernel: [{up}] r8169 0000:02:00.0 enp2s0: Link is Up - 1Gbps/Full - flow control rx/tx",
    "kernel: [{up}] r8169 0000:02:00.0 enp2s0: Link is Down",
]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
EVENT_EVERY = 10_000


def _stamp(second: int) -> str:
    day, rest = divmod(second, 86400)
    return f"{MONTHS[(day // 28) % 12]} {day % 28 + 1:2d} {rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}"


def _body(rng: random.Random, template: str, uptime: float) -> str:
    message = template.format(
        pid=rng.randrange(300, 99999),
        a=rng.randrange(256),
        b=rng.randrange(60),
        c=rng.randrange(1, 255),
        port=rng.randrange(1024, 65535),
        up=f"{uptime:12.6f}",
    )
    return f" {rng.choice(HOSTS)} {message}\n"


def _chunks(size: int) -> Iterator[bytes]:
    """Chunks of lines whose total length reaches `size`. Noise bodies come from a pool
    so that a GiB takes seconds to write; every 100 lines the clock moves on a second."""
    rng = random.Random(7)
    pool = [_body(rng, rng.choice(NOISE), 1000.0 + i) for i in range(20_000)]
    written, second = 0, 7 * 3600
    while written < size:
        part: list[str] = []
        for block in range(EVENT_EVERY // 100):
            stamp = _stamp(second + block)
            part.extend(stamp + pool[rng.randrange(len(pool))] for _ in range(100))
        second += EVENT_EVERY // 100
        part[-1] = _stamp(second) + _body(rng, rng.choice(EVENTS), float(second))
        data = "".join(part).encode()
        written += len(data)
        yield data


def ensure_log(path: Path, size: int) -> Path:
    if path.exists() and path.stat().st_size >= size:
        return path
    tmp = path.with_suffix(".partial")
    with tmp.open("wb") as out:
        for chunk in _chunks(size):
            out.write(chunk)
    tmp.replace(path)
    return path


def _bytecode_env() -> dict[str, str]:
    """The environment of the timed programs. With PYTHONDONTWRITEBYTECODE set (as the project's
    shells set it) a tree without __pycache__ compiles every module on every run, ~0.3 s of a
    0.4 s scan: the programs then write their bytecode under /tmp instead, once, in the untimed
    first run, and no tree is written to."""
    env = dict(os.environ)
    if env.pop("PYTHONDONTWRITEBYTECODE", None) is not None:
        env.setdefault("PYTHONPYCACHEPREFIX", "/tmp/linkctl-bench-pycache")
    return env


ENV = _bytecode_env()


def _timed(argv: list[str], to_devnull: bool = True) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, with its children) to run argv. The
    CPU figure stands when other work shares the cores and stretches the wall clock.
    grep's output goes to a pipe: GNU grep notices a stdout of /dev/null and stops at the
    first match, which would time nothing."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    if to_devnull:
        with open(os.devnull, "wb") as devnull:
            subprocess.run(argv, stdout=devnull, check=True, env=ENV)
    else:
        subprocess.run(argv, stdout=subprocess.PIPE, check=True, env=ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def _report(name: str, runs: list[tuple[float, float]]) -> tuple[float, float]:
    wall, cpu = _median([w for w, _ in runs]), _median([c for _, c in runs])
    listed = ", ".join(f"{w:.3f}" for w, _ in runs)
    print(f"{name:<9}median {wall:.3f} s, cpu {cpu:.3f} s  (runs: {listed})")
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--path", type=Path, default=None)
    parser.add_argument("--against", default=None, help="another linkctl to time in the same rounds")
    args = parser.parse_args()
    path = args.path or Path(f"/tmp/linkctl-bench-syslog-{args.size_mib}m.log")
    started = time.perf_counter()
    ensure_log(path, args.size_mib * 1024 * 1024)
    print(f"log: {path} ({path.stat().st_size / 2**20:.0f} MiB, ready in {time.perf_counter() - started:.1f} s)")
    linkctl = shutil.which("linkctl") or str(Path(sys.executable).with_name("linkctl"))
    grep_argv = ["grep", "-c", "-F", "Link is", str(path)]
    contenders = {"linkctl": [linkctl, "logs", "parse", "--format", "jsonl", str(path)]}
    if args.against:
        contenders["against"] = [args.against, *contenders["linkctl"][1:]]
    matches = subprocess.run(grep_argv, capture_output=True, text=True, check=True).stdout
    print(f"grep -c -F 'Link is': {matches.strip()} lines")
    _timed(grep_argv, to_devnull=False)  # untimed: the page cache warm for all alike
    for argv in contenders.values():
        _timed(argv)
    grep_runs: list[tuple[float, float]] = []
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in contenders}
    loads = []
    for n in range(args.rounds):  # alternated, so that a busy moment lands on all
        grep_runs.append(_timed(grep_argv, to_devnull=False))
        for name, argv in contenders.items():
            runs[name].append(_timed(argv))
        loads.append(os.getloadavg()[0])
        said = ", ".join(f"{name} {r[-1][0]:.3f}" for name, r in runs.items())
        print(f"round {n + 1}: grep {grep_runs[-1][0]:.3f} s, {said}  (load average {loads[-1]:.2f})")
    # ru_maxrss of children is the largest of any child: grep's is far smaller.
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    grep_s, grep_cpu = _report("grep", grep_runs)
    for name, contender_runs in runs.items():
        wall, cpu = _report(name, contender_runs)
        print(f"ratio {name}/grep: {wall / grep_s:.2f}x wall (target <= 0.50x), {cpu / grep_cpu:.2f}x cpu")
    print(f"load average: {min(loads):.2f}-{max(loads):.2f} on {os.cpu_count()} cores")
    print(f"peak RSS of children: {peak_kib / 1024:.1f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

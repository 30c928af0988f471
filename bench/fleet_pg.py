#!/usr/bin/env python3
"""Where one PostgreSQL saturates: events per second committed by N watchers at once.

Each simulated watcher is a process of its own with a host name of its own and the real
writer code: a WatchCore fed carrier transitions of a flapping link (the kernel's counters
one step further each time, as RTM_NEWLINK messages carry them), each output committed by
`SqlStore.record` in its own transaction, as `linkctl watch` commits. N = 1, 2, 4, 8, ...
run for the same time against one PostgreSQL (its own cluster, started here: data on disk,
fsync and synchronous_commit on, as a deployment has them; `--fsync off` to see the server
without its disk).

The reference, in the same run and for each N: `pgbench` with N clients, each transaction
one INSERT of an event-sized row into a table of the events table's shape (what the server
can commit when the client costs nothing). The ratio says what share of that linkctl's
writers reach.

Run as root (PostgreSQL runs as the postgres user): `.venv/bin/python bench/fleet_pg.py`
(--writers 1,2,4,8,16 --seconds 10). Prints a table.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Event
from pathlib import Path

from linkctl.domain.events import CarrierCounters
from linkctl.store import HostId, open_store
from linkctl.watch.core import DumpReason, WatchCore
from linkctl.watch.transitions import LinkMessage

T0 = datetime(2024, 5, 1, tzinfo=UTC)
# A row of the events table's width (21 columns) for pgbench's INSERT.
PGBENCH_TABLE = (
    "CREATE TABLE ref_events (id BIGSERIAL PRIMARY KEY, host TEXT NOT NULL, event_key TEXT NOT NULL, "
    "time_us BIGINT, netns TEXT, ifindex INT, ifname TEXT, kind TEXT, state TEXT, source TEXT, "
    "transitions INT, carrier_changes BIGINT, carrier_up BIGINT, carrier_down BIGINT, epoch BIGINT, "
    "detail TEXT, UNIQUE (host, event_key))"
)
PGBENCH_SCRIPT = (
    "\\set k random(1, 1000000000)\n"
    "INSERT INTO ref_events (host, event_key, time_us, netns, ifindex, ifname, kind, state, source, "
    "transitions, carrier_changes, carrier_up, carrier_down, epoch, detail) VALUES ("
    "'host-' || :client_id, :client_id || '/' || :k, :k, '', 2, 'eth0', 'link_down', 'down', 'netlink', "
    "1, :k, :k, :k, 1, NULL) ON CONFLICT (host, event_key) DO NOTHING;\n"
)


@dataclass(frozen=True)
class Cluster:
    bindir: Path
    base: Path
    port: int

    def url(self, db: str) -> str:
        return f"postgresql://postgres@/{db}?host={self.base}&port={self.port}"

    def psql(self, db: str, sql: str) -> None:
        run_pg(
            [
                str(self.bindir / "psql"),
                "-h",
                str(self.base),
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                db,
                "-q",
                "-c",
                sql,
            ]
        )


def run_pg(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """As the postgres user: initdb and postgres refuse root."""
    if os.geteuid() == 0:
        argv = ["runuser", "-u", "postgres", "--", *argv]
    return subprocess.run(argv, capture_output=True, text=True, check=True, timeout=600)


@contextlib.contextmanager
def cluster(fsync: bool) -> Iterator[Cluster]:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        sys.exit("no PostgreSQL server binaries (apt-get install postgresql)")
    bindir = found[-1].parent
    base = Path(tempfile.mkdtemp(prefix="linkctl-fleet-", dir="/var/tmp"))  # on disk: fsync means something
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(base, entry.pw_uid, entry.pw_gid)
    port = 40000 + os.getpid() % 20000
    data = base / "data"
    started = False
    try:
        run_pg([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
        options = (
            f"-c listen_addresses='' -c unix_socket_directories={base} -p {port} -c max_connections=200 "
            f"-c fsync={'on' if fsync else 'off'} -c synchronous_commit={'on' if fsync else 'off'}"
        )
        run_pg([str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "start"])
        started = True
        yield Cluster(bindir, base, port)
    finally:
        if started:
            subprocess.run(
                ["runuser", "-u", "postgres", "--", str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]
                if os.geteuid() == 0
                else [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
                capture_output=True,
                check=False,
                timeout=120,
            )
        shutil.rmtree(base, ignore_errors=True)


def kernel_at(step: int) -> LinkMessage:
    """eth0 after `step` carrier transitions."""
    up, down = 1 + step // 2, (step + 1) // 2
    return LinkMessage(
        time=T0 + timedelta(milliseconds=step),
        netns=None,
        ifindex=2,
        ifname="eth0",
        admin_up=True,
        carrier=up > down,
        counters=CarrierCounters(up + down, up, down),
    )


def writer(url: str, host: str, go: Event, stop: Event, done: multiprocessing.Queue[tuple[int, float, float]]) -> None:
    """One watcher: a commit per carrier transition until told to stop; (events, seconds, its
    CPU seconds) back."""
    store = open_store(url, host=HostId(host, "", chosen=True))
    core = WatchCore()
    store.record(core.on_dump(None, [kernel_at(0)], T0, DumpReason.STARTUP))
    done.put((-1, 0.0, 0.0))  # connected, at its baseline
    go.wait()
    events, start, step, cpu = 0, time.perf_counter(), 0, time.process_time()
    while not stop.is_set():
        step += 1
        out = core.on_link(kernel_at(step))
        store.record(out)
        events += len(out.events)
    done.put((events, time.perf_counter() - start, time.process_time() - cpu))
    store.close()


def linkctl_rate(c: Cluster, n: int, seconds: float) -> tuple[float, float]:
    """Events committed per second by n watchers, and their CPU milliseconds per event."""
    db = f"fleet_{n}"
    c.psql("postgres", f"CREATE DATABASE {db}")
    open_store(c.url(db)).close()  # migrated once, before the writers race
    ctx = multiprocessing.get_context("fork")
    go, stop, done = ctx.Event(), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=writer, args=(c.url(db), f"host-{i}", go, stop, done)) for i in range(n)]
    for p in procs:
        p.start()
    for _ in procs:
        done.get(timeout=120)  # every writer connected and at its baseline
    go.set()
    time.sleep(seconds)
    stop.set()
    results: list[tuple[int, float, float]] = [done.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    events = sum(e for e, _, _ in results)
    per_event = 1000.0 / max(events, 1)
    return events / max(s for _, s, _ in results), per_event * sum(c for _, _, c in results)


def pgbench_rate(c: Cluster, n: int, seconds: float) -> float:
    db = f"ref_{n}"
    c.psql("postgres", f"CREATE DATABASE {db}")
    c.psql(db, PGBENCH_TABLE)
    script = c.base / "insert.sql"
    script.write_text(PGBENCH_SCRIPT)
    os.chmod(script, 0o644)
    res = run_pg(
        [
            str(c.bindir / "pgbench"),
            "-h",
            str(c.base),
            "-p",
            str(c.port),
            "-U",
            "postgres",
            "-n",
            "-f",
            str(script),
            "-c",
            str(n),
            "-j",
            str(min(n, os.cpu_count() or 1)),
            "-T",
            str(int(seconds)),
            db,
        ]
    )
    found = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", res.stdout)
    if found is None:
        found = re.search(r"tps = ([0-9.]+)", res.stdout)
    assert found, res.stdout
    return float(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", default="1,2,4,8,16", help="numbers of watchers, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="each run's length")
    parser.add_argument("--fsync", choices=("on", "off"), default="on")
    args = parser.parse_args()
    counts = [int(x) for x in args.writers.split(",")]
    print(
        f"# {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; "
        f"PostgreSQL fsync={args.fsync}, {args.seconds:g} s a run"
    )
    print(
        f"{'watchers':>8}  {'linkctl events/s':>16}  {'per watcher':>11}  {'watcher CPU/event':>17}  "
        f"{'pgbench INSERT tps':>18}  {'ratio':>6}"
    )
    rows = []
    with cluster(args.fsync == "on") as c:
        for n in counts:
            ref = pgbench_rate(c, n, args.seconds)
            ours, cpu_ms = linkctl_rate(c, n, args.seconds)
            rows.append((n, ours))
            print(
                f"{n:>8}  {ours:>16.0f}  {ours / n:>11.0f}  {cpu_ms:>14.2f} ms  {ref:>18.0f}  {ours / ref:>6.2f}",
                flush=True,
            )
    best = max(rows, key=lambda r: r[1])
    first = next(r for r in rows if r[1] >= 0.9 * best[1])
    print(f"# most: {best[1]:.0f} events/s with {best[0]} watchers; 90 % of that first reached with {first[0]}")


if __name__ == "__main__":
    main()

"""A real `linkctl watch` writing to a real PostgreSQL that is killed (-9) and started again:
the events of the outage are queued in order and written as they happened once the server is
back; past the queue's bound (LINKCTL_STORE_QUEUE) the rest are dropped, counted, and recorded
as gap events from the kernel's carrier counters. Either way the store's transitions equal the
kernel's, link by link. Waits are bounded by deadlines; nothing is timed."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from linkctl.store import HistoryRow, open_store
from tests.watch.test_daemon import (
    CARRIER,
    DEADLINE,
    Watcher,
    add_pairs,
    base_args,
    kernel_counts,
    namespace,
    toggle,
    unique,
    watching,
)

from .pg import Cluster, kill9_postmaster, pg_bindir, start_again, throwaway_cluster

pytestmark = pytest.mark.kernel


@contextmanager
def cluster() -> Iterator[Cluster]:
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (apt-get install postgresql)")
    with throwaway_cluster(bindir) as running:
        yield running


def args(ns: str, url: str, tmp_path: Path) -> list[str]:
    """The watcher's arguments: its own empty kernel log, so that the lines other tests' links
    write to /dev/kmsg meanwhile are not among its events."""
    log = tmp_path / "kern.log"
    log.write_text("")
    return [*base_args([ns], url), "--kernel-log", str(log)]


def carrier_rows(url: str, ns: str) -> list[HistoryRow]:
    with open_store(url, readonly=True) as store:
        return [r for r in store.history(netns=ns) if r.event.value in CARRIER]


def wait_caught_up(url: str, ns: str, kernel: dict[str, int]) -> None:
    end = time.monotonic() + DEADLINE * 2
    while True:
        try:
            with open_store(url, readonly=True) as store:
                stored = {s.ifname: s.carrier_changes for s in store.status() if s.netns == ns}
        except Exception:  # the server still recovering
            stored = {}
        if stored == kernel:
            return
        assert time.monotonic() < end, f"the store never caught up: {stored} != {kernel}"
        time.sleep(0.2)


def printed(name: str, count: int) -> Callable[[str], bool]:
    """The watcher's line for the event that took `name`'s carrier counter to `count`."""
    return lambda line: f" {name} " in line and f"carrier_changes={count} " in line


def ends(names: list[str]) -> set[str]:
    return {end for name in names for end in (name, f"{name}p")}


class Outage:
    """The links flapped while the server is dead: the kernel's counters once the watcher has
    written everything, its line saying it did, and the events it printed meanwhile (one
    line each, in the order they were queued)."""

    def __init__(self, url: str, db: Cluster, ns: str, names: list[str], watcher: Watcher, flaps: int) -> None:
        toggle(ns, names, 1)
        wait_caught_up(url, ns, kernel_counts(ns))
        self.last_id = max(r.id for r in all_rows(url, ns))  # the store's last row before the outage
        kill9_postmaster(db)
        for _ in range(flaps):
            # One flap at a time, each read by the watcher before the next: outputs of a few events.
            toggle(ns, names, 1)
            for name, count in kernel_counts(ns).items():
                if name in ends(names):
                    watcher.wait_line(printed(name, count))
        watcher.wait_line(lambda line: "not writable" in line)
        start_again(db)
        self.back = watcher.wait_line(lambda line: "writable again" in line)
        self.after = kernel_counts(ns)
        wait_caught_up(url, ns, self.after)
        # The events it printed from the moment it found the store gone to the moment it was back.
        lines = list(watcher.lines)
        first = next(i for i, line in enumerate(lines) if "not writable" in line)
        last = next(i for i, line in enumerate(lines) if "writable again" in line)
        self.printed = [line for line in lines[first:last] if f" {ns} " in line and " source=" in line]

    def during(self, url: str, ns: str) -> list[HistoryRow]:
        """The store's rows written since the outage began."""
        return [r for r in all_rows(url, ns) if r.id > self.last_id]

    def number(self, pattern: str) -> int:
        found = re.search(pattern, self.back)
        assert found, self.back
        return int(found.group(1))


def assert_equal_to_the_kernel(rows: list[HistoryRow], before: dict[str, int], after: dict[str, int]) -> None:
    recorded: dict[str, int] = {}
    for row in rows:
        recorded[row.ifname] = recorded.get(row.ifname, 0) + row.transitions
    assert recorded == {name: after[name] - before[name] for name in after if after[name] != before[name]}
    for name in recorded:  # in order, each reading once: the link's counter only grows
        counters = [r.carrier.changes for r in rows if r.ifname == name and r.carrier is not None]
        assert counters == sorted(set(counters)), (name, counters)


def all_rows(url: str, ns: str) -> list[HistoryRow]:
    with open_store(url, readonly=True) as store:
        return store.history(netns=ns)


def test_events_of_a_postgresql_outage_are_written_in_order_when_it_is_back(tmp_path: Path) -> None:
    with cluster() as db, namespace() as ns:
        url = db.url()
        names = [unique("q"), unique("q")]
        add_pairs(ns, names)
        with watching(args(ns, url, tmp_path)) as watcher:
            before = kernel_counts(ns)
            seen = Outage(url, db, ns, names, watcher, flaps=5)
        rows = carrier_rows(url, ns)
        during = seen.during(url, ns)
    # Each transition is an event of its own, as it happened: no gap.
    assert [r for r in rows if r.event.value == "gap"] == []
    assert_equal_to_the_kernel(rows, before, seen.after)
    written = seen.number(r"(\d+) event\(s\) queued meanwhile written in order")
    # Every event the watcher saw during the outage, and in its order.
    assert written == len(seen.printed) == len(during) > 0
    assert [(r.ifname, r.event.value) for r in during] == [(line.split()[2], line.split()[3]) for line in seen.printed]
    assert "dropped" not in seen.back and "gap event" not in seen.back


def test_past_the_bound_the_dropped_events_are_counted_and_recorded_as_a_gap(tmp_path: Path) -> None:
    bound = 12
    with cluster() as db, namespace() as ns:
        url = db.url()
        names = [unique("q"), unique("q")]
        add_pairs(ns, names)
        with watching(args(ns, url, tmp_path), env={"LINKCTL_STORE_QUEUE": str(bound)}) as watcher:
            before = kernel_counts(ns)
            seen = Outage(url, db, ns, names, watcher, flaps=5)
        rows = carrier_rows(url, ns)
        during = seen.during(url, ns)
    assert_equal_to_the_kernel(rows, before, seen.after)
    written = seen.number(r"(\d+) event\(s\) queued meanwhile written in order")
    dropped = seen.number(rf"(\d+) event\(s\) and \d+ counter snapshot\(s\) beyond the queue's bound of {bound} were")
    in_gaps = seen.number(r"recorded from the kernel's counters: \d+ gap event\(s\) holding (\d+) carrier")
    # Exactly: the queue kept the first events it could hold, the rest were dropped.
    assert 0 < written <= bound and written + dropped == len(seen.printed)
    queued = [r for r in during if r.event.value != "gap"]
    assert [(r.ifname, r.event.value) for r in queued] == [
        (line.split()[2], line.split()[3]) for line in seen.printed[:written]
    ]
    # The gap events hold the dropped events' transitions: the kernel's count of them.
    gaps = [r for r in rows if r.event.value == "gap"]
    assert sum(r.transitions for r in gaps) == in_gaps == sum(_transitions(line) for line in seen.printed[written:]) > 0
    assert all(f"{dropped} event(s) beyond the outage queue's {bound} not kept" in str(r.detail) for r in gaps)


def _transitions(line: str) -> int:
    found = re.search(r" transitions=(\d+)", line)
    return int(found.group(1)) if found else 0

"""A real `linkctl watch` whose PostgreSQL server stops answering (a backend stopped by
SIGSTOP, or the server's socket taking connections and never speaking: a hung server, or a
host cut off without a reset, as the client sees them): the watcher names the outage, keeps
watching, stamps events when they happen and writes what it queued once the server answers."""

from __future__ import annotations

import bisect
import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from tests.watch.test_daemon import add_pairs, kernel_counts, namespace, toggle, unique, watching

from .pg import kill9_postmaster, start_again
from .test_outage_queue import all_rows, args, assert_equal_to_the_kernel, cluster, printed, wait_caught_up

pytestmark = pytest.mark.kernel


def watcher_backends(url: str) -> list[int]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchall()
    return [int(row[0]) for row in rows]


def test_a_server_that_stops_answering_is_an_outage_the_watcher_outlives(tmp_path: Path) -> None:
    with cluster() as db, namespace() as ns:
        url = db.url()
        names = [unique("h")]
        add_pairs(ns, names)
        with watching(args(ns, url, tmp_path)) as watcher:
            before = kernel_counts(ns)
            toggle(ns, names, 1)
            wait_caught_up(url, ns, kernel_counts(ns))
            last_id = max(r.id for r in all_rows(url, ns))
            stopped = watcher_backends(url)
            assert stopped
            for pid in stopped:
                os.kill(pid, signal.SIGSTOP)
            try:
                toggle(ns, names, 1)
                line = watcher.wait_line(lambda line: "not writable" in line)
                # Still watching while the server says nothing: each flap is read and printed.
                toggle(ns, names, 2)
                for name, count in kernel_counts(ns).items():
                    if name.startswith(names[0]):
                        watcher.wait_line(printed(name, count))
            finally:
                for pid in stopped:
                    os.kill(pid, signal.SIGCONT)
            assert "did not answer in 15 s" in line
            watcher.wait_line(lambda line: "writable again" in line)
            after = kernel_counts(ns)
            wait_caught_up(url, ns, after)
        rows = [r for r in all_rows(url, ns) if r.event.is_carrier]
    assert_equal_to_the_kernel(rows, before, after)
    assert [r for r in rows if r.id > last_id and r.event.value == "gap"] == []  # each event as it happened


@contextmanager
def silent_socket(path: Path) -> Iterator[None]:
    """The server's socket answering nothing: connections are taken and never spoken to."""
    path.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen(64)
    taken: list[socket.socket] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                taken.append(listener.accept()[0])

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield
    finally:
        listener.close()
        path.unlink(missing_ok=True)
        for conn in taken:
            conn.close()


def test_events_are_recorded_when_they_happen_while_the_server_answers_nothing(tmp_path: Path) -> None:
    # Each new connection waits out its connect_timeout (10 s): made on the loop, it held the
    # loop, and an event read after it was recorded up to 20 s late, after later flaps.
    with cluster() as db, namespace() as ns:
        url = db.url()
        names = [unique("t")]
        add_pairs(ns, names)
        with watching(args(ns, url, tmp_path)) as watcher:
            toggle(ns, names, 1)
            wait_caught_up(url, ns, kernel_counts(ns))
            last_id = max(r.id for r in all_rows(url, ns))
            kill9_postmaster(db)
            made: list[datetime] = []
            with silent_socket(db.socket_dir / f".s.PGSQL.{db.port}"):
                watcher.wait_line(lambda line: "not writable" in line)
                for _ in range(8):
                    made.append(datetime.now(UTC))
                    toggle(ns, names, 1)
                    time.sleep(3)  # the flaps' spacing, not a wait for the watcher
                made.append(datetime.now(UTC))
            start_again(db)
            watcher.wait_line(lambda line: "writable again" in line)
            wait_caught_up(url, ns, kernel_counts(ns))
        rows = [r for r in all_rows(url, ns) if r.id > last_id and r.ifname == names[0]]
    # Each flap's events stamped between it and the next one.
    flaps = {bisect.bisect_right(made, r.time) for r in rows if r.event.value in ("link_up", "link_down")}
    assert flaps == set(range(1, 9)), [(r.time.time(), r.event.value) for r in rows]

"""A real `linkctl watch` whose PostgreSQL backend stops answering (SIGSTOP: a hung server,
as a host cut off without a reset looks to the client): the watcher names the outage, keeps
watching and writes what it queued once the server answers. Before, its loop waited inside
the commit for as long as the server did: no line, metrics frozen, no outage said."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import psycopg
import pytest

from tests.watch.test_daemon import add_pairs, kernel_counts, namespace, toggle, unique, watching

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
        rows = [r for r in all_rows(url, ns) if r.event.value in ("link_up", "link_down", "gap")]
    assert_equal_to_the_kernel(rows, before, after)
    assert [r for r in rows if r.id > last_id and r.event.value == "gap"] == []  # each event as it happened

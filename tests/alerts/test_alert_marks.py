"""An alert's bookkeeping when the store takes no writes: another process holds the SQLite
file's write lock (a real second connection in a transaction, as a `sqlite3` shell keeps it).
The alert is sent once, its mark kept in memory and written once the lock is released."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from linkctl.alerts import AlertDispatcher
from linkctl.domain.episodes import EpisodeEdge, FlapNotice
from linkctl.store import AlertState, SqliteStore, open_store

from .servers import webhook_receiver
from .test_alerts import SECRET, config, ended, episode, hook_sender, queue


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "alerts.db"


@pytest.fixture
def store(db: Path) -> Iterator[SqliteStore]:
    opened = open_store(f"sqlite://{db}")
    assert isinstance(opened, SqliteStore)
    # The watcher waits 10 s for a lock; the test's holder keeps it for good, so a
    # short wait fails the same way, sooner.
    opened._conn.execute("PRAGMA busy_timeout=50")
    try:
        yield opened
    finally:
        opened.close()


def test_an_alert_sent_while_the_store_is_locked_is_not_sent_again(store: SqliteStore, db: Path) -> None:
    notes: list[str] = []
    with webhook_receiver(SECRET) as (url, log):
        dispatcher = AlertDispatcher(store, [hook_sender(url)], config())
        dispatcher.note = notes.append
        ep = episode()
        queue(store, dispatcher, FlapNotice(EpisodeEdge.START, ep))
        t0 = datetime.now(UTC) + timedelta(seconds=1)
        holder = sqlite3.connect(db, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            assert dispatcher.deliver_due(t0).sent == [f"{ep.key}/start/hook"]
            for second in range(2, 6):  # rounds while the lock is held: nothing sent again
                assert dispatcher.deliver_due(t0 + timedelta(seconds=second)).sent == []
            assert store.alert_state(f"{ep.key}/start/hook") == AlertState.PENDING  # the store has no mark
            queue_end = FlapNotice(EpisodeEdge.END, ended(ep))
        finally:
            holder.close()
        queue(store, dispatcher, queue_end)
        # The end goes out: its start is sent as the dispatcher knows it, and its mark is written.
        report = dispatcher.deliver_due(t0 + timedelta(seconds=10))
    assert report.sent == [f"{ep.key}/end/hook"]
    assert log.deliveries == [f"{ep.key}/start/hook", f"{ep.key}/end/hook"]
    assert [a.state for a in store.alerts()] == [AlertState.SENT, AlertState.SENT]
    (fault, back) = notes  # said once for the spell, and once when it ended
    assert str(db) in fault and "database is locked" in fault and "end that transaction" in fault
    assert "takes writes again: 1 alert mark(s)" in back


def test_an_alert_mark_kept_in_memory_is_written_when_the_worker_stops(store: SqliteStore, db: Path) -> None:
    with webhook_receiver(SECRET) as (url, _log):
        dispatcher = AlertDispatcher(store, [hook_sender(url)], config())
        dispatcher.note = lambda _text: None
        ep = episode()
        queue(store, dispatcher, FlapNotice(EpisodeEdge.START, ep))
        holder = sqlite3.connect(db, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            assert len(dispatcher.deliver_due(datetime.now(UTC) + timedelta(seconds=1)).sent) == 1
        finally:
            holder.close()
        dispatcher.flush()
    assert store.alert_state(f"{ep.key}/start/hook") == AlertState.SENT

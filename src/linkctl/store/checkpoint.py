"""SQLite WAL checkpoints from a thread with a connection of its own."""

from __future__ import annotations

import logging
import sqlite3
import threading

from linkctl.store.backends import SqliteStore

log = logging.getLogger(__name__)


class WalCheckpointer:
    """Checkpoints the SQLite WAL beside the commits.

    A checkpoint fsyncs the database: several ms on a VM disk, and SQLite runs it
    inside whichever commit crosses 1000 WAL pages. That was the whole p99 of
    the event-to-store latency; here it runs beside the commits (a PASSIVE
    checkpoint never blocks the writer).
    """

    def __init__(self, store: SqliteStore, every: float = 1.0) -> None:
        # Per connection: the store's writer no longer checkpoints in its commits
        # (and keeps it so across a reopen).
        store.autocheckpoint = False
        store._conn.execute("PRAGMA wal_autocheckpoint=0")
        self._conn = sqlite3.connect(store.path, isolation_level=None, check_same_thread=False)
        self._every = every
        self._failing = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="linkctl-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self.checkpoint()

    def checkpoint(self) -> None:
        try:
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as exc:
            # Once per failing spell: on a full disk this fails every second.
            if not self._failing:
                log.warning("WAL checkpoint failed: %s", exc)
            self._failing = True
        else:
            self._failing = False

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self.checkpoint()
        self._conn.close()


def checkpointer_for(store: object) -> WalCheckpointer | None:
    if not isinstance(store, SqliteStore) or store.path in ("", ":memory:"):
        return None
    return WalCheckpointer(store)

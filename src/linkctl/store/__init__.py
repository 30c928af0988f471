"""The watcher's history store: SQLite (WAL, the default) or PostgreSQL (psycopg 3).

    store = open_store("sqlite:///var/lib/linkctl/events.db")   # or postgresql://...
    store.record(core_output, receivers=["mail", "am"])  # one transaction
    store.last_known(); store.open_episodes()             # restart resume
    with read_store(url) as store:                        # each read bounded in time
        store.history("eth0", since=parse_since("24h"))   # `linkctl history`
        store.status()                                    # `linkctl status`
    store.due_alerts(now); store.mark_alert_key(...)          # the alert queue

Both back ends share one schema and one migration list
(:mod:`linkctl.store.schema`); `open_store` migrates unless `readonly`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from linkctl.store.backends import PostgresStore, SqliteStore, open_store, sqlite_path
from linkctl.store.hosts import HostId, local_host
from linkctl.store.records import (
    AlertState,
    BadSince,
    HistoryRow,
    LinkStatus,
    QueuedAlert,
    StoreError,
    parse_since,
)
from linkctl.store.sql import SqlStore

DEFAULT_STORE = "sqlite:///var/lib/linkctl/events.db"


@contextmanager
def read_store(url: str, timeout: float | None = None) -> Iterator[SqlStore]:
    """The store open to read (`history`, `status`, `report`, `diagnose`): each read waits at
    most `timeout` seconds (None: the back end's default, read_bound.py), and one failing for
    the environment's sake (a server that does not answer, a file locked) is an error naming
    the store, the cause and the fix, not a traceback."""
    with open_store(url, readonly=True, timeout=timeout) as store:
        try:
            yield store
        except Exception as exc:
            named = store.named(exc)
            if named is exc:
                raise
            raise named from None


__all__ = [
    "DEFAULT_STORE",
    "AlertState",
    "BadSince",
    "HistoryRow",
    "HostId",
    "LinkStatus",
    "PostgresStore",
    "QueuedAlert",
    "SqlStore",
    "SqliteStore",
    "StoreError",
    "local_host",
    "open_store",
    "parse_since",
    "read_store",
    "sqlite_path",
]

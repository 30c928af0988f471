"""How long a reader of the store (`history`, `status`, `report`, `diagnose --store`) waits for it.

A PostgreSQL server that took the connection and then stopped answering (its backend stopped
or stuck, its host cut off without a reset) held the reader for ever: libpq has no bound of its
own. The bound is on each statement's whole wait for its answer, as nothing on the client's side
tells a hung server from a busy one: PostgreSQL sends nothing while a statement runs, and the
TCP keepalives set at connect are answered by the server's kernel for a stopped backend as for
a working one (they tell a host or network gone; a Unix socket has none). So the bound is
generous, as a report's statements over a big fleet take a while, the reader's own work on the
rows between statements is not counted, and the error says how to raise it.

A SQLite file that another process holds locked is waited for a slice at a time: SQLite's own
wait (busy_timeout) sleeps in C, where Ctrl-C is not seen until the wait ends.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from linkctl.store.pg_answer import answered_within
from linkctl.store.sqlconn import Cursor

# Seconds a read waits for a PostgreSQL server's answer: a read takes milliseconds to seconds.
PG_READ_TIMEOUT = 60.0
# Seconds a read waits for another process's lock on a SQLite file (busy_timeout's 10 s before).
SQLITE_LOCK_WAIT = 10.0
# Milliseconds of one slice of SQLite's own wait: how late Ctrl-C can be.
_LOCK_SLICE_MS = 100
TIMEOUT_ENV = "LINKCTL_STORE_TIMEOUT"
RAISE_IT = f"--store-timeout SECONDS or {TIMEOUT_ENV}=SECONDS"
PG_READ_REMEDY = (
    "see what the server is doing (pg_stat_activity, its log); if the read is only slow "
    f"(a large store), give it longer: {RAISE_IT}"
)


def locked(exc: BaseException) -> bool:
    """Whether `exc` is SQLite's "database is locked" (or "table is locked"): another
    process's lock, waited for in vain."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return True
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


def slice_lock_waits(conn: sqlite3.Connection) -> None:
    """SQLite's own wait for a lock, a slice long: LockWaiting repeats it."""
    conn.execute(f"PRAGMA busy_timeout={_LOCK_SLICE_MS}")


class _Reading:
    """A reader's cursor: the statements are run as `execute` says, the rows fetched as they are."""

    def __init__(self, cur: Cursor) -> None:
        self._cur = cur

    def execute(self, sql: Any, params: Any = (), /) -> Any:
        return self._cur.execute(sql, params)

    def fetchall(self) -> list[Any]:
        return self._cur.fetchall()

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchmany(self, size: int) -> list[Any]:
        return self._cur.fetchmany(size)

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount


class Answered(_Reading):
    """A reader's cursor on a PostgreSQL connection: each statement waits for the server's whole
    answer (psycopg's cursor holds the rows once execute returns) at most `timeout` seconds."""

    def __init__(self, cur: Cursor, conn: Any, timeout: float) -> None:
        super().__init__(cur)
        self._conn = conn
        self._timeout = timeout

    def execute(self, sql: Any, params: Any = (), /) -> Any:
        with answered_within(self._conn, self._timeout):
            return self._cur.execute(sql, params)


class LockWaiting(_Reading):
    """A reader's cursor on a SQLite file: a statement refused for another process's lock is
    tried again until `wait` seconds have passed, a signal landing between two tries."""

    def __init__(self, cur: Cursor, wait: float) -> None:
        super().__init__(cur)
        self._wait = wait

    def execute(self, sql: Any, params: Any = (), /) -> Any:
        deadline = time.monotonic() + self._wait
        while True:
            try:
                return self._cur.execute(sql, params)
            except sqlite3.OperationalError as exc:
                # A read refused does nothing: trying it again is safe.
                if not locked(exc) or time.monotonic() >= deadline:
                    raise

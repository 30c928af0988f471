"""What the SQL store stands on: the connection and its cursors, the schema migrations
and the host identity (which host a store writes as, and a renamed machine's rows carried
over). `SqlStore` in sql.py adds the reads and writes; backends.py the two dialects.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol, Self

from linkctl.store.hosts import HostId, local_host
from linkctl.store.records import StoreError, to_us
from linkctl.store.schema import LATEST, MIGRATIONS, SCHEMA_VERSION_TABLE

# Seconds a watcher waits for another one writing as its host to go away.
HOLD_WAIT = 10.0


class Cursor(Protocol):
    def execute(self, sql: Any, params: Any = ..., /) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def fetchone(self) -> Any: ...
    def fetchmany(self, size: int) -> list[Any]: ...

    @property
    def rowcount(self) -> int: ...


class _Rewriting:
    """A cursor that rewrites ``?`` placeholders for the driver underneath."""

    def __init__(self, cur: Any, rewrite: Any) -> None:
        self._cur = cur
        self._rewrite = rewrite

    def execute(self, sql: Any, params: Any = (), /) -> Any:
        return self._cur.execute(self._rewrite(sql), params)

    def fetchall(self) -> list[Any]:
        return list(self._cur.fetchall())

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchmany(self, size: int) -> list[Any]:
        return list(self._cur.fetchmany(size))

    @property
    def rowcount(self) -> int:
        return int(self._cur.rowcount)


class SqlConnection:
    """One store's connection (shared between threads under one lock), its schema
    and the host it writes as."""

    dialect = "sqlite"

    def __init__(self, conn: Any, host: HostId | None = None) -> None:
        self._conn = conn
        self._lock = threading.RLock()
        # Whose rows this store writes, and whose it resumes from: a watcher sees only
        # its own host's links, episodes and alerts; `history` and `status` see all.
        self.host = host or local_host()

    # -- plumbing -------------------------------------------------------------

    def _sql(self, sql: str) -> str:
        return sql

    @contextmanager
    def _tx(self) -> Iterator[Cursor]:
        raise NotImplementedError

    @contextmanager
    def _read(self) -> Iterator[Cursor]:
        with self._lock:
            cur = self._conn.cursor()
            try:
                yield _Rewriting(cur, self._sql)
            finally:
                cur.close()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- faults of the environment --------------------------------------------

    def unavailable(self, exc: BaseException) -> str | None:
        """Why the store cannot be used, when `exc` says the environment is the cause;
        None for an error of linkctl's own (it must show)."""
        return None

    def remedy(self, exc: BaseException) -> str:
        """What an operator does about `exc` (an `unavailable` one)."""
        return "check the database server and its log"

    def bound_answers(self) -> None:
        """Make a server that stops answering an error after a bound (a watcher's store)."""

    def bound_reads(self, timeout: float | None) -> None:
        """A reader's store (`history`, `status`, `report`): a read waits for the store at most
        `timeout` seconds, the back end's default if None (read_bound.py)."""

    def where(self) -> str:
        """The store, as messages name it (no password)."""
        return self.dialect

    def named(self, exc: Exception) -> Exception:
        """A fault of the environment as an error naming the store, the cause and the fix;
        anything else (a bug) as it is."""
        reason = self.unavailable(exc)
        if reason is None:
            return exc
        return StoreError(f"store {self.where()}: {' '.join(reason.split())}: {self.remedy(exc)}")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- migrations -----------------------------------------------------------

    def _lock_migrations(self, cur: Cursor) -> None:
        """Serialise concurrent migrators (SQLite's BEGIN IMMEDIATE already does)."""

    def migrate(self) -> int:
        """Bring the schema to the latest version; returns the version found before."""
        with self._tx() as cur:
            self._lock_migrations(cur)
            cur.execute(SCHEMA_VERSION_TABLE)
            cur.execute("SELECT MAX(version) FROM schema_version")
            found = cur.fetchone()[0] or 0
            if found > LATEST:
                raise StoreError(
                    f"store schema version {found} is newer than this linkctl knows "
                    f"({LATEST}): upgrade linkctl, or point --store at another database"
                )
            for migration in MIGRATIONS:
                if migration.version <= found:
                    continue
                for step in migration.render(self.dialect):
                    cur.execute(step.sql, self._stamp() if step.stamp else ())
                cur.execute(
                    "INSERT INTO schema_version (version, name, applied_us) VALUES (?, ?, ?)",
                    (migration.version, migration.name, to_us(datetime.now(UTC))),
                )
        return int(found)

    def _stamp(self) -> tuple[str, str]:
        return (self.host.name, self.host.machine_id)

    def claim_host(self) -> list[str]:
        """Register this store's host, and say what an operator should know about it.

        A machine whose hostname changed (same machine-id, the old name the only one
        it ever had) carries its rows over to the new name: one host, one history. A
        name the operator chose is taken as given.
        """
        try:
            self._hold_own_host()
            return self._claim_host()
        except Exception as exc:
            named = self.named(exc)
            if named is exc:
                raise
            raise named from None

    def _claim_host(self) -> list[str]:
        notes: list[str] = []
        me = self.host
        now = to_us(datetime.now(UTC))
        with self._tx() as cur:
            cur.execute("SELECT machine_id FROM hosts WHERE host = ?", (me.name,))
            found = cur.fetchone()
            if found is not None:
                if me.machine_id and found[0] and found[0] != me.machine_id:
                    notes.append(
                        f"host name {me.name!r} is also used by machine-id {found[0]}: their links "
                        "share one history; give one of them --host NAME"
                    )
                cur.execute("UPDATE hosts SET last_seen_us = ? WHERE host = ?", (now, me.name))
                return notes
            old: list[str] = []
            if me.machine_id and not me.chosen:
                cur.execute("SELECT host FROM hosts WHERE machine_id = ? ORDER BY host", (me.machine_id,))
                old = [str(row[0]) for row in cur.fetchall()]
            # Containers can share a machine-id with their host and each other: a name whose
            # watcher still runs is another host, not this one's old name.
            if len(old) == 1 and self._hold_host(cur, old[0]):
                self._release_host(cur, old[0])
                for table in ("links", "events", "counter_snapshots", "flap_episodes", "alert_queue"):
                    cur.execute(f"UPDATE {table} SET host = ? WHERE host = ?", (me.name, old[0]))
                cur.execute("UPDATE hosts SET host = ?, last_seen_us = ? WHERE host = ?", (me.name, now, old[0]))
                notes.append(f"this machine was {old[0]!r}: its history now carries the name {me.name!r}")
                return notes
            cur.execute(
                "INSERT INTO hosts (host, machine_id, first_seen_us, last_seen_us) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (host) DO UPDATE SET last_seen_us = excluded.last_seen_us",
                (me.name, me.machine_id, now, now),
            )
        return notes

    def _hold_own_host(self) -> None:
        """Be the one watcher writing as this host, or say who is.

        Two would each detect (and alert) every flap episode, under keys of their own, and
        write each event twice. A watcher restarted quickly may find the old one's hold
        still there (a PostgreSQL session not yet gone): it waits HOLD_WAIT seconds for it.
        The hold is taken outside a transaction: SQLite's would block the other's writes.
        """
        deadline = time.monotonic() + HOLD_WAIT
        while True:
            with self._tx() as cur:
                if self._hold_host(cur, self.host.name):
                    return
            if time.monotonic() >= deadline:
                raise StoreError(
                    f"store {self.where()}: another watcher is writing as host {self.host.name!r} "
                    f"(waited {HOLD_WAIT:.0f} s): stop it, or give one of them --host NAME"
                )
            time.sleep(0.5)

    def _hold_host(self, cur: Cursor, name: str) -> bool:
        """Mark `name` as written by a running watcher; False if another one holds it."""
        return True

    def _release_host(self, cur: Cursor, name: str) -> None:
        pass

    def schema_version(self) -> int:
        with self._read() as cur:
            cur.execute("SELECT MAX(version) FROM schema_version")
            return int(cur.fetchone()[0] or 0)

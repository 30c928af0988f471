"""The two back ends: connection set-up and transactions; the SQL is shared."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from linkctl.store.hosts import HostId
from linkctl.store.pg_answer import ANSWER_TIMEOUT, answered_within, pg_connect, unanswered
from linkctl.store.read_bound import (
    PG_READ_REMEDY,
    PG_READ_TIMEOUT,
    RAISE_IT,
    SQLITE_LOCK_WAIT,
    Answered,
    LockWaiting,
    locked,
    slice_lock_waits,
)
from linkctl.store.records import AlertState, StoreError, to_us
from linkctl.store.rows import HOSTED
from linkctl.store.schema import LATEST
from linkctl.store.sql import Cursor, SqlStore, _Rewriting

log = logging.getLogger(__name__)

# The alert queue's columns carried into a store file written anew (the id is the new file's).
_CARRIED = (
    "alert_key, receiver, episode_key, edge, netns, ifname, payload, created_us, state, "
    "attempts, next_attempt_us, last_error, done_us"
)
_CARRY_DONE_FOR_US = 86_400 * 1_000_000

# Any fixed number: the key of the advisory lock that serialises migrators.
_PG_MIGRATION_LOCK = 0x6C6E6B63
# The first half of the session locks that say "a watcher writes as this host" (the
# second half is the name's hash): the server drops them with the connection, so a
# crashed watcher holds nothing.
_PG_HOST_LOCKS = 0x6C6E6B68


def sqlite_path(url: str) -> str:
    """`sqlite:///var/lib/x.db` -> `/var/lib/x.db`; `sqlite://rel.db` -> `rel.db`.

    SQLAlchemy users write absolute paths with four slashes (`sqlite:////var/lib/x.db`):
    the extra slashes name the same file.
    """
    if url.startswith("sqlite://"):
        path = url[len("sqlite://") :]
        return "/" + path.lstrip("/") if path.startswith("//") else path
    return url


class SqliteStore(SqlStore):
    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection, path: str = ":memory:", host: HostId | None = None) -> None:
        super().__init__(conn, host)
        self.path = path
        self.autocheckpoint = True
        self._identity = _identity(path)
        self._wal: tuple[int, int] | None = None  # this file's WAL, once it exists
        self._carried: list[tuple[object, ...]] | None = None  # read from a replaced file
        self._host_locks: dict[str, int] = {}  # host name -> its lock file, held

    @classmethod
    def connect(cls, url: str, readonly: bool = False, host: HostId | None = None) -> SqliteStore:
        path = sqlite_path(url)
        if not path:
            raise StoreError(f"--store {url!r}: no file name; e.g. sqlite:///var/lib/linkctl/events.db")
        try:
            conn = cls._open(path, readonly)
        except sqlite3.Error as exc:
            raise StoreError(f"--store {url!r}: cannot open {path}: {exc}: {_remedy(path, exc)}") from None
        return cls(conn, path, host)

    def moved(self) -> bool:
        """The file at the store's path is no longer the one written (deleted or replaced).

        SQLite in WAL mode goes on writing to an unlinked file without an error:
        only comparing the path's inode with the one opened tells.
        """
        if self._identity is None:
            return False
        found = _identity(self.path)
        if found == self._identity and self._wal in (None, (0, 0)):
            self._wal = _identity(self.path + "-wal")
        return found != self._identity

    def reopen(self) -> int:
        """Open (creating and migrating if need be) the file now at the path, carrying the
        alert queue over from the old file; returns how many alert rows were carried.

        The caller closes every other connection to the old file first: the
        last close removes the old -wal and -shm, which a new file must not
        inherit (SQLite would replay the old file's pages into it).
        """
        with self._lock:
            if self._carried is None:  # read once: a failed reopen has closed the old file
                self._carried = self._alerts_to_carry()
            self._conn.close()
            self._drop_stale_wal()
            self._conn = self._open(self.path, readonly=False)
            self._identity = _identity(self.path)
            self._wal = None
            if not self.autocheckpoint:
                self._conn.execute("PRAGMA wal_autocheckpoint=0")
            # Under the lock: the alert worker must not find the new file without its queue.
            self.migrate()
            self._carry(self._carried)
            carried, self._carried = len(self._carried), None
        return carried

    def _alerts_to_carry(self) -> list[tuple[object, ...]]:
        """This host's alert rows a new file needs, read from the old one (open still, deleted
        or not): those to be sent, the sent starts whose end alert is to come (it is sent only
        after its start), and those done in the last day (the rate limiter counts the sent
        starts of its window: a longer window than a day forgets the older ones)."""
        since = to_us(datetime.now(UTC)) - _CARRY_DONE_FOR_US
        try:
            cur = self._conn.execute(
                f"SELECT {_CARRIED}, {HOSTED} FROM alert_queue WHERE host = ? AND (state = ? OR done_us >= ? "
                "OR episode_key IN (SELECT episode_key FROM flap_episodes WHERE host = ? AND cleared_us IS NULL)) "
                "ORDER BY id",
                (self.host.name, AlertState.PENDING, since, self.host.name),
            )
            return [tuple(row) for row in cur.fetchall()]
        except sqlite3.Error as exc:  # the old file unreadable: its queue is lost, and said
            log.warning("store %s: the alert queue of the replaced file cannot be read: %s", self.path, exc)
            return []

    def _carry(self, rows: list[tuple[object, ...]]) -> None:
        marks = ", ".join("?" * (len(_CARRIED.split(",")) + len(HOSTED.split(","))))
        with self._tx() as cur:
            for row in rows:
                cur.execute(
                    f"INSERT INTO alert_queue ({_CARRIED}, {HOSTED}) VALUES ({marks}) "
                    "ON CONFLICT (host, alert_key) DO NOTHING",
                    row,
                )

    def _drop_stale_wal(self) -> None:
        """The old file's WAL, if closing did not remove it (a failed final checkpoint).

        Left there, SQLite would replay the old file's pages into the new one. Only
        the WAL this store wrote goes: one that came with a replacing file stays.
        """
        if self._wal is None or self._wal == (0, 0) or _identity(self.path + "-wal") != self._wal:
            return
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path + suffix)

    def _hold_host(self, cur: Cursor, name: str) -> bool:
        """A lock file beside the store, one per host name, held (flock) while the store is open:
        the kernel drops it with the process, so a crashed watcher holds nothing."""
        if self._identity is None or name in self._host_locks:
            return True  # a database in memory is this process's alone
        path = f"{self.path}.host-{quote(name, safe='')}.lock"
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)
        except OSError as exc:
            raise StoreError(
                f"store {self.path}: cannot create the watcher's lock file {path}: {exc.strerror}: "
                "make its directory writable by this user"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._host_locks[name] = fd
        return True

    def _release_host(self, cur: Cursor, name: str) -> None:
        self._unlock_host(name)

    def _unlock_host(self, name: str) -> None:
        fd = self._host_locks.pop(name, None)
        if fd is not None:
            os.close(fd)  # drops the flock

    def close(self) -> None:
        super().close()
        for name in list(self._host_locks):
            self._unlock_host(name)

    def unavailable(self, exc: BaseException) -> str | None:
        # OperationalError is the environment (full, read-only, I/O error,
        # locked, unopenable); other errors are linkctl's own and must show.
        if isinstance(exc, sqlite3.OperationalError):
            return str(exc)
        return None

    def disk_full(self, exc: BaseException) -> bool:
        code = getattr(exc, "sqlite_errorcode", None)
        # A full disk can also fail the -shm or -wal file's growth: SQLite says "disk I/O error".
        return isinstance(exc, sqlite3.Error) and (code == sqlite3.SQLITE_FULL or _fs_full(self.path))

    def remedy(self, exc: BaseException) -> str:
        words = _remedy(self.path, exc)
        if self.lock_wait is not None and locked(exc):
            return f"{words} (it waited {self.lock_wait:g} s; {RAISE_IT} waits longer)"
        return words

    def where(self) -> str:
        return self.path

    # Seconds a reader waits for another process's lock; None: a watcher's store (busy_timeout).
    lock_wait: float | None = None

    def bound_reads(self, timeout: float | None) -> None:
        self.lock_wait = timeout or SQLITE_LOCK_WAIT
        slice_lock_waits(self._conn)

    @contextmanager
    def _read(self) -> Iterator[Cursor]:
        with super()._read() as cur:
            yield cur if self.lock_wait is None else LockWaiting(cur, self.lock_wait)

    @staticmethod
    def _open(path: str, readonly: bool) -> sqlite3.Connection:
        if readonly:
            if path != ":memory:" and not Path(path).exists():
                raise StoreError(f"no store at {path}: has `linkctl watch` run with this --store yet?")
            uri = f"file:{quote(path)}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        else:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True, mode=0o750)
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout=10000")
            if not readonly:
                # WAL lets `history` and `status` read while the watcher writes; a
                # commit survives kill -9 of the process (NORMAL only risks the
                # last commits on power loss, and those come back as a gap).
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            conn.close()  # an open file would keep its file system busy (no umount)
            raise
        return conn

    @contextmanager
    def _tx(self) -> Iterator[Cursor]:
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield _Rewriting(cur, self._sql)
                cur.execute("COMMIT")
            except BaseException:
                # A full disk can fail the COMMIT itself, and SQLite may have
                # rolled back already: a ROLLBACK then would hide the cause,
                # an open transaction would fail every later BEGIN.
                if self._conn.in_transaction:
                    cur.execute("ROLLBACK")
                raise
            finally:
                cur.close()


class PostgresStore(SqlStore):
    dialect = "postgresql"
    url = ""

    @classmethod
    def connect(cls, url: str, readonly: bool = False, host: HostId | None = None) -> PostgresStore:
        try:
            import psycopg
        except ImportError:
            raise StoreError(
                f"--store {redact(url)}: PostgreSQL needs psycopg 3: pip install 'linkctl[postgres]'"
            ) from None
        try:
            conn = pg_connect(url, readonly)
        except psycopg.Error as exc:
            raise StoreError(f"--store {redact(url)}: cannot connect: {exc}") from None
        store = cls(conn, host)
        store.url = url
        return store

    def reopen(self) -> int:
        """A new connection: after a lost one, or a server that was down (the queue is the server's)."""

        with self._lock:
            self._conn.close()
            self._conn = pg_connect(self.url)
            if self._held:
                with self._tx() as cur:
                    self._hold_host(cur, self.host.name)
        return 0

    def unavailable(self, exc: BaseException) -> str | None:
        import psycopg

        # OperationalError: a server gone, a disk full (class 53), a connection lost.
        return str(exc).strip() if isinstance(exc, psycopg.OperationalError) else None

    def where(self) -> str:
        return redact(self.url) or self.dialect

    def remedy(self, exc: BaseException) -> str:
        return PG_READ_REMEDY if self.read_timeout is not None and unanswered(exc) else super().remedy(exc)

    def disk_full(self, exc: BaseException) -> bool:
        import psycopg.errors

        return isinstance(exc, psycopg.errors.DiskFull)

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s")

    # None: wait for the server as long as it takes (migrations, a renamed host's rows
    # carried over); a watcher's commits and reads get ANSWER_TIMEOUT.
    answer_timeout: float | None = None
    # A reader's (bound_reads): the seconds each statement waits for its answer.
    read_timeout: float | None = None

    @contextmanager
    def _tx(self) -> Iterator[Cursor]:
        with (
            self._lock,
            answered_within(self._conn, self.answer_timeout),
            self._conn.transaction(),
            self._conn.cursor() as cur,
        ):
            yield _Rewriting(cur, self._sql)

    @contextmanager
    def _read(self) -> Iterator[Cursor]:
        if self.read_timeout is not None:  # bounded statement by statement: see Answered
            with super()._read() as cur:
                yield Answered(cur, self._conn, self.read_timeout)
            return
        with self._lock, answered_within(self._conn, self.answer_timeout), super()._read() as cur:
            yield cur

    def bound_answers(self) -> None:
        """From now on, a server that does not answer in ANSWER_TIMEOUT seconds is an outage."""
        self.answer_timeout = ANSWER_TIMEOUT

    def bound_reads(self, timeout: float | None) -> None:
        self.read_timeout = timeout or PG_READ_TIMEOUT

    def _lock_migrations(self, cur: Cursor) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(?)", (_PG_MIGRATION_LOCK,))

    _held = False
    _locked = False  # any advisory lock taken: a reader takes none

    def _hold_host(self, cur: Cursor, name: str) -> bool:
        self._locked = True
        cur.execute("SELECT pg_try_advisory_lock(?, hashtext(?))", (_PG_HOST_LOCKS, name))
        got = bool(cur.fetchone()[0])
        if name == self.host.name:
            self._held = True
        return got

    def _release_host(self, cur: Cursor, name: str) -> None:
        cur.execute("SELECT pg_advisory_unlock(?, hashtext(?))", (_PG_HOST_LOCKS, name))

    def close(self) -> None:
        """Let go of the host's hold before the connection: the server drops a closed session's
        advisory locks only when its backend has ended, after close() returns, and a watcher
        restarted at once would find its own hold there still. Bounded: a server that does not
        answer must not hold up a watcher's stop (closing drops the hold once the server notices)."""
        import psycopg

        with self._lock:
            if self._locked and not self._conn.closed:
                with contextlib.suppress(psycopg.Error), answered_within(self._conn, ANSWER_TIMEOUT):
                    self._conn.execute("SELECT pg_advisory_unlock_all()")
        super().close()


def _remedy(path: str, exc: BaseException) -> str:
    code = getattr(exc, "sqlite_errorcode", None)
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in str(exc):
        return (
            "another process holds its write lock (a sqlite3 shell or a backup in a transaction, "
            "another program writing it): end that transaction, or give --store another file"
        )
    if code == sqlite3.SQLITE_FULL or _fs_full(path):
        return f"the file system holding {os.path.dirname(os.path.abspath(path))} is full: free space there"
    if code == sqlite3.SQLITE_READONLY or "readonly" in str(exc):
        return "make the file, its -wal and -shm files and its directory writable by this user"
    return "check the file system holding it (dmesg), or give --store another file"


def _fs_full(path: str) -> bool:
    """The file system holding the store has no block left for this user."""
    if path in ("", ":memory:") or path.startswith("file:"):
        return False
    try:
        st = os.statvfs(os.path.dirname(os.path.abspath(path)))
    except OSError:
        return False
    return st.f_bavail == 0


def _identity(path: str) -> tuple[int, int] | None:
    """(device, inode) of the store file; None for a database in memory, (0, 0) for no file."""
    if path in ("", ":memory:") or path.startswith("file:"):
        return None
    try:
        st = os.stat(path)
    except OSError:  # gone, or its directory with it
        return (0, 0)
    return (st.st_dev, st.st_ino)


def redact(url: str) -> str:
    """Never print a password that came in a URL: `user:PASSWORD@` or, as libpq also takes
    it, `?password=PASSWORD`."""
    url = _QUERY_PASSWORD.sub(r"\1***", url)
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in creds:
        return url
    return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"


_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)


# The stores that can tell a failing environment from a bug, and reconnect.
FallibleStore = SqliteStore | PostgresStore


def scheme_problem(url: str) -> str | None:
    """Why a store URL names no store linkctl has (None: it names one), for a refusal up front."""
    if url.startswith(("postgresql://", "postgres://", "sqlite://")) or "://" not in url:
        return None
    return f"{redact(url)}: unknown scheme; use sqlite:///PATH or postgresql://..."


def open_store(url: str, readonly: bool = False, host: HostId | None = None, timeout: float | None = None) -> SqlStore:
    """Open (and unless `readonly`, migrate) the store a URL names, writing as `host`
    (this machine by default). A `readonly` store's reads wait at most `timeout` seconds
    (None: the back end's default, read_bound.py)."""
    store: SqlStore
    problem = scheme_problem(url)
    if problem is not None:
        raise StoreError(f"--store {problem}")
    if url.startswith(("postgresql://", "postgres://")):
        store = PostgresStore.connect(url, readonly, host)
    else:
        store = SqliteStore.connect(url, readonly, host)
    try:
        if readonly:
            store.bound_reads(timeout)
            _check_readable(store)
        else:
            store.migrate()
    except Exception as exc:
        store.close()
        raise store.named(exc) from None
    except BaseException:
        store.close()
        raise
    return store


def _check_readable(store: SqlStore) -> None:
    try:
        version = store.schema_version()
    except Exception as exc:
        if store.unavailable(exc) is not None and getattr(exc, "sqlite_errorcode", None) != sqlite3.SQLITE_ERROR:
            raise  # the server or the file (locked, unreadable), not the schema: open_store names it
        first = (str(exc).splitlines() or [""])[0]  # PostgreSQL's next lines quote the query
        raise StoreError(
            f"store {store.where()} has no linkctl schema ({first}): give --store the store the "
            "watchers write to, or run `linkctl watch` once to create it"
        ) from None
    if version > LATEST:
        raise StoreError(f"store schema version {version} is newer than this linkctl ({LATEST})")
    if version < LATEST:
        raise StoreError(
            f"store schema version {version} is older than this linkctl ({LATEST}): "
            "run `linkctl watch` once to migrate it"
        )

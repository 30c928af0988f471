"""The two back ends: connection set-up and transactions; the SQL is shared."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from linkctl.store.records import StoreError
from linkctl.store.sql import Cursor, SqlStore, _Rewriting

# Any fixed number: the key of the advisory lock that serialises migrators.
_PG_MIGRATION_LOCK = 0x6C6E6B63


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

    @classmethod
    def connect(cls, url: str, readonly: bool = False) -> SqliteStore:
        path = sqlite_path(url)
        if not path:
            raise StoreError(f"--store {url!r}: no file name; e.g. sqlite:///var/lib/linkctl/events.db")
        try:
            conn = cls._open(path, readonly)
        except sqlite3.Error as exc:
            raise StoreError(f"--store {url!r}: cannot open {path}: {exc}") from None
        return cls(conn)

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
            # WAL lets `history` and `status` read while the watcher writes; a
            # commit survives kill -9 of the process (NORMAL only risks the
            # last commits on power loss, and those come back as a gap).
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=10000")
        return conn

    @contextmanager
    def _tx(self) -> Iterator[Cursor]:
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield _Rewriting(cur, self._sql)
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            else:
                cur.execute("COMMIT")
            finally:
                cur.close()


class PostgresStore(SqlStore):
    dialect = "postgresql"

    @classmethod
    def connect(cls, url: str, readonly: bool = False) -> PostgresStore:
        try:
            import psycopg
        except ImportError:
            raise StoreError(
                f"--store {_redact(url)}: PostgreSQL needs psycopg 3: pip install 'linkctl[postgres]'"
            ) from None
        try:
            conn = psycopg.connect(url, autocommit=True)
        except psycopg.Error as exc:
            raise StoreError(f"--store {_redact(url)}: cannot connect: {exc}") from None
        if readonly:
            conn.execute("SET default_transaction_read_only = on")
        return cls(conn)

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s")

    @contextmanager
    def _tx(self) -> Iterator[Cursor]:
        with self._lock, self._conn.transaction(), self._conn.cursor() as cur:
            yield _Rewriting(cur, self._sql)

    def _lock_migrations(self, cur: Cursor) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(?)", (_PG_MIGRATION_LOCK,))


def _redact(url: str) -> str:
    """Never print a password that came in a URL."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in creds:
        return url
    return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"


def open_store(url: str, readonly: bool = False) -> SqlStore:
    """Open (and unless `readonly`, migrate) the store a URL names."""
    store: SqlStore
    if url.startswith(("postgresql://", "postgres://")):
        store = PostgresStore.connect(url, readonly)
    elif url.startswith("sqlite://") or "://" not in url:
        store = SqliteStore.connect(url, readonly)
    else:
        raise StoreError(f"--store {_redact(url)}: unknown scheme; use sqlite:///PATH or postgresql://...")
    try:
        if readonly:
            _check_readable(store)
        else:
            store.migrate()
    except BaseException:
        store.close()
        raise
    return store


def _check_readable(store: SqlStore) -> None:
    from linkctl.store.schema import LATEST

    try:
        version = store.schema_version()
    except Exception as exc:
        raise StoreError(f"the store has no linkctl schema: {exc}") from None
    if version > LATEST:
        raise StoreError(f"store schema version {version} is newer than this linkctl ({LATEST})")
    if version < LATEST:
        raise StoreError(
            f"store schema version {version} is older than this linkctl ({LATEST}): "
            "run `linkctl watch` once to migrate it"
        )

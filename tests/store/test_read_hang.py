"""The readers of the store (`linkctl history`, `status`, `report`, `diagnose --store`) run as a
user runs them, against a real PostgreSQL whose backend (and postmaster) stops answering in
the middle of the read, and against a SQLite file another process holds locked: each ends,
with an error naming the store, what happened and the fix, or on Ctrl-C with 130."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from linkctl.store import StoreError, open_store, read_store
from linkctl.store.backends import redact
from linkctl.store.read_bound import PG_READ_TIMEOUT, SQLITE_LOCK_WAIT, TIMEOUT_ENV
from tests.conftest import LINKCTL, run_linkctl

from .pg import Cluster

# A guard against hanging the suite, far above the bounds the tests give (2 s).
GUARD = 90


@pytest.fixture
def url(pg_url: str) -> str:
    """A migrated store whose URL carries a password (trust auth ignores it): never printed."""
    open_store(pg_url).close()
    return f"{pg_url}&password=Sekret9"


def linkctl(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*LINKCTL, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def _blocked_backend(monitor: psycopg.Connection[tuple[int]], reader: subprocess.Popen[str]) -> int:
    end = time.monotonic() + GUARD
    while True:
        row = monitor.execute(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        ).fetchone()
        if row is not None:
            return int(row[0])
        assert reader.poll() is None, f"the reader ended before its read: {reader.communicate()}"
        assert time.monotonic() < end, "the reader never reached its read"
        time.sleep(0.05)


@contextmanager
def stopped_mid_read(
    cluster: Cluster, url: str, table: str, reader: subprocess.Popen[str], postmaster: bool = False
) -> Iterator[None]:
    """The reader's backend stopped (SIGSTOP) while it reads `table`, as a hung server's: the read
    is held on a lock taken first, the backend stopped while it waits, and the lock let go. With
    `postmaster`, the server's postmaster too: no new connection is answered either."""
    stopped: list[int] = []
    with psycopg.connect(url) as holder, psycopg.connect(url, autocommit=True) as monitor:
        try:
            holder.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            stopped.append(_blocked_backend(monitor, reader))
            if postmaster:
                assert cluster.data is not None
                stopped.append(int((cluster.data / "postmaster.pid").read_text().split()[0]))
            for pid in stopped:
                os.kill(pid, signal.SIGSTOP)
            holder.rollback()
            yield
        finally:
            if reader.poll() is None:
                reader.kill()
                reader.communicate()
            for pid in stopped:  # before the fixtures' clean-up, which needs the server
                os.kill(pid, signal.SIGCONT)


@pytest.mark.parametrize(
    ("command", "table", "postmaster"),
    [("history", "events", False), ("status", "links", True), ("report", "links", False)],
)
def test_a_read_from_a_server_that_stopped_answering_ends_with_the_error(
    pg_cluster: Cluster, url: str, command: str, table: str, postmaster: bool
) -> None:
    # It waited for ever: the connection was made, and nothing bounded the wait for an answer.
    reader = linkctl(command, "--store", url, env={TIMEOUT_ENV: "2"})
    with stopped_mid_read(pg_cluster, url, table, reader, postmaster):
        out, err = reader.communicate(timeout=GUARD)
    assert reader.returncode == 1, err
    assert err == (
        f"linkctl: store {redact(url)}: the server did not answer in 2 s (hung, or the network to it cut): "
        "see what the server is doing (pg_stat_activity, its log); if the read is only slow (a large store), "
        f"give it longer: --store-timeout SECONDS or {TIMEOUT_ENV}=SECONDS\n"
    )
    assert "Sekret9" not in err and "password=***" in err
    assert out == ""


def test_ctrl_c_ends_a_read_from_a_server_that_stopped_answering(pg_cluster: Cluster, url: str) -> None:
    # An hour's bound: only the signal can end it. The postmaster stopped too: a cancel request
    # (psycopg's on KeyboardInterrupt) would wait on it.
    reader = linkctl("history", "--store", url, env={TIMEOUT_ENV: "3600"})
    with stopped_mid_read(pg_cluster, url, "events", reader, postmaster=True):
        reader.send_signal(signal.SIGINT)
        out, err = reader.communicate(timeout=GUARD)
    assert (reader.returncode, err, out) == (130, "linkctl: interrupted: nothing was changed\n", "")


def test_the_bound_is_on_each_answer_not_on_the_readers_work_between_them(url: str) -> None:
    # `report` folds a big fleet's rows between its statements: that is not the server's silence.
    with read_store(url, timeout=1) as store, store._read() as cur:
        cur.execute("SELECT 1")
        time.sleep(1.5)  # the reader's own work on the rows
        cur.execute("SELECT 2")
        assert cur.fetchone() == (2,)


def test_a_statement_the_server_works_on_past_the_bound_is_cut_saying_how_to_raise_it(url: str) -> None:
    # A busy backend and a stopped one look alike from here: the bound is generous, and says so.
    with pytest.raises(StoreError) as info, read_store(url, timeout=1) as store, store._read() as cur:
        cur.execute("SELECT pg_sleep(5)")
    assert "the server did not answer in 1 s" in str(info.value)
    assert f"give it longer: --store-timeout SECONDS or {TIMEOUT_ENV}=SECONDS" in str(info.value)


@pytest.mark.kernel
def test_diagnose_gives_its_verdict_without_the_history_of_a_server_that_stopped_answering(
    pg_cluster: Cluster, url: str, netns: str, tmp_path: Path
) -> None:
    subprocess.run(["ip", "-n", netns, "link", "add", "dg0", "up", "type", "veth", "peer", "name", "dg1"], check=True)
    log = tmp_path / "kern.log"
    log.write_text("")
    argv = ["diagnose", "dg0", "--netns", netns, "--logs", str(log), "--format", "json"]
    reader = linkctl(*argv, "--store", url, env={TIMEOUT_ENV: "2"})
    with stopped_mid_read(pg_cluster, url, "flap_episodes", reader):
        out, err = reader.communicate(timeout=GUARD)
    assert reader.returncode in (0, 1, 2), err  # a verdict: 3 would be "could not diagnose"
    evidence = json.loads(out)["evidence"]
    assert evidence["store"] == "not available"
    assert f"store {redact(url)}: the server did not answer in 2 s" in evidence["unavailable"]["store"]


@contextmanager
def locked_by_another_process(path: Path) -> Iterator[None]:
    """The store file locked as a sqlite3 shell in an exclusive transaction locks it."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("UPDATE hosts SET last_seen_us = 0")
        yield
    finally:
        conn.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Path:
    path = tmp_path / "events.db"
    open_store(f"sqlite://{path}").close()
    return path


@pytest.mark.parametrize(
    ("command", "bound", "env"), [("history", [], {TIMEOUT_ENV: "1"}), ("status", ["--store-timeout", "1"], {})]
)
def test_a_read_of_a_locked_sqlite_file_ends_naming_the_lock(
    sqlite_store: Path, command: str, bound: list[str], env: dict[str, str]
) -> None:
    # It waited SQLite's 10 s, then said the file had "no linkctl schema (database is locked)".
    with locked_by_another_process(sqlite_store):
        reader = linkctl(command, "--store", f"sqlite://{sqlite_store}", *bound, env=env)
        out, err = reader.communicate(timeout=GUARD)
    assert reader.returncode == 1, err
    assert err == (
        f"linkctl: store {sqlite_store}: database is locked: another process holds its write lock (a sqlite3 "
        "shell or a backup in a transaction, another program writing it): end that transaction, or give --store "
        f"another file (it waited 1 s; --store-timeout SECONDS or {TIMEOUT_ENV}=SECONDS waits longer)\n"
    )
    assert out == ""


def test_ctrl_c_ends_a_wait_for_a_locked_sqlite_file(sqlite_store: Path) -> None:
    # An hour's bound: SQLite's own wait, in C, would hold the signal off until it ended.
    with locked_by_another_process(sqlite_store):
        reader = linkctl("history", "--store", f"sqlite://{sqlite_store}", env={TIMEOUT_ENV: "3600"})
        try:
            _wait_open(reader.pid, sqlite_store)
            reader.send_signal(signal.SIGINT)
            out, err = reader.communicate(timeout=GUARD)
        finally:
            if reader.poll() is None:
                reader.kill()
                reader.communicate()
    assert (reader.returncode, err, out) == (130, "linkctl: interrupted: nothing was changed\n", "")


def _wait_open(pid: int, path: Path) -> None:
    """Until process `pid` has the file open: its read waits on the lock from then on."""
    end = time.monotonic() + GUARD
    while True:
        try:
            if any(os.readlink(fd) == str(path) for fd in Path(f"/proc/{pid}/fd").iterdir()):
                return
        except OSError:
            pass  # a descriptor closed while looked at
        assert time.monotonic() < end, f"linkctl (pid {pid}) never opened {path}"
        time.sleep(0.05)


def test_the_bound_and_how_to_raise_it_are_in_the_readers_help() -> None:
    for command in ("history", "status", "report", "diagnose"):
        text = " ".join(run_linkctl(command, "--help").stdout.replace("│", " ").split())  # the help's box drawn
        assert "--store-timeout" in text and f"env var: {TIMEOUT_ENV}" in text, command
        assert f"PostgreSQL server (default {PG_READ_TIMEOUT:g})" in text, command
        assert f"(default {SQLITE_LOCK_WAIT:g})" in text, command

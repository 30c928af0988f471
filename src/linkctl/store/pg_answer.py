"""How long linkctl waits for a PostgreSQL server: to connect, and for a watcher's transaction.

libpq has no bound on the client's side: a server that stops answering (a hung
backend, a host cut off without a reset, where TCP retries for about 15 minutes) held the
watcher's loop inside a commit, its metrics frozen and no outage said, until systemd's
watchdog killed it. Past the bound the connection's socket is shut down: the blocked call
returns with an error, which the store names as an outage like any other (its events
queued, a new connection tried). A reader's bound is read_bound.py's.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# Seconds: a transaction takes milliseconds; this stays below linkctl-watch.service's
# WatchdogSec=30s, so that the outage is said before systemd kills the watcher.
ANSWER_TIMEOUT = 15.0
NO_ANSWER = "the server did not answer in"

# Seconds to reach a PostgreSQL server and log in, unless the URL (connect_timeout=) or
# PGCONNECT_TIMEOUT says otherwise: libpq waits for ever by default, and a server that
# accepts but never answers (hung, or a firewall's tarpit) held `history` and every
# reconnecting watcher with it.
PG_CONNECT_TIMEOUT = 10


@contextmanager
def answered_within(conn: Any, timeout: float | None) -> Iterator[None]:
    """Run the block on `conn` (a psycopg connection), cut off after `timeout` seconds."""
    import psycopg

    if timeout is None:
        yield
        return
    fired = threading.Event()

    def cut() -> None:
        fired.set()
        _shut(conn)

    timer = threading.Timer(timeout, cut)
    timer.daemon = True
    timer.start()
    try:
        yield
    except psycopg.Error as exc:
        if not fired.is_set():
            raise
        # Not the error of the socket cut under it: "server closed the connection
        # unexpectedly" would blame the server for what linkctl did.
        raise psycopg.OperationalError(f"{NO_ANSWER} {timeout:g} s (hung, or the network to it cut)") from exc
    finally:
        timer.cancel()


def unanswered(exc: BaseException) -> bool:
    """Whether `exc` is answered_within's: the server said nothing within the bound."""
    return str(exc).startswith(NO_ANSWER)


def _shut(conn: Any) -> None:
    """Shut the connection's socket down under the thread blocked on it (a duplicate of its
    descriptor: closing libpq's own would let the number be reused under it)."""
    with contextlib.suppress(Exception):
        fd = os.dup(conn.pgconn.socket)
        try:
            sock = socket.socket(fileno=fd)
        except OSError:
            os.close(fd)
            raise
        with sock:
            sock.shutdown(socket.SHUT_RDWR)


# How long the server's end of this session outlives a client that is gone without a word:
# a watcher's host that died cut off from the server (no FIN, no reset) left a backend,
# holding the host's hold, for TCP's defaults (15 minutes retransmitting an answer, 2 hours
# of silence before a keepalive probe); the host, back, was refused as "another watcher is
# writing as host NAME" all that time. Now about 25 s: probes after 10 s idle, 5 s apart, 3
# lost; 25 s for data the client never acknowledges (milliseconds; PostgreSQL 12 or later).
_PG_SERVER_KEEPALIVE = (
    ("tcp_keepalives_idle", 10),
    ("tcp_keepalives_interval", 5),
    ("tcp_keepalives_count", 3),
    ("tcp_user_timeout", 25_000),
)


def pg_connect(url: str, readonly: bool = False) -> Any:
    """A psycopg connection (autocommit) to the server `url` names, each wait bounded."""
    import psycopg
    import psycopg.errors
    from psycopg.conninfo import conninfo_to_dict

    given = "connect_timeout" in conninfo_to_dict(url) or os.environ.get("PGCONNECT_TIMEOUT")
    timeout: dict[str, Any] = {} if given else {"connect_timeout": PG_CONNECT_TIMEOUT}
    conn = psycopg.connect(url, autocommit=True, **timeout)
    try:
        # Bounded: a server can take the connection and stop answering right after.
        with answered_within(conn, ANSWER_TIMEOUT):
            for name, value in _PG_SERVER_KEEPALIVE:
                # A server before 12 has no tcp_user_timeout: the others still hold.
                with contextlib.suppress(psycopg.errors.UndefinedObject, psycopg.errors.InsufficientPrivilege):
                    conn.execute(f"SET {name} = {value}")
            if readonly:
                conn.execute("SET default_transaction_read_only = on")
    except BaseException:
        conn.close()
        raise
    return conn

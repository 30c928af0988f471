"""How long a watcher's PostgreSQL transaction waits for the server to answer.

libpq has no such bound on the client's side: a server that stops answering (a hung
backend, a host cut off without a reset, where TCP retries for about 15 minutes) held the
watcher's loop inside a commit, its metrics frozen and no outage said, until systemd's
watchdog killed it. Past the bound the connection's socket is shut down: the blocked call
returns with an error, which the store names as an outage like any other (its events
queued, a new connection tried).
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
        raise psycopg.OperationalError(
            f"the server did not answer in {timeout:g} s (hung, or the network to it cut): {exc}"
        ) from exc
    finally:
        timer.cancel()


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

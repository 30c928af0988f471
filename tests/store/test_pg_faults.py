"""A PostgreSQL store's server misbehaving: it never answers, or answers no one."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from linkctl.store import StoreError, backends, open_store, pg_answer


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word (a hung server, a tarpit)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        listener.close()
        for conn in accepted:
            conn.close()


def test_a_server_that_never_answers_is_an_error_not_a_hang(
    silent_server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # libpq waits for ever by default: `history` and a reconnecting watcher with it.
    monkeypatch.setattr(pg_answer, "PG_CONNECT_TIMEOUT", 1)
    monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)
    url = f"postgresql://linkctl:s3cret@127.0.0.1:{silent_server}/linkctl"
    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            open_store(url, readonly=True).close()
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(60)  # a guard against hanging the suite, far above the 1 s asked for
    assert outcome, "open_store still waiting for a server that never answers"
    error = outcome[0]
    assert isinstance(error, StoreError)
    assert "timeout" in str(error) and f"127.0.0.1:{silent_server}" in str(error)
    assert "s3cret" not in str(error)


def test_a_connect_timeout_in_the_url_is_kept(silent_server: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg_answer, "PG_CONNECT_TIMEOUT", 3600)
    monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)
    url = f"postgresql://linkctl@127.0.0.1:{silent_server}/linkctl?connect_timeout=1"
    with pytest.raises(StoreError, match="timeout"):
        open_store(url, readonly=True)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://linkctl@127.0.0.1:1/linkctl?password=TopSecret9",
        "postgresql:///linkctl?host=127.0.0.1&port=1&user=linkctl&password=TopSecret9&sslmode=disable",
        "postgresql://linkctl:TopSecret9@127.0.0.1:1/linkctl",
    ],
)
def test_a_password_given_in_the_url_is_never_in_the_error(url: str) -> None:
    # libpq takes a password in the query string as well as before the host.
    with pytest.raises(StoreError) as info:
        open_store(url)
    assert "TopSecret9" not in str(info.value)
    assert "cannot connect" in str(info.value) and "***" in str(info.value)
    assert backends.redact(url).count("***") == 1


def test_a_database_without_linkctl_schema_is_named_with_the_fix(pg_url: str) -> None:
    # An empty database (a URL naming the wrong one): the reader's error named neither the
    # store nor what to do, and quoted PostgreSQL's query on two more lines.
    with pytest.raises(StoreError) as info:
        open_store(pg_url, readonly=True)
    text = str(info.value)
    assert "has no linkctl schema" in text and "run `linkctl watch` once" in text
    assert backends.redact(pg_url) in text
    assert "\n" not in text

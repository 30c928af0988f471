"""The alert worker: a receiver that answers late holds up no other (README: "a receiver that is
down holds up no other"). Real HTTP receivers; the slow one holds each POST until the test lets
it go, so the test checks an order of events, not a duration
(tests/watch/repro/slow_receiver.py shows the figures)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from linkctl.alerts import AlertDispatcher, AlertsConfig, build_senders
from linkctl.domain.episodes import EpisodeEdge, FlapEpisode, FlapNotice, FlapTrigger
from linkctl.store import AlertState, SqlStore, open_store
from linkctl.watch.alert_worker import AlertWorker
from linkctl.watch.core import WatchOutput
from tests.alerts.servers import webhook_receiver

SECRET = b"worker-secret"
BOUND = 60.0  # seconds a condition may take; it takes well under one


@contextmanager
def held_receiver() -> Iterator[tuple[str, threading.Event, threading.Event]]:
    """A receiver that takes a POST and answers only once `release` is set."""
    entered, release = threading.Event(), threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            entered.set()
            release.wait(BOUND * 2)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", entered, release
    finally:
        release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _wait(what: str, pred: Callable[[], bool]) -> None:
    end = time.monotonic() + BOUND
    while not pred():
        assert time.monotonic() < end, f"not within {BOUND:.0f} s: {what}"
        time.sleep(0.05)


def _queue(store: SqlStore, dispatcher: AlertDispatcher, ifname: str) -> None:
    ep = FlapEpisode(None, ifname, 7, datetime.now(UTC), 6, 2.5, FlapTrigger.RATE, peak_percent=12.0)
    store.record(WatchOutput(notices=[FlapNotice(EpisodeEdge.START, ep)]), dispatcher.receivers)


def test_a_receiver_that_answers_late_holds_up_no_other(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LK_TEST_SECRET", SECRET.decode())
    store = open_store(f"sqlite://{tmp_path}/alerts.db")
    with store, held_receiver() as (slow_url, entered, release), webhook_receiver(SECRET) as (ok_url, ok):
        receivers = [
            {"type": "webhook", "name": "slow", "url": slow_url, "secret_env": "LK_TEST_SECRET", "timeout": "5m"},
            {"type": "webhook", "name": "ok", "url": ok_url, "secret_env": "LK_TEST_SECRET"},
        ]
        cfg = AlertsConfig.model_validate({"host": "web-01", "receivers": receivers})
        # The links tie to nothing: grouping is not what this test is about.
        dispatcher = AlertDispatcher(store, build_senders(cfg), cfg, causes=lambda links: {})
        worker = AlertWorker(dispatcher, every=0.05)
        worker.start()
        try:
            _queue(store, dispatcher, "lkw1")
            _wait("the slow receiver has the first alert", entered.is_set)
            _queue(store, dispatcher, "lkw2")  # queued while the slow one's send is under way
            _wait("the healthy receiver has both alerts", lambda: len(ok.received) == 2)
            states = {(a.receiver, a.ifname): a.state for a in store.alerts()}
            assert states[("slow", "lkw1")] == AlertState.PENDING  # still in its send
            release.set()
            _wait("every alert sent", lambda: {a.state for a in store.alerts()} == {AlertState.SENT})
        finally:
            release.set()
            worker.stop()
    assert [body["ifname"] for body in ok.received] == ["lkw1", "lkw2"]

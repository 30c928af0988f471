"""The watch review: an SMTP server that refuses one of an alert's recipients (550 at RCPT TO)
while it takes the other. The alert stays pending, its error names the refused address with the
server's code and words, and the retry goes to the refused address only;
tests/watch/repro/smtp_recipient_refused.py prints what happens."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from linkctl.alerts import AlertDispatcher, AlertsConfig, SmtpReceiver, build_senders
from linkctl.domain.episodes import EpisodeEdge, FlapEpisode, FlapNotice, FlapTrigger
from linkctl.store import AlertState, SqlStore, open_store
from linkctl.watch.core import WatchOutput
from tests.alerts.servers import smtp_serving

REFUSED = "gone@example.org"


class Picky:
    """Takes every recipient but one, as a real server does for a mailbox that no longer exists."""

    def __init__(self) -> None:
        self.delivered: list[str] = []
        self.refuse = True  # the mailbox is made again when a test sets this False

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address == REFUSED and self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.delivered += envelope.rcpt_tos
        return "250 OK"


@pytest.fixture
def picky() -> Iterator[tuple[int, Picky]]:
    handler = Picky()
    with smtp_serving(handler) as port:
        yield port, handler


@pytest.fixture
def store(tmp_path: Any) -> Iterator[SqlStore]:
    opened = open_store(f"sqlite://{tmp_path}/alerts.db")
    try:
        yield opened
    finally:
        opened.close()


def _dispatcher(port: int, store: SqlStore) -> AlertDispatcher:
    receiver = SmtpReceiver.model_validate(
        {
            "type": "smtp",
            "name": "mail",
            "host": "127.0.0.1",
            "port": port,
            "starttls": False,
            "from": "linkctl@web-01",
            "to": ["noc@example.org", REFUSED],
        }
    )
    cfg = AlertsConfig(host="web-01", receivers=[receiver])
    return AlertDispatcher(store, build_senders(cfg), cfg)


def _queue_one(store: SqlStore, dispatcher: AlertDispatcher) -> None:
    ep = FlapEpisode("blue", "eth0", 7, datetime.now(UTC), 6, 2.5, FlapTrigger.RATE, peak_percent=12.0)
    store.record(WatchOutput(notices=[FlapNotice(EpisodeEdge.START, ep)]), dispatcher.receivers)


def test_an_alert_a_recipient_was_refused_is_not_marked_sent(picky: tuple[int, Picky], store: SqlStore) -> None:
    port, server = picky
    dispatcher = _dispatcher(port, store)
    _queue_one(store, dispatcher)
    report = dispatcher.deliver_due(datetime.now(UTC))
    assert server.delivered == ["noc@example.org"]  # the server took one of the two
    assert report.sent == [], "marked sent though one recipient was refused"
    assert [a.state for a in store.alerts()] == [AlertState.PENDING]
    error = store.alerts()[0].last_error or ""
    assert f"recipient refused: {REFUSED} (550 5.1.1 no such mailbox)" in error, error


def test_a_refused_recipient_is_retried_alone_until_taken(picky: tuple[int, Picky], store: SqlStore) -> None:
    port, server = picky
    dispatcher = _dispatcher(port, store)
    _queue_one(store, dispatcher)
    dispatcher.deliver_due(datetime.now(UTC))
    later = datetime.now(UTC) + timedelta(hours=1)  # past any back-off, short of give_up_after
    report = dispatcher.deliver_due(later)  # still refused: every recipient of the retry was
    assert report.retrying and not report.sent, report
    assert REFUSED in (store.alerts()[0].last_error or "")
    server.refuse = False
    report = dispatcher.deliver_due(later + timedelta(hours=1))
    assert len(report.sent) == 1, report
    assert [a.state for a in store.alerts()] == [AlertState.SENT]
    assert server.delivered == ["noc@example.org", REFUSED]  # noc got it once, not at each retry

from __future__ import annotations

import json
import shutil
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from linkctl.alerts import (
    Alert,
    AlertDispatcher,
    AlertmanagerReceiver,
    AlertmanagerSender,
    AlertsConfig,
    DeliveryError,
    SecretUnavailable,
    SmtpReceiver,
    SmtpSender,
    WebhookReceiver,
    WebhookSender,
    backoff,
    build_senders,
    sign,
)
from linkctl.domain.episodes import EpisodeEdge, FlapEpisode, FlapNotice, FlapTrigger
from linkctl.store import AlertState, SqlStore, open_store
from linkctl.watch.core import WatchOutput

from .conftest import PASSWORD, Inbox
from .servers import alertmanager, free_port, webhook_receiver

NOW = datetime.now(UTC).replace(microsecond=0)
SECRET = b"s3cret-signing-key"


def episode(start: datetime = NOW, ifname: str = "eth0", netns: str = "blue", ifindex: int = 7) -> FlapEpisode:
    return FlapEpisode(netns, ifname, ifindex, start, 6, 2.5, FlapTrigger.RATE, peak_percent=12.0)


def ended(ep: FlapEpisode, after: float = 60) -> FlapEpisode:
    from dataclasses import replace

    return replace(
        ep,
        end=ep.start + timedelta(seconds=after),
        cleared_at=ep.start + timedelta(seconds=after + 300),
        transitions=11,
    )


def queue(store: SqlStore, dispatcher: AlertDispatcher, *notices: FlapNotice) -> None:
    store.record(WatchOutput(notices=list(notices)), dispatcher.receivers)


def config(**kw: Any) -> AlertsConfig:
    return AlertsConfig(host="web-01", **kw)


# -- SMTP -----------------------------------------------------------------------


def smtp_receiver(port: int, cert: Path, **kw: Any) -> SmtpReceiver:
    fields: dict[str, Any] = {
        "type": "smtp",
        "name": "mail",
        "host": "127.0.0.1",
        "port": port,
        "starttls": True,
        "username": "linkctl",
        "password_env": "LINKCTL_TEST_SMTP_PASSWORD",
        "ca_file": str(cert),
        "from": "linkctl@web-01",
        "to": ["noc@example.org"],
    }
    fields.update(kw)
    return SmtpReceiver.model_validate(fields)


def test_smtp_starttls_login_and_delivery(
    smtp_server: tuple[int, Inbox, Path], store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, inbox, cert = smtp_server
    monkeypatch.setenv("LINKCTL_TEST_SMTP_PASSWORD", PASSWORD)
    cfg = config(receivers=[smtp_receiver(port, cert)])
    dispatcher = AlertDispatcher(store, build_senders(cfg), cfg)
    ep = episode()
    queue(store, dispatcher, FlapNotice(EpisodeEdge.START, ep))
    report = dispatcher.deliver_due(datetime.now(UTC))
    assert len(report.sent) == 1
    ((sender, rcpts, content),) = inbox.messages
    assert (sender, rcpts) == ("linkctl@web-01", ["noc@example.org"])
    text = content.decode()
    assert "Subject: [linkctl] web-01: eth0 (netns blue) started flapping" in text
    assert "transitions:     6" in text
    assert PASSWORD not in text


def test_smtp_wrong_password_is_retried_and_never_shown(
    smtp_server: tuple[int, Inbox, Path], store: SqlStore, tmp_path: Path
) -> None:
    port, inbox, cert = smtp_server
    secret_file = tmp_path / "smtp.pass"
    secret_file.write_text("wrong-password-xyz\n", encoding="utf-8")
    receiver = smtp_receiver(port, cert, password_env=None, password_file=str(secret_file))
    cfg = config(receivers=[receiver])
    senders = build_senders(cfg)
    assert "wrong-password-xyz" not in repr(senders) + repr(cfg)
    dispatcher = AlertDispatcher(store, senders, cfg)
    queue(store, dispatcher, FlapNotice(EpisodeEdge.START, episode()))
    report = dispatcher.deliver_due(datetime.now(UTC))
    assert len(report.retrying) == 1
    (row,) = store.alerts(AlertState.PENDING)
    assert row.last_error is not None and "login refused" in row.last_error
    assert "wrong-password-xyz" not in row.last_error
    assert inbox.messages == []


def test_smtp_without_tls_trust_fails_cleanly(smtp_server: tuple[int, Inbox, Path]) -> None:
    port, _, cert = smtp_server
    sender = SmtpSender(smtp_receiver(port, cert, ca_file=None), SecretStr(PASSWORD))
    with pytest.raises(DeliveryError, match=r"127\.0\.0\.1"):
        sender.send(Alert.from_episode(episode(), EpisodeEdge.START, "web-01", "warning"))


def test_missing_secret_is_reported_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LINKCTL_NO_SUCH_VAR", raising=False)
    receiver = WebhookReceiver(
        type="webhook", name="hook", url="http://127.0.0.1:1/x", secret_env="LINKCTL_NO_SUCH_VAR"
    )
    with pytest.raises(SecretUnavailable, match="LINKCTL_NO_SUCH_VAR"):
        build_senders(config(receivers=[receiver]))


# -- webhook --------------------------------------------------------------------


def hook_sender(url: str, secret: bytes = SECRET) -> WebhookSender:
    receiver = WebhookReceiver(type="webhook", name="hook", url=url, secret_env="UNUSED")
    return WebhookSender(receiver, SecretStr(secret.decode()))


def test_webhook_is_signed_and_carries_the_episode(store: SqlStore) -> None:
    with webhook_receiver(SECRET) as (url, log):
        cfg = config()
        dispatcher = AlertDispatcher(store, [hook_sender(url)], cfg)
        ep = episode()
        queue(store, dispatcher, FlapNotice(EpisodeEdge.START, ep))
        queue(store, dispatcher, FlapNotice(EpisodeEdge.END, ended(ep)))
        report = dispatcher.deliver_due(datetime.now(UTC))
    assert len(report.sent) == 2
    assert log.bad_signatures == 0
    start, end = log.received
    assert (start["edge"], start["ifname"], start["netns"], start["host"]) == ("start", "eth0", "blue", "web-01")
    settled = ended(ep).end
    assert settled is not None
    assert (end["edge"], end["transitions"], end["end"]) == ("end", 11, settled.isoformat())
    assert log.deliveries == [f"{ep.key}/start/hook", f"{ep.key}/end/hook"]


def test_webhook_with_the_wrong_secret_is_refused_and_retried(store: SqlStore) -> None:
    with webhook_receiver(SECRET) as (url, log):
        dispatcher = AlertDispatcher(store, [hook_sender(url, b"not-the-secret")], config())
        queue(store, dispatcher, FlapNotice(EpisodeEdge.START, episode()))
        report = dispatcher.deliver_due(datetime.now(UTC))
    assert log.bad_signatures == 1 and log.received == []
    assert len(report.retrying) == 1
    (row,) = store.alerts()
    assert row.last_error is not None and "HTTP 401" in row.last_error


def test_signature_is_hmac_sha256_of_the_body() -> None:
    import hashlib
    import hmac

    body = json.dumps({"a": 1}).encode()
    assert sign(SECRET, body) == "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()


def test_receiver_down_then_up_across_a_restart(tmp_path: Path) -> None:
    """Refused connections, back-off, a restart (new store and sender), then delivery."""
    url_store = f"sqlite://{tmp_path}/queue.db"
    port = free_port()  # nothing listens here yet: connection refused
    url = f"http://127.0.0.1:{port}/hook"
    cfg = config()

    store = open_store(url_store)
    dispatcher = AlertDispatcher(store, [hook_sender(url)], cfg)
    ep = episode()
    queue(store, dispatcher, FlapNotice(EpisodeEdge.START, ep), FlapNotice(EpisodeEdge.END, ended(ep)))
    t0 = datetime.now(UTC) + timedelta(seconds=1)  # "now" is after the queueing
    first = dispatcher.deliver_due(t0)
    assert len(first.retrying) == 1 and first.sent == []  # the end waits behind the start
    assert dispatcher.deliver_due(t0 + timedelta(seconds=1)).retrying == []  # backing off
    second = dispatcher.deliver_due(t0 + timedelta(seconds=5))
    assert len(second.retrying) == 1
    (start_row,) = [a for a in store.alerts() if a.edge == "start"]
    assert start_row.attempts == 2
    assert start_row.next_attempt == t0 + timedelta(seconds=5 + 10)
    assert "refused" in (start_row.last_error or "").lower()
    store.close()  # the watcher stops

    with webhook_receiver(SECRET, port=port) as (_, log):
        store = open_store(url_store)  # ... and starts again
        try:
            restarted = AlertDispatcher(store, [hook_sender(url)], cfg)
            assert restarted.deliver_due(t0 + timedelta(seconds=6)).sent == []  # still backing off
            report = restarted.deliver_due(t0 + timedelta(seconds=15))
            assert store.alerts(AlertState.PENDING) == []
        finally:
            store.close()
    assert report.sent == [f"{ep.key}/start/hook", f"{ep.key}/end/hook"]
    assert [m["edge"] for m in log.received] == ["start", "end"]


def test_backoff_doubles_and_caps() -> None:
    assert [backoff(n, 5, 60) for n in range(0, 7)] == [0, 5, 10, 20, 40, 60, 60]


def test_gives_up_after_the_limit(store: SqlStore) -> None:
    from linkctl.alerts import Retry

    cfg = config(retry=Retry(initial=1, max=2, give_up_after=60))
    dispatcher = AlertDispatcher(store, [hook_sender(f"http://127.0.0.1:{free_port()}/")], cfg)
    queue(store, dispatcher, FlapNotice(EpisodeEdge.START, episode()))
    later = datetime.now(UTC) + timedelta(seconds=120)
    assert len(dispatcher.deliver_due(later).dead) == 1
    assert [a.state for a in store.alerts()] == [AlertState.DEAD]


def test_rate_limit_per_link_and_ends_follow_their_starts(store: SqlStore) -> None:
    from linkctl.alerts import RateLimit

    cfg = config(rate_limit=RateLimit(max_per_link=2, window=3600))
    with webhook_receiver(SECRET) as (url, log):
        dispatcher = AlertDispatcher(store, [hook_sender(url)], cfg)
        for i in range(4):
            ep = episode(start=NOW + timedelta(minutes=i))
            queue(store, dispatcher, FlapNotice(EpisodeEdge.START, ep))
            queue(store, dispatcher, FlapNotice(EpisodeEdge.END, ended(ep, after=10)))
            dispatcher.deliver_due(datetime.now(UTC))
        other = episode(ifname="eth1", ifindex=8)
        queue(store, dispatcher, FlapNotice(EpisodeEdge.START, other))
        dispatcher.deliver_due(datetime.now(UTC))
    sent = [(m["ifname"], m["edge"]) for m in log.received]
    # Two episodes of eth0 get through (start and end); the others are held back
    # whole, and eth1 has its own budget.
    assert sent == [("eth0", "start"), ("eth0", "end")] * 2 + [("eth1", "start")]
    states = [a.state for a in store.alerts()]
    assert states.count(AlertState.SUPPRESSED) == 4


def test_the_same_notice_queued_twice_is_sent_once(store: SqlStore) -> None:
    with webhook_receiver(SECRET) as (url, log):
        dispatcher = AlertDispatcher(store, [hook_sender(url)], config())
        notice = FlapNotice(EpisodeEdge.START, episode())
        queue(store, dispatcher, notice)
        queue(store, dispatcher, notice)
        dispatcher.deliver_due(datetime.now(UTC))
        dispatcher.deliver_due(datetime.now(UTC))
    assert len(log.received) == 1


# -- Alertmanager ---------------------------------------------------------------


def _am_alerts(base: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{base}/api/v2/alerts", timeout=10) as response:
        result: list[dict[str, Any]] = json.load(response)
        return result


@pytest.fixture(scope="module")
def alertmanager_url() -> Iterator[str]:
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if binary is None:
        pytest.skip("no Alertmanager binary (apt-get install prometheus-alertmanager)")
    with alertmanager(binary) as base:
        yield base


def test_alertmanager_receives_and_resolves(alertmanager_url: str, store: SqlStore) -> None:
    receiver = AlertmanagerReceiver(type="alertmanager", name="am", url=alertmanager_url)
    cfg = config(severity="critical", receivers=[receiver])
    dispatcher = AlertDispatcher(store, build_senders(cfg), cfg)
    ep = episode(start=datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2))
    queue(store, dispatcher, FlapNotice(EpisodeEdge.START, ep))
    assert len(dispatcher.deliver_due(datetime.now(UTC)).sent) == 1

    (alert,) = [a for a in _am_alerts(alertmanager_url) if a["labels"].get("ifname") == "eth0"]
    assert alert["labels"] == {
        "alertname": "LinkFlapping",
        "host": "web-01",
        "ifname": "eth0",
        "netns": "blue",
        "severity": "critical",
    }
    assert alert["status"]["state"] == "active"
    assert datetime.fromisoformat(alert["startsAt"].replace("Z", "+00:00")) == ep.start
    assert alert["annotations"]["transitions"] == "6"

    assert dispatcher.resend_firing([ep], datetime.now(UTC)) == 1

    done = ended(ep, after=1)
    done = type(done)(**{**done.__dict__, "cleared_at": datetime.now(UTC) - timedelta(seconds=5)})
    queue(store, dispatcher, FlapNotice(EpisodeEdge.END, done))
    assert len(dispatcher.deliver_due(datetime.now(UTC)).sent) == 1
    # endsAt in the past: Alertmanager resolves it and no longer lists it as firing.
    assert [a for a in _am_alerts(alertmanager_url) if a["labels"].get("ifname") == "eth0"] == []


def test_alertmanager_payload_shape() -> None:
    ep = ended(episode())
    start = AlertmanagerSender.payload(Alert.from_episode(ep, EpisodeEdge.START, "h", "warning"))
    end = AlertmanagerSender.payload(Alert.from_episode(ep, EpisodeEdge.END, "h", "warning"))
    assert "endsAt" not in start[0]
    assert end[0]["endsAt"] == ep.cleared_at.isoformat() if ep.cleared_at else False
    assert set(start[0]["labels"]) == {"alertname", "host", "ifname", "netns", "severity"}

"""Alerts of tied links go out as one notification: both ends of a veth pair, a bridge and its
ports. Real namespaces (made and removed here) give the ties; the receivers are the real SMTP
server and HTTP webhook receiver of test_alerts."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from linkctl.alerts import AlertDispatcher, AlertsConfig, build_senders
from linkctl.alerts.causes import read_causes
from linkctl.domain.episodes import EpisodeEdge, FlapEpisode, FlapNotice
from linkctl.store import AlertState, SqlStore
from tests.conftest import ip

from .conftest import PASSWORD, Inbox
from .servers import webhook_receiver
from .test_alerts import SECRET, episode, queue, smtp_receiver

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def tied(netns_factory: object) -> Iterator[tuple[str, str]]:
    """Two namespaces: in the first a veth pair va/vb, a bridge br0 with port p0 whose peer
    p1 sits in the second, and a tap t0 tied to nothing; a veth x0 (first) / x1 (second)."""
    make = netns_factory
    assert callable(make)
    one, two = make(), make()
    ip("-n", one, "link", "add", "va", "type", "veth", "peer", "name", "vb")
    ip("-n", one, "link", "add", "br0", "type", "bridge")
    ip("-n", one, "link", "add", "p0", "type", "veth", "peer", "name", "p1", "netns", two)
    ip("-n", one, "link", "set", "p0", "master", "br0")
    ip("-n", one, "link", "add", "x0", "type", "veth", "peer", "name", "x1", "netns", two)
    ip("-n", one, "tuntap", "add", "dev", "t0", "mode", "tap")
    yield one, two


def test_ties_are_read_from_the_kernel(tied: tuple[str, str]) -> None:
    one, two = tied
    causes = read_causes([(one, "va"), (one, "t0")])
    assert causes[(one, "va")] == causes[(one, "vb")] == f"veth pair {one}/va + {one}/vb"
    # Across namespaces, and through a bridge: the bridge names the group.
    ends = sorted([f"{one}/x0", f"{two}/x1"])
    assert causes[(one, "x0")] == causes[(two, "x1")] == f"veth pair {ends[0]} + {ends[1]}"
    assert causes[(one, "br0")] == causes[(one, "p0")] == causes[(two, "p1")] == f"bridge {one}/br0"
    assert (one, "t0") not in causes


def _ep(netns: str, ifname: str, index: int) -> FlapEpisode:
    return episode(NOW, ifname=ifname, netns=netns, ifindex=index)


def _ended(ep: FlapEpisode) -> FlapEpisode:
    return replace(ep, end=ep.start + timedelta(seconds=60), cleared_at=ep.start + timedelta(seconds=360))


def test_a_veth_pairs_two_alerts_are_one_mail_and_one_post(
    tied: tuple[str, str],
    smtp_server: tuple[int, Inbox, Path],
    store: SqlStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one, _ = tied
    port, inbox, cert = smtp_server
    monkeypatch.setenv("LINKCTL_TEST_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("LINKCTL_TEST_HOOK_SECRET", SECRET.decode())
    with webhook_receiver(SECRET) as (url, hooks):
        hook = {"type": "webhook", "name": "hook", "url": url, "secret_env": "LINKCTL_TEST_HOOK_SECRET"}
        cfg = AlertsConfig.model_validate({"host": "web-01", "receivers": [smtp_receiver(port, cert), hook]})
        dispatcher = AlertDispatcher(store, build_senders(cfg), cfg)
        va, vb, lone = _ep(one, "va", 11), _ep(one, "vb", 12), _ep(one, "t0", 13)
        queue(store, dispatcher, *(FlapNotice(EpisodeEdge.START, ep) for ep in (va, vb, lone)))
        created = store.alerts()[0].created

        # At once: the tap (tied to nothing) goes alone; the pair waits for group_wait.
        report = dispatcher.deliver_due(created)
        assert sorted(report.sent) == sorted(f"{lone.key}/start/{r}" for r in ("mail", "hook"))
        assert len(report.waiting) == 4
        assert len(inbox.messages) == 1 and len(hooks.received) == 1

        report = dispatcher.deliver_due(created + timedelta(seconds=cfg.group_wait))
        assert len(report.sent) == 4
        assert len(inbox.messages) == 2 and len(hooks.received) == 2
        mail = email.message_from_bytes(inbox.messages[1][2], policy=email.policy.default)
        assert mail["Subject"] == f"[linkctl] web-01: va, vb started flapping together (veth pair {one}/va + {one}/vb)"
        assert str(mail.get_content()).count("transitions:") == 2
        body = hooks.received[1]
        assert body["cause"] == f"veth pair {one}/va + {one}/vb" and body["edge"] == "start"
        assert [a["ifname"] for a in body["alerts"]] == ["va", "vb"]
        assert {row.state for row in store.alerts()} == {AlertState.SENT}

        # The two ends settle: one "stopped flapping together" for them, after group_wait too
        # (the two episodes may end a tick apart).
        queue(store, dispatcher, FlapNotice(EpisodeEdge.END, _ended(va)), FlapNotice(EpisodeEdge.END, _ended(vb)))
        ended = max(row.created for row in store.alerts())
        report = dispatcher.deliver_due(ended)
        assert report.sent == [] and len(report.waiting) == 4
        report = dispatcher.deliver_due(ended + timedelta(seconds=cfg.group_wait))
        assert len(report.sent) == 4
        mail = email.message_from_bytes(inbox.messages[2][2], policy=email.policy.default)
        assert mail["Subject"].startswith("[linkctl] web-01: va, vb stopped flapping together")
        assert [a["edge"] for a in hooks.received[2]["alerts"]] == ["end", "end"]


def test_a_bridge_and_its_port_and_the_ports_peer_are_one_group(
    tied: tuple[str, str], store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = tied
    monkeypatch.setenv("LINKCTL_TEST_HOOK_SECRET", SECRET.decode())
    with webhook_receiver(SECRET) as (url, hooks):
        hook = {"type": "webhook", "name": "hook", "url": url, "secret_env": "LINKCTL_TEST_HOOK_SECRET"}
        cfg = AlertsConfig.model_validate({"host": "web-01", "group_wait": "3s", "receivers": [hook]})
        dispatcher = AlertDispatcher(store, build_senders(cfg), cfg)
        eps = [_ep(one, "br0", 21), _ep(one, "p0", 22), _ep(two, "p1", 23)]
        queue(store, dispatcher, *(FlapNotice(EpisodeEdge.START, ep) for ep in eps))
        created = store.alerts()[0].created
        assert dispatcher.deliver_due(created + timedelta(seconds=2)).sent == []
        report = dispatcher.deliver_due(created + timedelta(seconds=3))
        assert len(report.sent) == 3
        (body,) = hooks.received
        assert body["cause"] == f"bridge {one}/br0"
        assert sorted(a["ifname"] for a in body["alerts"]) == ["br0", "p0", "p1"]


def test_rate_limited_member_leaves_the_group(tied: tuple[str, str], store: SqlStore) -> None:
    """Each alert keeps its own rate limit: a suppressed end drops out, the other is sent alone."""
    one, _ = tied
    sent: list[object] = []

    class Collect:
        name = "collect"

        def send(self, alert: object) -> None:
            sent.append(alert)

    cfg = AlertsConfig.model_validate({"host": "web-01", "rate_limit": {"max_per_link": 1, "window": "1h"}})
    dispatcher = AlertDispatcher(store, [Collect()], cfg)
    first = _ep(one, "va", 31)
    queue(store, dispatcher, FlapNotice(EpisodeEdge.START, first))
    dispatcher.deliver_due(datetime.now(UTC) + timedelta(seconds=cfg.group_wait))
    again = replace(_ep(one, "va", 31), start=NOW + timedelta(seconds=600))
    queue(store, dispatcher, FlapNotice(EpisodeEdge.START, again), FlapNotice(EpisodeEdge.START, _ep(one, "vb", 32)))
    report = dispatcher.deliver_due(datetime.now(UTC) + timedelta(seconds=2 * cfg.group_wait))
    assert report.suppressed == [f"{again.key}/start/collect"]
    assert report.sent == [f"{_ep(one, 'vb', 32).key}/start/collect"]
    assert type(sent[-1]).__name__ == "Alert"  # one left: a plain alert, not a group of one


def test_alertmanager_gets_one_alert_per_link_with_the_cause_annotated() -> None:
    """Alertmanager groups by labels itself: the group's links go in one POST, each keeping its
    own labels (its identity, which the re-posts of firing alerts repeat) and the cause noted."""
    from linkctl.alerts import Alert, AlertmanagerSender
    from linkctl.alerts.model import AlertGroup

    pair = tuple(
        Alert.from_episode(episode(NOW, ifname=n, netns="blue"), EpisodeEdge.START, "h", "warning")
        for n in ("va", "vb")
    )
    items = AlertmanagerSender.payload(AlertGroup("veth pair blue/va + blue/vb", pair))
    assert [i["labels"]["ifname"] for i in items] == ["va", "vb"]
    assert all(set(i["labels"]) == {"alertname", "host", "ifname", "netns", "severity"} for i in items)
    assert {i["annotations"]["cause"] for i in items} == {"veth pair blue/va + blue/vb"}

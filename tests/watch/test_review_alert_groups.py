"""The watch review: the end alerts of a veth pair's two ends, queued a moment apart (the two
episodes end at different ticks, as they do ~2 runs in 3 across namespaces:
tests/watch/repro/cross_netns_pair_grouping.py). Real namespaces give the tie, a real receiver
gets the posts. The end alert waits group_wait for the others of its cause, as a start does."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from linkctl.alerts import AlertDispatcher, AlertsConfig, build_senders
from linkctl.domain.episodes import EpisodeEdge, FlapEpisode, FlapNotice, FlapTrigger
from linkctl.store import SqlStore, open_store
from linkctl.watch.core import WatchOutput
from tests.alerts.servers import webhook_receiver
from tests.conftest import ip

pytestmark = pytest.mark.kernel
SECRET = b"review-secret"


def test_a_pairs_end_alerts_queued_apart_are_still_one_notification(
    netns_factory: Callable[[], str], tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = netns_factory(), netns_factory()
    ip("-n", one, "link", "add", "x0", "type", "veth", "peer", "name", "x1", "netns", two)
    monkeypatch.setenv("LK_TEST_SECRET", SECRET.decode())
    store: SqlStore = open_store(f"sqlite://{tmp_path}/alerts.db")
    with store, webhook_receiver(SECRET) as (url, log):
        hook = {"type": "webhook", "name": "hook", "url": url, "secret_env": "LK_TEST_SECRET"}
        cfg = AlertsConfig.model_validate({"host": "web-01", "receivers": [hook]})
        dispatcher = AlertDispatcher(store, build_senders(cfg), cfg)
        now = datetime.now(UTC)
        x0 = FlapEpisode(one, "x0", 2, now, 6, 2.5, FlapTrigger.RATE, peak_percent=12.0)
        x1 = replace(x0, netns=two, ifname="x1", ifindex=3)

        def queue(*notices: FlapNotice) -> None:
            store.record(WatchOutput(notices=list(notices)), dispatcher.receivers)

        def ended(ep: FlapEpisode) -> FlapEpisode:
            return replace(ep, end=ep.start + timedelta(seconds=5), cleared_at=ep.start + timedelta(seconds=8))

        queue(FlapNotice(EpisodeEdge.START, x0), FlapNotice(EpisodeEdge.START, x1))
        dispatcher.deliver_due(now + timedelta(seconds=cfg.group_wait + 1))
        queue(FlapNotice(EpisodeEdge.END, ended(x0)))  # one tick ...
        dispatcher.deliver_due(datetime.now(UTC) + timedelta(seconds=1))
        queue(FlapNotice(EpisodeEdge.END, ended(x1)))  # ... and the next
        dispatcher.deliver_due(datetime.now(UTC) + timedelta(seconds=cfg.group_wait * 3))
    got = [(r["edge"], sorted(a["ifname"] for a in r.get("alerts", [r]))) for r in log.received]
    assert got == [("start", ["x0", "x1"]), ("end", ["x0", "x1"])], got

"""The host's namespace is None in memory and "" where a format cannot hold None: the store's
columns, event and episode keys, and the episode JSON that alert bodies carry."""

from __future__ import annotations

from linkctl.domain.episodes import EpisodeEdge, FlapEpisode, FlapNotice, FlapTrigger
from linkctl.domain.events import EventKind, EventSource, LinkEvent, LinkState
from linkctl.store import SqlStore
from linkctl.watch.core import WatchOutput

from ..watch.helpers import at


def test_keys_spell_the_host_as_they_always_did() -> None:
    ev = LinkEvent(at(1), None, "eth0", 7, EventKind.LINK_UP, LinkState.UP, EventSource.KMSG, 0, epoch=2)
    assert ev.key.startswith("/7/2/link_up/t")
    assert FlapEpisode(None, "eth0", 7, at(0), 6, 1.5, FlapTrigger.RATE).key.startswith("/7/")


def test_episode_json_says_empty_and_reads_back_none() -> None:
    ep = FlapEpisode(None, "eth0", 7, at(0), 6, 1.5, FlapTrigger.RATE, end=at(5))
    body = ep.to_json()
    assert body["netns"] == ""
    assert FlapEpisode.from_json(body) == ep
    named = FlapEpisode("blue", "eth0", 7, at(0), 6, 1.5, FlapTrigger.RATE)
    assert FlapEpisode.from_json(named.to_json()) == named


def test_the_store_keeps_empty_and_hands_back_none(store: SqlStore) -> None:
    ep = FlapEpisode(None, "eth0", 7, at(0), 6, 1.5, FlapTrigger.RATE)
    store.record(WatchOutput(episodes=[ep], notices=[FlapNotice(EpisodeEdge.START, ep)]), receivers=["hook"])
    assert store.open_episodes() == [ep]
    [queued] = store.alerts()
    assert queued.netns is None and queued.payload["netns"] == ""
    assert store.history(netns="") == []  # the filter is spelled as the column has it

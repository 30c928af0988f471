"""Which links are down and stay down: the link-down alert's rule, as Prometheus' `for:`.

A link is down for this rule when its admin state is up (IFF_UP set: `ip link set X down`
is someone's decision, not a fault) and it has no carrier, while no flap episode of it is
open (a flapping link has its own story: the flap alerts). Once it has been so for the hold
time, as seen by the ticks, its spell fires; the spell ends (resolved) as soon as it is no
longer so: the carrier is back, it was set down by hand, it went away.

The spell is named by the time the link's state went down (KnownLink.since), which the store
keeps; a restarted watcher takes the spells it had fired and not resolved from the alert queue
(`firing_spells`), so that their ends still resolve them, and a spell fired again is queued
once. The hold is counted from the first tick that saw the link down, so a
link found down at start-up waits the hold time too, as a rule's `for:` after a restart.

Pure: every time comes from the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from linkctl.alerts.model import is_down
from linkctl.domain.down import DownNotice, DownSpell
from linkctl.domain.episodes import EpisodeEdge
from linkctl.domain.events import KnownLink, LinkState, NetnsName
from linkctl.store.records import AlertState, QueuedAlert

LinkKey = tuple[NetnsName, int]


class DownWatch:
    """The spells of the links the core follows; `hold` None turns the rule off."""

    def __init__(self, hold: float | None, firing: Iterable[DownSpell] = ()) -> None:
        self.hold = None if hold is None else timedelta(seconds=hold)
        self.firing: dict[LinkKey, DownSpell] = {(s.netns, s.ifindex): s for s in firing}
        self._seen: dict[LinkKey, tuple[datetime, datetime]] = {}  # (the link's since, first tick that saw it)

    def tick(
        self,
        now: datetime,
        links: Mapping[LinkKey, KnownLink],
        admin_up: Callable[[LinkKey], bool | None],
        flapping: Callable[[LinkKey], bool],
        watched: Collection[NetnsName],
    ) -> list[DownNotice]:
        if self.hold is None:
            return []
        # A namespace not dumped yet (at start-up, or not there for now) says nothing of its spells.
        ours = [key for key in self.firing if key[0] in watched]
        notices = [self._end(key, links.get(key), admin_up(key), now) for key in ours]
        out = [n for n in notices if n is not None]
        for key, link in links.items():
            if key in self.firing:
                continue
            if link.state is not LinkState.DOWN or admin_up(key) is not True or flapping(key):
                self._seen.pop(key, None)
                continue
            since, first = self._seen.get(key, (link.since, now))
            if since != link.since:  # down again since the last tick: a new spell
                first = now
            self._seen[key] = (link.since, first)
            if now - first >= self.hold:
                spell = DownSpell(link.netns, link.ifname, link.ifindex, link.since, now)
                self.firing[key] = spell
                del self._seen[key]
                out.append(DownNotice(EpisodeEdge.START, spell))
        for key in [k for k in self._seen if k not in links]:
            del self._seen[key]
        return out

    def _end(self, key: LinkKey, link: KnownLink | None, admin_up: bool | None, now: datetime) -> DownNotice | None:
        """The END of a firing spell whose link is no longer down, else None."""
        spell = self.firing[key]
        if link is None or link.state is LinkState.ABSENT:
            why, when = "the link was removed", now
        elif link.state is LinkState.UP:
            why, when = "carrier back", link.since
        elif link.state is LinkState.ADMIN_DOWN:  # its admin_down event says when
            why, when = "set administratively down", link.since
        elif link.since != spell.start:  # up and down again between two ticks: this spell is over
            why, when = "carrier back (and lost again)", link.since
        elif admin_up is False:
            why, when = "set administratively down", now
        else:
            return None
        del self.firing[key]
        return DownNotice(EpisodeEdge.END, replace(spell, end=max(when, spell.start), ended_by=why))

    def open_spells(self) -> list[DownSpell]:
        return list(self.firing.values())


def firing_spells(queued: Iterable[QueuedAlert]) -> list[DownSpell]:
    """The spells whose firing alert was queued (and not given up) and whose end was not:
    what a restarted watcher must still resolve."""
    rows = [q for q in queued if is_down(q.payload)]
    ended = {q.episode_key for q in rows if q.edge == EpisodeEdge.END.value}
    spells = {
        q.episode_key: DownSpell.from_json(q.payload)
        for q in rows
        if q.edge == EpisodeEdge.START.value and q.episode_key not in ended and q.state != AlertState.DEAD
    }
    return list(spells.values())

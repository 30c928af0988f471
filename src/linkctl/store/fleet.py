"""The fleet's flap report, read from the shared history (`linkctl report`).

Per host and link over a window: the carrier transitions recorded (those the watcher saw
one by one, and those a store outage left as a gap event's count from the kernel's
counters), the down time, the watcher's flap episodes and the drivers' names; worst
first (flapping now, then most transitions, then most down time).

Down time is measured between recorded events: a link is down from an event that leaves
it down to the next event that does not. A gap event's transitions were counted, not
seen: the time around them is not measured, and the link's down time is marked a lower
bound (`down_exact` False). A link whose first event in the
window is a link-up was down before the window opened: it is counted from the window's
start (a link-up records a down-to-up transition).

A link set down by hand (`ip link set X down`: the admin_down event, state admin_down) is
not down: its time is counted apart (`admin_down_s`; `admin_downs` counts the admin_down
events), and neither
its admin_down nor its admin_up counts among `transitions` (the carrier changes the kernel
counted with them included), nor does the carrier an admin up brings (a NIC finds it a second
or two later): `transitions` are the carrier's own, what a flap is made of, as the watcher's
flap rules count them. Down time is time admin up without carrier, after an admin up too
until the carrier comes.

Memory: the events are read in batches, in order; per link only its down periods are kept.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from linkctl.domain.episodes import FlapEpisode
from linkctl.domain.events import EventKind, LinkState, NetnsName
from linkctl.store.records import column, from_us, netns_of, to_us
from linkctl.store.rows import EPISODE_COLUMNS, episode_of
from linkctl.store.sql import SqlStore
from linkctl.store.sqlconn import Cursor

LinkId = tuple[str, str, str]  # host, netns as the column has it ("" the host's), link name


@dataclass(frozen=True)
class DownSpan:
    start: datetime
    end: datetime | None  # None: still down at the end of the window
    inferred: bool = False  # started before the window (its first event was a link-up)


@dataclass
class FleetLink:
    host: str
    netns: NetnsName
    ifname: str
    transitions: int = 0
    in_gaps: int = 0  # of `transitions`, counted from the kernel's counters after a store outage
    down_s: float = 0.0
    down_exact: bool = True
    down_now: bool = False
    admin_downs: int = 0  # admin_down events: set down by hand (IFF_UP cleared) in the window
    admin_down_s: float = 0.0
    admin_down_now: bool = False
    flapping: bool = False
    present: bool = False
    walked: bool = False  # it has events in the window
    downs: list[DownSpan] = field(default_factory=list)
    episodes: list[FlapEpisode] = field(default_factory=list)
    drivers: list[str] = field(default_factory=list)

    @property
    def quiet(self) -> bool:
        """Nothing to report in the window: no transition, no down time, no episode, no admin
        down in it (a link made, or set down by hand, before the window and left so is quiet)."""
        return not (self.transitions or self.downs or self.episodes or self.flapping or self.admin_downs)

    def rank(self) -> tuple[bool, int, float, str, str, str]:
        return (not self.flapping, -self.transitions, -self.down_s, self.host, column(self.netns), self.ifname)

    def to_json(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "netns": column(self.netns),
            "ifname": self.ifname,
            "flapping": self.flapping,
            "down_now": self.down_now,
            "present": self.present,
            "transitions": self.transitions,
            "transitions_in_gaps": self.in_gaps,
            "down_periods": len(self.downs),
            "down_seconds": round(self.down_s, 3),
            "down_seconds_exact": self.down_exact,
            "admin_downs": self.admin_downs,
            "admin_down_seconds": round(self.admin_down_s, 3),
            "admin_down_now": self.admin_down_now,
            "episodes": [ep.to_json() for ep in self.episodes],
            "drivers": self.drivers,
        }


@dataclass
class FleetReport:
    since: datetime
    until: datetime
    source: str  # the store, as the report names it (no password)
    hosts: list[str]
    links: list[FleetLink]  # the links with something to report, worst first
    quiet: int  # links watched in the window with nothing to report

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "store": self.source,
            "hosts": self.hosts,
            "links": [link.to_json() for link in self.links],
            "quiet_links": self.quiet,
        }


def fleet_report(
    store: SqlStore, since: datetime, until: datetime, host: str | None = None, source: str = ""
) -> FleetReport:
    """The report of every host matching `host` (a name or glob; None for all)."""
    links: dict[LinkId, FleetLink] = {}
    with store._read() as cur:
        cur.execute("SELECT host, netns, ifname, flapping, present, state, since_us FROM links")
        rows = [row for row in cur.fetchall() if _matches(row[0], host)]
        cur.execute(
            "SELECT host, netns, ifname, kind, state, time_us, transitions, driver_name FROM events "
            "WHERE time_us >= ? AND time_us <= ? ORDER BY host, netns, ifname, time_us, id",
            (to_us(since), to_us(until)),
        )
        _fold_events(links, _rows(cur), host, since, until)
        for h, ns, name, flapping, present, state, since_us in rows:
            link = _link(links, h, ns, name)
            link.present = link.present or bool(present)
            link.flapping = link.flapping or (bool(flapping) and bool(present))
            if not link.walked and present and state == LinkState.DOWN.value and from_us(int(since_us)) <= until:
                # Down all through the window (or since it went down in it), with no event of its own.
                start = max(since, from_us(int(since_us)))
                link.downs.append(DownSpan(start, None, inferred=start == since))
                link.down_s += max((until - start).total_seconds(), 0.0)
                link.down_now = True
            if not link.walked and present and state == LinkState.ADMIN_DOWN.value:
                start = max(since, from_us(int(since_us)))
                link.admin_down_s += max((until - start).total_seconds(), 0.0)
                link.admin_down_now = True
        cur.execute(
            f"SELECT {EPISODE_COLUMNS}, host FROM flap_episodes "
            "WHERE start_us <= ? AND (cleared_us IS NULL OR cleared_us >= ?) ORDER BY start_us",
            (to_us(until), to_us(since)),
        )
        for row in cur.fetchall():
            if _matches(row[-1], host):
                episode = episode_of(row[:-1])
                _link(links, row[-1], row[1], episode.ifname).episodes.append(episode)
    active = sorted((link for link in links.values() if not link.quiet), key=FleetLink.rank)
    hosts = sorted({link.host for link in links.values()})
    return FleetReport(since, until, source, hosts, active, len(links) - len(active))


def _link(links: dict[LinkId, FleetLink], host: str, netns: str, ifname: str) -> FleetLink:
    key = (str(host), str(netns), str(ifname))
    found = links.get(key)
    if found is None:
        found = links[key] = FleetLink(key[0], netns_of(key[1]), key[2])
    return found


def _rows(cur: Cursor, size: int = 10_000) -> Iterator[Any]:
    """A query's rows a batch at a time: a week of a fleet's events is not held at once."""
    while batch := cur.fetchmany(size):
        yield from batch


def _fold_events(
    links: dict[LinkId, FleetLink], rows: Iterable[Any], host: str | None, since: datetime, until: datetime
) -> None:
    """Each link's events in time order: its transitions, down periods and drivers."""
    walker: _Walk | None = None
    for h, ns, name, kind, state, time_us, transitions, driver in rows:
        if not _matches(h, host):
            continue
        link = _link(links, h, ns, name)
        if walker is None or walker.link is not link:
            if walker is not None:
                walker.finish(until)
            walker = _Walk(link, since)
        walker.add(EventKind(kind), LinkState(state), from_us(int(time_us)), int(transitions))
        if driver and driver not in link.drivers:
            link.drivers.append(str(driver))
    if walker is not None:
        walker.finish(until)


class _Walk:
    """One link's events, one by one: where it was down, and for how long."""

    def __init__(self, link: FleetLink, since: datetime) -> None:
        self.link = link
        self.since = since
        self.down_from: datetime | None = None
        self.inferred = False
        self.admin_from: datetime | None = None
        self.waking = False  # admin up, no carrier yet
        self.first = True

    def add(self, kind: EventKind, state: LinkState, when: datetime, transitions: int) -> None:
        link = self.link
        waking, self.waking = self.waking, kind is EventKind.ADMIN_UP and state is LinkState.DOWN
        if waking and kind is EventKind.LINK_UP:
            transitions -= 1  # the carrier an admin up brought (a NIC's autonegotiation): the operator's
        if kind.is_carrier and not kind.is_admin:
            link.transitions += transitions
        link.admin_downs += kind is EventKind.ADMIN_DOWN
        if kind is EventKind.GAP and transitions:
            # Transitions counted, not seen: the down time between them is not measured.
            link.in_gaps += transitions
            link.down_exact = False
        if self.first and kind is EventKind.LINK_UP:
            self.down_from, self.inferred = self.since, True
        if self.first and kind is EventKind.ADMIN_UP:
            self._admin(LinkState.ADMIN_DOWN, self.since)  # set down by hand before the window
        if kind.from_kernel_log:
            return  # a log line names no state of its own
        self.first = False
        self._admin(state, when)
        if self.down_from is not None and state is not LinkState.DOWN:
            if not (kind is EventKind.GAP and transitions):
                self._close(when)
            self.down_from = None
        elif self.down_from is not None and kind is EventKind.GAP and transitions:
            self.down_from = when  # down before and after: measured again from here
        elif self.down_from is None and state is LinkState.DOWN:
            self.down_from, self.inferred = when, False

    def _admin(self, state: LinkState, when: datetime) -> None:
        if state is LinkState.ADMIN_DOWN and self.admin_from is None:
            self.admin_from = when
        elif state is not LinkState.ADMIN_DOWN and self.admin_from is not None:
            self.link.admin_down_s += max((when - self.admin_from).total_seconds(), 0.0)
            self.admin_from = None

    def _close(self, when: datetime) -> None:
        assert self.down_from is not None
        self.link.downs.append(DownSpan(self.down_from, when, self.inferred))
        self.link.down_s += max((when - self.down_from).total_seconds(), 0.0)

    def finish(self, until: datetime) -> None:
        self.link.walked = True
        self.link.down_now = self.down_from is not None
        self.link.admin_down_now = self.admin_from is not None
        if self.admin_from is not None:
            self.link.admin_down_s += max((until - self.admin_from).total_seconds(), 0.0)
        if self.down_from is not None:
            self.link.downs.append(DownSpan(self.down_from, None, self.inferred))
            self.link.down_s += max((until - self.down_from).total_seconds(), 0.0)


def _matches(value: str, pattern: str | None) -> bool:
    return pattern is None or fnmatch.fnmatchcase(str(value), pattern)

"""Pure reconciliation: kernel counters in, link events with transition counts out.

The kernel coalesces link notifications (linkwatch sends about one per second per
device for non-urgent changes, and a listener that falls behind loses messages to
ENOBUFS), so the message stream is not a list of transitions. The carrier
counters in every RTM_NEWLINK are: IFLA_CARRIER_CHANGES (= up + down on current
kernels), IFLA_CARRIER_UP_COUNT and IFLA_CARRIER_DOWN_COUNT. Every function here
compares what was last known of a link with what the kernel says now and turns
the difference into events whose `transitions` field counts every carrier change,
including those no message was sent for.

Nothing here does I/O or reads a clock: the caller passes the message's time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from linkctl.domain.events import (
    STATS_FIELDS,
    CarrierCounters,
    CounterSnapshot,
    EventKind,
    EventSource,
    KnownLink,
    LinkEvent,
    LinkState,
    NetnsName,
    require_aware,
    utc,
)

# IFLA_CARRIER_* are u32 in the kernel; a decrease this close to the top is a wrap.
U32 = 1 << 32
_WRAP_SLACK = 1 << 20


@dataclass(frozen=True)
class LinkMessage:
    """One decoded RTM_NEWLINK, from the event socket or from a dump: a reading of a link at a time.

    Not the kernel's `Link` itself, on purpose: the pure core needs the time of the reading, which
    a `Link` does not have, and reads only this projection of it (carrier resolved, counters grouped),
    made in one place (watch/netlink_feed.link_message); tests and the fleet bench make readings
    without a kernel. `admin_up` is IFF_UP, `carrier` is IFLA_CARRIER (or IFF_LOWER_UP). `counters`
    is None on kernels that send no IFLA_CARRIER_CHANGES. `stats` holds the
    IFLA_STATS64 fields named in :data:`STATS_FIELDS` when the message had them. `kind` is
    IFLA_INFO_KIND (veth, bridge, ...; None for a NIC's own device): it tells whether a kernel
    log line a driver wrote can be about this link.
    """

    time: datetime
    netns: NetnsName
    ifindex: int
    ifname: str
    admin_up: bool
    carrier: bool
    counters: CarrierCounters | None = None
    stats: Mapping[str, int] | None = None
    ethtool: Mapping[str, int] | None = None
    kind: str | None = None

    def __post_init__(self) -> None:
        require_aware(self.time, "LinkMessage.time")

    @property
    def state(self) -> LinkState:
        if not self.admin_up:
            return LinkState.ADMIN_DOWN
        return LinkState.UP if self.carrier else LinkState.DOWN


@dataclass(frozen=True)
class TransitionCount:
    """Carrier transitions between two counter readings.

    `reset` is True when the counters went backwards (the link was re-created
    under the same ifindex): the new counters then count from zero.
    """

    total: int
    up: int | None = None
    down: int | None = None
    reset: bool = False


@dataclass(frozen=True)
class Reconciled:
    """The events to record and the new last-known state of each link touched."""

    events: list[LinkEvent]
    links: list[KnownLink]
    gone: list[KnownLink]


def u32_delta(prev: int, new: int) -> tuple[int, bool]:
    """Difference of two u32 counter readings, and whether the counter was reset."""
    if new >= prev:
        return new - prev, False
    if prev >= U32 - _WRAP_SLACK and new < _WRAP_SLACK:
        return new + U32 - prev, False
    return new, True


def count_transitions(
    prev: CarrierCounters | None,
    new: CarrierCounters | None,
    state_changed: bool,
) -> TransitionCount:
    """How many carrier transitions happened between two readings of a link.

    Without counters on both sides the best answer is one transition if the
    state changed, none otherwise (old kernels, or a link seen for the first
    time).
    """
    if prev is None or new is None:
        return TransitionCount(total=1 if state_changed else 0)
    total, reset = u32_delta(prev.changes, new.changes)
    up = _part_delta(prev.up, new.up, reset)
    down = _part_delta(prev.down, new.down, reset)
    if up is not None and down is not None and not reset:
        # The split counters are exact; CARRIER_CHANGES is their sum on kernels
        # that send them, so prefer them if the two ever disagree.
        total = up + down
    return TransitionCount(total=total, up=up, down=down, reset=reset)


def _part_delta(prev: int | None, new: int | None, reset: bool) -> int | None:
    if new is None:
        return None
    if reset:
        return new
    if prev is None:
        return None
    return u32_delta(prev, new)[0]


def epoch_of(when: datetime) -> int:
    """An incarnation id for a link: microseconds of its first sighting."""
    return int(utc(when).timestamp() * 1_000_000)


def first_sight(msg: LinkMessage) -> KnownLink:
    return KnownLink(
        netns=msg.netns,
        ifindex=msg.ifindex,
        ifname=msg.ifname,
        state=msg.state,
        since=msg.time,
        counters=msg.counters,
        epoch=epoch_of(msg.time),
    )


def _event(link: KnownLink, msg: LinkMessage, kind: EventKind, source: EventSource, transitions: int) -> LinkEvent:
    return LinkEvent(
        time=msg.time,
        netns=msg.netns,
        ifname=msg.ifname,
        ifindex=msg.ifindex,
        kind=kind,
        state=msg.state,
        source=source,
        transitions=transitions,
        carrier=msg.counters,
        epoch=link.epoch,
    )


def reconcile_message(
    prev: KnownLink | None,
    msg: LinkMessage,
    source: EventSource = EventSource.NETLINK,
    announce_new: bool = True,
) -> tuple[list[LinkEvent], KnownLink]:
    """Turn one link message into events, given what was known of the link.

    - first sight: `link_added` (unless `announce_new` is False: the links that
      were there when the watcher first started were not "added");
    - a changed name: `renamed`, with the old name in `detail`;
    - carrier transitions or a state change: one `link_up`/`link_down` event
      (named after the state *after* the message) carrying the number of
      transitions, e.g. 2 for a down+up the kernel coalesced into one message;
      `admin_down`/`admin_up` instead when IFF_UP was cleared or set;
      from a resync, transitions that no message was seen for make a `gap`.
    """
    if prev is None:
        link = first_sight(msg)
        if not announce_new:
            return [], link
        return [_event(link, msg, EventKind.LINK_ADDED, source, 0), *_unheard(link, msg, source)], link
    events: list[LinkEvent] = []
    state_changed = msg.state is not prev.state
    count = count_transitions(prev.counters, msg.counters, state_changed)
    epoch = epoch_of(msg.time) if count.reset else prev.epoch
    link = replace(prev, ifname=msg.ifname, state=msg.state, counters=msg.counters, epoch=epoch)
    if msg.ifname != prev.ifname:
        renamed = _event(link, msg, EventKind.RENAMED, source, 0)
        events.append(replace(renamed, detail=prev.ifname))
    if count.total > 0 or state_changed:
        events.append(_event(link, msg, _carrier_kind(prev.state, msg, source, count), source, count.total))
        link = replace(link, since=msg.time)
    return events, link


def _unheard(link: KnownLink, msg: LinkMessage, source: EventSource) -> list[LinkEvent]:
    """A link a dump shows first: the kernel's counters count every carrier change since it was
    made, and none of them was heard (it was made while nobody listened): a gap of that many.
    Not for a live message: a link moved in brings counts from its former namespace."""
    if source is not EventSource.RESYNC or msg.counters is None:
        return []
    count = count_transitions(CarrierCounters(0, 0, 0), msg.counters, False)
    if count.total == 0:
        return []
    return [_event(link, msg, EventKind.GAP, source, count.total)]


def _carrier_kind(prev: LinkState, msg: LinkMessage, source: EventSource, count: TransitionCount) -> EventKind:
    """What the message says happened. IFF_UP changed: an admin down or up, carrying the carrier
    changes the kernel counted with it (a veth or a NIC drops its carrier when closed), so that
    the next reading finds no unheard ones. From a resync, counted changes nobody heard are a gap
    whatever IFF_UP did: which of them the operator made is not known."""
    if source is EventSource.RESYNC and count.total > 0:
        return EventKind.GAP
    if (prev is LinkState.ADMIN_DOWN) != (msg.state is LinkState.ADMIN_DOWN):
        return EventKind.ADMIN_DOWN if msg.state is LinkState.ADMIN_DOWN else EventKind.ADMIN_UP
    return EventKind.LINK_UP if msg.state is LinkState.UP else EventKind.LINK_DOWN


def reconcile_gone(
    prev: KnownLink,
    when: datetime,
    moved_to: str | None = None,
    source: EventSource = EventSource.NETLINK,
    why: str | None = None,
) -> LinkEvent:
    """RTM_DELLINK: the link was removed (`why`, when known: its namespace went), or moved to
    namespace `moved_to`."""
    kind = EventKind.LINK_REMOVED if moved_to is None else EventKind.MOVED
    return LinkEvent(
        time=when,
        netns=prev.netns,
        ifname=prev.ifname,
        ifindex=prev.ifindex,
        kind=kind,
        state=LinkState.ABSENT,
        source=source,
        transitions=0,
        carrier=prev.counters,
        detail=moved_to if moved_to is not None else why,
        epoch=prev.epoch,
    )


def reconcile_dump(
    known: Mapping[int, KnownLink],
    dump: Iterable[LinkMessage],
    when: datetime,
    announce_new: bool = True,
) -> Reconciled:
    """A full dump of one namespace against what was known of it.

    Used after ENOBUFS and at start-up (with the store's last-known counters):
    transitions the kernel counted while nobody listened become `gap` events
    with their count; links that vanished become `link_removed` (source resync);
    links that appeared become `link_added` when `announce_new`.
    """
    events: list[LinkEvent] = []
    links: list[KnownLink] = []
    seen: set[int] = set()
    for msg in dump:
        seen.add(msg.ifindex)
        got, link = reconcile_message(known.get(msg.ifindex), msg, EventSource.RESYNC, announce_new)
        events += got
        links.append(link)
    gone = [link for index, link in known.items() if index not in seen]
    events += [reconcile_gone(link, when, source=EventSource.RESYNC) for link in gone]
    return Reconciled(events=events, links=links, gone=gone)


def counter_delta(prev: int, new: int) -> tuple[int, bool]:
    """Delta of a u64 stats counter; a decrease means the driver reset it.

    After a reset the new reading is what accumulated since, so it is the
    delta: an under-count (what came in between the last reading and the reset
    is lost) rather than a huge negative or wrapped number.
    """
    if new >= prev:
        return new - prev, False
    return new, True


@dataclass(frozen=True)
class SnapshotDelta:
    """What changed between two snapshots of the same link."""

    seconds: float
    values: dict[str, int]
    reset_fields: frozenset[str]
    ethtool: dict[str, int]

    @property
    def reset(self) -> bool:
        return bool(self.reset_fields)


def snapshot_delta(prev: CounterSnapshot, new: CounterSnapshot) -> SnapshotDelta:
    """Per-counter deltas; counters that went backwards are listed in `reset_fields`."""
    values: dict[str, int] = {}
    resets: set[str] = set()
    for name in STATS_FIELDS:
        values[name], was_reset = counter_delta(getattr(prev, name), getattr(new, name))
        if was_reset:
            resets.add(name)
    ethtool: dict[str, int] = {}
    old_ethtool = prev.ethtool or {}
    for name, value in (new.ethtool or {}).items():
        ethtool[name], was_reset = counter_delta(old_ethtool.get(name, 0), value)
        if was_reset:
            resets.add(f"ethtool:{name}")
    seconds = (new.time - prev.time).total_seconds()
    return SnapshotDelta(seconds, values, frozenset(resets), ethtool)

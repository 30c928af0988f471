"""WatchCore: the pure heart of `linkctl watch`.

The daemon owns the sockets, the clock and the store; WatchCore owns the logic.
Feed it decoded input, get back a :class:`WatchOutput` to persist (one store
transaction) and to hand to the alert dispatcher and the metrics::

    store = open_store(config.store)
    core = WatchCore(config.flap_config(), known=store.last_known(),
                     open_episodes=store.open_episodes(), iface_globs=config.iface)
    metrics = WatchMetrics(core)               # linkctl.watch.metrics
    dispatcher = AlertDispatcher(store, senders, config.alerts)

    def commit(out: WatchOutput) -> None:
        store.record(out)                     # events, links, episodes: atomically
        metrics.observe(out)
        dispatcher.submit(out.notices)        # queued in the store, sent later

    for ns in namespaces:                     # start-up: gaps since the last run
        commit(core.on_dump(ns, dump(ns), now(), DumpReason.STARTUP))
    loop:
        RTM_NEWLINK         -> commit(core.on_link(LinkMessage(...)))
        RTM_DELLINK         -> commit(core.on_link_gone(ns, ifindex, now(), moved_to))
        ENOBUFS             -> reopen socket; commit(core.on_dump(ns, dump(ns), now(),
                                                                  DumpReason.OVERFLOW))
        kernel log line     -> commit(core.on_kernel_log(KernelLogRecord(...)))
        every stats_interval-> commit(core.on_stats(snapshots))
        every second or so  -> commit(core.tick(now()))     # flap clearing, log joins
                               dispatcher.deliver_due(now())

Nothing here reads a clock or does I/O; every time comes from the input.
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from linkctl.domain.down import DownNotice, DownSpell
from linkctl.domain.episodes import FlapEpisode, FlapNotice
from linkctl.domain.events import (
    CounterSnapshot,
    DriverWords,
    EventKind,
    EventSource,
    KnownLink,
    LinkEvent,
    LinkState,
    NetnsName,
    SnapshotReason,
)
from linkctl.watch.flap import FlapConfig, FlapTracker
from linkctl.watch.kernel_log import KernelLogRecord, driver_fits
from linkctl.watch.link_down import DownWatch
from linkctl.watch.transitions import LinkMessage, reconcile_dump, reconcile_gone, reconcile_message

LinkKey = tuple[NetnsName, int]


# The `detail` of the link_removed events of a namespace re-created under the same name.
NAMESPACE_REPLACED = "namespace re-created: a new namespace under this name"
# ...and of those of a boot before this one: a namespace's identity holds the boot's id, so after a
# reboot every namespace is a new one; "re-created" read as if someone had deleted it.
HOST_RESTARTED = "the host restarted: its links of the boot before"


class DumpReason(StrEnum):
    STARTUP = "startup"
    OVERFLOW = "overflow"


@dataclass
class WatchOutput:
    """What one input produced. Persist it in one transaction, then alert."""

    events: list[LinkEvent] = field(default_factory=list)
    links: list[KnownLink] = field(default_factory=list)
    gone: list[KnownLink] = field(default_factory=list)
    snapshots: list[CounterSnapshot] = field(default_factory=list)
    notices: list[FlapNotice | DownNotice] = field(default_factory=list)  # each queues one alert
    episodes: list[FlapEpisode] = field(default_factory=list)
    # Kernel-log words that arrived after their netlink event was emitted.
    driver_updates: list[tuple[LinkEvent, DriverWords]] = field(default_factory=list)  # the event, with them
    down_durations: list[tuple[NetnsName, str, float]] = field(default_factory=list)
    kernel_events: list[KernelLogRecord] = field(default_factory=list)
    resyncs: list[NetnsName] = field(default_factory=list)

    def merge(self, other: WatchOutput) -> WatchOutput:
        for name in self.__dataclass_fields__:
            getattr(self, name).extend(getattr(other, name))
        return self

    @property
    def empty(self) -> bool:
        return not any(getattr(self, name) for name in self.__dataclass_fields__)


@dataclass(frozen=True)
class LinkView:
    """A link as the metrics and `status` show it."""

    link: KnownLink
    flapping: bool
    episodes_total: int
    admin_up: bool | None = None  # IFF_UP: set down by hand, where `link.state` says only "down"


class WatchCore:
    """Reconciles messages into events, runs flap detection, joins kernel-log lines."""

    def __init__(
        self,
        flap: FlapConfig | None = None,
        known: Iterable[KnownLink] = (),
        open_episodes: Iterable[FlapEpisode] = (),
        iface_globs: Sequence[str] = ("*",),
        join_window: float = 2.0,
        link_down_for: float | None = None,
        firing_down: Iterable[DownSpell] = (),
    ) -> None:
        self.iface_globs = tuple(iface_globs) or ("*",)
        known = list(known)
        self.links: dict[LinkKey, KnownLink] = {(k.netns, k.ifindex): k for k in known if self._wanted(k.ifname)}
        # The store's links outside --iface: not followed now, and not removed either, so that
        # a wider glob later reconciles them by their counters.
        self._unwatched = {(k.netns, k.ifindex): k for k in known if not self._wanted(k.ifname)}
        self._netns_ids = {k.netns: k.netns_id for k in known if k.netns_id is not None}
        self.flaps = FlapTracker(flap)
        self.down = DownWatch(link_down_for, firing_down)  # the link-down alert's rule (None: off)
        self.join_window = timedelta(seconds=join_window)
        self._recent: dict[tuple[NetnsName, str], LinkEvent] = {}  # last carrier event per name
        self._pending: list[tuple[KernelLogRecord, KnownLink]] = []  # and the link it was taken for
        self._resume: dict[LinkKey, FlapEpisode] = {(e.netns, e.ifindex): e for e in open_episodes if e.open}
        # The namespaces dumped (so watched) this run: the store's links of others are no
        # evidence that a kernel-log line is about a watched link.
        self.watched: set[NetnsName] = set()
        # The last message of each link in self.links (its IFLA_INFO_KIND, whether IFF_UP is set);
        # None for a link the store knew and the dump did not show again.
        self._last: dict[LinkKey, LinkMessage | None] = {}
        # Kernel-log lines about no link a watched namespace has, by kind: /dev/kmsg is the
        # whole host's, other namespaces' and unwatched links' lines come too.
        self.unattributed: Counter[EventKind] = Counter()

    # -- inputs ---------------------------------------------------------------

    def on_link(self, msg: LinkMessage, source: EventSource = EventSource.NETLINK) -> WatchOutput:
        """One RTM_NEWLINK from the event socket."""
        key = (msg.netns, msg.ifindex)
        prev = self.links.get(key)
        if not self._wanted(msg.ifname):
            return self._drop(key, msg.time) if prev else WatchOutput()
        prev = prev or self._unwatched.pop(key, None)  # renamed into the globs
        events, link = reconcile_message(prev, msg, source)
        link = replace(link, netns_id=self._netns_ids.get(msg.netns))
        out = WatchOutput(links=[link])
        self.links[key] = link
        self._last[key] = msg
        self._account(prev, msg, events, out)
        return out

    def on_link_gone(
        self,
        netns: NetnsName,
        ifindex: int,
        when: datetime,
        moved_to: str | None = None,
        why: str | None = None,
        source: EventSource = EventSource.NETLINK,
    ) -> WatchOutput:
        """RTM_DELLINK: removed (`why`, if known), or moved to namespace `moved_to`."""
        prev = self.links.pop((netns, ifindex), None)
        self._last.pop((netns, ifindex), None)
        if prev is None:
            # Not followed (outside --iface): no event, but the store no longer shows it there.
            unwatched = self._unwatched.pop((netns, ifindex), None)
            return WatchOutput(gone=[unwatched] if unwatched else [])
        out = WatchOutput(events=[reconcile_gone(prev, when, moved_to, source, why)], gone=[prev])
        self._close_flap(netns, ifindex, when, out)
        return out

    def namespace_gone(
        self, netns: NetnsName, when: datetime, why: str, source: EventSource = EventSource.NETLINK
    ) -> WatchOutput:
        """Namespace `netns` is no more (deleted, or replaced by another of the same name):
        its links are removed, saying why."""
        out = WatchOutput()
        for key in sorted(k for k in [*self.links, *self._unwatched] if k[0] == netns):
            out.merge(self.on_link_gone(netns, key[1], when, why=why, source=source))
        self._netns_ids.pop(netns, None)
        return out

    def on_dump(
        self,
        netns: NetnsName,
        dump: Iterable[LinkMessage],
        when: datetime,
        reason: DumpReason,
        netns_id: str | None = None,
    ) -> WatchOutput:
        """A full dump of one namespace, at start-up or after the socket overflowed.

        At start-up the known state is the store's; a namespace the store knows
        nothing of is being watched for the first time, so its links are a
        baseline, not "added". `netns_id` is the namespace's identity
        (linkctl.kernel.netns.identity): another than the store's is a namespace
        re-created under the same name, whose ifindexes are handed out again:
        the old one's links are removed, the new one's added.
        """
        self.watched.add(netns)
        messages = list(dump)
        strays = sorted({m.netns for m in messages if m.netns != netns}, key=lambda n: n or "")
        if strays:
            raise ValueError(f"a dump of namespace {netns!r} holds links of {strays}")
        wanted = [m for m in messages if self._wanted(m.ifname)]
        seen = netns in self._netns_ids or any(k[0] == netns for k in [*self.links, *self._unwatched])
        out = self._replaced(netns, netns_id, when)
        known = self._known_for_dump(netns, {m.ifindex for m in wanted})
        result = reconcile_dump(known, wanted, when, announce_new=reason is DumpReason.OVERFLOW or seen)
        out.merge(WatchOutput(links=result.links, gone=result.gone))
        if reason is DumpReason.OVERFLOW:
            out.resyncs.append(netns)
        by_index = {m.ifindex: m for m in wanted}
        out.links = [replace(link, netns_id=self._netns_ids.get(netns)) for link in out.links]
        for link in out.links:
            self.links[(netns, link.ifindex)] = link
            self._last[(netns, link.ifindex)] = by_index.get(link.ifindex)
            self._resume_episode(link, link.state, when)
        for event in result.events:
            if event.kind is EventKind.LINK_REMOVED:
                self.links.pop((netns, event.ifindex), None)
                self._last.pop((netns, event.ifindex), None)
                out.events.append(event)
                self._close_flap(netns, event.ifindex, when, out)
                continue
            prev = known.get(event.ifindex)
            self._account(prev, by_index[event.ifindex], [event], out)
        return out

    def on_kernel_log(self, record: KernelLogRecord) -> WatchOutput:
        """A parsed kernel log line about a link.

        Recorded only when a watched namespace has a link of that name (the one the line
        names, if it names one); otherwise counted in `unattributed`: a line names a device,
        not its namespace, and a name no watched link has is another namespace's or nobody's.
        """
        if not self._wanted(record.ifname):
            return WatchOutput()
        link = self._by_name(record.ifname, record.netns, record.words.driver)
        if link is None:
            self.unattributed[record.kind] += 1
            return WatchOutput()
        out = WatchOutput()
        netns = link.netns
        if record.kind in (EventKind.LINK_UP, EventKind.LINK_DOWN):
            recent = self._recent_for(record)
            if recent is not None:
                joined = recent.with_driver(record.words)
                self._recent[(recent.netns, recent.ifname)] = joined
                out.driver_updates.append((joined, record.words))
                netns = recent.netns  # the event it joined says which of the namesakes it is
            else:
                self._pending.append((record, link))
        else:
            out.events.append(self._kmsg_event(record, link))
        out.kernel_events.append(replace(record, netns=netns))  # the metrics' netns label
        return out

    def on_stats(self, snapshots: Iterable[CounterSnapshot]) -> WatchOutput:
        """Periodic counter snapshots (every stats_interval)."""
        return WatchOutput(snapshots=list(snapshots))

    def tick(self, now: datetime) -> WatchOutput:
        """Let time pass: flap episodes may end, links down may have been so for the link-down
        alert's hold time (or no longer be); unmatched kernel-log lines are recorded."""
        out = WatchOutput()
        for notice in self.flaps.tick(now):
            self._notice(notice, out)
        out.notices += self.down.tick(now, self.links, self._admin_up, self._flapping, self.watched)
        keep: list[tuple[KernelLogRecord, KnownLink]] = []
        for record, link in self._pending:
            if now - record.time > self.join_window:
                # As the link is now; as it was if it went since (the line was about it).
                out.events.append(self._kmsg_event(record, self.links.get((link.netns, link.ifindex), link)))
            else:
                keep.append((record, link))
        self._pending = keep
        return out

    def _replaced(self, netns: NetnsName, netns_id: str | None, when: datetime) -> WatchOutput:
        """The links of the namespace the store knew under this name, if that is not this one."""
        if netns_id is None:
            return WatchOutput()
        known_id = self._netns_ids.get(netns)
        out = WatchOutput()
        if known_id is not None and known_id != netns_id:  # None: a store from before ids were kept
            rebooted = known_id.partition("/")[0] != netns_id.partition("/")[0]  # netns.identity: "BOOT/..."
            why = HOST_RESTARTED if rebooted else NAMESPACE_REPLACED
            out = self.namespace_gone(netns, when, why, EventSource.RESYNC)
        self._netns_ids[netns] = netns_id
        return out

    def _known_for_dump(self, netns: NetnsName, wanted: set[int]) -> dict[int, KnownLink]:
        """What the dump is compared with: the followed links, and those outside the globs
        that a rename brought in (known under their old name)."""
        known = {k[1]: link for k, link in self.links.items() if k[0] == netns}
        for key in [k for k in self._unwatched if k[0] == netns and k[1] in wanted]:
            known[key[1]] = self._unwatched.pop(key)
        return known

    # -- views ----------------------------------------------------------------

    def views(self) -> list[LinkView]:
        return [
            LinkView(
                link=link,
                flapping=self.flaps.is_flapping(*key),
                episodes_total=self.flaps.episodes_total(*key),
                admin_up=last.admin_up if (last := self._last.get(key)) is not None else None,
            )
            for key, link in sorted(self.links.items(), key=_by_key)
        ]

    # -- internals ------------------------------------------------------------

    def _admin_up(self, key: LinkKey) -> bool | None:
        """IFF_UP as the link's last message had it; None when no message was seen this run."""
        last = self._last.get(key)
        return last.admin_up if last is not None else None

    def _flapping(self, key: LinkKey) -> bool:
        return self.flaps.is_flapping(*key)

    def _kind(self, key: LinkKey) -> str | None:
        last = self._last.get(key)
        return last.kind if last is not None else None

    def _wanted(self, ifname: str) -> bool:
        return any(fnmatch.fnmatchcase(ifname, glob) for glob in self.iface_globs)

    def _drop(self, key: LinkKey, when: datetime) -> WatchOutput:
        """A link renamed out of the watched globs is no longer followed."""
        prev = self.links.pop(key)
        self._last.pop(key, None)
        out = WatchOutput(gone=[prev])
        self._close_flap(key[0], key[1], when, out)
        return out

    def _account(self, prev: KnownLink | None, msg: LinkMessage, events: list[LinkEvent], out: WatchOutput) -> None:
        before = prev.state if prev is not None else msg.state
        self._resume_episode(self.links[(msg.netns, msg.ifindex)], before, msg.time)
        for event in events:
            event = self._join_pending(event)
            out.events.append(event)
            if not event.kind.is_carrier:
                continue
            self._recent[(event.netns, event.ifname)] = event
            self._down_duration(prev, event, out)
            self._snapshot(msg, event, out)
            for notice in self.flaps.observe(event, before):
                self._notice(notice, out)
            before = event.state
        detector = self.flaps.detectors.get((msg.netns, msg.ifindex))
        if detector is not None and detector.episode is not None and events:
            out.episodes.append(detector.episode)

    def _resume_episode(self, link: KnownLink, before: LinkState, when: datetime) -> None:
        """An episode open when the watcher stopped goes on from here.

        It lasts until the link has been still for a rate window, as if the rate
        rule still held: the history that opened it was not kept.
        """
        episode = self._resume.pop((link.netns, link.ifindex), None)
        if episode is None:
            return
        key = (link.netns, link.ifindex, link.ifname)
        self.flaps.detector_for(key, before, when).resume(episode)

    def _recent_for(self, record: KernelLogRecord) -> LinkEvent | None:
        found = [e for (_, name), e in self._recent.items() if name == record.ifname and self._joins(e, record)]
        found.sort(key=lambda e: e.netns is not None)  # the kernel log is the host's
        return found[0] if found else None

    def _join_pending(self, event: LinkEvent) -> LinkEvent:
        for pending in self._pending:
            record = pending[0]
            if record.ifname == event.ifname and self._joins(event, record):
                self._pending.remove(pending)
                return event.with_driver(record.words)
        return event

    def _joins(self, event: LinkEvent, record: KernelLogRecord) -> bool:
        if record.netns is not None and record.netns != event.netns:
            return False
        if not driver_fits(record.words.driver, self._kind((event.netns, event.ifindex))):
            return False  # a namesake of another kind: the host's NIC eth0, a container's veth eth0
        if event.driver is not None or abs(event.time - record.time) > self.join_window:
            return False
        # A coalesced event stands for both directions, so either line fits it. An admin down or
        # up that moved the carrier is what a driver announcing its carrier on close or open speaks of.
        kind = _CARRIER_OF.get(event.kind, event.kind) if event.transitions else event.kind
        return event.transitions > 1 or record.kind is kind

    def _kmsg_event(self, record: KernelLogRecord, link: KnownLink) -> LinkEvent:
        return LinkEvent(
            time=record.time,
            netns=link.netns,
            ifname=record.ifname,
            ifindex=link.ifindex,
            kind=record.kind,
            state=link.state,
            source=EventSource.KMSG,
            transitions=0,
            carrier=link.counters,
            driver=record.words,
            epoch=link.epoch,
        )

    def _by_name(self, ifname: str, netns: str | None, driver: str | None) -> KnownLink | None:
        """The watched link a kernel-log line is about: its name, and a kind the line's driver drives."""
        found = [
            link
            for key, link in self.links.items()
            if link.ifname == ifname and link.netns in self.watched and driver_fits(driver, self._kind(key))
        ]
        if netns is not None:
            found = [k for k in found if k.netns == netns]
        found.sort(key=lambda k: k.netns is not None)  # the kernel log is the host's
        return found[0] if found else None

    def _down_duration(self, prev: KnownLink | None, event: LinkEvent, out: WatchOutput) -> None:
        # Only a clean down->up pair has a known duration; coalesced ones do not.
        if prev is None or prev.state is not LinkState.DOWN or event.state is not LinkState.UP:
            return
        if event.transitions == 1 and event.kind is EventKind.LINK_UP:
            seconds = (event.time - prev.since).total_seconds()
            out.down_durations.append((event.netns, event.ifname, seconds))

    def _snapshot(self, msg: LinkMessage, event: LinkEvent, out: WatchOutput) -> None:
        if event.state is not LinkState.DOWN or msg.stats is None:
            return
        reason = SnapshotReason.RESYNC if event.kind is EventKind.GAP else SnapshotReason.LINK_DOWN
        stats = {k: int(v) for k, v in msg.stats.items() if k in _SNAPSHOT_FIELDS}
        out.snapshots.append(
            CounterSnapshot(
                time=msg.time,
                netns=msg.netns,
                ifname=msg.ifname,
                ifindex=msg.ifindex,
                reason=reason,
                ethtool=dict(msg.ethtool) if msg.ethtool is not None else None,
                **stats,
            )
        )

    def _close_flap(self, netns: NetnsName, ifindex: int, when: datetime, out: WatchOutput) -> None:
        self._resume.pop((netns, ifindex), None)
        for notice in self.flaps.forget(netns, ifindex, when):
            self._notice(notice, out)

    def _notice(self, notice: FlapNotice, out: WatchOutput) -> None:
        out.notices.append(notice)
        out.episodes.append(notice.episode)
        key = (notice.episode.netns, notice.episode.ifindex)
        link = self.links.get(key)
        if link is not None:
            self.links[key] = replace(link, flapping=notice.episode.open)
            out.links = [k for k in out.links if (k.netns, k.ifindex) != key]
            out.links.append(self.links[key])


_CARRIER_OF = {EventKind.ADMIN_DOWN: EventKind.LINK_DOWN, EventKind.ADMIN_UP: EventKind.LINK_UP}

_SNAPSHOT_FIELDS = frozenset(CounterSnapshot.__dataclass_fields__) - {
    "time",
    "netns",
    "ifname",
    "ifindex",
    "reason",
    "ethtool",
}


def _by_key(item: tuple[LinkKey, KnownLink]) -> tuple[str, int]:
    """Namespace, then ifindex; the host's (None) first, as "" sorted before."""
    (netns, ifindex), _link = item
    return (netns or "", ifindex)

"""Per-link flap detection: a rate rule and Nagios's percent state change.

Two rules run side by side; a link is flapping while either holds.

Rate rule
    More than ``rate_transitions`` carrier transitions (default 5, so the 6th
    opens it) within the last ``rate_window`` seconds (default 300). It lets go
    when the window holds at most ``rate_clear_transitions`` (default 0: the
    link has been still for a whole window).

Nagios rule
    Nagios Core's weighted percent state change, reproduced from its
    ``flapping.c``: a history of the last 21 states, oldest first; each of the
    20 places where a state differs from the one before it adds a weight that
    grows linearly from 0.75 (oldest pair) to 1.25 (newest pair),
    ``0.75 + (x - 1) * 0.5 / 19`` for the change into entry x (1..20); the sum
    times 100 / 20 is the percentage. Flapping starts at ``>= high`` (default
    50), stops at ``<= low`` (default 25), and in between keeps its previous
    value. (Nagios's sample nagios.cfg uses 20/5 for checks every few minutes;
    link transitions are faster and denser, hence the higher defaults.)

    Nagios records one state per check. The watcher is event-driven, so a
    "check" is: every transition (a coalesced message with n transitions
    records the n intermediate states, alternating, ending in the state the
    message reports) plus the current state once per ``sample_interval``
    (default 15 s, so 21 samples span the rate window) when the caller ticks.
    The history starts filled with the link's state when it is first seen,
    as Nagios does when flap detection is enabled for an object.

Administrative changes
    An operator's ``ip link set X down`` / ``up`` (IFF_UP cleared or set: the
    admin_down and admin_up events) counts for neither rule: maintenance is no
    flap. The kernel does count a carrier change with each of them on links whose
    driver drops the carrier on close (veth, most NICs: measured on a veth,
    carrier_down_count and carrier_up_count + 1 each; lo counts none); the events
    carry that count, the rules leave it out, as they leave out the carrier that
    comes back after an admin up. Nagios's history records an admin down as up.
    Inside an episode, an admin down ends the link's down time.

Episodes
    An episode opens when either rule starts flapping, at the time of the
    earliest transition still inside the rate window (so the transitions that
    caused it belong to it), and closes when both rules have let go. It counts
    its transitions and the time the link spent down inside it (coalesced
    down+up pairs count no down time: the kernel did not say how long). The
    detector emits a :class:`FlapNotice` at the start and at the end only.

Time only moves when the caller says so (`observe` and `tick` take the time), so
every rule is testable without a clock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from linkctl.domain.episodes import EpisodeEdge, FlapEpisode, FlapNotice, FlapTrigger
from linkctl.domain.events import EventKind, LinkEvent, LinkState, NetnsName

NAGIOS_HISTORY = 21
LOW_CURVE = 0.75
HIGH_CURVE = 1.25


@dataclass(frozen=True)
class FlapConfig:
    rate_transitions: int = 5
    rate_window: float = 300.0
    rate_clear_transitions: int = 0
    nagios_enabled: bool = True
    high: float = 50.0
    low: float = 25.0
    sample_interval: float = 15.0

    def __post_init__(self) -> None:
        if not 0 <= self.low < self.high <= 100:
            raise ValueError(f"need 0 <= low < high <= 100, got low={self.low} high={self.high}")
        if self.rate_window <= 0 or self.sample_interval <= 0:
            raise ValueError("rate_window and sample_interval must be positive")
        if not 0 <= self.rate_clear_transitions <= self.rate_transitions:
            raise ValueError("need 0 <= rate_clear_transitions <= rate_transitions")


def percent_state_change(history: Sequence[object]) -> float:
    """Nagios's curved percent state change of a history given oldest first."""
    size = len(history)
    if size < 3:
        raise ValueError(f"a state history needs at least 3 entries, got {size}")
    curved = 0.0
    for x in range(1, size):
        if history[x] != history[x - 1]:
            curved += ((x - 1) * (HIGH_CURVE - LOW_CURVE)) / (size - 2) + LOW_CURVE
    return curved * 100.0 / (size - 1)


def hysteresis(percent: float, was_flapping: bool, low: float, high: float) -> bool:
    """Nagios's decision: undecided between the thresholds keeps the old value."""
    if low < percent < high:
        return was_flapping
    return percent >= high


class NagiosFlap:
    """The 21-state history of one link and its flapping flag."""

    def __init__(self, initial: LinkState, low: float, high: float) -> None:
        self.history: deque[LinkState] = deque([initial] * NAGIOS_HISTORY, maxlen=NAGIOS_HISTORY)
        self.low = low
        self.high = high
        self.flapping = False
        self.percent = 0.0

    def record(self, state: LinkState) -> bool:
        self.history.append(state)
        self.percent = percent_state_change(self.history)
        self.flapping = hysteresis(self.percent, self.flapping, self.low, self.high)
        return self.flapping


@dataclass(frozen=True)
class _Transition:
    time: datetime
    count: int
    before: LinkState
    after: LinkState


class RateRule:
    """More than `limit` transitions in the last `window` seconds."""

    def __init__(self, limit: int, window: float, clear_at: int) -> None:
        self.limit = limit
        self.window = timedelta(seconds=window)
        self.clear_at = clear_at
        self.recent: deque[_Transition] = deque()
        self.flapping = False
        self._total = 0  # sum of counts in `recent`: a storm must not cost O(n) per event

    def add(self, item: _Transition) -> None:
        self.recent.append(item)
        self._total += item.count

    def count(self, now: datetime) -> int:
        while self.recent and self.recent[0].time <= now - self.window:
            self._total -= self.recent.popleft().count
        return self._total

    def update(self, now: datetime) -> bool:
        count = self.count(now)
        if count > self.limit:
            self.flapping = True
        elif count <= self.clear_at:
            self.flapping = False
        return self.flapping


# The states the rules follow; removed or unknown say nothing about the carrier.
_FOLLOWED = frozenset({LinkState.UP, LinkState.DOWN, LinkState.ADMIN_DOWN})


def sampled(state: LinkState) -> LinkState:
    """The state Nagios's history records: a link set down by hand is not failing, and its
    admin down and up are no state changes of the carrier's."""
    return LinkState.UP if state is LinkState.ADMIN_DOWN else state


def opposite(state: LinkState) -> LinkState:
    return LinkState.DOWN if state is LinkState.UP else LinkState.UP


def intermediate_states(count: int, final: LinkState) -> list[LinkState]:
    """The states a link went through in `count` transitions ending in `final`."""
    states = [final if (count - 1 - i) % 2 == 0 else opposite(final) for i in range(count)]
    return states[-NAGIOS_HISTORY:]


class DownClock:
    """Time a link spent down inside an episode, kept up to date transition by transition.

    A coalesced down+up adds nothing (the kernel did not say how long it was
    down); a coalesced down+up+down counts as down from its time.
    """

    def __init__(self, start: datetime, down_at_start: bool, carried: float = 0.0) -> None:
        self.total = carried
        self.down_from: datetime | None = start if down_at_start else None
        self.last = start

    def add(self, item: _Transition) -> None:
        if item.after is not LinkState.DOWN and self.down_from is not None:  # up, or set down by hand
            self.total += (item.time - self.down_from).total_seconds()
            self.down_from = None
        elif item.after is LinkState.DOWN and self.down_from is None:
            self.down_from = item.time
        self.last = max(self.last, item.time)

    def seconds(self, until: datetime) -> float:
        if self.down_from is None:
            return self.total
        return self.total + max(0.0, (until - self.down_from).total_seconds())


def down_seconds(transitions: Sequence[_Transition], start: datetime, end: datetime) -> float:
    """Time spent down between `start` and `end`, from the transitions in that range."""
    inside = [t for t in transitions if start <= t.time <= end]
    if not inside:
        return 0.0
    clock = DownClock(start, inside[0].before is LinkState.DOWN)
    for item in inside:
        clock.add(item)
    return clock.seconds(end)


class FlapDetector:
    """Flap rules and the current episode of one link."""

    def __init__(
        self,
        config: FlapConfig,
        link: tuple[NetnsName, int, str],
        initial: LinkState,
        now: datetime,
    ) -> None:
        self.config = config
        self.netns, self.ifindex, self.ifname = link
        self.rate = RateRule(config.rate_transitions, config.rate_window, config.rate_clear_transitions)
        self.nagios = NagiosFlap(sampled(initial), config.low, config.high)
        self.state = initial
        self._waking = False  # admin up, no carrier yet: the carrier's coming is no flap
        self.last_sample = now
        self.episode: FlapEpisode | None = None
        self._clock: DownClock | None = None
        self.episodes_total = 0

    @property
    def flapping(self) -> bool:
        return self.episode is not None

    def observe(self, event: LinkEvent) -> list[FlapNotice]:
        """Feed one link event; returns a notice when an episode starts."""
        self.ifname = event.ifname
        if event.state not in _FOLLOWED:
            return []
        count = self._carrier_count(event)
        item = _Transition(event.time, count, self.state, event.state)
        self.state = event.state
        if self.episode is not None and (count or event.kind.is_admin):
            self._extend(item)  # an admin down inside an episode ends its down time
        if count == 0:
            return []
        self.rate.add(item)
        if self.config.nagios_enabled:
            for state in intermediate_states(count, sampled(event.state)):
                self.nagios.record(state)
        return self._decide(event.time)

    def _carrier_count(self, event: LinkEvent) -> int:
        """The carrier transitions an event counts for the rules. An operator's `ip link set
        down/up` counts none, though the kernel counts the carrier the close dropped; nor does
        the carrier that comes with an admin up (a NIC's autonegotiation ends a second or two
        later, in a link_up of its own)."""
        waking, self._waking = self._waking, event.kind.is_admin and event.state is LinkState.DOWN
        if event.kind.is_admin:
            return 0
        count = event.transitions if event.kind.is_carrier else 0
        if count == 0 and event.state is not self.state:
            count = 1  # a change the carrier counters did not see (a kernel without them)
        if waking and event.kind is EventKind.LINK_UP:
            count -= 1
        return count

    def tick(self, now: datetime) -> list[FlapNotice]:
        """Let time pass: take the Nagios samples that are due, let rules clear."""
        self._sample(now)
        return self._decide(now)

    def resume(self, episode: FlapEpisode) -> None:
        """Carry on an episode that was open when the watcher stopped."""
        self.episode = episode
        # Down time so far is carried; whether it was down at the stop is unknown.
        self._clock = DownClock(episode.start, False, carried=episode.down_seconds)
        self.rate.flapping = True
        self.episodes_total = max(self.episodes_total, 1)

    def close(self, now: datetime) -> list[FlapNotice]:
        """The link went away: end its episode, if any."""
        return [] if self.episode is None else [self._close(now)]

    def _sample(self, now: datetime) -> None:
        interval = timedelta(seconds=self.config.sample_interval)
        due = int((now - self.last_sample) / interval)
        if due <= 0:
            return
        self.last_sample += interval * due
        if self.config.nagios_enabled:
            for _ in range(min(due, NAGIOS_HISTORY)):
                self.nagios.record(sampled(self.state))

    def _decide(self, now: datetime) -> list[FlapNotice]:
        rate = self.rate.update(now)
        nagios = self.config.nagios_enabled and self.nagios.flapping
        if self.episode is None:
            return [self._open(now, rate, nagios)] if rate or nagios else []
        peak = max(self.episode.peak_percent, self.nagios.percent)
        self.episode = replace(self.episode, peak_percent=peak, ifname=self.ifname)
        return [] if rate or nagios else [self._close(now)]

    def _open(self, now: datetime, rate: bool, nagios: bool) -> FlapNotice:
        recent = list(self.rate.recent)
        start = recent[0].time if recent else now
        trigger = FlapTrigger.BOTH if rate and nagios else FlapTrigger.RATE
        if not rate:
            trigger = FlapTrigger.NAGIOS
        self._clock = DownClock(start, bool(recent) and recent[0].before is LinkState.DOWN)
        for item in recent:
            self._clock.add(item)
        self.episode = FlapEpisode(
            netns=self.netns,
            ifname=self.ifname,
            ifindex=self.ifindex,
            start=start,
            transitions=sum(t.count for t in recent),
            down_seconds=self._clock.seconds(now),
            trigger=trigger,
            peak_percent=self.nagios.percent,
        )
        self.episodes_total += 1
        return FlapNotice(EpisodeEdge.START, self.episode)

    def _extend(self, item: _Transition) -> None:
        assert self.episode is not None and self._clock is not None
        self._clock.add(item)
        self.episode = replace(
            self.episode,
            transitions=self.episode.transitions + item.count,
            down_seconds=self._clock.seconds(item.time),
        )

    def _close(self, now: datetime) -> FlapNotice:
        assert self.episode is not None and self._clock is not None
        last = self._clock.last
        closed = replace(self.episode, end=last, cleared_at=now, down_seconds=self._clock.seconds(last))
        self.episode = None
        self._clock = None
        return FlapNotice(EpisodeEdge.END, closed)


LinkKey = tuple[NetnsName, int]


class FlapTracker:
    """One :class:`FlapDetector` per link, keyed by (netns, ifindex)."""

    def __init__(self, config: FlapConfig | None = None) -> None:
        self.config = config or FlapConfig()
        self.detectors: dict[LinkKey, FlapDetector] = {}

    def detector_for(self, link: tuple[NetnsName, int, str], initial: LinkState, now: datetime) -> FlapDetector:
        key = (link[0], link[1])
        found = self.detectors.get(key)
        if found is None:
            found = self.detectors[key] = FlapDetector(self.config, link, initial, now)
        return found

    def observe(self, event: LinkEvent, before: LinkState) -> list[FlapNotice]:
        """Feed an event; `before` is the link's state before it (for a new detector)."""
        link = (event.netns, event.ifindex, event.ifname)
        return self.detector_for(link, before, event.time).observe(event)

    def tick(self, now: datetime) -> list[FlapNotice]:
        notices: list[FlapNotice] = []
        for found in self.detectors.values():
            notices += found.tick(now)
        return notices

    def forget(self, netns: NetnsName, ifindex: int, now: datetime) -> list[FlapNotice]:
        """The link is gone: close its episode (ending at its last transition)."""
        found = self.detectors.pop((netns, ifindex), None)
        return [] if found is None else found.close(now)

    def is_flapping(self, netns: NetnsName, ifindex: int) -> bool:
        found = self.detectors.get((netns, ifindex))
        return found is not None and found.flapping

    def open_episodes(self) -> list[FlapEpisode]:
        return [d.episode for d in self.detectors.values() if d.episode is not None]

    def episodes_total(self, netns: NetnsName, ifindex: int) -> int:
        found = self.detectors.get((netns, ifindex))
        return 0 if found is None else found.episodes_total

"""Flap analysis: per host and link, down periods, down bursts (JSON "episodes"), changes and a verdict.

Time: a down period is measured on the kernel's clock (the `[uptime]` stamps) when both
ends carry one from the same boot, since syslog stamps only have whole seconds; else on
the wall clock. Wall-clock stamps without a zone (classic syslog) are taken as UTC for
arithmetic, which keeps differences right whatever the zone was. A boot starts where a
host's uptime goes back.

Memory: the events are read once, in order, and none is kept beyond what a link's
report shows (its first and last KEEP_PER_LINK periods and changes, its episodes, and
the first and last KEEP_EVENTS events for the HTML page); a run of any length costs
what its links and episodes cost.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum, StrEnum
from typing import Any

from linkctl.domain.events import DOWN_KINDS, UP_KINDS, Duplex, EventKind, KernelLogLine
from linkctl.logs.bounded import Kept, Spread

# Two link-downs closer than this belong to one flap episode.
EPISODE_GAP_S = 300.0
# An episode with this many downs is flapping.
FLAP_DOWNS = 2
# Over a longer window, this rate of downs is flapping too.
FLAP_RATE_PER_HOUR = 6.0
# A rate is given for logs that span at least this long.
RATE_MIN_WINDOW_S = 3600.0


class Verdict(StrEnum):
    FLAPPING = "flapping"
    DEGRADED = "degraded"
    STABLE = "stable"


_SEVERITY = {Verdict.FLAPPING: 0, Verdict.DEGRADED: 1, Verdict.STABLE: 2}


@dataclass(frozen=True, slots=True)
class Stamped:
    """An event with its place on the host's clock (`clock`: seconds, comparable within
    a host) and its boot number."""

    event: KernelLogLine
    clock: float | None
    boot: int


@dataclass(frozen=True, slots=True)
class DownPeriod:
    start: Stamped
    end: Stamped | None  # None: still down when the log ends
    duration_s: float | None
    spans_reboot: bool
    # Its up stamped before its down (a clock stepped back, files read out of order): no duration.
    clock_back: bool = False


@dataclass(frozen=True, slots=True)
class Change:
    at: Stamped
    what: str  # "speed", "duplex", "flow_control"
    before: str | None
    after: str | None
    lower: bool  # renegotiated at a lower speed than seen before


@dataclass(frozen=True, slots=True)
class DownBurst:
    """Downs of one link each less than EPISODE_GAP_S after the one before: what the log
    report counts as an episode. Not the watcher's FlapEpisode (domain.episodes), which
    watch/flap.py's rate and Nagios rules open and close."""

    start: Stamped
    end: Stamped
    downs: int


# Per link, the first and the last this many down periods, changes and transmit
# timeouts are kept for the report; the ones between are counted (all of them are
# measured). The worst link of a normal log has far fewer.
KEEP_PER_LINK = 1000
# The first and the last this many events are kept for the HTML page.
KEEP_EVENTS = 200


@dataclass
class LinkReport:
    host: str | None
    ifname: str
    drivers: list[str]
    down_events: int = 0
    periods: Kept[DownPeriod] = field(default_factory=lambda: Kept(KEEP_PER_LINK))
    down_s: Spread = field(default_factory=Spread)  # durations of the measured periods
    # Seconds down over every ended period, kept or omitted (see `closed_length`): the down
    # share of a link with more periods than `periods` keeps is exact, not a lower bound.
    down_total_s: float = 0.0
    episodes: list[DownBurst] = field(default_factory=list)
    changes: Kept[Change] = field(default_factory=lambda: Kept(KEEP_PER_LINK))
    tx_marks: Kept[Stamped] = field(default_factory=lambda: Kept(KEEP_PER_LINK))
    tx_timeouts: int = 0
    half_duplex: bool = False
    boots: int = 1
    earliest: Stamped | None = None  # the event with the lowest clock value
    latest: Stamped | None = None  # and the one with the highest
    # The highest clock of its host's events: where its log ends, and a period still open
    # with it (another host's log may run on for hours; this one says nothing of them).
    log_end: float | None = None
    flaps_per_hour: float | None = None
    window_s: float | None = None
    verdict: Verdict = Verdict.STABLE
    rule: str = ""
    compare: dict[str, Any] | None = None

    def durations(self) -> list[float]:
        """The durations of the kept periods (all of them, unless periods were omitted)."""
        return [p.duration_s for p in self.periods if p.duration_s is not None and not p.spans_reboot]


@dataclass
class Report:
    links: list[LinkReport]
    event_count: int
    files: list[str]
    events: Kept[KernelLogLine] = field(default_factory=lambda: Kept(KEEP_EVENTS))  # the first and last ones
    # What of the input could not be read (a .gz cut short or corrupt): the report is of the rest.
    read_in_part: list[str] = field(default_factory=list)


# --- clocks --------------------------------------------------------------------------


def wall(event: KernelLogLine) -> float | None:
    if event.time is None:
        return None
    when = event.time if event.time.tzinfo else event.time.replace(tzinfo=UTC)
    return when.timestamp()


class Clocks:
    """Boots and clock values per host, event by event in input order. Without a wall
    clock, a boot's uptime is laid after the previous boot's last uptime so that the
    axis still runs forward."""

    def __init__(self) -> None:
        self._last_uptime: dict[str | None, float] = {}
        self._boot: dict[str | None, int] = {}
        self._offset: dict[str | None, float] = {}

    def stamp(self, event: KernelLogLine) -> Stamped:
        host = event.host
        boot = self._boot.setdefault(host, 0)
        offset = self._offset.setdefault(host, 0.0)
        if event.uptime is not None:
            previous = self._last_uptime.get(host)
            if previous is not None and event.uptime + 1.0 < previous:
                boot = self._boot[host] = boot + 1
                offset = self._offset[host] = offset + previous + 1.0
            self._last_uptime[host] = event.uptime
        clock = wall(event)
        if clock is None and event.uptime is not None:
            clock = offset + event.uptime
        return Stamped(event, clock, boot)


def closed_length(p: DownPeriod) -> float:
    """How long an ended period lasted: its measured duration, else its span on the host's
    axis (the report draws it so), else nothing known."""
    if p.duration_s is not None:
        return max(p.duration_s, 0.0)
    if p.end is None or p.start.clock is None or p.end.clock is None:
        return 0.0
    return max(p.end.clock - p.start.clock, 0.0)


def between(a: Stamped, b: Stamped) -> float | None:
    """Seconds from a to b: the kernel clock within one boot, else the wall clock."""
    ua, ub = a.event.uptime, b.event.uptime
    if a.boot == b.boot and ua is not None and ub is not None:
        return ub - ua
    wa, wb = wall(a.event), wall(b.event)
    if wa is not None and wb is not None:
        return wb - wa
    if a.clock is not None and b.clock is not None and a.boot == b.boot:
        return b.clock - a.clock
    return None


# --- analysis ------------------------------------------------------------------------
# One pass over the events: each link's periods, episodes and changes are built as its
# events arrive, so memory grows with the links and episodes, not with the events.


def analyze(
    events: Iterable[KernelLogLine], files: list[str] | None = None, compare_at: datetime | None = None
) -> Report:
    clocks = Clocks()
    per_link: dict[tuple[str | None, str], _Link] = {}
    first: dict[str | None, Stamped] = {}  # each host's first event
    last: dict[str | None, Stamped] = {}  # and its last one
    ends: dict[str | None, float] = {}  # each host's highest clock
    compare_t = None if compare_at is None else _utc(compare_at).timestamp()
    kept: Kept[KernelLogLine] = Kept(KEEP_EVENTS)
    keep = kept.append
    for event in events:
        keep(event)
        item = clocks.stamp(event)
        host = event.host
        if host not in first:
            first[host] = item
        last[host] = item
        if item.clock is not None and item.clock > ends.get(host, -math.inf):
            ends[host] = item.clock
        if event.ifname is None:
            continue
        key = (host, event.ifname)
        link = per_link.get(key)
        if link is None:
            link = per_link[key] = _Link(LinkReport(host, event.ifname, []), compare_t)
        link.add(item)
    windows = {host: span for host, a in first.items() if (span := _window(a, last[host])) is not None}
    links = [link.finish(windows.get(link.report.host), compare_at) for link in per_link.values()]
    for r in links:
        r.log_end = ends.get(r.host)
    return Report(sorted(links, key=_worst_first), kept.total, files or [], kept)


def _worst_first(r: LinkReport) -> tuple[int, int, float, str, str]:
    return (_SEVERITY[r.verdict], -r.down_events, -(r.flaps_per_hour or 0.0), r.host or "", r.ifname)


def _window(first: Stamped, last: Stamped) -> float | None:
    """How long a host's log covers, in seconds."""
    span = between(first, last)
    if span is None and first.clock is not None and last.clock is not None:
        span = last.clock - first.clock
    # A last event stamped before the first covers no time that can be told.
    return None if span is not None and span < 0 else span


def _utc(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


class _Link:
    """One link's measures, brought up to date by each of its events."""

    def __init__(self, report: LinkReport, compare_t: float | None) -> None:
        self.report = report
        self._opened: Stamped | None = None  # the down that opened the current period
        self._episode: tuple[Stamped, Stamped, int] | None = None  # start, last down, downs
        self._last_up: KernelLogLine | None = None
        self._best_speed = 0
        self._boot: int | None = None
        self._lower: Change | None = None  # the last renegotiation at a lower speed
        self._flow_changed = False
        self._compare_t = compare_t
        self._walls: tuple[float, float] | None = None  # earliest and latest wall clock
        self._downs_before = self._downs_after = 0

    def add(self, item: Stamped) -> None:
        r, event, kind = self.report, item.event, item.event.event
        if event.driver and event.driver not in r.drivers:
            r.drivers.append(event.driver)
        if item.boot != self._boot:
            if self._boot is not None:
                r.boots += 1  # a host's boot number only grows along its log
            self._boot = item.boot
        clock = item.clock
        if clock is not None:
            if r.earliest is None or clock < (r.earliest.clock or 0.0):
                r.earliest = item
            if r.latest is None or clock > (r.latest.clock or 0.0):
                r.latest = item
        if event.duplex is Duplex.HALF:
            r.half_duplex = True
        if kind in DOWN_KINDS:
            self._down(item)
        elif kind in UP_KINDS:
            self._up(item)
        elif kind is EventKind.TX_TIMEOUT:
            r.tx_timeouts += 1
            r.tx_marks.append(item)
        if self._compare_t is not None:
            self._count(event, kind)

    def _count(self, event: KernelLogLine, kind: EventKind) -> None:
        seconds = wall(event)
        if seconds is None:
            return
        lo, hi = self._walls or (seconds, seconds)
        self._walls = (min(lo, seconds), max(hi, seconds))
        if kind in DOWN_KINDS and self._compare_t is not None:
            if seconds < self._compare_t:
                self._downs_before += 1
            else:
                self._downs_after += 1

    def _down(self, item: Stamped) -> None:
        self.report.down_events += 1
        if self._opened is None:
            self._opened = item
        if self._episode is None:
            self._episode = (item, item, 1)
        else:
            start, prev, downs = self._episode
            gap = between(prev, item)
            # A down stamped before the one before it (a clock stepped back, logs read out of
            # order) is no evidence of a burst: 'a down burst of 2 link-downs within -3600 s'.
            if gap is not None and 0 <= gap < EPISODE_GAP_S:
                self._episode = (start, item, downs + 1)
            else:
                self.report.episodes.append(DownBurst(start, prev, downs))
                self._episode = (item, item, 1)

    def _up(self, item: Stamped) -> None:
        r, event, opened = self.report, item.event, self._opened
        if opened is not None:
            lasted = between(opened, item)
            back = lasted is not None and lasted < 0
            period = DownPeriod(opened, item, None if back else lasted, opened.boot != item.boot, back)
            r.periods.append(period)
            r.down_total_s += closed_length(period)
            if period.duration_s is not None and not period.spans_reboot:
                r.down_s.add(period.duration_s)
            self._opened = None
        last = self._last_up
        if last is not None:
            for what, before, after in (
                ("speed", last.speed_mbps, event.speed_mbps),
                ("duplex", _v(last.duplex), _v(event.duplex)),
                ("flow_control", _v(last.flow_control), _v(event.flow_control)),
            ):
                if before is not None and after is not None and before != after:
                    change = Change(
                        item, what, str(before), str(after), what == "speed" and int(after) < self._best_speed
                    )
                    r.changes.append(change)
                    if change.lower:
                        self._lower = change
                    self._flow_changed = self._flow_changed or what == "flow_control"
        self._best_speed = max(self._best_speed, event.speed_mbps or 0)
        self._last_up = event

    def finish(self, window: float | None, compare_at: datetime | None) -> LinkReport:
        r = self.report
        if self._opened is not None:
            r.periods.append(DownPeriod(self._opened, None, None, False))
        if self._episode is not None:
            start, prev, downs = self._episode
            r.episodes.append(DownBurst(start, prev, downs))
        r.window_s = window
        # A rate from less than an hour of log would be an extrapolation (1 down in 2 s is not 1800/h).
        if window and window >= RATE_MIN_WINDOW_S:
            r.flaps_per_hour = r.down_events / (window / 3600.0)
        r.verdict, r.rule = _verdict(r, self._lower, self._flow_changed)
        if compare_at is not None:
            r.compare = self._compare(compare_at)
        return r

    def _compare(self, at: datetime) -> dict[str, Any]:
        """Flap rate before and after a moment (a cable swap, a driver update)."""
        if self._walls is None or self._compare_t is None:
            return {"at": at.isoformat(), "before": None, "after": None, "note": "no wall-clock times in these events"}
        (first, last), t = self._walls, self._compare_t
        return {
            "at": at.isoformat(),
            "before": _rate(self._downs_before, t - first),
            "after": _rate(self._downs_after, last - t),
        }


def _v(value: Enum | None) -> str | None:
    return None if value is None else str(value.value)


def _verdict(report: LinkReport, lower: Change | None, flow_changed: bool) -> tuple[Verdict, str]:
    worst = max(report.episodes, key=lambda e: e.downs, default=None)
    if worst is not None and worst.downs >= FLAP_DOWNS:
        span = between(worst.start, worst.end)
        within = f" within {span:.0f} s" if span is not None else ""
        return Verdict.FLAPPING, (
            f"flapping: a down burst of {worst.downs} link-downs{within} "
            f"(rule: >= {FLAP_DOWNS} downs each less than {EPISODE_GAP_S:.0f} s apart)"
        )
    rate, window = report.flaps_per_hour, report.window_s
    if rate is not None and window is not None and rate >= FLAP_RATE_PER_HOUR:
        return Verdict.FLAPPING, (
            f"flapping: {rate:.1f} downs per hour over {window / 3600:.1f} h "
            f"(rule: >= {FLAP_RATE_PER_HOUR:.0f} per hour)"
        )
    reasons = _degradations(report, lower, flow_changed)
    if reasons:
        return Verdict.DEGRADED, "degraded: " + "; ".join(reasons)
    return Verdict.STABLE, "stable: no link-down, renegotiation or transmit timeout"


def _degradations(report: LinkReport, lower: Change | None, flow_changed: bool) -> list[str]:
    reasons = []
    if lower is not None:
        reasons.append(f"renegotiated at a lower speed ({lower.before} -> {lower.after} Mb/s)")
    if flow_changed:
        reasons.append("flow control changed between link-ups")
    if report.half_duplex:
        reasons.append("half duplex")
    if report.tx_timeouts:
        reasons.append(f"{report.tx_timeouts} transmit timeout(s)")
    if report.down_events == 1:  # "too far apart" would speak of a second one
        reasons.append(
            f"1 link-down (a down burst needs {FLAP_DOWNS}, each less than {EPISODE_GAP_S:.0f} s after the last)"
        )
    elif report.down_events:
        reasons.append(f"{report.down_events} link-downs, too far apart to be a down burst")
    return reasons


def _rate(downs: int, seconds: float) -> dict[str, Any]:
    hours = max(seconds, 0.0) / 3600.0
    return {"downs": downs, "hours": round(hours, 3), "per_hour": round(downs / hours, 3) if hours > 0 else None}


def report_json(report: Report) -> dict[str, Any]:
    out = {"links": [_link_json(r) for r in report.links], "files": report.files, "events": report.event_count}
    if report.read_in_part:
        out["read_in_part"] = report.read_in_part
    return out


def _iso(s: Stamped | None) -> str | None:
    if s is None:
        return None
    return s.event.time.isoformat() if s.event.time else None


def _link_json(r: LinkReport) -> dict[str, Any]:
    out: dict[str, Any] = {
        "host": r.host,
        "ifname": r.ifname,
        "drivers": r.drivers,
        "verdict": r.verdict.value,
        "rule": r.rule,
        "down_events": r.down_events,
        "down_periods": [
            {
                "start": _iso(p.start),
                "start_uptime": p.start.event.uptime,
                "end": _iso(p.end),
                "end_uptime": p.end.event.uptime if p.end else None,
                "duration_s": None if p.duration_s is None else round(p.duration_s, 6),
                "spans_reboot": p.spans_reboot,
                "ongoing": p.end is None,
            }
            | ({"clock_went_back": True} if p.clock_back else {})
            for p in r.periods
        ],
        "down_s": {"min": _round(r.down_s.min), "median": _round(r.down_s.median()), "max": _round(r.down_s.max)},
        "down_total_s": _round(r.down_total_s),
        "flaps_per_hour": None if r.flaps_per_hour is None else float(per_hour(r.flaps_per_hour, 3)),
        "window_s": _round(r.window_s),
        "episodes": [{"start": _iso(e.start), "end": _iso(e.end), "downs": e.downs} for e in r.episodes],
        "changes": [
            {
                "at": _iso(c.at),
                "uptime": c.at.event.uptime,
                "what": c.what,
                "before": c.before,
                "after": c.after,
                "lower": c.lower,
            }
            for c in r.changes
        ],
        "tx_timeouts": r.tx_timeouts,
        "boots": r.boots,
        "compare": r.compare,
    }
    # Only a log far beyond the normal has these: the lists above hold its ends.
    if r.periods.omitted:
        out["down_periods_omitted"] = r.periods.omitted
    if r.changes.omitted:
        out["changes_omitted"] = r.changes.omitted
    if not r.down_s.exact:
        out["down_s"]["median_approximate"] = True
    return out


def per_hour(rate: float, digits: int) -> str:
    """A rate of downs to `digits` decimals, but one under FLAP_RATE_PER_HOUR never shown at or
    over it (one more decimal, cut): 5.992 read '6.0/h' beside a DEGRADED verdict whose rule
    flaps at 6 an hour; now '5.99/h'."""
    words = f"{rate:.{digits}f}"
    if rate < FLAP_RATE_PER_HOUR <= float(words):
        scale = 10 ** (digits + 1)
        return f"{math.floor(rate * scale) / scale:.{digits + 1}f}"
    return words


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)

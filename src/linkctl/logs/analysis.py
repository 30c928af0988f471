"""Flap analysis: per host and link, down periods, episodes, changes and a verdict.

Time: a down period is measured on the kernel's clock (the `[uptime]` stamps) when both
ends carry one from the same boot, since syslog stamps only have whole seconds; else on
the wall clock. Wall-clock stamps without a zone (classic syslog) are taken as UTC for
arithmetic, which keeps differences right whatever the zone was. A boot starts where a
host's uptime goes back.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum, StrEnum
from typing import Any

from linkctl.logs.events import DOWN_KINDS, UP_KINDS, Duplex, EventKind, LinkEvent

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

    event: LinkEvent
    clock: float | None
    boot: int


@dataclass(frozen=True, slots=True)
class DownPeriod:
    start: Stamped
    end: Stamped | None  # None: still down when the log ends
    duration_s: float | None
    spans_reboot: bool


@dataclass(frozen=True, slots=True)
class Change:
    at: Stamped
    what: str  # "speed", "duplex", "flow_control"
    before: str | None
    after: str | None
    lower: bool  # renegotiated at a lower speed than seen before


@dataclass(frozen=True, slots=True)
class Episode:
    start: Stamped
    end: Stamped
    downs: int


@dataclass
class LinkReport:
    host: str | None
    ifname: str
    drivers: list[str]
    events: list[Stamped] = field(default_factory=list)
    down_events: int = 0
    periods: list[DownPeriod] = field(default_factory=list)
    episodes: list[Episode] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    tx_timeouts: int = 0
    boots: int = 1
    flaps_per_hour: float | None = None
    window_s: float | None = None
    verdict: Verdict = Verdict.STABLE
    rule: str = ""
    compare: dict[str, Any] | None = None

    def durations(self) -> list[float]:
        return [p.duration_s for p in self.periods if p.duration_s is not None and not p.spans_reboot]


@dataclass
class Report:
    links: list[LinkReport]
    events: list[LinkEvent]
    files: list[str]


# --- clocks --------------------------------------------------------------------------


def wall(event: LinkEvent) -> float | None:
    if event.time is None:
        return None
    when = event.time if event.time.tzinfo else event.time.replace(tzinfo=UTC)
    return when.timestamp()


def stamp(events: Iterable[LinkEvent]) -> list[Stamped]:
    """Boots and clock values per host, in input order. Without a wall clock, a boot's
    uptime is laid after the previous boot's last uptime so that the axis still runs
    forward."""
    last_uptime: dict[str | None, float] = {}
    boot: dict[str | None, int] = {}
    offset: dict[str | None, float] = {}
    out: list[Stamped] = []
    for event in events:
        host = event.host
        boot.setdefault(host, 0)
        offset.setdefault(host, 0.0)
        if event.uptime is not None:
            previous = last_uptime.get(host)
            if previous is not None and event.uptime + 1.0 < previous:
                boot[host] += 1
                offset[host] += previous + 1.0
            last_uptime[host] = event.uptime
        clock = wall(event)
        if clock is None and event.uptime is not None:
            clock = offset[host] + event.uptime
        out.append(Stamped(event, clock, boot[host]))
    return out


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


def analyze(events: list[LinkEvent], files: list[str] | None = None, compare_at: datetime | None = None) -> Report:
    stamped = stamp(events)
    per_link: dict[tuple[str | None, str], LinkReport] = {}
    for item in stamped:
        event = item.event
        if event.ifname is None:
            continue
        key = (event.host, event.ifname)
        report = per_link.get(key)
        if report is None:
            report = per_link[key] = LinkReport(event.host, event.ifname, [])
        if event.driver and event.driver not in report.drivers:
            report.drivers.append(event.driver)
        report.events.append(item)
    host_window = _host_windows(stamped)
    for report in per_link.values():
        _measure(report, host_window.get(report.host))
        if compare_at is not None:
            report.compare = _compare(report, compare_at)
    links = sorted(per_link.values(), key=_worst_first)
    return Report(links, events, files or [])


def _worst_first(r: LinkReport) -> tuple[int, int, float, str, str]:
    return (_SEVERITY[r.verdict], -r.down_events, -(r.flaps_per_hour or 0.0), r.host or "", r.ifname)


def _host_windows(stamped: list[Stamped]) -> dict[str | None, float]:
    """How long each host's log covers, in seconds."""
    first: dict[str | None, Stamped] = {}
    last: dict[str | None, Stamped] = {}
    for item in stamped:
        first.setdefault(item.event.host, item)
        last[item.event.host] = item
    windows: dict[str | None, float] = {}
    for host, a in first.items():
        span = between(a, last[host])
        if span is None and a.clock is not None and last[host].clock is not None:
            span = last[host].clock - a.clock  # type: ignore[operator,unused-ignore]
        if span is not None:
            windows[host] = span
    return windows


def _measure(report: LinkReport, window: float | None) -> None:
    _periods(report)
    _episodes(report)
    _changes(report)
    report.tx_timeouts = sum(1 for s in report.events if s.event.event is EventKind.TX_TIMEOUT)
    report.boots = len({s.boot for s in report.events})
    report.window_s = window
    # A rate from less than an hour of log would be an extrapolation (1 down in 2 s is not 1800/h).
    if window and window >= RATE_MIN_WINDOW_S:
        report.flaps_per_hour = report.down_events / (window / 3600.0)
    report.verdict, report.rule = _verdict(report)


def _periods(report: LinkReport) -> None:
    opened: Stamped | None = None
    for item in report.events:
        kind = item.event.event
        if kind in DOWN_KINDS:
            report.down_events += 1
            if opened is None:
                opened = item
        elif kind in UP_KINDS and opened is not None:
            report.periods.append(DownPeriod(opened, item, between(opened, item), opened.boot != item.boot))
            opened = None
    if opened is not None:
        report.periods.append(DownPeriod(opened, None, None, False))


def _episodes(report: LinkReport) -> None:
    downs = [s for s in report.events if s.event.event in DOWN_KINDS]
    if not downs:
        return
    start = prev = downs[0]
    count = 1
    for item in downs[1:]:
        gap = between(prev, item)
        if gap is not None and gap <= EPISODE_GAP_S:
            count += 1
        else:
            report.episodes.append(Episode(start, prev, count))
            start, count = item, 1
        prev = item
    report.episodes.append(Episode(start, prev, count))


def _changes(report: LinkReport) -> None:
    best_speed = 0
    last: LinkEvent | None = None
    for item in report.events:
        event = item.event
        if event.event not in UP_KINDS:
            continue
        if last is not None:
            for what, before, after in (
                ("speed", last.speed_mbps, event.speed_mbps),
                ("duplex", _v(last.duplex), _v(event.duplex)),
                ("flow_control", _v(last.flow_control), _v(event.flow_control)),
            ):
                if before is not None and after is not None and before != after:
                    lower = what == "speed" and int(after) < best_speed
                    report.changes.append(Change(item, what, str(before), str(after), lower))
        best_speed = max(best_speed, event.speed_mbps or 0)
        last = event


def _v(value: Enum | None) -> str | None:
    return None if value is None else str(value.value)


def _verdict(report: LinkReport) -> tuple[Verdict, str]:
    worst = max(report.episodes, key=lambda e: e.downs, default=None)
    if worst is not None and worst.downs >= FLAP_DOWNS:
        span = between(worst.start, worst.end)
        within = f" within {span:.0f} s" if span is not None else ""
        return Verdict.FLAPPING, (
            f"flapping: {worst.downs} link-downs{within} "
            f"(rule: >= {FLAP_DOWNS} downs each less than {EPISODE_GAP_S:.0f} s apart)"
        )
    rate, window = report.flaps_per_hour, report.window_s
    if rate is not None and window is not None and rate >= FLAP_RATE_PER_HOUR:
        return Verdict.FLAPPING, (
            f"flapping: {rate:.1f} downs per hour over {window / 3600:.1f} h "
            f"(rule: >= {FLAP_RATE_PER_HOUR:.0f} per hour)"
        )
    reasons = _degradations(report)
    if reasons:
        return Verdict.DEGRADED, "degraded: " + "; ".join(reasons)
    return Verdict.STABLE, "stable: no link-down, renegotiation or transmit timeout"


def _degradations(report: LinkReport) -> list[str]:
    reasons = []
    lower = [c for c in report.changes if c.lower]
    if lower:
        c = lower[-1]
        reasons.append(f"renegotiated at a lower speed ({c.before} -> {c.after} Mb/s)")
    if any(c.what == "flow_control" for c in report.changes):
        reasons.append("flow control changed between link-ups")
    if any(s.event.duplex is Duplex.HALF for s in report.events):
        reasons.append("half duplex")
    if report.tx_timeouts:
        reasons.append(f"{report.tx_timeouts} transmit timeout(s)")
    if report.down_events:
        reasons.append(f"{report.down_events} link-down(s), not close enough to be flapping")
    return reasons


def _compare(report: LinkReport, at: datetime) -> dict[str, Any]:
    """Flap rate before and after a moment (a cable swap, a driver update)."""
    t = (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()
    timed = [(wall(s.event), s) for s in report.events]
    clocks = [w for w, _ in timed if w is not None]
    if not clocks:
        return {"at": at.isoformat(), "before": None, "after": None, "note": "no wall-clock times in these events"}
    first, last = min(clocks), max(clocks)
    downs = [w for w, s in timed if w is not None and s.event.event in DOWN_KINDS]
    return {
        "at": at.isoformat(),
        "before": _rate(sum(1 for w in downs if w < t), t - first),
        "after": _rate(sum(1 for w in downs if w >= t), last - t),
    }


def _rate(downs: int, seconds: float) -> dict[str, Any]:
    hours = max(seconds, 0.0) / 3600.0
    return {"downs": downs, "hours": round(hours, 3), "per_hour": round(downs / hours, 3) if hours > 0 else None}


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def report_json(report: Report) -> dict[str, Any]:
    return {"links": [_link_json(r) for r in report.links], "files": report.files, "events": len(report.events)}


def _iso(s: Stamped | None) -> str | None:
    if s is None:
        return None
    return s.event.time.isoformat() if s.event.time else None


def _link_json(r: LinkReport) -> dict[str, Any]:
    durations = r.durations()
    return {
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
            for p in r.periods
        ],
        "down_s": {
            "min": _round(min(durations, default=None)),
            "median": _round(median(durations)),
            "max": _round(max(durations, default=None)),
        },
        "flaps_per_hour": None if r.flaps_per_hour is None else round(r.flaps_per_hour, 3),
        "window_s": r.window_s,
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


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)

"""`analyze --format text`: a readable summary, worst links first."""

from __future__ import annotations

from linkctl.errors import printable
from linkctl.logs.analysis import Change, DownPeriod, LinkReport, Report, Stamped, per_hour


def duration(seconds: float, precision: str = ".3g") -> str:
    """A span for a person: hours and minutes to a tenth, seconds as `precision` formats them
    (`logs analyze`'s page shows a 12 ms down period as 0.012 s; `report`'s table, to a tenth)."""
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:{precision}} s"


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def render_text(report: Report) -> str:
    """The report, with what a terminal would act on in a name (an ESC, a bidi override the
    kernel takes in a link's name, a host's, a driver's) escaped as `show` prints it."""
    partly = [f"Read in part: {note}" for note in report.read_in_part]
    if not report.links:
        found = "in what could be read " if partly else ""
        return printable("\n".join([*partly, f"No link events found {found}({report.event_count} events read).", ""]))
    out = [*partly, f"{len(report.links)} link(s), {report.event_count} event(s); worst first.", ""]
    for link in report.links:
        out += [*_link(link), ""]
    return printable("\n".join(out))


def _link(r: LinkReport) -> list[str]:
    name = f"{r.host}/{r.ifname}" if r.host else r.ifname
    drivers = f" ({', '.join(r.drivers)})" if r.drivers else ""
    lines = [f"{name}{drivers}: {r.verdict.value.upper()}", f"  {r.rule}"]
    rate = f"{per_hour(r.flaps_per_hour, 1)}/h" if r.flaps_per_hour is not None else _no_rate(r.window_s)
    lines.append(
        f"  down events: {r.down_events}   flaps per hour: {rate}   tx timeouts: {r.tx_timeouts}   boots: {r.boots}"
    )
    spread = r.down_s
    if spread.count:
        about = "" if spread.exact else " (median within 0.05 %)"
        lines.append(f"  down time: min {_s(spread.min)}  median {_s(spread.median())}  max {_s(spread.max)}{about}")
    lines += [_period(p) for p in r.periods.head]
    if r.periods.omitted:
        lines.append(f"    ... {r.periods.omitted} more down periods ...")
    lines += [_period(p) for p in r.periods.tail]
    lines += [_change(c) for c in r.changes.head]
    if r.changes.omitted:
        lines.append(f"    ... {r.changes.omitted} more changes ...")
    lines += [_change(c) for c in r.changes.tail]
    if r.compare:
        before, after = r.compare.get("before"), r.compare.get("after")
        if before and after:
            lines.append(f"  at {r.compare['at']}: {_side(before)} before, {_side(after)} after")
    return lines


def _period(p: DownPeriod) -> str:
    start = (
        p.start.event.time.isoformat()
        if p.start.event.time
        else (f"[{p.start.event.uptime}]" if p.start.event.uptime is not None else "?")
    )
    if p.end is None:
        return f"    down at {start}, still down at the end of the log"
    note = " (across a reboot)" if p.spans_reboot else ""
    if p.clock_back:
        return f"    down at {start}, up at {_at(p.end)}: no duration (the clock went back){note}"
    return f"    down at {start} for {_s(p.duration_s)}{note}"


def _at(s: Stamped) -> str:
    return s.event.time.isoformat() if s.event.time else (f"[{s.event.uptime}]" if s.event.uptime is not None else "?")


def _change(c: Change) -> str:
    flag = "  <- LOWER SPEED" if c.lower else ""
    when = c.at.event.time.isoformat() if c.at.event.time else "?"
    return f"    {when}: {c.what} {c.before} -> {c.after}{flag}"


def _side(side: dict[str, object]) -> str:
    """One side of a --compare-at: a rate, or why there is none (no time on that side)."""
    rate = side.get("per_hour")
    if rate is None:
        return f"{side.get('downs', 0)} down(s) in no measurable time"
    return f"{rate}/h ({side.get('downs', 0)} downs in {side.get('hours', 0)} h)"


def _no_rate(window_s: float | None) -> str:
    if window_s is None:
        return "-"
    return f"- (the log spans {window_s:.0f} s; a rate needs an hour)"

"""`analyze --format text`: a readable summary, worst links first."""

from __future__ import annotations

from linkctl.logs.analysis import LinkReport, Report, median


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def render_text(report: Report) -> str:
    if not report.links:
        return f"No link events found ({len(report.events)} events read).\n"
    out = [f"{len(report.links)} link(s), {len(report.events)} event(s); worst first.", ""]
    for link in report.links:
        out += [*_link(link), ""]
    return "\n".join(out)


def _link(r: LinkReport) -> list[str]:
    name = f"{r.host}/{r.ifname}" if r.host else r.ifname
    drivers = f" ({', '.join(r.drivers)})" if r.drivers else ""
    lines = [f"{name}{drivers}: {r.verdict.value.upper()}", f"  {r.rule}"]
    durations = r.durations()
    rate = f"{r.flaps_per_hour:.1f}/h" if r.flaps_per_hour is not None else _no_rate(r.window_s)
    lines.append(
        f"  down events: {r.down_events}   flaps per hour: {rate}   tx timeouts: {r.tx_timeouts}   boots: {r.boots}"
    )
    if durations:
        lines.append(f"  down time: min {_s(min(durations))}  median {_s(median(durations))}  max {_s(max(durations))}")
    for p in r.periods:
        start = (
            p.start.event.time.isoformat()
            if p.start.event.time
            else (f"[{p.start.event.uptime}]" if p.start.event.uptime is not None else "?")
        )
        if p.end is None:
            lines.append(f"    down at {start}, still down at the end of the log")
            continue
        note = " (across a reboot)" if p.spans_reboot else ""
        lines.append(f"    down at {start} for {_s(p.duration_s)}{note}")
    for c in r.changes:
        flag = "  <- LOWER SPEED" if c.lower else ""
        when = c.at.event.time.isoformat() if c.at.event.time else "?"
        lines.append(f"    {when}: {c.what} {c.before} -> {c.after}{flag}")
    if r.compare:
        before, after = r.compare.get("before"), r.compare.get("after")
        if before and after:
            lines.append(f"  at {r.compare['at']}: {before['per_hour']}/h before, {after['per_hour']}/h after")
    return lines


def _no_rate(window_s: float | None) -> str:
    if window_s is None:
        return "-"
    return f"- (the log spans {window_s:.0f} s; a rate needs an hour)"

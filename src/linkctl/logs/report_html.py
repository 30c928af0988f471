"""`analyze --format html`: one self-contained page (inline CSS and SVG, no fetches):
a timeline per link with down periods as bars and speed changes marked, the summary
table, the flap episodes and the raw events.

The page summarises: its size follows the links and episodes, not the events. A link's
periods and changes beyond the ones the analysis keeps are counted, not drawn; the raw
events are the first and last the analysis kept, with a count of the ones between."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from linkctl.domain.events import KernelLogLine
from linkctl.logs.analysis import DownBurst, LinkReport, Report, Stamped, between

WIDTH = 900
ROW = 34
LEFT = 170
# Per link, the first and the last this many episodes get a row.
EPISODE_ROWS = 100

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2430;background:#fff}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccd;padding:3px 8px;
text-align:left;vertical-align:top}th{background:#eef1f6}
.flapping{color:#b00020;font-weight:600}.degraded{color:#a15c00;font-weight:600}
.stable{color:#1b6e20}\n.legend svg{display:inline;border:0;background:none;vertical-align:middle}
svg{display:block;border:1px solid #ccd;background:#fafbfd}
.down{fill:#d93636}.up{fill:#cfe8cf}.speed{stroke:#2457c5;stroke-width:2}
.tx{fill:#7a3db8}.axis{stroke:#889;stroke-width:1}.label{font-size:12px;fill:#1d2430}
.tick{font-size:10px;fill:#556}
td.raw{font-family:ui-monospace,monospace;font-size:12px;white-space:pre-wrap}
td.more{font-style:italic;color:#556}
"""


_LEGEND = (
    "<p class='legend'><svg width='14' height='10'><rect class='down' width='14' "
    "height='10'/></svg> link down &nbsp; <svg width='14' height='10'><rect class='up' "
    "width='14' height='10'/></svg> link up or unknown &nbsp; <svg width='6' "
    "height='12'><line class='speed' x1='3' y1='0' x2='3' y2='12'/></svg> speed, duplex "
    "or flow control change &nbsp; <svg width='10' height='10'><circle class='tx' "
    "cx='5' cy='5' r='4'/></svg> transmit timeout</p>"
)


def render_html(report: Report) -> str:
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>linkctl: link flap report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Link flap report</h1>",
        f"<p>{len(report.links)} link(s), {report.event_count} event(s) from "
        f"{escape(', '.join(report.files) or 'the input')}.</p>",
        "<h2>Timeline</h2>",
        _LEGEND,
        _timeline(report.links),
        "<h2>Summary</h2>",
        _summary(report.links),
        "<h2>Episodes</h2>",
        _episodes(report.links),
        "<h2>Events</h2>",
        _events(report),
        "</body></html>",
    ]
    return "\n".join(parts)


def _ends(links: list[LinkReport]) -> tuple[Stamped, Stamped] | None:
    """The events with the lowest and the highest clock, of the first link that has them."""
    first = [r.earliest for r in links if r.earliest is not None and r.earliest.clock is not None]
    last = [r.latest for r in links if r.latest is not None and r.latest.clock is not None]
    if not first or not last:
        return None
    return min(first, key=_clock), max(last, key=_clock)


def _clock(s: Stamped) -> float:
    return s.clock if s.clock is not None else 0.0


def _span(links: list[LinkReport]) -> tuple[float, float]:
    ends = _ends(links)
    if ends is None:
        return 0.0, 1.0
    lo, hi = _clock(ends[0]), _clock(ends[1])
    return lo, hi if hi > lo else lo + 1.0


def _timeline(links: list[LinkReport]) -> str:
    lo, hi = _span(links)
    scale = (WIDTH - LEFT - 20) / (hi - lo)

    def x(clock: float) -> float:
        return LEFT + (clock - lo) * scale

    height = ROW * len(links) + 30
    out = [
        f"<svg id='timeline' width='{WIDTH}' height='{height}' "
        f"viewBox='0 0 {WIDTH} {height}' xmlns='http://www.w3.org/2000/svg'>"
    ]
    for i, link in enumerate(links):
        y = 10 + i * ROW
        name = f"{link.host}/{link.ifname}" if link.host else link.ifname
        out.append(f"<text class='label' x='6' y='{y + 17}'>{escape(name)}</text>")
        out.append(f"<rect class='up' x='{LEFT}' y='{y + 6}' width='{WIDTH - LEFT - 20}' height='16'/>")
        out += _bars(link, x, y, hi)
        out += _marks(link, x, y)
    axis_y = 10 + len(links) * ROW
    undrawn = sum(link.periods.omitted for link in links)
    out.append(f"<line class='axis' x1='{LEFT}' y1='{axis_y}' x2='{WIDTH - 20}' y2='{axis_y}'/>")
    out.append(
        f"<text class='tick' x='{LEFT}' y='{axis_y + 14}'>{escape(_when(links, lo))}"
        f"</text><text class='tick' x='{WIDTH - 20}' y='{axis_y + 14}' "
        f"text-anchor='end'>{escape(_when(links, hi))}</text>"
    )
    out.append("</svg>")
    if undrawn:
        out.append(
            f"<p id='undrawn'>{undrawn} down period(s) in the middle of long runs are not drawn "
            "(each link's first and last are); the episodes below cover them.</p>"
        )
    return "\n".join(out)


def _bars(link: LinkReport, to_x: Callable[[float], float], y: int, hi: float) -> list[str]:
    out = []
    for p in link.periods:
        if p.start.clock is None:
            continue
        end = p.end.clock if p.end is not None and p.end.clock is not None else hi
        x0 = to_x(p.start.clock)
        # A bar stays visible (3 px) even for a sub-second drop on a long axis.
        width = max(to_x(end) - x0, 3.0)
        title = f"down {p.duration_s:.2f} s" if p.duration_s is not None else "down"
        out.append(
            f"<rect class='down' data-duration='{p.duration_s or 0:.3f}' "
            f"x='{x0:.1f}' y='{y + 4}' width='{width:.1f}' height='20'>"
            f"<title>{escape(title)}</title></rect>"
        )
    return out


def _marks(link: LinkReport, to_x: Callable[[float], float], y: int) -> list[str]:
    out = []
    for c in link.changes:
        if c.at.clock is None:
            continue
        cx = to_x(c.at.clock)
        out.append(
            f"<line class='speed' x1='{cx:.1f}' y1='{y}' x2='{cx:.1f}' y2='{y + 28}'>"
            f"<title>{escape(f'{c.what}: {c.before} -> {c.after}')}</title></line>"
        )
    for s in link.tx_marks:
        if s.clock is not None:
            cx = to_x(s.clock)
            out.append(f"<circle class='tx' cx='{cx:.1f}' cy='{y + 14}' r='4'><title>transmit timeout</title></circle>")
    return out


def _when(links: list[LinkReport], clock: float) -> str:
    for end in _ends(links) or ():
        if end.clock == clock:
            return _stamp(end)
    return ""


def _stamp(s: Stamped) -> str:
    if s.event.time is not None:
        return s.event.time.isoformat(sep=" ")
    return f"[{s.event.uptime}]" if s.event.uptime is not None else ""


def _summary(links: list[LinkReport]) -> str:
    rows = [
        "<table id='summary'><tr><th>host</th><th>link</th><th>verdict</th>"
        "<th>down events</th><th>min / median / max down</th><th>flaps per hour</th>"
        "<th>changes</th><th>tx timeouts</th><th>rule</th></tr>"
    ]
    for r in links:
        d = r.down_s
        spread = " / ".join("-" if v is None else f"{v:.2f} s" for v in (d.min, d.median(), d.max))
        rate = "-" if r.flaps_per_hour is None else f"{r.flaps_per_hour:.1f}"
        changes = [escape(f"{c.what} {c.before} -> {c.after}" + (" (lower)" if c.lower else "")) for c in r.changes]
        if r.changes.omitted:
            changes.insert(len(r.changes.head), f"... {r.changes.omitted} more ...")
        changes_cell = "<br>".join(changes)
        rows.append(
            f"<tr><td>{escape(r.host or '-')}</td><td>{escape(r.ifname)}</td>"
            f"<td class='{r.verdict.value}'>{r.verdict.value}</td><td>{r.down_events}</td>"
            f"<td>{spread}</td><td>{rate}</td><td>{changes_cell or '-'}</td>"
            f"<td>{r.tx_timeouts}</td><td>{escape(r.rule)}</td></tr>"
        )
    rows.append("</table>")
    return "\n".join(rows)


def _episodes(links: list[LinkReport]) -> str:
    rows = [
        "<table id='episodes'><tr><th>host</th><th>link</th><th>start</th><th>end</th><th>downs</th><th>span</th></tr>"
    ]
    for r in links:
        shown: list[DownBurst | None] = list(r.episodes)
        if len(shown) > 2 * EPISODE_ROWS:
            shown = [*r.episodes[:EPISODE_ROWS], None, *r.episodes[-EPISODE_ROWS:]]
        for e in shown:
            if e is None:
                more = len(r.episodes) - 2 * EPISODE_ROWS
                rows.append(f"<tr><td class='more' colspan='6'>... {more} more episode(s) of this link ...</td></tr>")
            else:
                rows.append(_episode_row(r, e))
    rows.append("</table>")
    return "\n".join(rows)


def _episode_row(r: LinkReport, e: DownBurst) -> str:
    span = between(e.start, e.end)
    return (
        f"<tr><td>{escape(r.host or '-')}</td><td>{escape(r.ifname)}</td><td>{escape(_stamp(e.start))}</td>"
        f"<td>{escape(_stamp(e.end))}</td><td>{e.downs}</td><td>{'-' if span is None else f'{span:.2f} s'}</td></tr>"
    )


def _events(report: Report) -> str:
    rows = [
        "<table id='events'><tr><th>time</th><th>uptime</th><th>host</th><th>event</th>"
        "<th>link</th><th>file:line</th><th>message</th></tr>"
    ]
    kept = report.events
    rows += [_event_row(e) for e in kept.head]
    if kept.omitted:
        rows.append(
            f"<tr><td class='more' colspan='7' id='omitted'>... {kept.omitted} more event(s) between "
            f"the first {len(kept.head)} and the last {len(kept.tail)} ...</td></tr>"
        )
    rows += [_event_row(e) for e in kept.tail]
    rows.append("</table>")
    return "\n".join(rows)


def _event_row(e: KernelLogLine) -> str:
    where = f"{e.file}:{e.line}" if e.file else ""
    return (
        f"<tr><td>{escape(e.time.isoformat(sep=' ') if e.time else '')}</td>"
        f"<td>{'' if e.uptime is None else e.uptime}</td><td>{escape(e.host or '')}</td>"
        f"<td>{e.event.log_name}</td><td>{escape(e.ifname or '')}</td>"
        f"<td>{escape(where)}</td><td class='raw'>{escape(e.raw)}</td></tr>"
    )

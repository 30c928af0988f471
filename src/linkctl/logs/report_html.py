"""`analyze --format html`: one self-contained page (inline CSS and SVG, no fetches):
a timeline per link with down periods as bars and speed changes marked, the summary
table, and the raw events."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from linkctl.logs.analysis import LinkReport, Report, Stamped, median

WIDTH = 900
ROW = 34
LEFT = 170

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
        f"<p>{len(report.links)} link(s), {len(report.events)} event(s) from "
        f"{escape(', '.join(report.files) or 'the input')}.</p>",
        "<h2>Timeline</h2>",
        _LEGEND,
        _timeline(report.links),
        "<h2>Summary</h2>",
        _summary(report.links),
        "<h2>Events</h2>",
        _events(report),
        "</body></html>",
    ]
    return "\n".join(parts)


def _span(links: list[LinkReport]) -> tuple[float, float]:
    clocks = [s.clock for r in links for s in r.events if s.clock is not None]
    if not clocks:
        return 0.0, 1.0
    lo, hi = min(clocks), max(clocks)
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
    out.append(f"<line class='axis' x1='{LEFT}' y1='{axis_y}' x2='{WIDTH - 20}' y2='{axis_y}'/>")
    out.append(
        f"<text class='tick' x='{LEFT}' y='{axis_y + 14}'>{escape(_when(links, lo))}"
        f"</text><text class='tick' x='{WIDTH - 20}' y='{axis_y + 14}' "
        f"text-anchor='end'>{escape(_when(links, hi))}</text>"
    )
    out.append("</svg>")
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
    for s in link.events:
        if s.event.event.value == "tx_timeout" and s.clock is not None:
            cx = to_x(s.clock)
            out.append(f"<circle class='tx' cx='{cx:.1f}' cy='{y + 14}' r='4'><title>transmit timeout</title></circle>")
    return out


def _when(links: list[LinkReport], clock: float) -> str:
    for r in links:
        for s in r.events:
            if s.clock == clock:
                return _stamp(s)
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
        d = r.durations()
        spread = " / ".join(
            "-" if v is None else f"{v:.2f} s" for v in (min(d, default=None), median(d), max(d, default=None))
        )
        rate = "-" if r.flaps_per_hour is None else f"{r.flaps_per_hour:.1f}"
        changes = "<br>".join(
            escape(f"{c.what} {c.before} -> {c.after}" + (" (lower)" if c.lower else "")) for c in r.changes
        )
        rows.append(
            f"<tr><td>{escape(r.host or '-')}</td><td>{escape(r.ifname)}</td>"
            f"<td class='{r.verdict.value}'>{r.verdict.value}</td><td>{r.down_events}</td>"
            f"<td>{spread}</td><td>{rate}</td><td>{changes or '-'}</td>"
            f"<td>{r.tx_timeouts}</td><td>{escape(r.rule)}</td></tr>"
        )
    rows.append("</table>")
    return "\n".join(rows)


def _events(report: Report) -> str:
    rows = [
        "<table id='events'><tr><th>time</th><th>uptime</th><th>host</th><th>event</th>"
        "<th>link</th><th>file:line</th><th>message</th></tr>"
    ]
    for e in report.events:
        where = f"{e.file}:{e.line}" if e.file else ""
        rows.append(
            f"<tr><td>{escape(e.time.isoformat(sep=' ') if e.time else '')}</td>"
            f"<td>{'' if e.uptime is None else e.uptime}</td><td>{escape(e.host or '')}</td>"
            f"<td>{e.event.value}</td><td>{escape(e.ifname or '')}</td>"
            f"<td>{escape(where)}</td><td class='raw'>{escape(e.raw)}</td></tr>"
        )
    rows.append("</table>")
    return "\n".join(rows)

"""`analyze --format html`: one self-contained page (inline CSS and SVG, no fetches):
a timeline per link with down periods as bars and speed changes marked, the summary
table, the down bursts and the raw events.

The page summarises: its size follows the links and down bursts, not the events. A link's
periods and changes beyond the ones the analysis keeps are counted, not drawn; the raw
events are the first and last the analysis kept, with a count of the ones between."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from html import escape

from rich.cells import cell_len, set_cell_size

from linkctl.domain.events import KernelLogLine
from linkctl.errors import printable
from linkctl.logs.analysis import DownBurst, DownPeriod, LinkReport, Report, Stamped, between, per_hour
from linkctl.logs.report_text import duration
from linkctl.logs.report_zoom import ZOOM_JS

WIDTH = 900
ROW = 40
# A down period narrower than this on the page is drawn this wide, in its own style.
MIN_PX = 1.0
LEFT = 170
# What of a row's name fits left of its bars (about 6 px a cell).
LABEL_CELLS = 24
# Per link, the first and the last this many episodes get a row.
EPISODE_ROWS = 100
# The timeline draws this many links, the worst first (the summary lists them all): a log of
# 10,000 flapping links made a 13 MB page of one 400,000 px drawing.
TIMELINE_LINKS = 100

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2430;background:#fff}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccd;padding:3px 8px;
text-align:left;vertical-align:top}th{background:#eef1f6}
.flapping{color:#b00020;font-weight:600}.degraded{color:#a15c00;font-weight:600}.partly{color:#a15c00;font-weight:600}
.stable{color:#1b6e20}\n.legend svg{display:inline;border:0;background:none;vertical-align:middle}
svg{display:block;border:1px solid #ccd;background:#fafbfd}
.down{fill:#d93636}.widened{fill:#8a1c7c;shape-rendering:crispEdges}.up{fill:#cfe8cf}.speed{stroke:#2457c5;stroke-width:2}
.tx{fill:#7a3db8}.axis{stroke:#889;stroke-width:1}.label{font-size:12px;fill:#1d2430}
.tick{font-size:10px;fill:#556}.share{font-size:10px;fill:#556}
.omitted{font-size:10px;font-style:italic;fill:#556}.row{cursor:zoom-in}
#zoomctl button{margin-right:4px}
td.raw{font-family:ui-monospace,monospace;font-size:12px;white-space:pre-wrap;overflow-wrap:anywhere}
td.more{font-style:italic;color:#556}
"""


_LEGEND = (
    "<p class='legend'><svg width='14' height='10'><rect class='down' width='14' "
    "height='10'/></svg> link down &nbsp; <svg width='14' height='10'><rect class='widened' x='6' "
    "width='2' height='10'/></svg> link down, drawn wider than it lasted (shorter than 1 px) &nbsp; "
    "<svg width='14' height='10'><rect class='up' "
    "width='14' height='10'/></svg> link up or unknown &nbsp; <svg width='6' "
    "height='12'><line class='speed' x1='3' y1='0' x2='3' y2='12'/></svg> speed, duplex "
    "or flow control change &nbsp; <svg width='10' height='10'><circle class='tx' "
    "cx='5' cy='5' r='4'/></svg> transmit timeout</p>"
)


def shown(text: str) -> str:
    """`text` for the page: HTML escaped, and what would reorder or hide what follows it (a
    bidi override, a control character: the kernel takes them in a link's name) spelt out as
    `show` and the text report spell it: e\\u202eth1 was drawn as 'e1ht', the rest of the closer
    look's sentence after it right to left."""
    return escape(printable(text))


def render_html(report: Report, title: str = "Link flap report", preface: str = "") -> str:
    """The page; `preface` (HTML: `linkctl report`'s fleet table) goes before the timeline."""
    placed = _placed(report.links)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>linkctl: {shown(title.lower())}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{shown(title)}</h1>",
        f"<p>{len(report.links)} link(s), {report.event_count} event(s) from "
        f"{shown(', '.join(report.files) or 'the input')}.</p>",
        *(f"<p class='partly'>Read in part: {shown(note)}</p>" for note in report.read_in_part),
        preface,
        "<h2>Timeline</h2>",
        _LEGEND,
        _timeline(placed),
        _undated(report.links, placed),
        _not_drawn(report.links, placed),
        "<h2>Closer look</h2>",
        _zoom(placed),
        "<h2>Summary</h2>",
        _summary(report.links),
        "<h2>Down bursts</h2>",
        _episodes(report.links, placed),
        "<h2>Events</h2>",
        _events(report),
        "</body></html>",
    ]
    return "\n".join(parts)


def _placed(links: list[LinkReport]) -> list[LinkReport]:
    """The links one axis can hold: with dated lines among them, the dated ones. A dmesg's
    [uptime] is seconds since its boot, not a date: read with a syslog, the axis ran from
    '[100.0]' to 2026 and every bar of either was 1 px at one end."""
    dated = [r for r in links if r.earliest is not None and r.earliest.event.time is not None]
    return (dated or links)[:TIMELINE_LINKS]


def _not_drawn(links: list[LinkReport], placed: list[LinkReport]) -> str:
    """The links the cap left out (the undated ones are said on their own)."""
    if len(placed) < TIMELINE_LINKS:
        return ""
    dated = placed[0].earliest is not None and placed[0].earliest.event.time is not None
    like = [r for r in links if (r.earliest is not None and r.earliest.event.time is not None) == dated]
    more = len(like) - len(placed)
    if more <= 0:
        return ""
    return (
        f"<p id='notdrawn'>The timeline draws the {TIMELINE_LINKS} worst links; {more} more are in the "
        "summary and the down bursts below only.</p>"
    )


def _some(names: list[str], most: int = 20) -> str:
    shown_names = ", ".join(names[:most])
    return shown_names if len(names) <= most else f"{shown_names} and {len(names) - most} more"


def _undated(links: list[LinkReport], placed: list[LinkReport]) -> str:
    if not placed or placed[0].earliest is None or placed[0].earliest.event.time is None:
        return ""  # none is dated: the axis is the boot's seconds, and holds every link it can
    drawn = {id(r) for r in placed}
    undrawn = [_name(r) for r in links if id(r) not in drawn and (r.earliest is None or r.earliest.event.time is None)]
    if not undrawn:
        return ""
    return (
        f"<p id='undated'>{len(undrawn)} link(s) not drawn: their lines carry no date, only the kernel's "
        f"seconds since its boot, which cannot be placed beside the dated ones ({shown(_some(undrawn))}); "
        "the tables below have them.</p>"
    )


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
        # A label of wide glyphs (24 w's) is still stopped short of the bars.
        f"<defs><clipPath id='names'><rect width='{LEFT - 4}' height='{height}'/></clipPath></defs>"
    ]
    for i, link in enumerate(links):
        y = 10 + i * ROW
        name = _name(link)
        out.append(
            f"<g class='row' data-link='{i}'><title>{shown(name)}</title>"
            f"<text class='label' x='6' y='{y + 13}' clip-path='url(#names)'>{shown(label(name))}</text>"
            f"<text class='share' x='6' y='{y + 27}'>{shown(_share_words(link, hi))}</text>"
            f"<rect class='up' x='{LEFT}' y='{y + 6}' width='{WIDTH - LEFT - 20}' height='16'/>"
        )
        out += _bars(link, x, y, _log_end(link, hi), 1.0 / scale)
        out += _marks(link, x, y)
        if link.periods.omitted:
            out.append(f"<text class='omitted' x='{LEFT + 4}' y='{y + 34}'>{shown(_omitted_words(link))}</text>")
        out.append("</g>")
    axis_y = 10 + len(links) * ROW
    undrawn = sum(link.periods.omitted for link in links)
    out.append(f"<line class='axis' x1='{LEFT}' y1='{axis_y}' x2='{WIDTH - 20}' y2='{axis_y}'/>")
    out.append(
        f"<text class='tick' x='{LEFT}' y='{axis_y + 14}'>{shown(_when(links, lo))}"
        f"</text><text class='tick' x='{WIDTH - 20}' y='{axis_y + 14}' "
        f"text-anchor='end'>{shown(_when(links, hi))}</text>"
    )
    out.append("</svg>")
    if undrawn:
        out.append(
            f"<p id='undrawn'>{undrawn} down period(s) in the middle of long runs are not drawn "
            "(each link's first and last are); the down bursts below cover them.</p>"
        )
    return "\n".join(out)


def _name(link: LinkReport) -> str:
    return f"{link.host}/{link.ifname}" if link.host else link.ifname


def label(name: str) -> str:
    """`name` within the rows' label column (LABEL_CELLS terminal cells of the 12 px type): a
    longer one is cut in its middle, keeping the link's own name after its last '/' whole.
    Whole, a host's FQDN ran under the row's bars and two links of one host looked the same;
    the whole name is the label's title, and in the tables."""
    name = printable(name)
    if cell_len(name) <= LABEL_CELLS:
        return name
    room = LABEL_CELLS - 1  # the ellipsis takes one
    slash = name.rfind("/")
    tail = name[slash:] if slash > 0 and cell_len(name[slash:]) <= room - 4 else ""
    if not tail:  # no link name that fits whole: the name's two ends
        tail = name[len(name) - room // 2 :]
        while cell_len(tail) > room // 2:
            tail = tail[1:]
    return f"{set_cell_size(name, room - cell_len(tail)).rstrip()}\u2026{tail}"


def _omitted_words(link: LinkReport) -> str:
    kept = len(link.periods.head)
    return (
        f"{link.periods.omitted} down period(s) between the first {kept} and the last "
        f"{len(link.periods.tail)} are counted, not drawn"
    )


def _period_end(p: DownPeriod, hi: float) -> float | None:
    """Where a period ends on the axis (`hi`, its host's log's end, for one still open)."""
    if p.start.clock is None:
        return None
    if p.end is not None and p.end.clock is not None:
        return p.end.clock
    return max(hi, p.start.clock)


def _log_end(link: LinkReport, hi: float) -> float:
    """Where the link's host's log ends: a period still open is down up to there, not to the
    end of the axis, which another host's later log may have drawn hours on."""
    return hi if link.log_end is None else link.log_end


def _period_length(p: DownPeriod, hi: float) -> float:
    """How long a period lasted: its measured duration, else its span on the axis."""
    if p.duration_s is not None:
        return max(p.duration_s, 0.0)
    end = _period_end(p, hi)
    return 0.0 if end is None or p.start.clock is None else max(end - p.start.clock, 0.0)


def down_fraction(link: LinkReport, hi: float) -> float | None:
    """The share of the link's observed window it was down: every ended period (the
    analysis keeps a running total, so periods omitted from the drawing count too) and
    the one still open at the end of the log, up to the end of its host's log."""
    window = link.window_s
    if not window or window <= 0:
        return None
    end = _log_end(link, hi)
    down = link.down_total_s + sum(_period_length(p, end) for p in link.periods if p.end is None)
    return min(down / window, 1.0)


def percent(fraction: float) -> str:
    """A percentage with two significant digits below 10 % ("0.7", "0.012"), none
    above, and never "0" or "100" for a share that is not."""
    pct = fraction * 100.0
    if pct == 0.0 or pct == 100.0:
        return f"{pct:.0f}"
    if pct >= 99.5:
        decimals = max(1, -math.floor(math.log10(100.0 - pct)))
        return f"{min(pct, 100.0 - 10.0**-decimals):.{decimals}f}"
    if pct >= 10.0:
        return f"{pct:.0f}"
    if pct >= 0.1:
        return f"{pct:.1f}"
    decimals = 1 - math.floor(math.log10(pct))
    return f"{pct:.{decimals}f}"


def _share_words(link: LinkReport, hi: float) -> str:
    count = link.periods.total
    periods = f"{count} down period{'' if count == 1 else 's'}"
    share = down_fraction(link, hi)
    if share is None:
        return periods
    return f"{percent(share)} % down, {periods}"


def _bars(link: LinkReport, to_x: Callable[[float], float], y: int, hi: float, px_s: float) -> list[str]:
    """Each period at its true place and length; one narrower than MIN_PX is drawn
    MIN_PX wide in the 'widened' style (the legend says so)."""
    out = []
    for p in link.periods:
        end = _period_end(p, hi)
        if p.start.clock is None or end is None:
            continue
        # Placed by its start on the axis, as long as it was measured (the kernel's clock
        # when it has one: syslog stamps have whole seconds).
        lasted = _period_length(p, hi)
        x0 = to_x(p.start.clock)
        x1 = x0 + lasted / px_s
        title = f"down {duration(lasted)}" + (" (still down at the end of the log)" if p.end is None else "")
        if p.clock_back:
            title = "down, up stamped before it: no duration (the clock went back)"
        if x1 - x0 < MIN_PX:
            title += f", drawn {MIN_PX:g} px ({duration(MIN_PX * px_s)}) wide"
            out.append(
                f"<rect class='down widened' data-duration='{lasted:.3f}' x='{x0:.2f}' y='{y + 6}' "
                f"width='{MIN_PX:g}' height='16'><title>{shown(title)}</title></rect>"
            )
        else:
            out.append(
                f"<rect class='down' data-duration='{lasted:.3f}' x='{x0:.2f}' y='{y + 6}' "
                f"width='{x1 - x0:.2f}' height='16'><title>{shown(title)}</title></rect>"
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
            f"<title>{shown(f'{c.what}: {c.before} -> {c.after}')}</title></line>"
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
        rate = "-" if r.flaps_per_hour is None else per_hour(r.flaps_per_hour, 1)
        changes = [shown(f"{c.what} {c.before} -> {c.after}" + (" (lower)" if c.lower else "")) for c in r.changes]
        if r.changes.omitted:
            changes.insert(len(r.changes.head), f"... {r.changes.omitted} more ...")
        changes_cell = "<br>".join(changes)
        rows.append(
            f"<tr><td>{shown(r.host or '-')}</td><td>{shown(r.ifname)}</td>"
            f"<td class='{r.verdict.value}'>{r.verdict.value}</td><td>{r.down_events}</td>"
            f"<td>{spread}</td><td>{rate}</td><td>{changes_cell or '-'}</td>"
            f"<td>{r.tx_timeouts}</td><td>{shown(r.rule)}</td></tr>"
        )
    rows.append("</table>")
    return "\n".join(rows)


def _episodes(links: list[LinkReport], placed: list[LinkReport]) -> str:
    lo, _ = _span(placed)
    drawn = {id(r): i for i, r in enumerate(placed)}  # a burst's closer look: its link's row
    rows = [
        "<table id='episodes'><tr><th>host</th><th>link</th><th>start</th><th>end</th><th>downs</th>"
        "<th>span</th><th>view</th></tr>"
    ]
    for r in links:
        bursts: list[DownBurst | None] = list(r.episodes)
        if len(bursts) > 2 * EPISODE_ROWS:
            bursts = [*r.episodes[:EPISODE_ROWS], None, *r.episodes[-EPISODE_ROWS:]]
        for e in bursts:
            if e is None:
                more = len(r.episodes) - 2 * EPISODE_ROWS
                more_row = f"<tr><td class='more' colspan='7'>... {more} more down burst(s) of this link ...</td></tr>"
                rows.append(more_row)
            else:
                rows.append(_episode_row(r, e, drawn.get(id(r)), lo))
    rows.append("</table>")
    return "\n".join(rows)


def _episode_row(r: LinkReport, e: DownBurst, index: int | None, lo: float) -> str:
    span = between(e.start, e.end)
    view = ""
    if index is not None and e.start.clock is not None and e.end.clock is not None:
        # The episode on its own axis, from its first down to its last one (and its up).
        t0, t1 = e.start.clock - lo, e.end.clock - lo
        pad = max((t1 - t0) * 0.02, 5.0)
        view = f"<button class='closer' data-zoom='{index} {t0 - pad:.3f} {t1 + 2 * pad:.3f}'>look closer</button>"
    return (
        f"<tr><td>{shown(r.host or '-')}</td><td>{shown(r.ifname)}</td><td>{shown(_stamp(e.start))}</td>"
        f"<td>{shown(_stamp(e.end))}</td><td>{e.downs}</td><td>{'-' if span is None else f'{span:.2f} s'}</td>"
        f"<td>{view}</td></tr>"
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
        f"<tr><td>{shown(e.time.isoformat(sep=' ') if e.time else '')}</td>"
        f"<td>{'' if e.uptime is None else e.uptime}</td><td>{shown(e.host or '')}</td>"
        f"<td>{e.event.log_name}</td><td>{shown(e.ifname or '')}</td>"
        f"<td>{shown(where)}</td><td class='raw'>{shown(e.raw)}</td></tr>"
    )


def _zoom(links: list[LinkReport]) -> str:
    lo, hi = _span(links)
    wall = any(r.earliest is not None and r.earliest.event.time is not None for r in links)
    # The closer look tells times in the zone the log's first stamp gives, and says it, as the
    # overview's ends and the tables do (a stamp without one is UTC, and left unsaid there too).
    ends = _ends(links)
    first = ends[0].event.time if ends else None
    offset = None if first is None else first.utcoffset()
    data = {
        "lo": lo,
        "span": hi - lo,
        "wall": wall,
        "offset": 0.0 if offset is None else offset.total_seconds(),
        "zone": "" if offset is None or first is None else first.isoformat()[-6:],
        "links": [
            {
                "name": printable(_name(r)),
                "label": label(_name(r)),
                "omitted": r.periods.omitted,
                "periods": [
                    [round(p.start.clock - lo, 3), round(_period_length(p, _log_end(r, hi)), 3), int(p.end is None)]
                    for p in r.periods
                    if p.start.clock is not None
                ],
            }
            for r in links
        ],
    }
    blob = json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")
    options = "".join(f"<option value='{i}'>{shown(_name(r))}</option>" for i, r in enumerate(links))
    script = ZOOM_JS.replace("@WIDTH@", str(WIDTH)).replace("@LEFT@", str(LEFT)).replace("@MIN_PX@", f"{MIN_PX:g}")
    return "\n".join(
        [
            "<p>One link between two moments, at the overview's rules (click a row of the timeline, or a "
            "down burst's <i>look closer</i>).</p>",
            f"<div id='zoomctl'><select id='zoomlink'>{options}</select> "
            "<button data-act='left'>&#9664; earlier</button><button data-act='in'>zoom in</button>"
            "<button data-act='out'>zoom out</button><button data-act='right'>later &#9654;</button>"
            "<button data-act='all'>whole log</button></div>",
            f"<svg id='zoom' width='{WIDTH}' height='64' viewBox='0 0 {WIDTH} 64' "
            "xmlns='http://www.w3.org/2000/svg'></svg>",
            "<p id='zoomwords'><noscript>(the closer look needs JavaScript)</noscript></p>",
            f"<script type='application/json' id='zoomdata'>{blob}</script>",
            f"<script>{script}</script>",
        ]
    )

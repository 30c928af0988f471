"""`linkctl report`: the fleet's flap report from the shared history, as text, JSON or HTML.

The numbers are the store's (store/fleet.py). The HTML page is `logs analyze`'s
(logs/report_html.py): the links' recorded down periods are handed to the log
analysis as link-down and link-up lines, so the timeline, the closer look and the
tables are drawn by the same code; the fleet's own table goes before them.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from linkctl.cli.durations import StoreTimeout
from linkctl.cli.output import emit
from linkctl.errors import LinkctlError

if TYPE_CHECKING:
    from linkctl.domain.events import KernelLogLine
    from linkctl.store.fleet import FleetLink, FleetReport

DEFAULT_STORE = "sqlite:///var/lib/linkctl/events.db"


class ReportFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    HTML = "html"


def register(app: typer.Typer) -> None:
    app.command("report")(report_cmd)


def report_cmd(
    store: Annotated[str, typer.Option("--store", help="sqlite:///PATH or postgresql://USER@HOST/DB")] = DEFAULT_STORE,
    since: Annotated[str, typer.Option("--since", help="from: a duration (24h, 7d, 2w) or ISO 8601 time")] = "7d",
    until: Annotated[str | None, typer.Option("--until", help="to: a duration ago or ISO 8601 time (now)")] = None,
    host: Annotated[
        str | None, typer.Option("--host", help="only this host, or hosts matching a glob (web-*); default: all")
    ] = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="text, json or html")] = ReportFormat.TEXT,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="write the report here (- for stdout)")] = None,
    store_timeout: StoreTimeout = None,
) -> None:
    """The fleet's flap report: per host and link, carrier transitions, down time, flap
    episodes and drivers over the window, worst first (flapping now, then most transitions)."""
    from linkctl.domain.events import now
    from linkctl.store import parse_since, read_store
    from linkctl.store.backends import redact
    from linkctl.store.fleet import fleet_report

    if fmt is ReportFormat.HTML and output is None:
        raise LinkctlError("--format html needs -o FILE (or -o - for stdout)")
    start = parse_since(since)
    end = now() if until is None else parse_since(until)
    if end < start:
        raise LinkctlError(f"--until {until} is before --since {since}")
    with read_store(store, store_timeout) as db:
        report = fleet_report(db, start, end, host, source=redact(store))
    if fmt is ReportFormat.JSON:
        text = json.dumps(report.to_json(), indent=2) + "\n"
    elif fmt is ReportFormat.HTML:
        text = render_fleet_html(report)
    else:
        text = render_fleet_text(report)
    emit(text, output)


# -- text -------------------------------------------------------------------------------

HEADER = (
    "host",
    "netns",
    "link",
    "flapping now",
    "transitions",
    "episodes",
    "down",
    "down now",
    "set down by hand",
    "drivers",
)


def _cells(link: FleetLink) -> list[str]:
    gaps = f" ({link.in_gaps} in gaps)" if link.in_gaps else ""
    return [
        link.host,
        link.netns or "-",
        link.ifname,
        "yes" if link.flapping else "no",
        f"{link.transitions}{gaps}",
        str(len(link.episodes)),
        _down(link),
        "yes" if link.down_now else "no",
        _admin(link),
        ", ".join(link.drivers) or "-",
    ]


def _admin(link: FleetLink) -> str:
    """Time set down by hand (`ip link set X down`): not down time, no transitions."""
    from linkctl.logs.report_text import duration

    if not link.admin_downs and not link.admin_down_s:
        return "-"
    return f"{duration(link.admin_down_s, '.1f')} in {link.admin_downs}{', now' if link.admin_down_now else ''}"


def _down(link: FleetLink) -> str:
    """Down time and periods; a lower bound where a gap's transitions were not timed."""
    from linkctl.logs.report_text import duration  # the log analysis's words for a span

    if not link.down_exact and not link.downs:
        return "not measured (gaps)"
    return f"{'>= ' if not link.down_exact else ''}{duration(link.down_s, '.1f')} in {len(link.downs)}"


def _heading(report: FleetReport) -> str:
    return (
        f"{len(report.hosts)} host(s), {len(report.links)} link(s) with transitions, down time, "
        f"episodes or admin downs, {report.quiet} quiet; {report.since.isoformat(timespec='seconds')} to "
        f"{report.until.isoformat(timespec='seconds')}, from {report.source}"
    )


def render_fleet_text(report: FleetReport) -> str:
    from linkctl.cli.table import write_table

    out = io.StringIO()
    out.write(_heading(report) + "\n\n")
    write_table(HEADER, [_cells(link) for link in report.links], out)
    if any(link.in_gaps for link in report.links):
        out.write(
            "\nin gaps: transitions counted from the kernel's counters after a store outage (times not recorded)\n"
        )
    return out.getvalue()


# -- HTML -------------------------------------------------------------------------------


def render_fleet_html(report: FleetReport) -> str:
    from linkctl.logs.analysis import analyze
    from linkctl.logs.report_html import render_html

    analysis = analyze(_lines(report), files=[report.source])
    # The timeline in the fleet's order, worst first.
    order = {(link.host, _label(link)): i for i, link in enumerate(report.links)}
    analysis.links.sort(key=lambda r: order.get((r.host or "", r.ifname), len(order)))
    return render_html(analysis, title="Fleet flap report", preface=_fleet_table(report))


def _label(link: FleetLink) -> str:
    """The link's name on the page: its namespace before it when not the host's."""
    return f"{link.netns}/{link.ifname}" if link.netns else link.ifname


def _lines(report: FleetReport) -> Iterator[KernelLogLine]:
    """Each recorded down period as a link-down line and (unless still down) a link-up
    line, in time order: what the log analysis draws. Each link also gets a line where
    the window opens and one where it closes, so that the axis and each link's share of
    down time are the window's, and a period still open is drawn to its end."""
    from linkctl.domain.events import EventKind, KernelLogLine

    items: list[tuple[datetime, int, KernelLogLine]] = []

    def line(link: FleetLink, kind: EventKind, when: datetime, words: str, order: int) -> None:
        label = _label(link)
        raw = f"{link.host} {label}: {words}"
        driver = link.drivers[0] if link.drivers else None
        event = KernelLogLine(kind, label, driver, None, None, None, None, when, None, link.host, None, None, raw)
        items.append((when, order, event))

    # A link with no recorded down period (its transitions all in gaps) is not drawn: a row
    # of it would say "0 % down", which nobody measured.
    for link in _drawn(report):
        line(link, EventKind.OTHER, report.since, "the report's window opens", 0)
        for span in link.downs:
            before = " (down before the window: its first event in it was a link-up)" if span.inferred else ""
            line(link, EventKind.LINK_DOWN, span.start, f"link_down, recorded by linkctl watch{before}", 1)
            if span.end is not None:
                line(link, EventKind.LINK_UP, span.end, "link_up, recorded by linkctl watch", 2)
        line(link, EventKind.OTHER, report.until, "the report's window closes", 3)
    items.sort(key=lambda item: (item[0], item[1]))
    return (event for _, _, event in items)


def _drawn(report: FleetReport) -> list[FleetLink]:
    """The links the HTML timeline draws, the worst first; the fleet table lists them all."""
    from linkctl.logs.report_html import TIMELINE_LINKS

    return [link for link in report.links if link.downs][:TIMELINE_LINKS]


def _fleet_table(report: FleetReport) -> str:
    from linkctl.logs.report_html import TIMELINE_LINKS, shown  # shown: a bidi override in a name spelt out

    rows = [
        f"<p id='fleetwords'>{shown(_heading(report))}.</p>",
        "<h2>Fleet</h2>",
        "<table id='fleet'><tr>" + "".join(f"<th>{shown(h)}</th>" for h in HEADER) + "</tr>",
    ]
    for link in report.links:
        cells = _cells(link)
        # Coloured as the log page colours its verdicts; the words are watch's ("flapping now").
        colour = "flapping" if link.flapping else ("degraded" if link.down_now else "stable")
        cells_html = [f"<td>{shown(c)}</td>" for c in cells]
        cells_html[3] = f"<td class='{colour}'>{shown(cells[3])}</td>"
        rows.append("<tr>" + "".join(cells_html) + "</tr>")
    rows.append("</table>")
    if any(link.in_gaps for link in report.links):
        rows.append(
            "<p>in gaps: transitions counted from the kernel's counters after a store outage; their times "
            "were not recorded, so they are not drawn below.</p>"
        )
    undrawn = sum(1 for link in report.links if link.downs) - len(_drawn(report))
    if undrawn:
        rows.append(
            f"<p id='notdrawn'>The timeline below draws the {TIMELINE_LINKS} worst links with recorded down "
            f"periods; {undrawn} more are in the table above only.</p>"
        )
    return "\n".join(rows)

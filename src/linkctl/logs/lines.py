"""One log line to one link event: the capture format, then the kernel message."""

from __future__ import annotations

from linkctl.domain.events import KernelLogLine
from linkctl.logs.capture import Captured, YearHint, parse_capture
from linkctl.logs.patterns import match_message
from linkctl.logs.scan import MAX_LINE as MAX_LINE  # defined by the scan, which cuts lines to it


def parse_line(
    text: str | bytes, file: str | None = None, line: int | None = None, years: YearHint | None = None
) -> KernelLogLine | None:
    """The link event a log line reports, or None."""
    text = text[:MAX_LINE]
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    captured = parse_capture(text, years)
    if captured is None or not captured.message:
        return None
    return event_of(captured, file, line)


def event_of(captured: Captured, file: str | None, line: int | None) -> KernelLogLine | None:
    """The link event a captured kernel message reports, or None: for a file's line and a system log's record."""
    found = match_message(captured.message)
    if found is None:
        return None
    return KernelLogLine(
        event=found.event,
        ifname=found.ifname,
        driver=found.driver,
        bus_id=found.bus_id,
        speed_mbps=found.speed_mbps,
        duplex=found.duplex,
        flow_control=found.flow_control,
        time=captured.time,
        uptime=captured.uptime,
        host=captured.host,
        file=file,
        line=line,
        raw=captured.message,
        detail=found.detail,
    )

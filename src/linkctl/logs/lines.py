"""One log line to one link event: the capture format, then the kernel message."""

from __future__ import annotations

import re

from linkctl.domain.events import EventKind, KernelLogLine
from linkctl.logs.capture import Captured, YearHint, parse_capture
from linkctl.logs.capture_paste import QUOTES
from linkctl.logs.patterns import match_message
from linkctl.logs.scan import MAX_LINE as MAX_LINE  # defined by the scan, which cuts lines to it
from linkctl.logs.scan import holds_literal


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
    found = event_of(captured, file, line)
    if found is None and text.count("[") > 1:
        return _joined(text, file, line, years)
    if found is None:
        return _repeated(captured, file, line)
    return found


# A page's paragraph holds a screenful of records; a line of thousands is no paste (and reading it record
# by record would cost milliseconds).
_MAX_RECORDS = 64
# A kernel record's uptime inside a line: where a web page joined a pasted log into one paragraph.
_RECORD_START = re.compile(r"(?:^|(?<=\s))\[\s*\d{1,12}\.\d{1,9}\]\s")


def _joined(text: str, file: str | None, line: int | None, years: YearHint | None) -> KernelLogLine | None:
    """The first event of a paragraph of kernel records a page joined ("[ 19.51] eth0: ... [ 23.71]
    meson8b-dwmac ... eth0: Link is Up - 1Gbps/Full ..."): two records at least, no quotation."""
    starts = [m.start() for m in _RECORD_START.finditer(text)]
    if len(starts) < 2 or QUOTES.intersection(text):
        return None
    first: KernelLogLine | None = None
    bounds = list(zip(starts, [*starts[1:], len(text)], strict=True))
    for begin, end in bounds[:_MAX_RECORDS]:
        captured = parse_capture(text[begin:end], years)
        event = event_of(captured, file, line) if captured is not None and captured.message else None
        # A change of the carrier or a transmit timeout first, before IPv6's "link is not ready".
        if event is not None and (event.event.is_carrier or event.event is EventKind.TX_TIMEOUT):
            return event
        first = first or event
    return first


def event_of(captured: Captured, file: str | None, line: int | None) -> KernelLogLine | None:
    """The link event a captured kernel message reports, or None: for a file's line and a system log's record."""
    if not holds_literal(captured.message):
        return None  # what the fast scan would not have handed on: both readers take the same lines
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


# A message's own prefix ("igb: eth0 ", "lan2: "), to find it again further on.
_OWN_PREFIX = re.compile(r"[\w.\-]+: (?:[\w.\-]+ )?")


def _repeated(captured: Captured, file: str | None, line: int | None) -> KernelLogLine | None:
    """Records a page joined without their stamps, each behind the same prefix ("igb: eth0 NIC Link is
    Down igb: eth0 NIC Link is Up ..."): the first one's event. Records follow one another with a
    space only; a slash or a word between them is a person's summary ("lan2: Link is Down / lan2:
    Link is Up ... flaps every 1-2 seconds")."""
    message = captured.message
    head = _OWN_PREFIX.match(message)
    if head is None or QUOTES.intersection(message):
        return None
    again = message.find(" " + head.group(0), head.end())
    if again < 0 or not message[:again].rstrip()[-1:].isalnum():
        return None
    first = Captured(message[:again].rstrip(), captured.time, captured.uptime, captured.host)
    return event_of(first, file, line)

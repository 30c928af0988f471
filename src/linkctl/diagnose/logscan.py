"""The kernel-log evidence about one link: flaps, the speeds it came up at, watchdog
timeouts, Tx hangs, adapter resets, DMA and PCIe/AER errors.

Link events come from the log helper's parser (`linkctl.logs`: capture formats, then
the drivers' format strings); DMA, AER and reset lines are not link events there, so
they are matched here, on the same captured message, and only when they name the
link, its driver or its PCI address.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from linkctl.domain.events import EventKind
from linkctl.errors import LinkctlError
from linkctl.kernel import klog
from linkctl.logs import system_log
from linkctl.logs.capture import Captured, YearHint
from linkctl.logs.patterns import MessageMatch, match_message

SAMPLES = 5
_DMA = re.compile(r"\bdma\b|\bdmar\b|iommu", re.I)
_AER = re.compile(r"\bAER\b|PCIe Bus Error|pcie?_?bus.*error", re.I)
_RESET = re.compile(r"[Rr]eset adapter|[Rr]esetting|adapter reset|reset the adapter|Tx timeout|tx_timeout")
_OTHER = (("aer", _AER), ("dma", _DMA), ("resets", _RESET))
JOURNAL_TIMEOUT = 120  # seconds: a journal too large to read by then is reported as not available


@dataclass
class LogEvidence:
    source: str
    available: bool = True
    downs: int = 0
    ups: int = 0
    up_speeds: Counter[int] = field(default_factory=Counter)
    up_duplex: Counter[str] = field(default_factory=Counter)
    flow_control: Counter[str] = field(default_factory=Counter)
    watchdog: int = 0
    unit_hang: int = 0
    resets: int = 0
    dma: int = 0
    aer: int = 0
    down_seconds: list[float] = field(default_factory=list)
    first: datetime | None = None
    last: datetime | None = None
    # Link events about the link dated before `since`: a log of last month read with the
    # default window would otherwise read as "0 down", as if the link never went down.
    before_since: int = 0
    samples: dict[str, list[str]] = field(default_factory=dict)
    _down_at: datetime | None = None
    _down_uptime: float | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "available": self.available,
            "link_down": self.downs,
            "link_up": self.ups,
            "up_speeds_mbps": {str(k): v for k, v in sorted(self.up_speeds.items())},
            "up_duplex": dict(self.up_duplex),
            "flow_control": dict(self.flow_control),
            "watchdog_timeouts": self.watchdog,
            "tx_unit_hangs": self.unit_hang,
            "adapter_resets": self.resets,
            "dma_lines": self.dma,
            "aer_lines": self.aer,
            "down_seconds": [round(s, 2) for s in self.down_seconds],
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
            "link_events_before_since": self.before_since,
            "samples": self.samples,
        }

    def _sample(self, kind: str, text: str) -> None:
        bucket = self.samples.setdefault(kind, [])
        if len(bucket) < SAMPLES:
            bucket.append(text)

    def _seen(self, when: datetime | None) -> None:
        if when is None:
            return
        self.first = when if self.first is None else min(self.first, when)
        self.last = when if self.last is None else max(self.last, when)


@dataclass(frozen=True)
class Subject:
    """What names the link in a log line."""

    ifname: str
    driver: str | None = None
    bus_info: str | None = None

    def words(self) -> list[str]:
        out = [self.ifname]
        if self.bus_info:
            out += [self.bus_info, self.bus_info.split(":", 1)[-1] if self.bus_info.count(":") == 2 else self.bus_info]
        return out

    def named_in(self, text: str) -> bool:
        words = self.words() + ([self.driver] if self.driver else [])
        return any(re.search(rf"(?<![\w:.]){re.escape(w)}(?![\w])", text) for w in words if w)


def scan(
    lines: Iterable[Captured],
    subject: Subject,
    source: str,
    since: datetime | None = None,
    local: bool = False,
) -> LogEvidence:
    """The evidence in kernel messages; `local` tells their times in the host's time zone
    (the running system's log), else as the lines wrote them."""
    ev = LogEvidence(source)
    for captured in lines:
        when = _aware(captured.time, local)
        if since is not None and when is not None and when < since:
            found = match_message(captured.message)
            ev.before_since += found is not None and _about(found, subject)
            continue
        _classify(ev, captured, when, subject)
    return ev


def _aware(when: datetime | None, local: bool) -> datetime | None:
    if when is not None and (local or when.tzinfo is None):
        when = when.astimezone()
    return when


def _classify(ev: LogEvidence, captured: Captured, when: datetime | None, subject: Subject) -> None:
    message = captured.message
    found = match_message(message)
    if found is not None and _about(found, subject):
        _link_event(ev, found, captured, when)
        return
    if not subject.named_in(message):
        return
    for attr, pattern in _OTHER:
        if pattern.search(message):
            setattr(ev, attr, getattr(ev, attr) + 1)
            ev._sample(attr, message)
            ev._seen(when)
            return


def _about(found: MessageMatch, subject: Subject) -> bool:
    if found.ifname is not None:
        return found.ifname == subject.ifname
    return bool(subject.bus_info and found.bus_id == subject.bus_info)


def _link_event(ev: LogEvidence, found: MessageMatch, captured: Captured, when: datetime | None) -> None:
    message = captured.message
    ev._seen(when)
    if found.event is EventKind.LINK_DOWN:
        ev.downs += 1
        ev._down_at = when
        ev._down_uptime = captured.uptime
        ev._sample("link_down", message)
    elif found.event is EventKind.LINK_UP:
        ev.ups += 1
        if found.speed_mbps:
            ev.up_speeds[found.speed_mbps] += 1
        if found.duplex:
            ev.up_duplex[found.duplex.value] += 1
        if found.flow_control:
            ev.flow_control[found.flow_control.value] += 1
        lasted = _lasted(ev, captured.uptime, when)
        if lasted is not None:
            ev.down_seconds.append(lasted)
        ev._down_at = ev._down_uptime = None
        ev._sample("link_up", message)
    elif found.event is EventKind.TX_TIMEOUT:
        if "WATCHDOG" in message:
            ev.watchdog += 1
            ev._sample("watchdog", message)
        else:
            ev.unit_hang += 1
            ev._sample("unit_hang", message)


def _lasted(ev: LogEvidence, uptime: float | None, when: datetime | None) -> float | None:
    # The kernel's clock first, as `logs analyze` measures: syslog's stamps are whole
    # seconds (the seed's 2.45 s down would read 2 s); an uptime going back is a reboot.
    if ev._down_uptime is not None and uptime is not None and uptime >= ev._down_uptime:
        return uptime - ev._down_uptime
    if ev._down_at is not None and when is not None:
        return (when - ev._down_at).total_seconds()
    return None


# -- where the lines come from -------------------------------------------------------


def read_files(paths: list[str], subject: Subject, since: datetime | None) -> LogEvidence:
    years = YearHint(None, klog.modified(paths[-1])) if paths else None
    lines = (system_log.capture(raw, years) for path in paths for raw in _file_lines(path))
    return scan((found for found in lines if found is not None), subject, "files: " + ", ".join(paths), since)


def _file_lines(path: str) -> Iterator[bytes]:
    try:
        lines = klog.file_lines(path)
    except OSError as exc:
        raise LinkctlError(f"--logs {path}: {exc.strerror}: give a readable kernel log file") from None
    yield from lines


def read_kmsg(subject: Subject, since: datetime | None, path: str = klog.KMSG) -> LogEvidence:
    try:
        records = system_log.kmsg(path)
    except OSError as exc:
        return LogEvidence(f"{path}: not available ({exc.strerror})", available=False)
    return scan((r.captured for r in records), subject, path, since, local=True)


def read_journal(subject: Subject, since: datetime | None) -> LogEvidence:
    records = system_log.journal(since, JOURNAL_TIMEOUT)
    try:
        return scan((r.captured for r in records), subject, "journal", since, local=True)
    except system_log.Unavailable as exc:
        return LogEvidence(f"journal: not available ({exc})", available=False)

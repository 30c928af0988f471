"""The running system's kernel log, /dev/kmsg and journald, as `logs` and `diagnose` both
read it: one parser (the capture formats) and one clock (`Clock`).

The bytes come from kernel/klog; here each line becomes a `Captured` message with its
time, and `link_event` says which of them are link events (`linkctl logs`). `diagnose`
looks at the other lines too (DMA, AER, resets), so the reader hands over every message.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime

from linkctl.domain.events import KernelLogLine
from linkctl.kernel import host, klog
from linkctl.logs.capture import Captured, YearHint, parse_capture
from linkctl.logs.lines import MAX_LINE, event_of

JOURNAL = ["journalctl", "-k", "-o", "json", "--no-pager"]


@dataclass(frozen=True, slots=True)
class Clock:
    """Turns kernel timestamps (seconds since boot) into wall-clock times, as dmesg -T
    does. The kernel's log clock stops during suspend, as CLOCK_MONOTONIC does
    (klog.boot_started): a line logged since the last resume gets its true time, one
    from before a suspend a later one."""

    started: float
    host: str

    @classmethod
    def now(cls) -> Clock:
        return cls(klog.boot_started(), host.hostname())

    def when(self, time: datetime | None, uptime: float | None) -> datetime | None:
        """The line's own time, else its uptime on the wall clock: local time, naive as a
        syslog stamp is, and counted in seconds since the epoch so that a DST change since
        boot does not shift it."""
        if time is None and uptime is not None:
            return datetime.fromtimestamp(self.started + uptime)
        return time

    def date(self, captured: Captured) -> Captured:
        return replace(captured, time=self.when(captured.time, captured.uptime), host=captured.host or self.host)


@dataclass(frozen=True, slots=True)
class Record:
    """One kernel message: where it was read (a path, "journal") and its place there."""

    captured: Captured
    name: str
    number: int


def capture(raw: str | bytes, years: YearHint | None = None) -> Captured | None:
    """The kernel message of one log line; None when the line holds none."""
    raw = raw[:MAX_LINE]
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    captured = parse_capture(text, years)
    if captured is None or not captured.message:
        return None
    return captured


def link_event(record: Record) -> KernelLogLine | None:
    """The link event the message reports, or None."""
    return event_of(record.captured, record.name, record.number)


def kmsg(path: str = klog.KMSG) -> Iterator[Record]:
    """The kernel's ring buffer, from its oldest record to now, dated by `Clock`.
    Raises OSError here, before any record is read, when it cannot be opened."""
    clock = Clock.now()
    return _kmsg(klog.open_kmsg(path), path, clock)


def _kmsg(fd: int, path: str, clock: Clock) -> Iterator[Record]:
    lost = [0]

    def overwritten() -> None:
        lost[0] += 1

    try:
        for number, raw in enumerate(klog.kmsg_records(fd, overwritten=overwritten), 1):
            captured = capture(raw)
            if captured is not None:
                yield Record(clock.date(captured), path, number)
    finally:
        os.close(fd)
    if lost[0]:
        # The ring buffer wrapped past the reader: what was lost may have held link events, and
        # a report of "no link-down" would not know it.
        print(
            f"linkctl: warning: {path}: the kernel overwrote records before they were read ({lost[0]} time(s)); "
            "events may be missing from what follows: a log file or journald keeps them",
            file=sys.stderr,
        )


class Unavailable(Exception):
    """journalctl is not installed, failed, or ran out of time; str() says which."""


def journal(since: datetime | None = None, timeout: float | None = None) -> Iterator[Record]:
    """The kernel's messages kept by journald (since `since`), as `journalctl -o json`
    gives them: each with its exact time and host. Raises Unavailable, the failure of the
    program once its output has been read."""
    argv = list(JOURNAL)
    if since is not None:
        argv += ["--since", since.astimezone().strftime("%Y-%m-%d %H:%M:%S")]
    try:
        proc = klog.Program.start(argv, timeout)
    except FileNotFoundError:
        raise Unavailable(f"{argv[0]}: not installed") from None
    except OSError as exc:
        raise Unavailable(f"{argv[0]}: {exc.strerror}") from None
    for number, raw in enumerate(proc.stdout, 1):
        captured = capture(raw.rstrip(b"\r\n"))
        if captured is not None:
            yield Record(captured, "journal", number)
    returncode, error = proc.finish()
    if proc.timed_out:
        raise Unavailable(f"{' '.join(argv)}: no answer within {timeout:g} s")
    if returncode != 0:
        raise Unavailable(f"{' '.join(argv)} failed: {error or 'exit ' + str(returncode)}")

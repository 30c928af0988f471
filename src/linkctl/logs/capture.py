"""Capture formats: what a log writer put around the kernel's message.

Raw dmesg with or without `[uptime]`, `dmesg -T`, `dmesg -r` and `-x`, /dev/kmsg records,
classic syslog with or without a host and with sub-second stamps, RFC 3339 (rsyslog's
high-precision format, journald short-iso, `dmesg --time-format iso`), journald short,
short-precise and JSON, OpenWrt logread, and `kernel:` with no space after it. Around
those, what shippers and dumps add: a severity word before `kernel:` ("WARNING kernel:",
"kern.info kernel:"), RFC 5424's version and structured data ("<14>1 STAMP HOST kernel - -
- MSG"), a log shipper's level ("INFO - "), a container runtime's "[kmsg]", and the kernel
log of the last boot that a pstore/ramoops dump replays through syslog; and from pastes, a
serial console's clutter before the uptime and "HOST kernel: " with the stamp cut off.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal

_MONTHS = {
    m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)
}
_MON = "(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_DOW = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_HMS = r"(?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)(?:[.,](?P<frac>\d{1,9}))?"

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# After the uptime some kernels say who printed: CONFIG_PRINTK_CALLER's "[  T123]" or
# "[    C1]", vendor kernels' "[c0]" (the CPU). It belongs to the capture, not the message.
_UPTIME = re.compile(r"\[\s*(?P<up>\d{1,10}\.\d{1,9})\]\s?(?:\[\s*[TCc]\d{1,7}\]\s?)?")
_SEVERITY = r"(?:kern\.)?(?i:emerg|alert|crit|critical|err|error|warn|warning|notice|info|debug)"
# RFC 5424 puts PROCID, MSGID and structured data after the app name, each "-" when empty.
_KERNEL_TAG = re.compile(
    rf"(?:(?P<host>[^\s\[\]]+) )?(?:(?P<sev>{_SEVERITY}) )?kernel(?:\[\d+\])?"
    r"(?::| (?:-|\d+) \S+ (?:-|\[[^\]]*\]))\s?(?P<msg>.*)"
)
_SEVERITY_WORD = re.compile(_SEVERITY)
# pstore/ramoops replays the last boot's kernel log through syslog, each record as dmesg -r
# printed it; only the uptime bracket tells a replayed kernel line from pstore's own words.
_PSTORE = re.compile(r"(?:(?P<host>[^\s\[\]]+) )?pstore: (?:<\d{1,3}>)?(?P<msg>\[\s*\d{1,10}\.\d{1,9}\].*)")
# "kern.info kernel: ..." is logread or a syslog relay with the stamp cut off; the facility
# says whose line it is ("daemon.notice netifd: ..." is not the kernel's).
_FACILITY = re.compile(
    r"(?:kern|user|mail|daemon|auth|authpriv|syslog|lpr|news|uucp|cron|ftp|local[0-7])\."
    r"(?:emerg|alert|crit|err|warn|warning|notice|info|debug) (?P<rest>.*)"
)
# "CRIT kernel: ...": a relay that kept the severity and dropped the stamp.
_BARE_SEVERITY = re.compile(rf"(?:{_SEVERITY}) kernel(?:\[\d+\])?:")
# A shipper's level before what it shipped ("INFO - INFO - [ 6160.176012] ..."); taken off
# only when a kernel line's stamp follows, so that an application's own "INFO - " lines
# are not read as bare kernel messages.
_SHIPPER = re.compile(
    r"(?:(?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|CRIT|CRITICAL) - )+"
    r"(?=<\d{1,3}>|\[\s*\d{1,10}\.\d{1,9}\]|\d{4}-\d\d-\d\d|[A-Z][a-z]{2} [ \d]\d )"
)
_RFC5424_VERSION = re.compile(r"1 (?=\d{4}-\d\d-\d\dT)")
# What a serial console mixes into a pasted dmesg line before its uptime: the shell prompt
# the kernel printed over, with what was being typed ("root@OpenWrt:/# [   89.29] ...",
# "root@lede:/# /etc/init[   90.36] ..."), or the tail of printk's own "** N printk messages
# dropped **". Taken off only right before an uptime bracket.
_CONSOLE = re.compile(
    r"(?:[\w.\-]+@[\w.\-]+:[^\s#$]*[#$] [^\[]{0,80}|(?:\*\* )?\d+ printk messages dropped \*\* )"
    r"(?=\[\s*\d{1,10}\.\d{1,9}\])"
)
# "HOST kernel: MESSAGE": a syslog or journal line whose stamp was cut off when pasted.
_HOST_KERNEL = re.compile(r"[\w.\-]+ kernel(?:\[\d+\])?: ")
# `talosctl dmesg`: "kern:     err: [2024-06-29T10:52:39.030745602Z]: MESSAGE".
_TALOS = re.compile(r"(?P<fac>[a-z]+):\s+(?P<sev>[a-z]+):\s+\[(?P<stamp>\d{4}-\d\d-\d\dT[^\]]+)\]: (?P<msg>.*)")
_BSD = re.compile(rf"{_MON} +(?P<d>\d{{1,2}}) {_HMS} (?P<rest>.*)")
_RFC3339 = re.compile(
    rf"(?P<y>\d{{4}})-(?P<mo>\d\d)-(?P<d>\d\d)[T ]{_HMS}(?P<tz>Z|[+-]\d\d:?\d\d)?[ ,]?\s*"
    r"(?P<rest>.*)"
)
_DMESG_T = re.compile(rf"\[{_DOW} {_MON} +(?P<d>\d{{1,2}}) {_HMS} (?P<y>\d{{4}})\] ?(?P<rest>.*)")
_OPENWRT = re.compile(rf"{_DOW} {_MON} +(?P<d>\d{{1,2}}) {_HMS} (?P<y>\d{{4}}) \w+\.\w+ (?P<rest>.*)")
_KMSG = re.compile(r"(?P<pri>\d+),(?P<seq>\d+),(?P<us>\d+),[^;]*;(?P<msg>.*)")
_PRIORITY = re.compile(r"<\d{1,3}>")
_DMESG_X = re.compile(r"[a-z]+\s*:[a-z]+\s*: ")
# "HOST PROG[PID]: ", "PROG[PID]: " or "HOST prog: ": a syslog line of another program.
_PROGRAM = re.compile(r"(?:(?:[^\s:]+ )?[\w.\-/]+\[\d+\]|[^\s:]+ [a-z][\w.\-/]*): ")


@dataclass(frozen=True, slots=True)
class Captured:
    """The kernel message of one log line and what the capture format told about it."""

    message: str
    time: datetime | None = None
    uptime: float | None = None
    host: str | None = None


@dataclass(frozen=True, slots=True)
class YearHint:
    """Where a year-less syslog stamp takes its year: `--year`, else the file's mtime
    (a stamp later than the mtime belongs to the year before: the file was written
    across New Year)."""

    year: int | None = None
    reference: datetime | None = None

    def resolve(self, month: int, day: int) -> int:
        if self.year is not None:
            return self.year
        ref = self.reference or datetime.now()
        year = ref.year
        try:
            if datetime(year, month, day) > ref + timedelta(days=1):
                year -= 1
        except ValueError:  # 29 Feb in a year without it
            year -= 1
        return year


def clean(line: str) -> str:
    """The line without ANSI colour escapes and control characters."""
    if "\x1b" in line:
        line = _ANSI.sub("", line)
    return _CONTROL.sub(" ", line).strip()


def parse_capture(line: str, years: YearHint | None = None) -> Captured | None:
    """The kernel message of a log line; None when the line is another program's."""
    line = clean(line)
    if not line:
        return None
    if line[0] == "{":
        return _journal_json(line)
    line = _unwrap(line)
    if not line:
        return None
    readers = (_bsd, _rfc3339, _dmesg_t, _openwrt, _kmsg, _dmesg_x, _facility, _bare_severity, _talos, _host_kernel)
    for reader in readers:
        found = reader(line, years or YearHint())
        if found is not False:
            return found
    # No capture format matched: raw dmesg or a bare message.
    return _with_uptime(line)


_Read = Captured | None | Literal[False]


def _unwrap(line: str) -> str:
    """The line without what a shipper or runtime put before the capture format."""
    if line[0] in "IDNWETC":
        m = _SHIPPER.match(line)
        if m:
            line = line[m.end() :]
    m = _CONSOLE.match(line)
    if m:
        line = line[m.end() :]
    if line.startswith("[kmsg]"):
        line = line[len("[kmsg]") :].lstrip(": ")
    if line[:1] == "<":
        line = _PRIORITY.sub("", line, count=1)
        m = _RFC5424_VERSION.match(line)
        if m:
            line = line[m.end() :]
    return line


def _bsd(line: str, years: YearHint) -> _Read:
    m = _BSD.match(line)
    if not m:
        return False
    month, day = _MONTHS[m["mon"]], int(m["d"])
    when = _datetime(years.resolve(month, day), month, day, m)
    return _tagged(m["rest"], when)


def _rfc3339(line: str, years: YearHint) -> _Read:
    m = _RFC3339.match(line)
    if not m:
        return False
    when = _datetime(int(m["y"]), int(m["mo"]), int(m["d"]), m, m["tz"])
    rest = m["rest"]
    tagged = _tagged(rest, when)
    if tagged is not None:
        return tagged
    # `dmesg --time-format iso` puts the message right after the stamp; syslog puts
    # "HOST PROGRAM[PID]: " there, and then the line is not the kernel's.
    if _PROGRAM.match(rest):
        return None
    return _with_uptime(rest, when)


def _dmesg_t(line: str, years: YearHint) -> _Read:
    m = _DMESG_T.match(line)
    if not m:
        return False
    when = _datetime(int(m["y"]), _MONTHS[m["mon"]], int(m["d"]), m)
    return _with_uptime(m["rest"], when)


def _openwrt(line: str, years: YearHint) -> _Read:
    m = _OPENWRT.match(line)
    if not m:
        return False
    when = _datetime(int(m["y"]), _MONTHS[m["mon"]], int(m["d"]), m)
    return _tagged(m["rest"], when)


def _kmsg(line: str, years: YearHint) -> _Read:
    m = _KMSG.match(line)
    if not m:
        return False
    return Captured(m["msg"].strip(), uptime=int(m["us"]) / 1e6)


def _dmesg_x(line: str, years: YearHint) -> _Read:
    m = _DMESG_X.match(line)
    if not m:
        return False
    return _with_uptime(line[m.end() :])


def _facility(line: str, years: YearHint) -> _Read:
    m = _FACILITY.match(line)
    if not m:
        return False
    return _tagged(m["rest"], None)


def _talos(line: str, years: YearHint) -> _Read:
    m = _TALOS.match(line)
    if not m:
        return False
    if m["fac"] != "kern":
        return None
    stamp = _RFC3339.match(m["stamp"])
    when = _datetime(int(stamp["y"]), int(stamp["mo"]), int(stamp["d"]), stamp, stamp["tz"]) if stamp else None
    return Captured(m["msg"].strip(), when)


def _bare_severity(line: str, years: YearHint) -> _Read:
    if not _BARE_SEVERITY.match(line):
        return False
    return _tagged(line, None)


def _host_kernel(line: str, years: YearHint) -> _Read:
    if not _HOST_KERNEL.match(line):
        return False
    return _tagged(line, None)


def _tagged(rest: str, when: datetime | None) -> Captured | None:
    """After a syslog stamp: "[HOST ][SEVERITY ]kernel:[ ]MESSAGE", or a pstore dump's
    replayed kernel line; anything else is not the kernel."""
    m = _KERNEL_TAG.match(rest) or _PSTORE.match(rest)
    if not m:
        return None
    host = m["host"]
    if host is not None and m.re is _KERNEL_TAG and m["sev"] is None and _SEVERITY_WORD.fullmatch(host):
        host = None  # "CRIT kernel:": a severity, not a host
    captured = _with_uptime(m["msg"], when)
    return Captured(captured.message, when, captured.uptime, host)


def _with_uptime(text: str, when: datetime | None = None) -> Captured:
    m = _UPTIME.match(text)
    if m:
        return Captured(text[m.end() :].strip(), when, float(m["up"]))
    return Captured(text.strip(), when)


def _datetime(year: int, month: int, day: int, m: re.Match[str], tz: str | None = None) -> datetime | None:
    frac = (m["frac"] or "0")[:6].ljust(6, "0")
    try:
        when = datetime(year, month, day, int(m["h"]), int(m["mi"]), int(m["s"]), int(frac))
    except ValueError:
        return None
    if tz:
        when = when.replace(tzinfo=UTC if tz == "Z" else _offset(tz))
    return when


def _offset(tz: str) -> timezone:
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))


def _journal_json(line: str) -> Captured | None:
    """One record of `journalctl -o json`; only the kernel's records count."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    if record.get("_TRANSPORT") != "kernel" and record.get("SYSLOG_IDENTIFIER") != "kernel":
        return None
    message = _journal_message(record.get("MESSAGE"))
    if message is None:
        return None
    return Captured(
        message.strip(),
        _journal_time(record.get("__REALTIME_TIMESTAMP")),
        _journal_uptime(record.get("_SOURCE_MONOTONIC_TIMESTAMP")),
        record.get("_HOSTNAME") if isinstance(record.get("_HOSTNAME"), str) else None,
    )


def _journal_message(value: object) -> str | None:
    if isinstance(value, str):
        return clean(value)
    # journald sends a message that is not valid UTF-8 as an array of byte values.
    if isinstance(value, list) and all(isinstance(b, int) and 0 <= b < 256 for b in value):
        return clean(bytes(value).decode("utf-8", "replace"))
    return None


def _journal_time(value: object) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(str(value)) / 1e6, UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _journal_uptime(value: object) -> float | None:
    try:
        return int(str(value)) / 1e6
    except ValueError:
        return None

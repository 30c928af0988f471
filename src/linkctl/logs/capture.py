"""Capture formats: what a log writer put around the kernel's message.

Raw dmesg with or without `[uptime]` (and the CPU or caller tag some kernels print after
it), `dmesg -T`, `-r`, `-x`, `-d` and `-H`, /dev/kmsg records, classic syslog with or
without a host, a year or sub-second stamps, RFC 3339 (rsyslog's high-precision format,
journald short-iso, `dmesg --time-format iso`), journald short, short-precise, short-full,
short-unix, short-monotonic and JSON, OpenWrt logread, and `kernel:` with no space after it.
Around those, what shippers and dumps add: a facility or severity before `kernel:` ("WARNING
kernel:", "user.info kernel:"), RFC 5424's version and structured data ("<14>1 STAMP HOST
kernel - - - MSG"), a log shipper's level ("INFO - ") or JSON record (capture_json.py), a
container runtime's "[kmsg]", and the kernel log of the last boot that a pstore/ramoops dump
replays through syslog; and from pastes, what comes before a kernel line: grep's "FILE:", a
mail quote's "> ", a code block's line-number gutter, a serial console's or terminal logger's
text before the uptime, an uptime masked as "[xxxxxx]", and "HOST kernel: " with the stamp cut
off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from linkctl.logs.capture_json import member_message, read_json
from linkctl.logs.capture_paste import (
    MASKED_HOST,
    MASKED_STAMP,
    QUOTES,
    after_text,
    elided,
    paste_prefixes,
    tidy,
    unquoted_name,
)
from linkctl.logs.capture_stamp import MONTH_WORD, month_number, stamp_datetime
from linkctl.logs.capture_stamp import YearHint as YearHint  # where the readers take it from
from linkctl.logs.capture_tags import (
    BARE_SEVERITY,
    FACILITY,
    FACILITY_TAG,
    KERNEL_TAG,
    PSTORE,
    SEVERITY_WORD,
    SHIPPER,
)
from linkctl.logs.programs import daemon_tagged

_MON = f"(?P<mon>{MONTH_WORD})"
_DOW = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_HMS = r"(?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)(?:[.,](?P<frac>\d{1,9}))?"

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# The uptime (printk's seconds, up to twelve digits: a clock gone wrong prints
# "[11329930304.896140]"), with what some kernels put inside the bracket (`dmesg -d`'s delta
# "<  0.000123>", an Android CPU "@1") and after it: a letter Amlogic's vendor kernels glue to it
# ("[ 10.29@1]d "), and who printed: CONFIG_PRINTK_CALLER's "[  T123]" or "[    C1]", vendor
# kernels' "[c0]" or "[CPU1]", MediaTek's "(1)[123:kworker/1:2]", Samsung's Exynos kernels'
# "[CPU:COMM:PID]" ("[0:  kworker/u16:0:    6]"), HiSilicon's "[pid:6,cpu0,kworker/0:1]". Those
# belong to the capture, not the message (a driver's own "[qede_tx_timeout:596(ens1f0)]" opens
# with no number, so it stays the message's).
_UPTIME = re.compile(
    r"\[\s*(?P<up>\d{1,12}\.\d{1,9})(?:@\d{1,3}|\s*<\s*\d+\.\d+>)?\](?:(?<=\d\])[a-z](?= ))?\s{0,2}"
    r"(?:\[\s*(?:[TCc]|CPU)\s?\d{1,7}\]\s?|\(\d{1,3}\)\[\d{1,7}:[^\]]{1,32}\]\s?"
    r"|\[\s*\d{1,3}:\s*[^\]\s][^\]]{0,15}:\s*\d{1,7}\]\s{0,2}|\[pid:\d{1,7},cpu\d{1,3},[^\]]{1,32}\]\s?)?"
)
# An uptime somewhere in a line no capture format starts: the kernel's own stamp after a
# terminal logger's or console's text. Six digits after the point, as printk writes them
# (three on a few old kernels).
_EMBEDDED_UPTIME = re.compile(r"\[\s*\d{1,12}\.\d{3,9}\]")
# A paste that lost the uptime's opening bracket (" 7464.901558] igc ..."): printk's six digits
# after the point and the closing bracket at the line's start are the stamp's, nothing else's.
_UPTIME_CUT = re.compile(r"(?P<up>\d{1,12}\.\d{6})\] ")
# Grafana Loki's logcli prints a line's labels between its stamp and the line.
_LOKI_LABELS = re.compile(r'\{[\w.]+="[^"\n]{0,256}"(?:, ?[\w.]+="[^"\n]{0,256}"){0,31}\} ')
_RFC5424_VERSION = re.compile(r"1 (?=\d{4}-\d\d-\d\dT)")
# What a serial console mixes into a pasted dmesg line before its uptime: the shell prompt
# the kernel printed over, with what was being typed ("root@OpenWrt:/# [   89.29] ...",
# "root@lede:/# /etc/init[   90.36] ..."), or the tail of printk's own "** N printk messages
# dropped **". Taken off only right before an uptime bracket.
_CONSOLE = re.compile(
    r"(?:[\w.\-]+@[\w.\-]+:[^\s#$]*[#$] [^\[]{0,80}|(?:\*\* )?\d+ printk messages dropped \*\* )"
    r"(?=\[\s*\d{1,12}\.\d{1,9}\])"
)
# A mail reply's quote marks before a quoted log line.
_QUOTE = re.compile(r"(?:>[ \t]?)+")
# A code block's line-number gutter, as blogs' highlighters render it ("1 | Sep 08 13:59:39 ..."),
# or a table's rule: before any line, a bare message too (capture_paste.py has the rest).
_GUTTER = re.compile(r"(?:\d{1,6} ?)?[|\u2502\u2503] ")
# `grep` over several files: "/var/log/kern.log:", "syslog.1:" or "FILE:LINE:" before the line.
_GREP = re.compile(r"[\w./\-]+:(?:\d+:)?(?=\S)")
# "[HOST ]kernel: MESSAGE": a syslog or journal line whose stamp was cut off when pasted.
_HOST_KERNEL = re.compile(rf"(?:(?:[\w.\-]+|{MASKED_HOST}) )?kernel(?:\[\d+\])?: ")
# A relay's syslog line that kept the host and lost the kernel's tag: "HOST [144077.315932] " after
# the stamp. A word alone: a program's line has its colon ("sshd: ", "sshd[812]: ").
_HOST_BEFORE_UPTIME = re.compile(r"(?P<host>[A-Za-z0-9][\w.\-]{0,62}) (?=\[\s*\d{1,12}\.\d{3,9}\])")
# `journalctl -o short-monotonic` after the uptime: "[  123.456789] HOST kernel: MESSAGE", or
# "kernel: " alone with --no-hostname.
_MONOTONIC_TAG = re.compile(r"(?:(?P<host>[^\s\[\]:]+) )?kernel(?:\[\d+\])?: ?(?P<msg>.*)")
# `talosctl dmesg`: "kern:     err: [2024-06-29T10:52:39.030745602Z]: MESSAGE".
_TALOS = re.compile(r"(?P<fac>[a-z]+):\s+(?P<sev>[a-z]+):\s+\[(?P<stamp>\d{4}-\d\d-\d\dT[^\]]+)\]: (?P<msg>.*)")
_BSD = re.compile(rf"{_MON} +(?P<d>\d{{1,2}})(?: (?P<y>\d{{4}}))? {_HMS} (?P<rest>.*)")
# RFC 3339 and its relatives; a terminal logger writes it in brackets ("[2024-03-30 06:32:45.123] ").
# What starts a capture format after another's stamp: a syslog stamp, an ISO date, a bracket.
_NESTED = re.compile(rf"{_MON} [ \d]\d |\d{{4}}-\d\d-\d\d[T ]\d|\[|<\d")
_RFC3339 = re.compile(
    rf"\[?(?P<y>\d{{4}})-(?P<mo>\d\d)-(?P<d>\d\d)[T ]{_HMS}(?P<tz>Z|[+-]\d\d:?\d\d)?\]?[ ,]?\s*"
    r"(?P<rest>.*)"
)
# `journalctl -o short-full`: "Sat 2024-03-30 06:32:45 CET HOST kernel: MESSAGE".
_SHORT_FULL = re.compile(
    rf"{_DOW} (?P<y>\d{{4}})-(?P<mo>\d\d)-(?P<d>\d\d) {_HMS} (?:[A-Z]{{2,5}}|[+-]\d{{4}}) (?P<rest>.*)"
)
# `journalctl -o short-unix`: "1711780365.123456 HOST kernel: MESSAGE".
_SHORT_UNIX = re.compile(r"(?P<epoch>\d{9,11})\.(?P<frac>\d{1,9}) (?P<rest>.*)")
_DMESG_T = re.compile(
    rf"\[(?:{_DOW}|[^\s\d\]]{{1,5}}\.?) +{_MON} +(?P<d>\d{{1,2}}) {_HMS} (?P<y>\d{{4}})\] ?(?P<rest>.*)"
)
# `dmesg -H`: "[Mar30 06:32] " on a line that starts a minute, "[  +0.000012] " after it;
# `dmesg --time-format delta`: "[<    0.000012>] ". None of them is an uptime.
_RELTIME = re.compile(r"\[(?:[A-Z][a-z]{2} ?\d{1,2} \d\d:\d\d|\s*\+\s*\d+\.\d+|<\s*\d+\.\d+>)\] ?(?P<msg>.*)")
_OPENWRT = re.compile(rf"{_DOW} {_MON} +(?P<d>\d{{1,2}}) {_HMS} (?P<y>\d{{4}}) \w+\.\w+ (?P<rest>.*)")
# The timestamp in microseconds fits a u64 (20 digits): a longer one is no record (and int() of
# one past 4,300 digits raised).
_KMSG = re.compile(r"(?P<pri>\d+),(?P<seq>\d+),(?P<us>\d{1,20}),[^;]*;(?P<msg>.*)")
_PRIORITY = re.compile(r"<\d{1,3}>")
_DMESG_X = re.compile(r"[a-z]+\s*:[a-z]+\s*: ")
# dev_printk's "DRIVER BUS: " after `dmesg --time-format iso`'s stamp reads as "HOST PROG: ": a bus
# address ("spi0.1", "5c000000.ethernet") is no program's name; nor is "net" ("net eth0: " is
# dev_info on a netdev).
_DEVICE = re.compile(
    r"(?P<drv>[A-Za-z][\w.\-]*) (?:[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]"  # PCI
    r"|[0-9a-fA-F]+\.[A-Za-z][\w\-]*"  # platform: "5c000000.ethernet"
    r"|\d+-[\d.]+:\d+\.\d+"  # USB: "2-1.4:1.0"
    r"|(?:spi|i2c|mdio|virtio|vmbus|mii|fixed)-?\d+(?:[.:]\d+)?"  # a numbered bus: "spi0.1", "i2c-1"
    r"|(?P=drv)\.\d+"  # the driver's own device: "bcm63xx_enetsw.0"
    r"): "
)
# "HOST PROG[PID]: " or "PROG[PID]: ": what journald writes for a program after its stamp.
_PROGRAM_PID = re.compile(r"(?:[^\s:\[\]]+ )?[\w.\-/]+\[\d+\]: ")
# "HOST PROG[PID]: ", "PROG[PID]: " or "HOST prog: ": a syslog line of another program.
_PROGRAM = re.compile(r"(?:(?:[^\s:]+ )?[\w.\-/]+\[\d+\]|[^\s:]+ [a-z][\w.\-/]*): ")


@dataclass(frozen=True, slots=True)
class Captured:
    """The kernel message of one log line and what the capture format told about it."""

    message: str
    time: datetime | None = None
    uptime: float | None = None
    host: str | None = None


def clean(line: str) -> str:
    """The line without ANSI colour escapes and control characters."""
    if "\x1b" in line:
        line = _ANSI.sub("", line)
    return _CONTROL.sub(" ", line).strip()


_Read = Captured | None | Literal[False]


def parse_capture(line: str, years: YearHint | None = None) -> Captured | None:
    """The kernel message of a log line; None when the line is another program's."""
    found = _capture(line, years or YearHint())
    if found is None:
        return None
    message = found.message
    if message[:1] in (".", "\u2026", "["):
        message = elided(message)
    elif message[:1] in QUOTES:
        message = unquoted_name(message)
    if message[:1] and not message[0].isalnum():
        # A capture format's stamp, then a tool's own text before the kernel line:
        # "2024-03-30 06:32:45,123 | kern.warn | r8169 ...".
        inner = after_text(message)
        if inner is not None:
            peeled = _with_uptime(inner, found.time)
            uptime = peeled.uptime if found.uptime is None else found.uptime
            return Captured(peeled.message, found.time, uptime, found.host)
    if message is found.message:
        return found
    return Captured(message, found.time, found.uptime, found.host)


def _capture(line: str, years: YearHint) -> Captured | None:
    line = clean(line)
    if not line:
        return None
    if line[0] == "{":
        return _json(line, years)
    member = member_message(line) if line[0] in '"M' else None
    if member is not None:
        line = clean(member)
        if not line:
            return None
    line = _unwrap(tidy(line))
    if not line:
        return None
    found = _read(line, years)
    if found is not False:
        return found
    # grep's "FILE:" before a line that has a capture format of its own.
    m = _GREP.match(line)
    if m:
        found = _framed(line[m.end() :], years)
        if found is not False:
            return found
    # A paste's gutter, prompt, bullet or chat/CI stamp before a capture format.
    for rest in paste_prefixes(line):
        found = _framed(rest, years)
        if found is not False:
            return found
    if daemon_tagged(line):
        return None  # a daemon's line with its tag and no stamp: "bird: bgp1: Link down"
    embedded = _uptime_after_text(line)
    if embedded is not None:
        return embedded
    # No capture format: a bare message (dmesg -t, journalctl -o cat, a paste), maybe after a
    # prompt, a gutter or a stamp nobody listed.
    inner = after_text(line)
    return Captured(line) if inner is None else _with_uptime(inner)


def _framed(line: str, years: YearHint) -> _Read:
    """What a capture format around the line says; False when none is recognised."""
    line = _unwrap(line)
    return _read(line, years) if line else False


def _read(line: str, years: YearHint) -> _Read:
    readers = (
        _bsd,
        _rfc3339,
        _dmesg_t,
        _openwrt,
        _kmsg,
        _dmesg_x,
        _facility,
        _bare_severity,
        _talos,
        _host_kernel,
        _short_full,
        _short_unix,
        _reltime,
        _uptime_first,
    )
    for reader in readers:
        found = reader(line, years)
        if found is not False:
            return found
    return False


def _unwrap(line: str) -> str:
    """The line without what a shipper, runtime or paste put before the capture format."""
    quote = _QUOTE.match(line) or _GUTTER.match(line)
    # A rule alone ("| ") is a gutter only if no other follows: "| Link is Down | yes" is a table.
    if quote and (quote.group(0)[0].isdigit() or quote.re is _QUOTE or "|" not in line[quote.end() :]):
        line = line[quote.end() :]
    if line[:1] in ("I", "D", "N", "W", "E", "T", "C", "["):
        m = SHIPPER.match(line)
        if m:
            line = line[m.end() :]
    m = _CONSOLE.match(line)
    if m:
        line = line[m.end() :]
    if line.startswith("[kmsg]"):
        line = line[len("[kmsg]") :].lstrip(": ")
    if line[:1] == "<":
        line = _unprioritised(line)
        m = _RFC5424_VERSION.match(line)
        if m:
            line = line[m.end() :]
    return line


def _uptime_after_text(line: str) -> Captured | None:
    """A kernel line after text no capture format explains ("Please press Enter to activate
    this console. [   54.83] ...", a terminal logger's own stamp): taken from its uptime on,
    unless the text quotes it (a shell command, a sentence about the line)."""
    m = _EMBEDDED_UPTIME.search(line, 1, 240)
    if m is None:
        return None
    before = line[: m.start()]
    if QUOTES.intersection(before):
        return None
    return _with_uptime(line[m.start() :])


def _json(line: str, years: YearHint) -> Captured | None:
    record = read_json(line)
    if record is None:
        return None
    message = clean(record.message)
    if not record.kernel:
        # A shipper that does not say who wrote the line: the line must show it.
        found = _framed(message, years) if message else False
        return found or None
    if record.uptime is not None:
        return Captured(message, record.time, record.uptime, record.host)
    captured = _with_uptime(message, record.time)
    return Captured(captured.message, captured.time, captured.uptime, record.host)


def _bsd(line: str, years: YearHint) -> _Read:
    m = _BSD.match(line)
    month = month_number(m["mon"]) if m else None
    if m is None or month is None:
        return False
    day = int(m["d"])
    year = int(m["y"]) if m["y"] else years.resolve(month, day)
    return _tagged(m["rest"], stamp_datetime(year, month, day, m))


def _rfc3339(line: str, years: YearHint) -> _Read:
    m = _RFC3339.match(line)
    if not m:
        return False
    when = stamp_datetime(int(m["y"]), int(m["mo"]), int(m["d"]), m, m["tz"])
    rest = m["rest"]
    shipped = _LOKI_LABELS.match(rest) or SHIPPER.match(rest)
    if shipped:
        rest = rest[shipped.end() :]
    tagged = _tagged(rest, when)
    if tagged is not None or FACILITY_TAG.match(rest):
        return tagged
    # `dmesg --time-format iso` puts the message right after the stamp; syslog puts
    # "HOST PROGRAM[PID]: " there, and then the line is not the kernel's.
    if _PROGRAM.match(rest) and not rest.startswith("net ") and not _DEVICE.match(rest):
        return None
    # A CI runner's or a logger's stamp before a line that has a capture format of its own.
    inner = _read(rest, years) if _NESTED.match(rest) else False
    return _with_uptime(rest, when) if inner is False else inner


def _short_full(line: str, years: YearHint) -> _Read:
    m = _SHORT_FULL.match(line)
    if not m:
        return False
    return _tagged(m["rest"], stamp_datetime(int(m["y"]), int(m["mo"]), int(m["d"]), m))


def _short_unix(line: str, years: YearHint) -> _Read:
    m = _SHORT_UNIX.match(line)
    if not m:
        return False
    frac = m["frac"][:6].ljust(6, "0")
    try:
        when = datetime.fromtimestamp(int(m["epoch"]), UTC).replace(microsecond=int(frac))
    except (ValueError, OverflowError, OSError):
        when = None
    return _tagged(m["rest"], when)


def _dmesg_t(line: str, years: YearHint) -> _Read:
    m = _DMESG_T.match(line)
    month = month_number(m["mon"]) if m else None
    if m is None or month is None:
        return False
    when = stamp_datetime(int(m["y"]), month, int(m["d"]), m)
    return _with_uptime(m["rest"], when)


def _reltime(line: str, years: YearHint) -> _Read:
    m = _RELTIME.match(line)
    if not m:
        return False
    return Captured(m["msg"].strip())


def _openwrt(line: str, years: YearHint) -> _Read:
    m = _OPENWRT.match(line)
    month = month_number(m["mon"]) if m else None
    if m is None or month is None:
        return False
    when = stamp_datetime(int(m["y"]), month, int(m["d"]), m)
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
    # `dmesg -x` goes with any time format: "kern  :info  : [Sat Mar 30 ...] MESSAGE".
    rest = line[m.end() :]
    found = _framed(rest, years) if rest else False
    return _with_uptime(rest) if found is False else found


def _facility(line: str, years: YearHint) -> _Read:
    if FACILITY_TAG.match(line):
        return _tagged(line, None)
    m = FACILITY.match(line)
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
    when = stamp_datetime(int(stamp["y"]), int(stamp["mo"]), int(stamp["d"]), stamp, stamp["tz"]) if stamp else None
    return Captured(m["msg"].strip(), when)


def _bare_severity(line: str, years: YearHint) -> _Read:
    if not BARE_SEVERITY.match(line):
        return False
    return _tagged(line, None)


def _host_kernel(line: str, years: YearHint) -> _Read:
    if not _HOST_KERNEL.match(line):
        return False
    return _tagged(line, None)


def _uptime_first(line: str, years: YearHint) -> _Read:
    m = _UPTIME.match(line) or _UPTIME_CUT.match(line)
    if not m:
        masked = MASKED_STAMP.match(line)
        return Captured(line[masked.end() :].strip()) if masked else False
    rest = line[m.end() :].strip()
    tag = _MONOTONIC_TAG.match(rest)
    if tag:
        return Captured(tag["msg"].strip(), None, float(m["up"]), tag["host"])
    if _PROGRAM_PID.match(rest):
        return None  # short-monotonic of another program: "[  123.4] HOST NetworkManager[812]: "
    return Captured(_unprioritised(rest), None, float(m["up"]))


def _tagged(rest: str, when: datetime | None) -> Captured | None:
    """After a syslog stamp: "[HOST ][SEVERITY ]kernel:[ ]MESSAGE", or a pstore dump's
    replayed kernel line; anything else is not the kernel."""
    m = KERNEL_TAG.match(rest) or PSTORE.match(rest) or FACILITY_TAG.match(rest)
    if m is not None and m.re is FACILITY_TAG and m["fac"] != "kern":
        return None  # "daemon.notice: ...": another program's line
    if not m:
        # No syslog line goes on with an uptime: this stamp is `ts`'s or a terminal logger's
        # before a dmesg line ("Mar 30 06:32:45 [  12.500000] MESSAGE"), or a relay's that kept
        # the host and lost the kernel's tag ("Aug 18 10:31:30 senri [144077.315932] tg3: ...").
        if _UPTIME.match(rest):
            return _with_uptime(rest, when)
        relay = _HOST_BEFORE_UPTIME.match(rest)
        if relay is None:
            return None
        captured = _with_uptime(rest[relay.end() :], when)
        return Captured(captured.message, when, captured.uptime, relay["host"])
    host = m["host"]
    if host is not None and m.re is KERNEL_TAG and m["sev"] is None and SEVERITY_WORD.fullmatch(host):
        host = None  # "CRIT kernel:": a severity, not a host
    captured = _with_uptime(m["msg"], when)
    return Captured(captured.message, when, captured.uptime, host)


def _with_uptime(text: str, when: datetime | None = None) -> Captured:
    # A syslog daemon that read /proc/kmsg itself keeps the record's level: "kernel: <6>[ 1.2] ...",
    # "kernel: <4>e1000: ...", and a level after the uptime ("[ 1.2] <6>...").
    text = _unprioritised(text.lstrip())
    m = _UPTIME.match(text)
    if m:
        return Captured(_unprioritised(text[m.end() :]).strip(), when, float(m["up"]))
    masked = MASKED_STAMP.match(text)
    if masked:
        return Captured(text[masked.end() :].strip(), when)
    return Captured(text.strip(), when)


def _unprioritised(text: str) -> str:
    """The text without a record's "<N>" level before it."""
    m = _PRIORITY.match(text) if text[:1] == "<" else None
    return text[m.end() :] if m else text

"""Log lines that are JSON records: `journalctl -o json`, `dmesg --json`'s records, and what
log shippers write (Fluent Bit, Vector, Logstash, syslog-ng, Docker's json-file): the line in
"message", "msg" or "log", and maybe who wrote it ("ident": "kernel", "facility": "kern", ECS's
nested "process": {"name": ...}). And a record's message on a line of its own, as the multi-line
outputs print it: `journalctl -o json-pretty`'s `"MESSAGE" : "..."`, `dmesg --json`'s `"msg":
"..."`, `journalctl -o verbose` and `-o export`'s `MESSAGE=...`. capture.py decides what the
message is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class JsonLine:
    """The line a record carries. `kernel` is True when the record says the kernel wrote
    it; otherwise the message itself must show a kernel line's capture (a stamp and
    "kernel:", an uptime) before it counts."""

    message: str
    kernel: bool
    time: datetime | None = None
    uptime: float | None = None
    host: str | None = None


_JOURNAL_KEYS = ("_TRANSPORT", "SYSLOG_IDENTIFIER", "__REALTIME_TIMESTAMP", "_SOURCE_MONOTONIC_TIMESTAMP")
_MESSAGE_KEYS = ("MESSAGE", "message", "msg", "log", "Message", "short_message", "full_message")
# Keys whose value names the program that logged the line, in the shippers' schemas.
_PROGRAM_KEYS = frozenset(
    (
        "ident",
        "identifier",
        "app",
        "appname",
        "app_name",
        "application",
        "programname",
        "program",
        "syslog_identifier",
        "syslogtag",
        "tag",
        "process",
        "name",
        "source",
        "logger",
    )
)
_HOST_KEYS = ("host", "hostname", "HOSTNAME", "_HOSTNAME", "source_host")


# The member that holds the message, alone on its line; its value is a JSON string.
_MEMBER = re.compile(r'"(?:MESSAGE|message|msg)"\s*:\s*(?P<value>".*")\s*,?')
_EXPORT = re.compile(r"MESSAGE=(?P<value>.*)")


def member_message(line: str) -> str | None:
    """The message of a line that holds only a record's message member or field (the line
    stripped); None for any other line."""
    if line[:1] == "M":
        m = _EXPORT.fullmatch(line)
        return m["value"] if m else None
    m = _MEMBER.fullmatch(line)
    if m is None:
        return None
    try:
        value = json.loads(m["value"])
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def read_json(line: str) -> JsonLine | None:
    """The line a JSON record carries; None for a record that carries none."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    if any(key in record for key in _JOURNAL_KEYS):
        return _journal(record)
    return _shipped(record)


def _journal(record: dict[str, object]) -> JsonLine | None:
    """One record of `journalctl -o json`; only the kernel's records count."""
    if record.get("_TRANSPORT") != "kernel" and record.get("SYSLOG_IDENTIFIER") != "kernel":
        return None
    message = _journal_message(record.get("MESSAGE"))
    if message is None:
        return None
    host = record.get("_HOSTNAME")
    return JsonLine(
        message,
        kernel=True,
        time=_journal_time(record.get("__REALTIME_TIMESTAMP")),
        uptime=_journal_uptime(record.get("_SOURCE_MONOTONIC_TIMESTAMP")),
        host=host if isinstance(host, str) else None,
    )


def _shipped(record: dict[str, object]) -> JsonLine | None:
    if {"pri", "msg"} <= record.keys():
        return _dmesg_record(record)
    message = next((v for k in _MESSAGE_KEYS if isinstance(v := record.get(k), str)), None)
    if message is None:
        return None
    host = next((v for k in _HOST_KEYS if isinstance(v := record.get(k), str)), None)
    return JsonLine(message, kernel=_says_kernel(record), host=host)


def _dmesg_record(record: dict[str, object]) -> JsonLine | None:
    """One record of `dmesg --json` (util-linux): "pri", "time" (the uptime, a number) and "msg";
    with --time-format iso, "time" is a string and no uptime."""
    message = record["msg"]
    if not isinstance(message, str):
        return None
    time = record.get("time")
    uptime = float(time) if isinstance(time, int | float) and not isinstance(time, bool) and time < 1e12 else None
    return JsonLine(message, kernel=True, uptime=uptime)


def _says_kernel(record: dict[str, object]) -> bool:
    """The record names the kernel as its writer: a program key "kernel", facility "kern",
    or Fluent Bit's kmsg input (priority, sequence, sec, usec); nested keys count too (ECS's
    "process": {"name": "kernel"}, "log": {"syslog": {"facility": {"name": "kern"}}})."""
    if {"priority", "sequence", "sec"} <= record.keys():
        return True
    for key, value in _flat(record):
        if isinstance(value, str):
            word = value.strip().rstrip(":").lower()
            if "facility" in key and word in ("kern", "kernel"):
                return True
            if key.rsplit(".", 1)[-1] in _PROGRAM_KEYS and word == "kernel" and not key.startswith("host"):
                return True
    return False


def _flat(record: dict[str, object], depth: int = 3, parent: str = "") -> list[tuple[str, object]]:
    """(dotted key, value) pairs, ECS's nesting spelt out: "log.syslog.facility.name"."""
    items: list[tuple[str, object]] = []
    for key, value in record.items():
        dotted = f"{parent}{key.lower()}"
        if isinstance(value, dict) and depth > 0:
            items.extend(_flat(value, depth - 1, dotted + "."))
        else:
            items.append((dotted, value))
    return items


def _journal_message(value: object) -> str | None:
    if isinstance(value, str):
        return value
    # journald sends a message that is not valid UTF-8 as an array of byte values.
    if isinstance(value, list) and all(isinstance(b, int) and 0 <= b < 256 for b in value):
        return bytes(value).decode("utf-8", "replace")
    return None


def _journal_time(value: object) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(str(value)) / 1e6, UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _journal_uptime(value: object) -> float | None:
    try:
        return int(str(value)) / 1e6
    except (ValueError, OverflowError):  # not a number; a number past a float's range
        return None

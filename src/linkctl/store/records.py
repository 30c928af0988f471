"""What the store's readers return, and the time helpers they share."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from linkctl.domain.events import CarrierCounters, DriverWords, EventKind, EventSource, LinkState, NetnsName, utc
from linkctl.errors import LinkctlError


class StoreError(LinkctlError):
    """The store cannot be opened, migrated or read."""


class BadSince(LinkctlError):
    """`--since` is neither a duration like 24h nor an ISO 8601 time."""


def to_us(when: datetime) -> int:
    """Microseconds since the epoch, exactly (no float rounding)."""
    delta = utc(when) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def duration_ago(text: str, now: datetime | None = None) -> datetime | None:
    """The time `24h`, `7d`, `30m`, `90s` or `2w` ago; None when the text is no such duration."""
    match = _DURATION.match(text)
    if match is None:
        return None
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    return (now or datetime.now(UTC)) - timedelta(seconds=seconds)


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`24h`, `7d`, `30m`, `90s`, `2w`, or an ISO 8601 time (local time if it has no zone)."""
    ago = duration_ago(text, now)
    if ago is not None:
        return ago
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadSince(
            f"--since: {text!r}: expected a duration such as 90s, 30m, 24h, 7d, 2w "
            "or an ISO 8601 time such as 2024-05-01T12:00:00+02:00"
        ) from None
    return when if when.tzinfo is not None else when.astimezone()


@dataclass(frozen=True)
class HistoryRow:
    """One recorded link event, as `linkctl history` prints it."""

    id: int
    time: datetime
    netns: NetnsName
    ifname: str
    ifindex: int
    event: EventKind
    state: LinkState
    source: EventSource
    transitions: int
    carrier: CarrierCounters | None
    detail: str | None
    driver: DriverWords | None
    host: str = ""

    def to_json(self) -> dict[str, Any]:
        carrier = self.carrier
        return {
            "time": self.time.isoformat(),
            "host": self.host,
            "netns": column(self.netns),  # `history --json` has always said "" for the host
            "ifname": self.ifname,
            "ifindex": self.ifindex,
            "event": self.event.value,
            "state": self.state.value,
            "carrier_changes": carrier.changes if carrier else None,
            "carrier_up_count": carrier.up if carrier else None,
            "carrier_down_count": carrier.down if carrier else None,
            "transitions": self.transitions,
            "coalesced": self.event is not EventKind.GAP and self.transitions > 1,
            "source": self.source.value,
            "detail": self.detail,
            "driver": _words_json(self.driver),
        }


def _words_json(words: DriverWords | None) -> dict[str, Any] | None:
    if words is None:
        return None
    return {
        "text": words.text,
        "driver": words.driver,
        "speed_mbps": words.speed_mbps,
        "duplex": words.duplex.value if words.duplex else None,
        "flow_control": words.flow_control.value if words.flow_control else None,
    }


@dataclass(frozen=True)
class LinkStatus:
    """One watched link, as `linkctl status` prints it."""

    netns: NetnsName
    ifname: str
    ifindex: int
    state: LinkState
    since: datetime
    flapping: bool
    carrier_changes: int | None
    present: bool
    host: str = ""
    epoch: int = 0
    transitions: int = 0  # carrier transitions in the window `status` was asked for

    def to_json(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "netns": column(self.netns),
            "ifname": self.ifname,
            "ifindex": self.ifindex,
            "state": self.state.value,
            "since": self.since.isoformat(),
            "flapping": self.flapping,
            "carrier_changes": self.carrier_changes,
            "transitions": self.transitions,
            "present": self.present,
        }


class AlertState:
    PENDING = "pending"
    SENT = "sent"
    SUPPRESSED = "suppressed"  # rate-limited or deduplicated: never sent, on purpose
    DEAD = "dead"  # gave up after the retry limit


@dataclass(frozen=True)
class QueuedAlert:
    """One alert for one receiver, as it sits in the durable queue."""

    id: int
    alert_key: str
    receiver: str
    episode_key: str
    edge: str
    netns: NetnsName
    ifname: str
    payload: dict[str, Any]
    created: datetime
    state: str
    attempts: int
    next_attempt: datetime
    last_error: str | None
    host: str = ""


def column(netns: NetnsName) -> str:
    """The host's namespace as the store's columns (and its JSON) write it: ""; NULL would
    defeat the unique keys on (netns, ...)."""
    return netns or ""


def netns_of(value: str) -> NetnsName:
    return value or None


def dumps(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))

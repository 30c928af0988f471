"""Typed link events read from kernel logs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    """What a kernel line says happened to a link."""

    LINK_DOWN = "link_down"
    LINK_UP = "link_up"
    TX_TIMEOUT = "tx_timeout"
    BOND_MEMBER_DOWN = "bond_member_down"
    BOND_MEMBER_UP = "bond_member_up"
    BRIDGE_PORT_STATE = "bridge_port_state"
    LINK_READY = "link_ready"
    OTHER = "other"


class Duplex(StrEnum):
    FULL = "full"
    HALF = "half"


class FlowControl(StrEnum):
    RX_TX = "rx/tx"
    RX = "rx"
    TX = "tx"
    NONE = "none"


DOWN_KINDS = frozenset({EventKind.LINK_DOWN, EventKind.BOND_MEMBER_DOWN})
UP_KINDS = frozenset({EventKind.LINK_UP, EventKind.BOND_MEMBER_UP})

# The order of `parse --format jsonl` keys; the issue fixes the set.
JSON_KEYS = (
    "event",
    "ifname",
    "driver",
    "bus_id",
    "speed_mbps",
    "duplex",
    "flow_control",
    "time",
    "uptime",
    "host",
    "file",
    "line",
    "raw",
)


@dataclass(frozen=True, slots=True)
class LinkEvent:
    """One link event. `detail` carries what the line adds beyond the fixed keys (the
    bridge port state, the bond master, the watchdog queue) and is not in the JSONL."""

    event: EventKind
    ifname: str | None
    driver: str | None
    bus_id: str | None
    speed_mbps: int | None
    duplex: Duplex | None
    flow_control: FlowControl | None
    time: datetime | None
    uptime: float | None
    host: str | None
    file: str | None
    line: int | None
    raw: str
    detail: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.event.value,
            "ifname": self.ifname,
            "driver": self.driver,
            "bus_id": self.bus_id,
            "speed_mbps": self.speed_mbps,
            "duplex": self.duplex.value if self.duplex else None,
            "flow_control": self.flow_control.value if self.flow_control else None,
            "time": self.time.isoformat() if self.time else None,
            "uptime": self.uptime,
            "host": self.host,
            "file": self.file,
            "line": self.line,
            "raw": self.raw,
        }

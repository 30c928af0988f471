"""The event vocabulary: what happened to a link, as logs, watch, store and alerts all name it.

Two records carry an event, because they hold different things:

- :class:`KernelLogLine`: one kernel log line about a link, as the log parser reads
  it (the line's place in its file, the host, the driver's words); `linkctl logs`
  reports on these and the watcher joins them to its own events.
- :class:`LinkEvent`: one recorded change of a link, as the watcher records it
  (namespace, ifindex, the state after, the carrier counters): `history` shows
  these.

Both name what happened with the one :class:`EventKind`.

Namespaces are :data:`NetnsName`: named as ``ip netns`` names them, None for the
namespace linkctl itself runs in. Where a format cannot hold None (the store's
unique keys, Prometheus labels, event keys, alert bodies) the host's is written
"" at that boundary only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

# None: the namespace linkctl runs in. Declared here only: model.state re-exports it.
NetnsName = str | None


class EventKind(StrEnum):
    """What happened to a link. The values are what `history` prints and the store keeps."""

    LINK_UP = "link_up"
    LINK_DOWN = "link_down"
    LINK_ADDED = "link_added"
    LINK_REMOVED = "link_removed"
    RENAMED = "renamed"
    MOVED = "moved"
    GAP = "gap"
    # IFF_UP cleared or set (`ip link set X down/up`): an operator's doing, not the carrier's.
    # Their `transitions` are the carrier changes the kernel counted with them (a veth or a
    # NIC drops its carrier on close: carrier_down_count + 1; lo counts none).
    ADMIN_DOWN = "admin_down"
    ADMIN_UP = "admin_up"
    # Kernel-log kinds: lines that netlink never reports.
    TX_TIMEOUT = "tx_timeout"
    BOND_MEMBER_DOWN = "bond_member_down"
    BOND_MEMBER_UP = "bond_member_up"
    BRIDGE_PORT_STATE = "bridge_port_state"
    LINK_READY = "link_ready"
    # A line about a link that says no change of its own (tg3's flow control line,
    # IPv6's "link is not ready"). The watcher has always recorded it under this
    # name, in event keys already stored; `linkctl logs` prints it as `log_name`.
    OTHER = "kmsg_other"

    @property
    def is_carrier(self) -> bool:
        """True for the kinds whose `transitions` count carrier changes (the admin kinds too: a
        close drops the carrier and the kernel counts it; `is_admin` tells them from a flap)."""
        return self in _CARRIER_KINDS

    @property
    def is_admin(self) -> bool:
        """True for an administrative down or up: its transitions are no carrier flap."""
        return self in _ADMIN_KINDS

    @property
    def from_kernel_log(self) -> bool:
        return self in _KMSG_ONLY_KINDS

    @property
    def log_name(self) -> str:
        """The name `linkctl logs` prints (JSONL, table, HTML): its published format says "other"."""
        return "other" if self is EventKind.OTHER else self.value


_ADMIN_KINDS = frozenset({EventKind.ADMIN_DOWN, EventKind.ADMIN_UP})
_CARRIER_KINDS = frozenset({EventKind.LINK_UP, EventKind.LINK_DOWN, EventKind.GAP, *_ADMIN_KINDS})
_KMSG_ONLY_KINDS = frozenset(
    {
        EventKind.TX_TIMEOUT,
        EventKind.BOND_MEMBER_DOWN,
        EventKind.BOND_MEMBER_UP,
        EventKind.BRIDGE_PORT_STATE,
        EventKind.LINK_READY,
        EventKind.OTHER,
    }
)

# What the log analysis counts as a link going down or coming back: a bond's
# member is a link of its own there.
DOWN_KINDS = frozenset({EventKind.LINK_DOWN, EventKind.BOND_MEMBER_DOWN})
UP_KINDS = frozenset({EventKind.LINK_UP, EventKind.BOND_MEMBER_UP})


class EventSource(StrEnum):
    NETLINK = "netlink"
    KMSG = "kmsg"
    RESYNC = "resync"


class LinkState(StrEnum):
    """The state an operator means by "the link is up": admin up with carrier."""

    UP = "up"
    DOWN = "down"  # admin up, no carrier: a cable, the switch's port, the other end
    ADMIN_DOWN = "admin_down"  # IFF_UP cleared (`ip link set X down`), whatever the carrier
    ABSENT = "absent"  # removed, or moved to a namespace that is not watched
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        """As the tables print it: "admin down"."""
        return self.value.replace("_", " ")


class Duplex(StrEnum):
    """Duplex as a driver reports it; the log parser only ever reads FULL or HALF."""

    FULL = "full"
    HALF = "half"
    UNKNOWN = "unknown"


class FlowControl(StrEnum):
    RX_TX = "rx/tx"
    RX = "rx"
    TX = "tx"
    NONE = "none"


def require_aware(when: datetime, what: str) -> None:
    """Naive datetimes are refused: a store read across a DST change would lie."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {when!r}")


def utc(when: datetime) -> datetime:
    require_aware(when, "time")
    return when.astimezone(UTC)


def now() -> datetime:
    """The aware time that recorded events are stamped with."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class KernelLogLine:
    """One kernel log line about a link. `detail` carries what the line adds beyond the
    JSONL keys (the bridge port state, the bond master, the watchdog queue) and is not in
    the JSONL. Times are as the capture gave them: naive when the format has no zone."""

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
        """One `logs parse --format jsonl` record; its key order is the documented one."""
        return {
            "event": self.event.log_name,
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


@dataclass(frozen=True)
class DriverWords:
    """What the driver itself said in the kernel log about this change."""

    text: str | None = None
    driver: str | None = None
    speed_mbps: int | None = None
    duplex: Duplex | None = None
    flow_control: FlowControl | None = None

    @property
    def empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))


@dataclass(frozen=True)
class CarrierCounters:
    """IFLA_CARRIER_CHANGES and, on kernels that send them (5.x+), UP/DOWN_COUNT."""

    changes: int
    up: int | None = None
    down: int | None = None


@dataclass(frozen=True)
class LinkEvent:
    """One recorded change of a link.

    `carrier` holds the kernel's counters *after* the event; `transitions` is how
    many carrier transitions the event stands for: 1, more when the kernel
    coalesced several into one notification (or during a gap), 0 when the state
    changed without a carrier change (administrative down of a link whose
    driver keeps the carrier, a rename, a kernel-log line).
    """

    time: datetime
    netns: NetnsName
    ifname: str
    ifindex: int
    kind: EventKind
    state: LinkState
    source: EventSource
    transitions: int = 0
    carrier: CarrierCounters | None = None
    driver: DriverWords | None = None
    detail: str | None = None  # old name for renamed, target netns for moved
    epoch: int = 0  # identifies the incarnation of (netns, ifindex): see `key`

    def __post_init__(self) -> None:
        require_aware(self.time, "LinkEvent.time")
        if self.transitions < 0:
            raise ValueError(f"transitions must be >= 0, got {self.transitions}")

    @property
    def coalesced(self) -> bool:
        return self.kind is not EventKind.GAP and self.transitions > 1

    @property
    def carrier_changes(self) -> int | None:
        return None if self.carrier is None else self.carrier.changes

    @property
    def key(self) -> str:
        """Natural key: the same event seen twice (replay after a crash) has the same key.

        A carrier event is identified by the kernel's counter after it, which
        never repeats within one incarnation of a link; `epoch` tells
        incarnations apart when a namespace is re-created and hands out the same
        ifindex again. Events that moved no counter fall back to their time.
        """
        # "" for the host: the keys already stored were made so.
        base = f"{self.netns or ''}/{self.ifindex}/{self.epoch}/{self.kind.value}"
        counted = self.transitions > 0 and self.source is not EventSource.KMSG
        if self.kind.is_carrier and self.carrier is not None and counted:
            return f"{base}/c{self.carrier.changes}"
        micros = int(utc(self.time).timestamp() * 1_000_000)
        return f"{base}/t{micros}"

    def with_driver(self, words: DriverWords) -> LinkEvent:
        return replace(self, driver=words)


@dataclass(frozen=True)
class KnownLink:
    """What the watcher (and the store, across restarts) last knew of a link."""

    netns: NetnsName
    ifindex: int
    ifname: str
    state: LinkState
    since: datetime
    counters: CarrierCounters | None
    epoch: int
    flapping: bool = False
    # Which namespace it was in (linkctl.kernel.netns.identity): a namespace re-created under
    # the same name hands out the same ifindexes again. None in rows written before it was kept.
    netns_id: str | None = None

    def __post_init__(self) -> None:
        require_aware(self.since, "KnownLink.since")


class SnapshotReason(StrEnum):
    PERIODIC = "periodic"
    LINK_DOWN = "link_down"
    RESYNC = "resync"


# The rtnl_link_stats64 fields kept in a snapshot, in store column order.
STATS_FIELDS: tuple[str, ...] = (
    "rx_bytes",
    "tx_bytes",
    "rx_packets",
    "tx_packets",
    "rx_errors",
    "tx_errors",
    "rx_dropped",
    "tx_dropped",
    "rx_over_errors",
    "rx_fifo_errors",
    "tx_fifo_errors",
    "rx_crc_errors",
    "rx_frame_errors",
    "tx_carrier_errors",
)


@dataclass(frozen=True)
class CounterSnapshot:
    """A link's counters at one moment: the evidence that survives a driver reset."""

    time: datetime
    netns: NetnsName
    ifname: str
    ifindex: int
    reason: SnapshotReason = SnapshotReason.PERIODIC
    rx_bytes: int = 0
    tx_bytes: int = 0
    rx_packets: int = 0
    tx_packets: int = 0
    rx_errors: int = 0
    tx_errors: int = 0
    rx_dropped: int = 0
    tx_dropped: int = 0
    rx_over_errors: int = 0
    rx_fifo_errors: int = 0
    tx_fifo_errors: int = 0
    rx_crc_errors: int = 0
    rx_frame_errors: int = 0
    tx_carrier_errors: int = 0
    ethtool: dict[str, int] | None = field(default=None, hash=False)

    def __post_init__(self) -> None:
        require_aware(self.time, "CounterSnapshot.time")

    def stats(self) -> dict[str, int]:
        return {name: int(getattr(self, name)) for name in STATS_FIELDS}

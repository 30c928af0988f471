"""Typed records that flow through the live watcher.

Everything the watcher produces is one of these frozen dataclasses: a
:class:`LinkEvent` (one per netlink message that changed something, per kernel
log line, or per resync gap), a :class:`CounterSnapshot` (stats64 and ethtool
counters at a moment), a :class:`FlapEpisode` and the :class:`FlapNotice` that
opens or closes it. The store, the alert senders and the metrics read them; none
of them builds its own dict of string constants.

Namespaces are named as ``ip netns`` names them; the namespace the watcher itself
runs in is :data:`HOST_NETNS` (the empty string), because ``NULL`` would defeat
the store's unique keys and Prometheus drops empty labels the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from linkctl.logs.events import LinkEvent as LogLinkEvent

HOST_NETNS = ""


class EventKind(StrEnum):
    """What happened to a link. The values are what `history` prints."""

    LINK_UP = "link_up"
    LINK_DOWN = "link_down"
    LINK_ADDED = "link_added"
    LINK_REMOVED = "link_removed"
    RENAMED = "renamed"
    MOVED = "moved"
    GAP = "gap"
    # Kernel-log kinds (linkctl.logs): lines that netlink never reports.
    TX_TIMEOUT = "tx_timeout"
    BOND_MEMBER_DOWN = "bond_member_down"
    BOND_MEMBER_UP = "bond_member_up"
    BRIDGE_PORT_STATE = "bridge_port_state"
    LINK_READY = "link_ready"
    KMSG_OTHER = "kmsg_other"

    @property
    def is_carrier(self) -> bool:
        """True for the kinds whose `transitions` count carrier changes."""
        return self in _CARRIER_KINDS

    @property
    def from_kernel_log(self) -> bool:
        return self in _KMSG_ONLY_KINDS


_CARRIER_KINDS = frozenset({EventKind.LINK_UP, EventKind.LINK_DOWN, EventKind.GAP})
_KMSG_ONLY_KINDS = frozenset(
    {
        EventKind.TX_TIMEOUT,
        EventKind.BOND_MEMBER_DOWN,
        EventKind.BOND_MEMBER_UP,
        EventKind.BRIDGE_PORT_STATE,
        EventKind.LINK_READY,
        EventKind.KMSG_OTHER,
    }
)


class EventSource(StrEnum):
    NETLINK = "netlink"
    KMSG = "kmsg"
    RESYNC = "resync"


class LinkState(StrEnum):
    """The state an operator means by "the link is up": admin up with carrier."""

    UP = "up"
    DOWN = "down"
    ABSENT = "absent"  # removed, or moved to a namespace that is not watched
    UNKNOWN = "unknown"


class Duplex(StrEnum):
    FULL = "full"
    HALF = "half"
    UNKNOWN = "unknown"


def require_aware(when: datetime, what: str) -> None:
    """Naive datetimes are refused: a store read across a DST change would lie."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {when!r}")


def utc(when: datetime) -> datetime:
    require_aware(when, "time")
    return when.astimezone(UTC)


@dataclass(frozen=True)
class DriverWords:
    """What the driver itself said in the kernel log about this change."""

    text: str | None = None
    driver: str | None = None
    speed_mbps: int | None = None
    duplex: Duplex | None = None
    flow_control: str | None = None

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
    netns: str
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
        base = f"{self.netns}/{self.ifindex}/{self.epoch}/{self.kind.value}"
        counted = self.transitions > 0 and self.source is not EventSource.KMSG
        if self.kind.is_carrier and self.carrier is not None and counted:
            return f"{base}/c{self.carrier.changes}"
        micros = int(utc(self.time).timestamp() * 1_000_000)
        return f"{base}/t{micros}"

    def with_driver(self, words: DriverWords) -> LinkEvent:
        return replace(self, driver=words)


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
    netns: str
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


class FlapTrigger(StrEnum):
    """Which rule opened the episode (both can hold at the same time)."""

    RATE = "rate"
    NAGIOS = "nagios"
    BOTH = "both"


@dataclass(frozen=True)
class FlapEpisode:
    """A period in which a link flapped.

    `end` is the time of the last transition of the episode (when the link
    settled); `cleared_at` is when the rules let go of it, which is later by up
    to the rate window. Both are None while the episode is open.
    """

    netns: str
    ifname: str
    ifindex: int
    start: datetime
    transitions: int
    down_seconds: float
    trigger: FlapTrigger
    peak_percent: float = 0.0
    end: datetime | None = None
    cleared_at: datetime | None = None

    def __post_init__(self) -> None:
        require_aware(self.start, "FlapEpisode.start")
        for when in (self.end, self.cleared_at):
            if when is not None:
                require_aware(when, "FlapEpisode.end")

    @property
    def open(self) -> bool:
        return self.cleared_at is None

    @property
    def key(self) -> str:
        micros = int(utc(self.start).timestamp() * 1_000_000)
        return f"{self.netns}/{self.ifindex}/{micros}"


class EpisodeEdge(StrEnum):
    START = "start"
    END = "end"


@dataclass(frozen=True)
class FlapNotice:
    """Sent when an episode starts and when it ends: alerts are per episode."""

    edge: EpisodeEdge
    episode: FlapEpisode


@dataclass(frozen=True)
class KernelLogRecord:
    """A kernel log line about a link, as the log parser hands it to the watcher.

    `kind` is LINK_UP / LINK_DOWN for "Link is Up/Down" lines (they are joined
    to the netlink event of the same link) or a kernel-log kind such as
    TX_TIMEOUT (recorded as an event of its own). `netns` is None when the line
    does not say (kernel lines name the device only).
    """

    time: datetime
    ifname: str
    kind: EventKind
    words: DriverWords
    netns: str | None = None

    def __post_init__(self) -> None:
        require_aware(self.time, "KernelLogRecord.time")


def kernel_record_from_log(line: LogLinkEvent, netns: str | None = None) -> KernelLogRecord | None:
    """Adapt a parsed kernel log line (linkctl.logs) for the watcher.

    Returns None for lines that name no device or carry no time: they cannot be
    joined to a link or placed in its history.
    """
    if line.ifname is None or line.time is None:
        return None
    kind = EventKind.KMSG_OTHER if line.event.value == "other" else EventKind(line.event.value)
    words = DriverWords(
        text=line.raw,
        driver=line.driver,
        speed_mbps=line.speed_mbps,
        duplex=Duplex(line.duplex.value) if line.duplex is not None else None,
        flow_control=line.flow_control.value if line.flow_control is not None else None,
    )
    when = line.time if line.time.tzinfo is not None else line.time.astimezone()
    return KernelLogRecord(time=when, ifname=line.ifname, kind=kind, words=words, netns=netns)

"""Kernel log lines as the watcher joins them to its netlink events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from linkctl.domain.events import DriverWords, EventKind, KernelLogLine, require_aware


@dataclass(frozen=True)
class KernelLogRecord:
    """A kernel log line about a link, as the log parser hands it to the watcher.

    `kind` is LINK_UP / LINK_DOWN for "Link is Up/Down" lines (they are joined
    to the netlink event of the same link) or a kernel-log kind such as
    TX_TIMEOUT (recorded as an event of its own). `netns` is a namespace the line
    is known to come from, None when it does not say (kernel lines name the device
    only): the link is then looked for in every namespace, the host's first.
    """

    time: datetime
    ifname: str
    kind: EventKind
    words: DriverWords
    netns: str | None = None

    def __post_init__(self) -> None:
        require_aware(self.time, "KernelLogRecord.time")


# The module that drives each kind of virtual link (IFLA_INFO_KIND -> the driver a kernel log
# line names): a line a NIC's driver wrote is not about a veth of the same name, and a veth's
# line is not about a NIC's. Kinds not listed are not judged.
KIND_DRIVERS = {
    "veth": "veth",
    "bridge": "bridge",
    "bond": "bonding",
    "vlan": "8021q",
    "vxlan": "vxlan",
    "geneve": "geneve",
    "macvlan": "macvlan",
    "macvtap": "macvtap",
    "ipvlan": "ipvlan",
    "tun": "tun",
    "ifb": "ifb",
    "dummy": "dummy",
    "team": "team",
    "wireguard": "wireguard",
}
_VIRTUAL_DRIVERS = frozenset(KIND_DRIVERS.values())


def driver_fits(driver: str | None, kind: str | None) -> bool:
    """Whether a line the driver `driver` wrote (None: the stack's, naming no driver) can be
    about a link of IFLA_INFO_KIND `kind` (None: a NIC's own device)."""
    if driver is None:
        return True
    if kind is None:
        return driver not in _VIRTUAL_DRIVERS
    return KIND_DRIVERS.get(kind, driver) == driver


def kernel_record_from_log(line: KernelLogLine, netns: str | None = None) -> KernelLogRecord | None:
    """Adapt a parsed kernel log line (linkctl.logs) for the watcher.

    Returns None for lines that name no device or carry no time: they cannot be
    joined to a link or placed in its history.
    """
    if line.ifname is None or line.time is None:
        return None
    words = DriverWords(
        text=line.raw,
        driver=line.driver,
        speed_mbps=line.speed_mbps,
        duplex=line.duplex,
        flow_control=line.flow_control,
    )
    when = line.time if line.time.tzinfo is not None else line.time.astimezone()
    return KernelLogRecord(time=when, ifname=line.ifname, kind=line.event, words=words, netns=netns)

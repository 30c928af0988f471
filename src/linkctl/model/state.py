"""Current link state as typed objects, as the kernel reports it.

The kernel adapters fill these in; everything else only reads them. A namespace
is named as `ip netns` names it; ``None`` is the namespace linkctl itself runs in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import IntEnum, IntFlag
from typing import TYPE_CHECKING, NamedTuple

from linkctl.domain.events import NetnsName as NetnsName  # the one spelling, re-exported for model's users

if TYPE_CHECKING:  # read only by commands that declare or show layer 3
    from linkctl.model.l3_state import L3State


class IfFlag(IntFlag):
    """The net_device flags (include/uapi/linux/if.h) that linkctl reads or sets."""

    UP = 0x1
    BROADCAST = 0x2
    LOOPBACK = 0x8
    POINTOPOINT = 0x10
    RUNNING = 0x40
    NOARP = 0x80
    PROMISC = 0x100
    ALLMULTI = 0x200
    MASTER = 0x400
    SLAVE = 0x800
    MULTICAST = 0x1000
    LOWER_UP = 0x10000
    DORMANT = 0x20000


class OperState(IntEnum):
    """RFC 2863 operational state, as IFLA_OPERSTATE carries it."""

    UNKNOWN = 0
    NOTPRESENT = 1
    DOWN = 2
    LOWERLAYERDOWN = 3
    TESTING = 4
    DORMANT = 5
    UP = 6

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Stats:
    """The rtnl_link_stats64 counters that `ip -s -s link` prints."""

    rx_bytes: int = 0
    rx_packets: int = 0
    rx_errors: int = 0
    rx_dropped: int = 0
    rx_over_errors: int = 0
    rx_crc_errors: int = 0
    rx_frame_errors: int = 0
    rx_fifo_errors: int = 0
    rx_missed_errors: int = 0
    tx_bytes: int = 0
    tx_packets: int = 0
    tx_errors: int = 0
    tx_dropped: int = 0
    tx_carrier_errors: int = 0
    tx_fifo_errors: int = 0
    collisions: int = 0
    multicast: int = 0


@dataclass(frozen=True)
class VethInfo:
    peer_ifindex: int | None = None
    peer_netnsid: int | None = None  # set when the peer lives in another namespace


@dataclass(frozen=True)
class VxlanInfo:
    vni: int | None = None
    local: str | None = None
    remote: str | None = None
    base_ifindex: int | None = None
    port: int | None = None
    learning: bool | None = None


@dataclass(frozen=True)
class MacvlanInfo:
    """mac-vlan and mac-vtap (one netlink layout)."""

    mode: str | None = None
    flags: int | None = None  # IFLA_MACVLAN_FLAGS: NOPROMISC (1), NODST (2)


@dataclass(frozen=True)
class IpvlanInfo:
    mode: int | None = None  # IFLA_IPVLAN_MODE: l2 0, l3 1, l3s 2
    flags: int | None = None  # IFLA_IPVLAN_FLAGS: PRIVATE (1), VEPA (2)


@dataclass(frozen=True)
class VlanInfo:
    vid: int | None = None
    protocol: str | None = None


@dataclass(frozen=True)
class BondInfo:
    mode: str | None = None
    miimon: int | None = None
    updelay: int | None = None
    downdelay: int | None = None
    primary_ifindex: int | None = None
    # Every IFLA_BOND_* the kernel sent, by the attribute table's name (linkctl/nla/ifla.py).
    data: dict[str, object] = field(default_factory=dict, compare=True, hash=False)


@dataclass(frozen=True)
class BridgeInfo:
    stp: bool | None = None
    forward_delay: int | None = None  # clock_t ticks (centiseconds), as the kernel keeps it
    priority: int | None = None
    ageing_time: int | None = None  # clock_t ticks
    hello_time: int | None = None  # clock_t ticks
    max_age: int | None = None  # clock_t ticks
    multicast_snooping: bool | None = None
    # Every IFLA_BR_* the kernel sent, by the attribute table's name (linkctl/nla/ifla.py): the
    # multicast and VLAN options are read from here.
    data: dict[str, object] = field(default_factory=dict, compare=True, hash=False)


KindInfo = VethInfo | VxlanInfo | MacvlanInfo | IpvlanInfo | VlanInfo | BondInfo | BridgeInfo | None


class BridgePortInfo(NamedTuple):
    """A bridge port's own STP settings (IFLA_INFO_SLAVE_DATA), as nmstate names them."""

    stp_priority: int | None = None
    stp_path_cost: int | None = None
    stp_hairpin_mode: bool | None = None


class BondPortInfo(NamedTuple):
    """A bond port's settings (IFLA_INFO_SLAVE_DATA), as nmstate's ports-config names them."""

    queue_id: int | None = None
    priority: int | None = None


@dataclass(frozen=True)
class Link:
    """One link as the kernel reports it (one RTM_NEWLINK message)."""

    ifindex: int
    name: str
    netns: NetnsName = None
    kind: str | None = None  # IFLA_INFO_KIND; None for physical NICs and loopback
    flags: IfFlag = IfFlag(0)  # noqa: RUF009 - an immutable int flag
    mtu: int = 0
    min_mtu: int | None = None
    max_mtu: int | None = None
    txqlen: int = 0
    mac: str | None = None
    perm_mac: str | None = None
    operstate: OperState = OperState.UNKNOWN
    carrier: bool | None = None
    carrier_changes: int | None = None
    carrier_up_count: int | None = None
    carrier_down_count: int | None = None
    link_ifindex: int | None = None  # IFLA_LINK: the lower device, or a veth's peer
    link_netnsid: int | None = None
    master_ifindex: int | None = None
    slave_kind: str | None = None
    port: BridgePortInfo | None = None  # its settings as a bridge's port
    bond_port: BondPortInfo | None = None  # its settings as a bond's port (ports-config)
    promiscuity: int | None = None
    info: KindInfo = None
    stats: Stats | None = None
    parent_bus: str | None = None  # "pci" etc. for devices with a bus: physical NICs
    group: int = 0  # IFLA_GROUP (`ip link set group`); 0 is "default"
    alias: str | None = None  # IFLA_IFALIAS (`ip link set alias`): nmstate's description; None when unset
    # A bridge port's VLANs, (vid, BRIDGE_VLAN_INFO_PVID | _UNTAGGED flags) by id, as `bridge vlan` shows
    # them; None where they were not read (kernel/state.py reads them only where they matter).
    vlans: tuple[tuple[int, int], ...] | None = None

    # The flag tests go through int's own `&`: IntFlag's is Python code in the enum
    # module, 10x slower, and the planner asks these of every link in every plan.
    @property
    def admin_up(self) -> bool:
        return _and(self.flags, _UP) != 0

    @property
    def no_carrier(self) -> bool:
        """`ip link` prints NO-CARRIER for an admin-up link without LOWER_UP."""
        return self.admin_up and _and(self.flags, _LOWER_UP) == 0

    @property
    def promisc(self) -> bool:
        """IFF_PROMISC as set by a user, not the promiscuity a bridge adds."""
        return _and(self.flags, _PROMISC) != 0

    @property
    def is_loopback(self) -> bool:
        return _and(self.flags, _LOOPBACK) != 0


_and = int.__and__
_UP, _LOWER_UP, _PROMISC, _LOOPBACK = (int(f) for f in (IfFlag.UP, IfFlag.LOWER_UP, IfFlag.PROMISC, IfFlag.LOOPBACK))


@dataclass
class NetnsState:
    """All links of one namespace, by name and by index."""

    netns: NetnsName
    links: dict[str, Link] = field(default_factory=dict)
    _index: dict[int, Link] | None = field(default=None, repr=False, compare=False)
    l3: L3State | None = None  # addresses, routes, rules: read only when a command needs them

    @classmethod
    def of(cls, netns: NetnsName, links: Iterable[Link]) -> NetnsState:
        return cls(netns, {link.name: link for link in links})

    def by_index(self, ifindex: int | None) -> Link | None:
        if ifindex is None:
            return None
        index = self._index
        if index is None or len(index) != len(self.links):
            index = self._index = {lk.ifindex: lk for lk in self.links.values()}
        return index.get(ifindex)

    def name_of(self, ifindex: int | None) -> str | None:
        link = self.by_index(ifindex)
        return link.name if link else None

    def ports_of(self, master: str) -> list[str]:
        mlink = self.links.get(master)
        if mlink is None:
            return []
        return sorted(n for n, lk in self.links.items() if lk.master_ifindex == mlink.ifindex)


@dataclass
class HostState:
    """The links of every namespace that a command looked at, read once."""

    namespaces: dict[NetnsName, NetnsState] = field(default_factory=dict)
    # netnsid (as seen from one namespace) -> namespace name, to name a veth peer elsewhere
    netnsids: dict[tuple[NetnsName, int], NetnsName] = field(default_factory=dict)
    # The fingerprint of the kernel messages this was read from (kernel/linkdump.py), when asked for.
    digest: str | None = None

    def ns(self, netns: NetnsName) -> NetnsState:
        state = self.namespaces.get(netns)
        if state is None:
            state = self.namespaces[netns] = NetnsState(netns)
        return state

    def find(self, name: str, netns: NetnsName) -> Link | None:
        state = self.namespaces.get(netns)
        return state.links.get(name) if state else None

    def __iter__(self) -> Iterator[Link]:
        for state in self.namespaces.values():
            yield from state.links.values()

    def link_net(self, link: Link) -> tuple[bool, NetnsName]:
        """(known, namespace) where `link`'s IFLA_LINK_NETNSID points: its own without one;
        unknown when that namespace was not read (or has no name)."""
        if link.link_netnsid is None:
            return True, link.netns
        key = (link.netns, link.link_netnsid)
        return (True, self.netnsids[key]) if key in self.netnsids else (False, None)

    def in_link_net(self, link: Link, index: int | None) -> Link | None:
        """The link with this ifindex in `link`'s link-net (a VXLAN's underlay left behind by a move)."""
        known, netns = self.link_net(link)
        state = self.namespaces.get(netns) if known else None
        return state.by_index(index) if state is not None and index is not None else None

    def peer_of(self, link: Link) -> Link | None:
        """The other end of a veth, in whichever namespace it lives."""
        if not isinstance(link.info, VethInfo) or link.info.peer_ifindex is None:
            return None
        netns = link.netns
        if link.info.peer_netnsid is not None:
            key = (link.netns, link.info.peer_netnsid)
            if key not in self.netnsids:
                return None
            netns = self.netnsids[key]
        state = self.namespaces.get(netns)
        return state.by_index(link.info.peer_ifindex) if state else None

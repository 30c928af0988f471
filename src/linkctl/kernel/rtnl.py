"""RTM_*LINK messages: a targeted decoder into `Link`, and request encoders.

The decoder walks only the attributes linkctl uses (see linkctl/nla.py for why it is
hand-written); kind data is handed to the kind's own module.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from linkctl.kernel import rtnl_const as C
from linkctl.kinds import BY_KERNEL_KIND
from linkctl.model.state import BondPortInfo, IfFlag, Link, NetnsName, OperState, Stats, VethInfo
from linkctl.nla import (
    IFINFOMSG,
    NLA_HDR,
    NLM_F_ACK,
    NLM_F_CREATE,
    NLM_F_EXCL,
    NLM_F_REQUEST,
    U8,
    U32,
    WU32,
    attr,
    attr_str,
    attr_u32,
    cstr,
    ifla,
    iter_attrs,
    mac_bytes,
    mac_str,
    message,
    nested,
)

_STATS64 = struct.Struct("=" + "Q" * 23)

# The Link fields both decoders fill (this one and kernel/linkshape.py's), by the attribute of the
# link table (linkctl/nla/ifla.py) that carries each, and what its payload is read as: "int" its
# table's fixed width; the others name a reading of the whole payload (READINGS below, and the
# shape decoder's own for one struct call). IFLA_LINKINFO is the kind's: handed to its module.
FIELDS: dict[str, tuple[str, str]] = {
    "mtu": ("mtu", "int"),
    "min_mtu": ("min_mtu", "int"),
    "max_mtu": ("max_mtu", "int"),
    "txqlen": ("txqlen", "int"),
    "link": ("link_ifindex", "int"),
    "master": ("master_ifindex", "int"),
    "promiscuity": ("promiscuity", "int"),
    "carrier_changes": ("carrier_changes", "int"),
    "carrier_up_count": ("carrier_up_count", "int"),
    "carrier_down_count": ("carrier_down_count", "int"),
    "group": ("group", "int"),
    "link_netnsid": ("link_netnsid", "int"),
    "ifname": ("name", "string"),
    "address": ("mac", "mac"),
    "perm_address": ("perm_mac", "mac"),
    "operstate": ("operstate", "operstate"),
    "carrier": ("carrier", "bool"),
    "stats64": ("stats", "stats"),
    "parent_dev_bus_name": ("parent_bus", "string"),
    "ifalias": ("alias", "string"),  # nmstate's description
}
ATTR = {name: ifla.LINK.by_name[name] for name in FIELDS}  # KeyError at import: a name not in the table
IFLA_IFALIAS = ATTR["ifalias"].num  # the link's alias, nmstate's description (sent only when set)
_U32_FIELDS = {ATTR[a].num: f for a, (f, how) in FIELDS.items() if how == "int" and ATTR[a].wire is WU32}
_SCALARS = {ATTR[a].num: (f, ATTR[a].wire.code) for a, (f, how) in FIELDS.items() if how == "int"}


def decode_link(buf: bytes, off: int, end: int, netns: NetnsName) -> Link:
    """One RTM_NEWLINK payload (ifinfomsg and attributes) into a Link.

    The attribute walk is inlined (no generator, no helper calls per attribute):
    this runs once per link in every dump and every event.
    """
    _family, _type, index, flags, _change = IFINFOMSG.unpack_from(buf, off)
    fields: dict[str, object] = {}
    kind_data: tuple[int, int] | None = None
    u32 = _U32_FIELDS
    unpack_hdr = NLA_HDR.unpack_from
    pos = off + IFINFOMSG.size
    while pos + 4 <= end:
        length, atype = unpack_hdr(buf, pos)
        if length < 4:
            break
        atype &= 0x3FFF
        s, e = pos + 4, pos + length
        pos += (length + 3) & ~3
        name = u32.get(atype)
        if name is not None:
            fields[name] = U32.unpack_from(buf, s)[0]
        elif atype in _OTHER:
            kind_data = _other(atype, buf, s, e, fields) or kind_data
    fields.setdefault("name", "")
    return _build(index, flags, netns, fields, buf, kind_data)


def _other(atype: int, buf: bytes, s: int, e: int, fields: dict[str, object]) -> tuple[int, int] | None:
    if atype == C.IFLA_LINKINFO:
        return _linkinfo(buf, s, e, fields)
    scalar = _SCALARS.get(atype)
    if scalar is not None:
        field, code = scalar
        assert code is not None
        fields[field] = code.unpack_from(buf, s)[0]
        return None
    field, how = _BY_NUM[atype]
    fields[field] = READINGS[how](buf, s, e)
    return None


_OPERSTATES = list(OperState)
READINGS: dict[str, Callable[[bytes, int, int], object]] = {
    "string": cstr,
    "mac": mac_str,
    "operstate": lambda buf, s, e: _OPERSTATES[min(U8.unpack_from(buf, s)[0], 6)],
    "bool": lambda buf, s, e: bool(buf[s]),
    "stats": lambda buf, s, e: _stats(buf, s, e),
}
_BY_NUM = {ATTR[a].num: (f, how) for a, (f, how) in FIELDS.items() if how != "int"}
# Decoded by _other: whatever is not a u32 field (those are inlined in decode_link).
_OTHER = frozenset({*_SCALARS, *_BY_NUM, C.IFLA_LINKINFO} - set(_U32_FIELDS))


def _build(
    index: int, flags: int, netns: NetnsName, fields: dict[str, object], buf: bytes, data: tuple[int, int] | None
) -> Link:
    kind = fields.get("kind")
    slave = fields.pop("slave_data", None)
    if isinstance(slave, tuple) and fields.get("slave_kind"):
        controller = BY_KERNEL_KIND.get(str(fields["slave_kind"]))
        port = controller.decode_port(buf, slave[0], slave[1]) if controller is not None else None
        if port is not None:
            fields["bond_port" if isinstance(port, BondPortInfo) else "port"] = port
    if kind == "veth":
        # A veth's IFLA_LINK is its peer; the peer's namespace comes as a netnsid.
        fields["info"] = VethInfo(fields.get("link_ifindex"), fields.get("link_netnsid"))  # type: ignore[arg-type]
    elif kind is not None:
        module = BY_KERNEL_KIND.get(str(kind))
        if module is not None:
            start, end = data if data else (0, 0)
            fields["info"] = module.decode(buf, start, end)
    flag = _FLAGS.get(flags)
    if flag is None:  # a few distinct values per dump; making an IntFlag costs 1-2 us
        flag = _FLAGS[flags] = IfFlag(flags)
    return Link(ifindex=index, netns=netns, flags=flag, **fields)  # type: ignore[arg-type]


_FLAGS: dict[int, IfFlag] = {}


def _linkinfo(buf: bytes, off: int, end: int, fields: dict[str, object]) -> tuple[int, int] | None:
    data = None
    for atype, s, e in iter_attrs(buf, off, end):
        if atype == C.IFLA_INFO_KIND:
            fields["kind"] = cstr(buf, s, e)
        elif atype == C.IFLA_INFO_SLAVE_KIND:
            fields["slave_kind"] = cstr(buf, s, e)
        elif atype == C.IFLA_INFO_DATA:
            data = (s, e)
        elif atype == C.IFLA_INFO_SLAVE_DATA:
            fields["slave_data"] = (s, e)  # decoded by _build, once the slave kind is known
    return data


def _stats(buf: bytes, s: int, e: int) -> Stats | None:
    if e - s < _STATS64.size:
        return None
    v = _STATS64.unpack_from(buf, s)
    # Order of struct rtnl_link_stats64 (include/uapi/linux/if_link.h).
    return Stats(
        rx_packets=v[0], tx_packets=v[1], rx_bytes=v[2], tx_bytes=v[3],
        rx_errors=v[4], tx_errors=v[5], rx_dropped=v[6], tx_dropped=v[7],
        multicast=v[8], collisions=v[9], rx_over_errors=v[11], rx_crc_errors=v[12],
        rx_frame_errors=v[13], rx_fifo_errors=v[14], rx_missed_errors=v[15],
        tx_carrier_errors=v[17], tx_fifo_errors=v[18],
    )  # fmt: skip


# --- requests -------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkAttrs:
    """The common attributes of a link request; None leaves the kernel's value."""

    name: str | None = None
    mtu: int | None = None
    txqlen: int | None = None
    mac: str | None = None
    master: int | None = None  # 0 releases the link from its master
    netns_fd: int | None = None
    link: int | None = None  # IFLA_LINK: the lower device at creation
    up: bool | None = None
    promisc: bool | None = None
    group: int | None = None  # IFLA_GROUP: the executor's deletion batches (engine/executor.py)
    alias: str | None = None  # IFLA_IFALIAS; "" clears it. Taken by a set request only (not at creation)

    def flags(self) -> tuple[int, int]:
        """ifi_flags and ifi_change: only the flags named are changed."""
        flags = change = 0
        if self.up is not None:
            change |= IfFlag.UP
            flags |= IfFlag.UP if self.up else 0
        if self.promisc is not None:
            change |= IfFlag.PROMISC
            flags |= IfFlag.PROMISC if self.promisc else 0
        return flags, change

    def encode(self) -> bytes:
        out = []
        if self.name is not None:
            out.append(attr_str(C.IFLA_IFNAME, self.name))
        if self.mtu is not None:
            out.append(attr_u32(C.IFLA_MTU, self.mtu))
        if self.txqlen is not None:
            out.append(attr_u32(C.IFLA_TXQLEN, self.txqlen))
        if self.mac is not None:
            out.append(attr(C.IFLA_ADDRESS, mac_bytes(self.mac)))
        if self.link is not None:
            out.append(attr_u32(C.IFLA_LINK, self.link))
        if self.netns_fd is not None:
            out.append(attr_u32(C.IFLA_NET_NS_FD, self.netns_fd))
        if self.group is not None:
            out.append(attr_u32(C.IFLA_GROUP, self.group))
        if self.alias is not None:  # without a NUL, as iproute2 sends it: the kernel keeps the bytes given
            out.append(attr(IFLA_IFALIAS, self.alias.encode()))
        return b"".join(out)

    def ifinfo(self, index: int = 0) -> bytes:
        flags, change = self.flags()
        return IFINFOMSG.pack(C.AF_UNSPEC, 0, index, flags, change)


def new_link(
    seq: int, attrs: LinkAttrs, kind: str, data: bytes, peer: bytes | None = None, extra: bytes = b""
) -> bytes:
    """RTM_NEWLINK that creates a link with its attributes in one request.

    The kernel accepts MTU, txqueuelen, address and IFF_UP in the creating
    request, so `ip`'s create-then-set becomes one round trip. IFLA_MASTER is
    applied by the kernel after the flags; the planner only puts it here when
    that order is harmless (bridge ports). `extra`: more top-level attributes.
    """
    info = [attr_str(C.IFLA_INFO_KIND, kind)]
    if peer is not None:
        from linkctl.kinds.veth import VETH_INFO_PEER

        data = attr(VETH_INFO_PEER, peer) + data
    if data:
        info.append(nested(C.IFLA_INFO_DATA, data))
    body = attrs.ifinfo() + attrs.encode() + nested(C.IFLA_LINKINFO, *info) + extra
    if attrs.master is not None:
        body += attr_u32(C.IFLA_MASTER, attrs.master)
    return message(C.RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq, body)


def veth_peer(attrs: LinkAttrs) -> bytes:
    """The VETH_INFO_PEER payload: the peer's own ifinfomsg and attributes."""
    body = attrs.ifinfo() + attrs.encode()
    if attrs.master is not None:
        body += attr_u32(C.IFLA_MASTER, attrs.master)
    return body


def set_link(seq: int, index: int, attrs: LinkAttrs, kind: str | None = None, data: bytes = b"") -> bytes:
    body = attrs.ifinfo(index) + attrs.encode()
    if attrs.master is not None:
        body += attr_u32(C.IFLA_MASTER, attrs.master)
    if kind is not None and data:
        body += nested(C.IFLA_LINKINFO, attr_str(C.IFLA_INFO_KIND, kind), nested(C.IFLA_INFO_DATA, data))
    return message(C.RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq, body)


def set_port(seq: int, index: int, name: str | None, slave_kind: str, data: bytes) -> bytes:
    """RTM_NEWLINK changing a port's settings under its controller (`type bridge_slave ...`)."""
    attrs = LinkAttrs(name=name)
    info = nested(C.IFLA_LINKINFO, attr_str(C.IFLA_INFO_SLAVE_KIND, slave_kind), nested(C.IFLA_INFO_SLAVE_DATA, data))
    return message(C.RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq, attrs.ifinfo(index) + attrs.encode() + info)


def del_link(seq: int, index: int) -> bytes:
    return message(C.RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, seq, IFINFOMSG.pack(0, 0, index, 0, 0))


def del_group(seq: int, group: int) -> bytes:
    """RTM_DELLINK of every link of a group (`ip link del group N`): the kernel unregisters them in
    one batch, where one request per link waits for an RCU grace period each (300 veth pairs:
    0.2 s against 8-18 s here)."""
    body = IFINFOMSG.pack(0, 0, 0, 0, 0) + attr_u32(C.IFLA_GROUP, group)
    return message(C.RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, seq, body)


def get_link_by_name(seq: int, name: str) -> bytes:
    body = IFINFOMSG.pack(0, 0, 0, 0, 0) + attr_str(C.IFLA_IFNAME, name)
    return message(C.RTM_GETLINK, NLM_F_REQUEST, seq, body)

"""RTM_*LINK requests, their attributes written by the link table (linkctl/nla/ifla.py).

A link message is decoded by kernel/linkshape.py, one decoder for dumps and events alike;
`decode_link` is its entry for one message at a time (the watcher's events, gets).
"""

from __future__ import annotations

from dataclasses import dataclass

from linkctl.kernel import rtnl_const as C
from linkctl.kernel.linkshape import decode_link as decode_link  # re-exported: callers spell it rtnl.decode_link
from linkctl.model.state import IfFlag
from linkctl.nla import (
    IFINFOMSG,
    NLM_F_ACK,
    NLM_F_CREATE,
    NLM_F_EXCL,
    NLM_F_REQUEST,
    attr,
    ifla,
    message,
)

LINK, LINKINFO = ifla.LINK, ifla.LINKINFO
IFLA_IFALIAS = LINK.by_name["ifalias"].num  # the link's alias, nmstate's description (sent only when set)
# LinkAttrs' fields by the link table's attribute names, in the order they are written. The alias
# goes without a NUL, as iproute2 sends it (its wire type in the table): the kernel keeps the bytes given.
_WRITTEN = tuple(
    (field, LINK.writer(name))
    for name, field in (
        ("ifname", "name"),
        ("mtu", "mtu"),
        ("txqlen", "txqlen"),
        ("address", "mac"),
        ("link", "link"),
        ("net_ns_fd", "netns_fd"),
        ("group", "group"),
        ("ifalias", "alias"),
    )
)


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
        values = self.__dict__
        return b"".join([write(values[field]) for field, write in _WRITTEN if values[field] is not None])

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
    if peer is not None:
        # VETH_INFO_PEER without NLA_F_NESTED, as linkctl has always sent it: the kernel reads it either way.
        data = attr(ifla.VETH_INFO_PEER, peer) + data
    info = _KIND(kind) + (_DATA(data) if data else b"")
    body = attrs.ifinfo() + attrs.encode() + _LINKINFO(info) + extra + _master(attrs)
    return message(C.RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq, body)


# The writers of the attributes every request has, by the tables' names (once, not per request).
_LINKINFO, _MASTER = LINK.writer("linkinfo"), LINK.writer("master")
_KIND, _DATA = LINKINFO.writer("kind"), LINKINFO.writer("data")


def _master(attrs: LinkAttrs) -> bytes:
    return b"" if attrs.master is None else _MASTER(attrs.master)


def veth_peer(attrs: LinkAttrs) -> bytes:
    """The VETH_INFO_PEER payload: the peer's own ifinfomsg and attributes."""
    return attrs.ifinfo() + attrs.encode() + _master(attrs)


def set_link(seq: int, index: int, attrs: LinkAttrs, kind: str | None = None, data: bytes = b"") -> bytes:
    body = attrs.ifinfo(index) + attrs.encode() + _master(attrs)
    if kind is not None and data:
        body += _LINKINFO(_KIND(kind) + _DATA(data))
    return message(C.RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq, body)


def set_port(seq: int, index: int, name: str | None, slave_kind: str, data: bytes) -> bytes:
    """RTM_NEWLINK changing a port's settings under its controller (`type bridge_slave ...`)."""
    attrs = LinkAttrs(name=name)
    info = LINK.one("linkinfo", LINKINFO.encode((("slave_kind", slave_kind), ("slave_data", data))))
    return message(C.RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq, attrs.ifinfo(index) + attrs.encode() + info)


def del_link(seq: int, index: int) -> bytes:
    return message(C.RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, seq, IFINFOMSG.pack(0, 0, index, 0, 0))


def del_group(seq: int, group: int) -> bytes:
    """RTM_DELLINK of every link of a group (`ip link del group N`): the kernel unregisters them in
    one batch, where one request per link waits for an RCU grace period each (300 veth pairs:
    0.2 s against 8-18 s here)."""
    body = IFINFOMSG.pack(0, 0, 0, 0, 0) + LINK.one("group", group)
    return message(C.RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, seq, body)


def get_link_by_name(seq: int, name: str) -> bytes:
    body = IFINFOMSG.pack(0, 0, 0, 0, 0) + LINK.one("ifname", name)
    return message(C.RTM_GETLINK, NLM_F_REQUEST, seq, body)

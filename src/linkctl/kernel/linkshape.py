"""The one decoder of RTM_NEWLINK into `Link`: for dumps of thousands of links and each watched event.

Which attribute fills which Link field is declared once (FIELDS, by the names of the link
table, linkctl/nla/ifla.py), and each is read as that table's wire type says. A message
is walked by kernel/linkdump.py's LinkWalk, the one walk of a link message in linkctl (the
receipt's fingerprint is built on it too), and what the walk found is a message shape: a
dump's messages come in few of them (the same attributes, of the same lengths, in the same
order), and for a shape every attribute sits at a fixed offset, so one struct call checks
all its headers and one more reads every value linkctl uses. That replaces a Python loop
over some 50 attributes per link (2000 links: about 0.1 s of a verification; a watched
event: half its decoding). A message the kernel would not send reads as pyroute2 reads it,
but where pyroute2 would read past an attribute's end: an attribute too short for its wire
type counts as absent, a repeated one counts once (the first, as pyroute2's get_attr), and
a header that is broken ends its nest, with what follows it (tests/kernel/test_linkshape.py
holds every field to pyroute2's decoding, on real messages and every payload byte changed).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from linkctl import nla
from linkctl.kernel import linkdump
from linkctl.kinds import BY_KERNEL_KIND
from linkctl.model.state import BondPortInfo, IfFlag, Link, NetnsName, OperState, Stats, VethInfo
from linkctl.nla import IFINFOMSG, ifla
from linkctl.nla.ifla import IFLA_INFO_DATA, IFLA_INFO_KIND, IFLA_INFO_SLAVE_DATA, IFLA_INFO_SLAVE_KIND, IFLA_LINKINFO

MAX_SHAPES, MAX_SIZES = nla.MAX_SHAPES, nla.MAX_SIZES  # the bounds of the shapes remembered
Convert = Callable[[Any], object]

_OPERSTATES = list(OperState)
_STATS64 = struct.Struct("=" + "Q" * 23)


def _operstate(value: int) -> OperState:
    return _OPERSTATES[value] if value < len(_OPERSTATES) else OperState.UNKNOWN  # RFC 2863 numbers 0-6 only


def _stats(raw: bytes) -> Stats | None:
    if len(raw) < _STATS64.size:
        return None
    v = _STATS64.unpack_from(raw)
    # Order of struct rtnl_link_stats64 (include/uapi/linux/if_link.h).
    return Stats(
        rx_packets=v[0], tx_packets=v[1], rx_bytes=v[2], tx_bytes=v[3],
        rx_errors=v[4], tx_errors=v[5], rx_dropped=v[6], tx_dropped=v[7],
        multicast=v[8], collisions=v[9], rx_over_errors=v[11], rx_crc_errors=v[12],
        rx_frame_errors=v[13], rx_fifo_errors=v[14], rx_missed_errors=v[15],
        tx_carrier_errors=v[17], tx_fifo_errors=v[18],
    )  # fmt: skip


# The Link field each attribute of the link table fills (by the table's name for it), and how
# the value its wire type reads becomes the field's (None: as read). IFLA_LINKINFO is the kind's:
# its kind and port data are handed to the kind's module (kinds/*.py, on the kinds' own tables).
FIELDS: dict[str, tuple[str, Convert | None]] = {
    "mtu": ("mtu", None),
    "min_mtu": ("min_mtu", None),
    "max_mtu": ("max_mtu", None),
    "txqlen": ("txqlen", None),
    "link": ("link_ifindex", None),
    "master": ("master_ifindex", None),
    "promiscuity": ("promiscuity", None),
    "carrier_changes": ("carrier_changes", None),
    "carrier_up_count": ("carrier_up_count", None),
    "carrier_down_count": ("carrier_down_count", None),
    "group": ("group", None),
    "link_netnsid": ("link_netnsid", None),
    "ifname": ("name", None),
    "address": ("mac", None),
    "perm_address": ("perm_mac", None),
    "operstate": ("operstate", _operstate),
    "carrier": ("carrier", bool),
    "stats64": ("stats", _stats),
    "parent_dev_bus_name": ("parent_bus", None),
    "ifalias": ("alias", None),  # nmstate's description
}
INFO_FIELDS = {IFLA_INFO_KIND: "kind", IFLA_INFO_SLAVE_KIND: "slave_kind"}  # strings, in IFLA_LINKINFO

# attribute number -> (field, struct code read in the shape's one call or None for the whole
# payload's bytes, the conversion of what is read, the smallest payload its wire type reads)
Wanted = tuple[str, str | None, Convert | None, int]


def _wanted(table: nla.Table, name: str, field: str, conv: Convert | None) -> Wanted:
    wire = table.by_name[name].wire  # KeyError at import: a name not in the table
    code = wire.code
    if code is not None and code.format[0] == "=":  # native order: one letter of the shape's struct
        return (field, code.format[1:], conv, code.size)
    return (field, None, _reader(wire, conv), 0)


def _reader(wire: nla.Wire, conv: Convert | None) -> Convert:
    """How a shape reads a value from its payload's bytes: by the wire type, then the conversion."""
    if wire is nla.WBIN:
        return conv or bytes  # the bytes are the value (IFLA_STATS64's struct, converted)
    read = wire.dec or wire.decode  # a string, a MAC address; a fixed value in network order
    if conv is None:
        return lambda raw: read(raw, 0, len(raw))
    return lambda raw: conv(read(raw, 0, len(raw)))


_WANTED: dict[int, Wanted] = {ifla.LINK.by_name[a].num: _wanted(ifla.LINK, a, *how) for a, how in FIELDS.items()}
_STATS_NUM = ifla.LINK.by_name["stats64"].num
_WANTED_NO_STATS = {atype: want for atype, want in _WANTED.items() if atype != _STATS_NUM}
_INFO: dict[int, Wanted] = {
    num: (field, None, _reader(ifla.LINKINFO.by_num[num].wire, None), 0) for num, field in INFO_FIELDS.items()
}


class LinkDecoder:
    """Decodes whole RTM_NEWLINK payloads (ifinfomsg and attributes), remembering shapes.

    Without `stats`, IFLA_STATS64 is left undecoded (Link.stats is None): the
    kernel sends it in every dump, and only `show --stats` and the watcher read it.
    Shapes are remembered within nla's bounds; threads may share a decoder (a shape, once
    made, is never changed: a lookup racing a new one at worst learns it again).
    """

    def __init__(self, stats: bool = True) -> None:
        self.stats = stats
        self._wanted = _WANTED if stats else _WANTED_NO_STATS
        self._shapes: dict[int, list[Shape]] = {}

    def decode(self, msg: bytes, netns: NetnsName) -> Link:
        size = len(msg)
        for shape in self._shapes.get(size, ()):
            if shape.check.unpack_from(msg) == shape.expect:
                return shape.build(msg, netns)
        learned = learn(msg, self._wanted)
        nla.remember(self._shapes, size, learned)
        return learned.build(msg, netns)


_ONE_BY_ONE = LinkDecoder(stats=True)  # the watcher's events, gets and the like: shapes shared by all


def decode_link(buf: bytes, off: int, end: int, netns: NetnsName) -> Link:
    """One RTM_NEWLINK payload, buf[off:end] (ifinfomsg and attributes), into a Link with its counters.

    The watcher decodes its events with this, one at a time: a link's events keep its shape,
    so after its first, each is read by the two struct calls of a dump's links.
    """
    msg = buf if off == 0 and end == len(buf) and type(buf) is bytes else bytes(buf[off:end])
    return _ONE_BY_ONE.decode(msg, netns)


def learn(msg: bytes, wanted: dict[int, Wanted] = _WANTED) -> Shape:
    """Walk one message the slow way and describe its shape."""
    if len(msg) < IFINFOMSG.size:
        raise ValueError(f"an RTM_NEWLINK payload of {len(msg)} bytes: its ifinfomsg alone is {IFINFOMSG.size}")
    walk = linkdump.LinkWalk(msg)  # the fingerprint's walk: one walk of a link message in linkctl
    return Shape(walk, _Found(walk, wanted))


class Shape:
    __slots__ = ("check", "converted", "data", "expect", "extract", "names", "slave")

    def __init__(self, walk: linkdump.LinkWalk, found: _Found) -> None:
        self.check, self.expect = nla.layout(walk.headers)
        # The ifinfomsg's index and flags come first, then each value.
        parts = [(4, "i", ()), (8, "I", ()), *((off, code, ()) for off, code, _f, _c in found.values)]
        self.extract = nla.layout(parts)[0]
        # A leading "name" = "": a link without IFLA_IFNAME; IFLA_IFNAME, when present, comes later and wins.
        self.names = ("name", *(field for _o, _c, field, _v in found.values))
        self.converted = tuple((i + 2, field, conv) for i, (_o, _c, field, conv) in enumerate(found.values) if conv)
        self.data = found.data
        self.slave = found.slave

    def build(self, msg: bytes, netns: NetnsName) -> Link:
        values = self.extract.unpack_from(msg)
        fields: dict[str, object] = dict(zip(self.names, ("", *values[2:]), strict=True))
        for i, field, conv in self.converted:
            fields[field] = conv(values[i])
        return _build(values[0], values[1], netns, fields, msg, self.data, self.slave)


class _Found:
    """Where a link's values are in one walked message: each value's offset, its kind's and port's data."""

    def __init__(self, walk: linkdump.LinkWalk, wanted: dict[int, Wanted]) -> None:
        self.values: list[tuple[int, str, str, Convert | None]] = []
        self.data: tuple[int, int] | None = None
        self.slave: tuple[int, int] | None = None  # IFLA_INFO_SLAVE_DATA: a port's settings
        seen: set[str] = set()
        linkinfos = 0
        for nest, atype, _pos, s, e, _nxt in walk.attrs:
            if nest == linkdump.TOP:
                linkinfos += atype == IFLA_LINKINFO
                if atype in wanted:
                    self._value(wanted[atype], s, e, seen)
            elif nest == linkdump.INFO and linkinfos == 1:  # a second IFLA_LINKINFO counts no more than another
                if atype in _INFO:
                    self._value(_INFO[atype], s, e, seen)
                elif atype == IFLA_INFO_DATA and self.data is None:
                    self.data = (s, e)
                elif atype == IFLA_INFO_SLAVE_DATA and self.slave is None:
                    self.slave = (s, e)

    def _value(self, want: Wanted, start: int, end: int, seen: set[str]) -> None:
        field, code, conv, least = want
        if field in seen or end - start < least:
            return  # repeated (the first counts), or too short for its wire type (as if absent)
        seen.add(field)
        self.values.append((start, code or f"{end - start}s", field, conv))


def _build(
    index: int,
    flags: int,
    netns: NetnsName,
    fields: dict[str, object],
    buf: bytes,
    data: tuple[int, int] | None,
    slave: tuple[int, int] | None,
) -> Link:
    kind = fields.get("kind")
    if slave is not None and fields.get("slave_kind"):
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

"""rtnl.decode_link for dumps of thousands of links: each message shape is learned once.

A dump's messages come in few shapes: the same attributes, of the same lengths,
in the same order (links of one kind, names of one length). For a shape, every
attribute sits at a fixed offset, so one struct call checks all its headers and
one more reads every value linkctl uses. That replaces a Python loop over some 50
attributes per link (2000 links: about 0.1 s of a verification). A shape is
learned from kernel/linkdump.py's LinkWalk, the one walk of a link message the
receipt's fingerprint learns its shapes from too, and the fields read are
rtnl.FIELDS, the declaration rtnl.decode_link reads. A message whose shape is
odd (an attribute too short or past the end, one repeated) is decoded by
rtnl.decode_link itself, which stays the reference: the tests hold the two
equal, byte for byte mutated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from linkctl import nla
from linkctl.kernel import linkdump, rtnl
from linkctl.kernel import rtnl_const as C
from linkctl.model.state import Link, NetnsName
from linkctl.nla import IFINFOMSG, cstr, mac_str

MAX_SHAPES, MAX_SIZES = nla.MAX_SHAPES, nla.MAX_SIZES  # the bounds of the shapes remembered
Convert = Callable[[bytes], object]


def _string(raw: bytes) -> object:
    return cstr(raw, 0, len(raw))


def _mac(raw: bytes) -> object:
    return mac_str(raw, 0, len(raw))


def _stats(raw: bytes) -> object:
    return rtnl._stats(raw, 0, len(raw))


def _operstate(value: int) -> object:
    return rtnl._OPERSTATES[min(value, 6)]


# attribute -> (field, struct code or None for its whole payload, converter, smallest payload)
Wanted = tuple[str, str | None, Callable[..., object] | None, int]
# How this decoder reads each of rtnl.FIELDS' readings: a struct code read in the shape's one call
# (with a converter of the value), or the payload's bytes handed to a converter.
_HOW: dict[str, tuple[str | None, Callable[..., object] | None, int]] = {
    "string": (None, _string, 0),
    "mac": (None, _mac, 0),
    "operstate": ("B", _operstate, 1),
    "bool": ("B", bool, 1),
    "stats": (None, _stats, 0),
}


def _wanted(attr: str, field: str, how: str) -> Wanted:
    if how == "int":
        code = rtnl.ATTR[attr].wire.code
        assert code is not None
        return (field, code.format.lstrip("=@<>!"), None, code.size)
    return (field, *_HOW[how])


_WANTED: dict[int, Wanted] = {rtnl.ATTR[a].num: _wanted(a, f, how) for a, (f, how) in rtnl.FIELDS.items()}
_WANTED_NO_STATS = {atype: want for atype, want in _WANTED.items() if atype != C.IFLA_STATS64}
_WANTED_INFO: dict[int, str] = {C.IFLA_INFO_KIND: "kind", C.IFLA_INFO_SLAVE_KIND: "slave_kind"}


class Shape:
    __slots__ = ("check", "converted", "data", "expect", "extract", "names", "slave")

    def __init__(self, walk: linkdump.LinkWalk, found: _Found) -> None:
        self.check, self.expect = nla.layout(walk.headers)
        # The ifinfomsg's index and flags come first, then each value.
        parts = [(4, "i", ()), (8, "I", ()), *((off, code, ()) for off, code, _f, _c in found.values)]
        self.extract = nla.layout(parts)[0]
        # A leading "name" = "" as decode_link's default; IFLA_IFNAME, when present, comes later and wins.
        self.names = ("name", *(field for _o, _c, field, _v in found.values))
        self.converted = tuple((i + 2, field, conv) for i, (_o, _c, field, conv) in enumerate(found.values) if conv)
        self.data = found.data
        self.slave = found.slave

    def build(self, msg: bytes, netns: NetnsName) -> Link:
        values = self.extract.unpack_from(msg)
        fields: dict[str, object] = dict(zip(self.names, ("", *values[2:]), strict=True))
        for i, field, conv in self.converted:
            fields[field] = conv(values[i])
        if self.slave is not None:
            fields["slave_data"] = self.slave
        return rtnl._build(values[0], values[1], netns, fields, msg, self.data)


class LinkDecoder:
    """Decodes whole RTM_NEWLINK payloads (ifinfomsg and attributes), remembering shapes.

    Without `stats`, IFLA_STATS64 is left undecoded (Link.stats is None): the
    kernel sends it in every dump, and only `show --stats` and the watcher read it.
    """

    def __init__(self, stats: bool = True) -> None:
        self.stats = stats
        self._shapes: dict[int, list[Shape]] = {}

    def decode(self, msg: bytes, netns: NetnsName) -> Link:
        size = len(msg)
        for shape in self._shapes.get(size, ()):
            if shape.check.unpack_from(msg) == shape.expect:
                return shape.build(msg, netns)
        learned = learn(msg, self.stats)
        if learned is None:
            link = rtnl.decode_link(msg, 0, size, netns)
            return link if self.stats or link.stats is None else replace(link, stats=None)
        nla.remember(self._shapes, size, learned)
        return learned.build(msg, netns)


class _Odd(Exception):
    """A message this module leaves to rtnl.decode_link."""


class _Found:
    """What a link's values are in one walked message: where each sits, its kind's and port's data."""

    def __init__(self, walk: linkdump.LinkWalk, wanted: dict[int, Wanted]) -> None:
        self.values: list[tuple[int, str, str, Convert | None]] = []
        self.seen: set[str] = set()
        self.data: tuple[int, int] | None = None
        self.slave: tuple[int, int] | None = None  # IFLA_INFO_SLAVE_DATA: a port's settings
        for nest, atype, _pos, s, e, _nxt in walk.attrs:
            if nest == linkdump.TOP:
                if atype == C.IFLA_LINKINFO:
                    self.once("linkinfo")
                elif atype in wanted:
                    field, code, conv, least = wanted[atype]
                    self.value(field, s, e, code, conv, least)
            elif nest == linkdump.INFO:
                if atype in _WANTED_INFO:
                    self.value(_WANTED_INFO[atype], s, e, None, _string, 0)
                elif atype == C.IFLA_INFO_DATA:
                    self.data = (s, e)
                elif atype == C.IFLA_INFO_SLAVE_DATA:
                    self.slave = (s, e)

    def once(self, field: str) -> None:
        if field in self.seen:
            raise _Odd  # repeated: decode_link keeps the last, a shape the first
        self.seen.add(field)

    def value(self, field: str, start: int, end: int, code: str | None, conv: Convert | None, least: int) -> None:
        if end - start < least:
            raise _Odd  # too short for what decode_link reads
        self.once(field)
        self.values.append((start, code or f"{end - start}s", field, conv))


def learn(msg: bytes, stats: bool = True) -> Shape | None:
    if len(msg) < IFINFOMSG.size:
        return None
    walk = linkdump.LinkWalk(msg)  # the fingerprint's walk: one walk of a link message in linkctl
    if walk.odd:
        return None
    try:
        return Shape(walk, _Found(walk, _WANTED if stats else _WANTED_NO_STATS))
    except _Odd:
        return None

"""rtnl.decode_link for dumps of thousands of links: each message shape is learned once.

A dump's messages come in few shapes: the same attributes, of the same lengths,
in the same order (links of one kind, names of one length). For a shape, every
attribute sits at a fixed offset, so one struct call checks all its headers and
one more reads every value linkctl uses. That replaces a Python loop over some 50
attributes per link (2000 links: about 0.1 s of a verification). A message
whose shape is odd (an attribute too short or past the end, one repeated) is
decoded by rtnl.decode_link itself, which stays the reference: the tests hold
the two equal, byte for byte mutated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from linkctl import nla
from linkctl.kernel import rtnl
from linkctl.kernel import rtnl_const as C
from linkctl.model.state import Link, NetnsName
from linkctl.nla import IFINFOMSG, NLA_HDR, cstr, mac_str

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

    def __init__(self, walk: _Walk) -> None:
        self.check, self.expect = nla.layout(walk.headers)
        # The ifinfomsg's index and flags come first, then each value.
        parts = [(4, "i", ()), (8, "I", ()), *((off, code, ()) for off, code, _f, _c in walk.values)]
        self.extract = nla.layout(parts)[0]
        # A leading "name" = "" as decode_link's default; IFLA_IFNAME, when present, comes later and wins.
        self.names = ("name", *(field for _o, _c, field, _v in walk.values))
        self.converted = tuple((i + 2, field, conv) for i, (_o, _c, field, conv) in enumerate(walk.values) if conv)
        self.data = walk.data
        self.slave = walk.slave

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


class _Walk:
    def __init__(self, msg: bytes, wanted: dict[int, Wanted]) -> None:
        self.msg = msg
        self.wanted = wanted
        self.headers: list[tuple[int, str, tuple[object, ...]]] = []
        self.values: list[tuple[int, str, str, Convert | None]] = []
        self.seen: set[str] = set()
        self.data: tuple[int, int] | None = None
        self.slave: tuple[int, int] | None = None  # IFLA_INFO_SLAVE_DATA: a port's settings

    def attrs(self, pos: int, end: int) -> list[tuple[int, int, int]]:
        """(type, payload start, payload end) of each attribute, every header recorded."""
        out = []
        while pos + 4 <= end:
            alen, atype = NLA_HDR.unpack_from(self.msg, pos)
            if alen < 4 or pos + alen > end:
                raise _Odd
            self.headers.append((pos, "HH", (alen, atype)))
            out.append((atype & 0x3FFF, pos + 4, pos + alen))
            pos += (alen + 3) & ~3
        return out

    def value(self, field: str, start: int, end: int, code: str | None, conv: Convert | None, least: int) -> None:
        if field in self.seen or end - start < least:
            raise _Odd  # repeated, or too short for what decode_link reads
        self.seen.add(field)
        self.values.append((start, code or f"{end - start}s", field, conv))

    def top(self) -> None:
        for atype, s, e in self.attrs(IFINFOMSG.size, len(self.msg)):
            if atype == C.IFLA_LINKINFO:
                self.linkinfo(s, e)
            elif atype in self.wanted:
                field, code, conv, least = self.wanted[atype]
                self.value(field, s, e, code, conv, least)

    def linkinfo(self, start: int, end: int) -> None:
        if "linkinfo" in self.seen:
            raise _Odd
        self.seen.add("linkinfo")
        for atype, s, e in self.attrs(start, end):
            if atype in _WANTED_INFO:
                # The kind picks the decoder: it is part of the shape, not only a value.
                self.headers.append((s, f"{e - s}s", (self.msg[s:e],)))
                self.value(_WANTED_INFO[atype], s, e, None, _string, 0)
            elif atype == C.IFLA_INFO_DATA:
                self.data = (s, e)
            elif atype == C.IFLA_INFO_SLAVE_DATA:
                self.slave = (s, e)


def learn(msg: bytes, stats: bool = True) -> Shape | None:
    if len(msg) < IFINFOMSG.size:
        return None
    walk = _Walk(msg, _WANTED if stats else _WANTED_NO_STATS)
    try:
        walk.top()
    except _Odd:
        return None
    return Shape(walk)

"""`--debug`: each netlink request and answer, decoded the way strace cannot.

Printed with the attribute tables the codec itself uses (linkctl/nla/ifla.py): the
names are the kernel's (IFLA_MTU, IFLA_BR_STP_STATE), an attribute no table knows is
shown by number with its bytes, so what is printed is what was sent.
"""

from __future__ import annotations

import sys
from typing import TextIO

from linkctl.model.state import IfFlag
from linkctl.nla import IFINFOMSG, NLMSG_ERROR, NLMSG_HDR, Table, ifla, iter_attrs, parse_error


def printer(stream: TextIO = sys.stderr) -> DebugPrinter:
    return DebugPrinter(stream)


class DebugPrinter:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, what: str, data: bytes) -> None:
        _len, mtype, flags, seq, _pid = NLMSG_HDR.unpack_from(data)
        if mtype == NLMSG_ERROR:
            code, text = parse_error(data, NLMSG_HDR.size, len(data), flags)
            import os

            answer = "ok" if code == 0 else f"error {code} {os.strerror(code)}"
            extra = f" ({text})" if text else ""
            self.stream.write(f"<- seq={seq} {answer}{extra}\n")
            return
        if what == "answer":  # a whole link, sent back for a get request: what identifies it
            self.stream.write(f"<- seq={seq} {_summary(data)}\n")
            return
        self.stream.write(f"-> seq={seq} {_decode(data)}\n")


_RTM = {16: "RTM_NEWLINK", 17: "RTM_DELLINK", 18: "RTM_GETLINK", 19: "RTM_SETLINK"}


def _decode(data: bytes) -> str:
    _len, mtype, flags, _seq, _pid = NLMSG_HDR.unpack_from(data)
    fields = _link(data, NLMSG_HDR.size, len(data))
    attrs = fields.pop("attrs")
    return f"{_RTM.get(mtype, mtype)} {_nlm_flags(mtype, flags)} {fields} attrs={attrs}"


def _link(data: bytes, off: int, end: int) -> dict[str, object]:
    """An ifinfomsg and its attributes: a request's body, and a veth peer's (VETH_INFO_PEER) within it."""
    family, _type, index, ifflags, change = IFINFOMSG.unpack_from(data, off)
    fields: dict[str, object] = {"index": index, "flags": _flags(ifflags), "change": _flags(change)}
    fields["attrs"] = _attrs(data, off + IFINFOMSG.size, end, family)
    return fields


def _attrs(data: bytes, off: int, end: int, family: int) -> list[tuple[str, object]]:
    """The top level by the link table; IFLA_LINKINFO opened with the kind's and the port's tables,
    a bridge VLAN request's IFLA_AF_SPEC with the AF_BRIDGE table."""
    out: list[tuple[str, object]] = []
    for atype, s, e in iter_attrs(data, off, end):
        value: object
        if atype == ifla.IFLA_LINKINFO:
            value = {"attrs": _linkinfo(data, s, e)}
        elif atype == ifla.IFLA_AF_SPEC and family == ifla.AF_BRIDGE:
            value = {"attrs": ifla.BRIDGE_AF.describe(data, s, e)}
        else:
            value = ifla.LINK.show(atype, data, s, e)
        out.append((ifla.LINK.label(atype), value))
    return out


def _linkinfo(data: bytes, off: int, end: int) -> list[tuple[str, object]]:
    info = ifla.LINKINFO.decode(data, off, end)
    kind, port = str(info.get("kind")), str(info.get("slave_kind"))
    out: list[tuple[str, object]] = []
    for atype, s, e in iter_attrs(data, off, end):
        value: object
        if atype == ifla.IFLA_INFO_DATA and kind in ifla.KIND_DATA:
            value = {"attrs": _kind_data(ifla.KIND_DATA[kind], data, s, e)}
        elif atype == ifla.IFLA_INFO_SLAVE_DATA and port in ifla.PORT_DATA:
            value = {"attrs": ifla.PORT_DATA[port].describe(data, s, e)}
        else:
            value = ifla.LINKINFO.show(atype, data, s, e)
        out.append((ifla.LINKINFO.label(atype), value))
    return out


def _kind_data(table: Table, data: bytes, off: int, end: int) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for atype, s, e in iter_attrs(data, off, end):
        peer = table is ifla.VETH and atype == ifla.VETH_INFO_PEER
        out.append((table.label(atype), _link(data, s, e) if peer else table.show(atype, data, s, e)))
    return out


def _summary(data: bytes) -> str:
    mtype = NLMSG_HDR.unpack_from(data)[1]
    index, ifflags = IFINFOMSG.unpack_from(data, NLMSG_HDR.size)[2:4]
    off = NLMSG_HDR.size + IFINFOMSG.size
    top = ifla.LINK.decode(data, off, len(data), volatile=True)
    kind = None
    for atype, s, e in iter_attrs(data, off, len(data)):
        if atype == ifla.IFLA_LINKINFO:
            kind = ifla.LINKINFO.decode(data, s, e).get("kind")
    fields = {
        "index": index, "name": top.get("ifname"), "kind": kind,
        "flags": _flags(ifflags), "mtu": top.get("mtu"), "master": top.get("master"),
    }  # fmt: skip
    return f"{_RTM.get(mtype, mtype)} {fields}"


def _flags(value: int) -> str:
    """Interface flags by name, as `ip link` prints them: UP|BROADCAST|LOWER_UP."""
    known = [f.name for f in IfFlag if value & f and f.name]
    rest = value & ~sum(IfFlag)
    return "|".join([*known, *([hex(rest)] if rest else [])]) or "0"


def _nlm_flags(mtype: int, flags: int) -> str:
    """NLM_F_* names; the 0x100-0x800 bits mean different things for GET and NEW requests."""
    names = [n for bit, n in ((1, "REQUEST"), (4, "ACK"), (8, "ECHO")) if flags & bit]
    high = (
        ((0x100, "ROOT"), (0x200, "MATCH"))
        if mtype % 4 == 2
        else ((0x100, "REPLACE"), (0x200, "EXCL"), (0x400, "CREATE"), (0x800, "APPEND"))
    )
    names += [n for bit, n in high if flags & bit]
    return "|".join(names) or "0"

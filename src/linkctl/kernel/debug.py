"""`--debug`: each netlink request and answer, decoded the way strace cannot.

Printed with the attribute tables the codec itself uses (linkctl/nla/ifla.py): the
names are the kernel's (IFLA_MTU, IFLA_BR_STP_STATE), an attribute no table knows is
shown by number with its bytes, so what is printed is what was sent.
"""

from __future__ import annotations

import sys
from typing import TextIO

from linkctl.model.state import IfFlag
from linkctl.nla import IFINFOMSG, NLMSG_ERROR, NLMSG_HDR, cstr, ifla, iter_attrs, parse_error


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
    _family, _type, index, ifflags, change = IFINFOMSG.unpack_from(data, NLMSG_HDR.size)
    fields = {"index": index, "flags": _flags(ifflags), "change": _flags(change)}
    attrs = _attrs(data, NLMSG_HDR.size + IFINFOMSG.size, len(data))
    return f"{_RTM.get(mtype, mtype)} {_nlm_flags(mtype, flags)} {fields} attrs={attrs}"


def _attrs(data: bytes, off: int, end: int) -> list[tuple[str, object]]:
    """The top level by the link table; IFLA_LINKINFO opened with the kind's and the port's tables."""
    out: list[tuple[str, object]] = []
    for name, value in ifla.LINK.describe(data, off, end):
        out.append((name, value))
    for atype, s, e in iter_attrs(data, off, end):
        if atype == ifla.IFLA_LINKINFO:
            i = [n for n, _v in out].index("IFLA_LINKINFO")
            out[i] = ("IFLA_LINKINFO", {"attrs": _linkinfo(data, s, e)})
    return out


def _linkinfo(data: bytes, off: int, end: int) -> list[tuple[str, object]]:
    info = ifla.LINKINFO.decode(data, off, end)
    out: list[tuple[str, object]] = []
    for atype, s, e in iter_attrs(data, off, end):
        label = ifla.LINKINFO.label(atype)
        if atype == ifla.IFLA_INFO_DATA and str(info.get("kind")) in ifla.KIND_DATA:
            out.append((label, {"attrs": ifla.KIND_DATA[str(info["kind"])].describe(data, s, e)}))
        elif atype == ifla.IFLA_INFO_SLAVE_DATA and str(info.get("slave_kind")) in ifla.PORT_DATA:
            out.append((label, {"attrs": ifla.PORT_DATA[str(info["slave_kind"])].describe(data, s, e)}))
        elif atype in (ifla.IFLA_INFO_KIND, ifla.IFLA_INFO_SLAVE_KIND):
            out.append((label, cstr(data, s, e)))
        else:
            out.append((label, bytes(data[s:e]).hex()))
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

"""`--debug`: each netlink request and answer, decoded the way strace cannot.

pyroute2's full decoder is slow but complete: exactly what a person reading a
refused request needs, off the hot path.
"""

from __future__ import annotations

import sys
from typing import TextIO

from linkctl.model.state import IfFlag
from linkctl.nla import NLMSG_ERROR, NLMSG_HDR, parse_error


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


def _decode(data: bytes) -> str:
    from pyroute2.netlink.rtnl import RTM_VALUES
    from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

    _len, mtype, flags, _seq, _pid = NLMSG_HDR.unpack_from(data)
    msg = ifinfmsg(data)
    msg.decode()
    fields = {"index": msg["index"], "flags": _flags(msg["flags"]), "change": _flags(msg["change"])}
    return f"{RTM_VALUES.get(mtype, mtype)} {_nlm_flags(mtype, flags)} {fields} attrs={_attrs(msg)}"


def _summary(data: bytes) -> str:
    from pyroute2.netlink.rtnl import RTM_VALUES
    from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

    mtype = NLMSG_HDR.unpack_from(data)[1]
    msg = ifinfmsg(data)
    msg.decode()
    info = msg.get_attr("IFLA_LINKINFO")
    kind = info.get_attr("IFLA_INFO_KIND") if info else None
    fields = {
        "index": msg["index"], "name": msg.get_attr("IFLA_IFNAME"), "kind": kind,
        "flags": _flags(msg["flags"]), "mtu": msg.get_attr("IFLA_MTU"), "master": msg.get_attr("IFLA_MASTER"),
    }  # fmt: skip
    return f"{RTM_VALUES.get(mtype, mtype)} {fields}"


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


def _attrs(msg: object) -> object:
    attrs = getattr(msg, "get", None)
    raw = msg["attrs"] if attrs else []  # type: ignore[index]
    out = []
    for item in raw:
        name, value = item[0], item[1]
        if hasattr(value, "get") and "attrs" in value:
            value = {"attrs": _attrs(value)}
        out.append((name, value))
    return out

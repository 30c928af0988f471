"""The underlay of a VXLAN without a base-iface, found as the kernel finds it when it sends.

Such a VXLAN is given MTU 1500 at creation whatever carries it: the kernel looks the
underlay up per packet (vxlan_get_route: a route to the remote or the multicast group,
from the `local` address), so that is what is asked here, with RTM_GETROUTE in the
VXLAN's namespace, as `ip route get REMOTE from LOCAL` asks it. Without a remote (the
destinations come from the FDB), the link holding `local` stands for the underlay.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from linkctl.kernel import netns, rtnl
from linkctl.kernel import rtnl_const as C
from linkctl.kernel.netlink import RtnlSocket
from linkctl.kinds.vxlan import Underlay
from linkctl.kinds.vxlan import UnderlayQuery as Query
from linkctl.model.state import Link, NetnsName
from linkctl.nla import (
    IFINFOMSG,
    NLM_F_REQUEST,
    NLMSG_ERROR,
    U32,
    attr,
    attrs_dict,
    iter_messages,
    message,
    parse_error,
)

RTM_NEWROUTE = 24
RTM_GETROUTE = 26
RTMSG = struct.Struct("=BBBBBBBBI")  # family, dst_len, src_len, tos, table, protocol, scope, type, flags
RTA_DST = 1
RTA_SRC = 2
RTA_OIF = 4
RTA_GATEWAY = 5
RTA_PREFSRC = 7
RTA_METRICS = 8
RTAX_MTU = 2

# The kernel's answers when no route leads there: the VXLAN cannot send at all, which is not a size problem.
_NO_ROUTE = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EINVAL, errno.EACCES})


@dataclass(frozen=True)
class RouteAnswer:
    """What RTM_GETROUTE answered that the underlay needs."""

    oif: int | None
    gateway: str | None = None
    prefsrc: str | None = None
    mtu: int | None = None  # RTAX_MTU: the route's metric, or a learnt path MTU


def get_route_request(seq: int, dst: str, src: str | None = None) -> bytes:
    """RTM_GETROUTE for one address, as `ip route get DST [from SRC]` encodes it."""
    to = ipaddress.ip_address(dst)
    family = socket.AF_INET if to.version == 4 else socket.AF_INET6
    body = [attr(RTA_DST, to.packed)]
    src_len = 0
    if src is not None:
        frm = ipaddress.ip_address(src)
        body.append(attr(RTA_SRC, frm.packed))
        src_len = frm.max_prefixlen
    head = RTMSG.pack(family, to.max_prefixlen, src_len, 0, 0, 0, 0, 0, 0)
    return message(RTM_GETROUTE, NLM_F_REQUEST, seq, head + b"".join(body))


def decode_route(buf: bytes | memoryview, off: int, end: int) -> RouteAnswer:
    """One RTM_NEWROUTE payload (rtmsg and attributes)."""
    family = RTMSG.unpack_from(buf, off)[0]
    found = attrs_dict(buf, off + RTMSG.size, end)
    oif = gateway = prefsrc = mtu = None
    if (at := found.get(RTA_OIF)) is not None:
        oif = U32.unpack_from(buf, at[0])[0]
    if (at := found.get(RTA_GATEWAY)) is not None:
        gateway = _ip(family, buf, at)
    if (at := found.get(RTA_PREFSRC)) is not None:
        prefsrc = _ip(family, buf, at)
    if (at := found.get(RTA_METRICS)) is not None and (m := attrs_dict(buf, at[0], at[1]).get(RTAX_MTU)):
        mtu = U32.unpack_from(buf, m[0])[0] or None
    return RouteAnswer(oif, gateway, prefsrc, mtu)


def _ip(family: int, buf: bytes | memoryview, at: tuple[int, int]) -> str:
    return socket.inet_ntop(family, bytes(buf[at[0] : at[1]]))


def get_route(sock: RtnlSocket, dst: str, src: str | None = None) -> RouteAnswer | None:
    """The route the kernel would take to `dst` from `src`; None when there is none."""
    seq = sock.next_seq()
    sock.sock.sendall(get_route_request(seq, dst, src))
    while True:
        buf = sock.sock.recv(1 << 16)
        for mtype, flags, rseq, s, e in iter_messages(buf):
            if rseq != seq:
                continue
            if mtype == RTM_NEWROUTE:
                return decode_route(buf, s, e)
            if mtype == NLMSG_ERROR:
                code, text = parse_error(buf, s, e, flags)
                if code in _NO_ROUTE:
                    return None
                raise OSError(code, f"RTM_GETROUTE {dst} refused: {text or os.strerror(code)}")


def get_link(sock: RtnlSocket, index: int) -> Link | None:
    seq = sock.next_seq()
    sock.sock.sendall(message(C.RTM_GETLINK, NLM_F_REQUEST, seq, IFINFOMSG.pack(0, 0, index, 0, 0)))
    while True:
        buf = sock.sock.recv(1 << 16)
        for mtype, _flags, rseq, s, e in iter_messages(buf):
            if rseq != seq:
                continue
            if mtype == C.RTM_NEWLINK:
                return rtnl.decode_link(bytes(buf), s, e, sock.netns)
            if mtype == NLMSG_ERROR:
                return None


def underlay(sock: RtnlSocket, local: str | None, remote: str | None) -> Underlay | None:
    """What a VXLAN from `local` to `remote` (or group) sends through, read on `sock`'s namespace."""
    if remote is not None:
        group = ipaddress.ip_address(remote).is_multicast
        frm = local
        answer = get_route(sock, remote, local)
        if answer is None and local is not None:
            # `local` not (yet) on any link: the kernel would not send at all (audit's
            # vxlan-local-not-assigned says so); the route alone still tells where it would go.
            frm, answer = None, get_route(sock, remote)
        if answer is None or answer.oif is None:
            return None
        link = get_link(sock, answer.oif)
        if link is None:
            return None
        what = f"route to {'group ' if group else ''}{remote}" + (f" from {frm}" if frm else "")
        return Underlay(what, link.name, link.mtu, answer.mtu, answer.gateway)
    if local is not None:
        index = _holder(sock.netns, local)
        link = get_link(sock, index) if index is not None else None
        if link is not None:
            return Underlay(f"link holding local {local}", link.name, link.mtu)
    return None


def _holder(netns: NetnsName, local: str) -> int | None:
    from linkctl.kernel.l3 import addresses_by_link

    want = ipaddress.ip_address(local)
    for index, addrs in addresses_by_link(netns).items():
        if any(ipaddress.ip_interface(a).ip == want for a in addrs):
            return index
    return None


def read_underlays(queries: Iterable[Query]) -> dict[Query, Underlay | None]:
    """Each query's underlay, one socket per namespace."""
    out: dict[Query, Underlay | None] = {}
    by_ns: dict[NetnsName, list[Query]] = {}
    for q in dict.fromkeys(queries):
        by_ns.setdefault(q[0], []).append(q)
    for ns, qs in by_ns.items():
        if not netns.exists(ns):
            out.update(dict.fromkeys(qs))  # made by the plan: nothing routes there yet
            continue
        with RtnlSocket(ns) as sock:
            for q in qs:
                out[q] = underlay(sock, q[1], q[2])
    return out

"""The addresses on a namespace's links: what moving a link to another namespace loses.

Read only when a plan moves links, so pyroute2's complete decoder is used for the
messages; the socket is linkctl's own, because it must be opened inside the namespace.
"""

from __future__ import annotations

import os
import struct

from linkctl.kernel.netlink import RtnlSocket
from linkctl.model.state import NetnsName
from linkctl.nla import NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, iter_messages, message, parse_error

RTM_NEWADDR = 20
RTM_GETADDR = 22
_IFADDRMSG = struct.Struct("=BBBBI")  # family, prefixlen, flags, scope, index
_SCOPE_LINK = 253  # fe80::/64 and the like: the kernel makes them again wherever the link goes


def addresses(netns: NetnsName) -> dict[int, list[str]]:
    """ifindex -> the addresses a person configured on it ("10.9.0.1/24"), link-local ones left out."""
    from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg

    out: dict[int, list[str]] = {}
    with RtnlSocket(netns) as sock:
        sock.sock.sendall(
            message(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, sock.next_seq(), _IFADDRMSG.pack(0, 0, 0, 0, 0))
        )
        for raw in _dump(sock):
            msg = ifaddrmsg(raw)
            msg.decode()
            if msg["scope"] == _SCOPE_LINK:
                continue
            addr = msg.get_attr("IFA_LOCAL") or msg.get_attr("IFA_ADDRESS")
            out.setdefault(msg["index"], []).append(f"{addr}/{msg['prefixlen']}")
    return out


def _dump(sock: RtnlSocket) -> list[bytes]:
    """Each RTM_NEWADDR of the dump, header included (pyroute2 decodes whole messages)."""
    found: list[bytes] = []
    while True:
        buf = sock.sock.recv(1 << 20)
        for mtype, flags, _seq, start, end in iter_messages(buf):
            if mtype == RTM_NEWADDR:
                found.append(bytes(buf[start - 16 : end]))
            elif mtype == NLMSG_DONE:
                return found
            elif mtype == NLMSG_ERROR:  # a partial list would read as "no addresses to lose"
                code, text = parse_error(buf, start, end, flags)
                raise OSError(code, f"RTM_GETADDR dump refused: {text or os.strerror(code)}")

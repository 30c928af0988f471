"""Read layer 3 of a namespace (addresses, routes, rules) and set IPv6 on or off on a link.

One dump of each per address family; the socket is the namespace's RtnlSocket.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TypeVar

from linkctl.kernel import l3wire as W
from linkctl.kernel import netns
from linkctl.kernel.netlink import RtnlSocket
from linkctl.model.l3_state import L3State
from linkctl.nla import NLMSG_DONE, NLMSG_ERROR, iter_messages, parse_error

T = TypeVar("T")
_ANSWER = {W.RTM_GETADDR: W.RTM_NEWADDR, W.RTM_GETROUTE: W.RTM_NEWROUTE, W.RTM_GETRULE: W.RTM_NEWRULE}
_CONF = "/proc/sys/net/ipv6/conf"


def read_l3(sock: RtnlSocket, ipv6_of: Iterable[str] = ()) -> L3State:
    """Addresses, the routes a person made and the rules, of the socket's namespace; with
    net.ipv6.conf.NAME.disable_ipv6 of each link named in `ipv6_of` (and of "default")."""
    state = L3State()
    for version in (4, 6):
        state.addresses += _dump(sock, W.RTM_GETADDR, version, W.decode_address)
        state.routes += _dump(sock, W.RTM_GETROUTE, version, W.decode_route)
        state.rules += _dump(sock, W.RTM_GETRULE, version, W.decode_rule)
    names = list(dict.fromkeys(["default", *ipv6_of]))
    with netns.entered(sock.netns):
        state.ipv6_off = {name: off for name in names if (off := _ipv6_off(name)) is not None}
    return state


def _dump(sock: RtnlSocket, request: int, version: int, decode: Callable[[bytes, int, int], T | None]) -> list[T]:
    sock._send(W.dump_request(request, sock.next_seq(), version))
    answer = _ANSWER[request]
    out: list[T] = []
    while True:
        buf = sock.sock.recv(1 << 20)
        for mtype, flags, _seq, start, end in iter_messages(buf):
            if mtype == answer:
                item = decode(buf, start, end)
                if item is not None:
                    out.append(item)
            elif mtype == NLMSG_DONE:
                return out
            elif mtype == NLMSG_ERROR:  # a partial list would read as "nothing there" and be re-added
                code, text = parse_error(buf, start, end, flags)
                if code == 0:
                    continue
                raise OSError(code, f"dump refused: {text or os.strerror(code)}")


def _ipv6_off(name: str) -> bool | None:
    """None where IPv6 is not built in, or no such link."""
    try:
        with open(f"{_CONF}/{name}/disable_ipv6", "rb") as f:
            return f.read().strip() == b"1"
    except (FileNotFoundError, NotADirectoryError):
        return None


def set_ipv6(netns_name: str | None, link: str, enabled: bool) -> None:
    """net.ipv6.conf.LINK.disable_ipv6, written inside the link's namespace (its /proc/sys/net is that one's)."""
    if "/" in link or link in (".", ".."):
        raise ValueError(f"not a link name: {link!r}")
    with netns.entered(netns_name):
        fd = os.open(f"{_CONF}/{link}/disable_ipv6", os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, b"0\n" if enabled else b"1\n")
    finally:
        os.close(fd)

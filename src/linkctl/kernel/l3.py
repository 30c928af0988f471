"""Read layer 3 of a namespace (addresses, routes, rules) and set IPv6 on or off on a link.

One dump of each per address family; the socket is the namespace's RtnlSocket.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Protocol, TypeVar

from linkctl.kernel import l3wire as W
from linkctl.kernel import nsenter
from linkctl.model.l3_state import Address, L3State, Route
from linkctl.nla import NLMSG_DONE, NLMSG_ERROR, iter_messages, parse_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    import _socket


class DumpSocket(Protocol):
    """What a dump needs of a socket: kernel/netlink.py's RtnlSocket, or the fast path's _Raw (kernel/fastpath.py)."""

    netns: str | None
    sock: _socket.socket

    def next_seq(self) -> int: ...

    def _send(self, data: bytes) -> None: ...


T = TypeVar("T")
_ANSWER = {W.RTM_GETADDR: W.RTM_NEWADDR, W.RTM_GETROUTE: W.RTM_NEWROUTE, W.RTM_GETRULE: W.RTM_NEWRULE}
_CONF = "/proc/sys/net/ipv6/conf"


def read_l3(sock: DumpSocket) -> L3State:
    """Addresses, the routes a person made and the rules, of the socket's namespace, and
    net.ipv6.conf.NAME.disable_ipv6 of every link there (and of "default", what a new link takes):
    a rollback that makes a link again gives it back its own switch."""
    state = L3State()
    for version in (4, 6):
        state.addresses += _dump(sock, W.RTM_GETADDR, version, W.decode_address)
        state.routes += _dump(sock, W.RTM_GETROUTE, version, W.decode_route)
        state.rules += _dump(sock, W.RTM_GETRULE, version, W.decode_rule)
    with _inside(sock.netns):
        names = _conf_names()
        state.ipv6_off = {name: off for name in names if (off := _ipv6_off(name)) is not None}
    return state


def _conf_names() -> list[str]:
    """The links (and "default") under this namespace's /proc/sys/net/ipv6/conf; none without IPv6."""
    try:
        return sorted(n for n in os.listdir(_CONF) if n != "all")
    except FileNotFoundError:
        return []


def read_addresses(sock: DumpSocket) -> list[Address]:
    """Only the addresses, of both families (two dumps, not read_l3's six): audit's reading with the
    default routes, and addresses_by_link's."""
    return [a for version in (4, 6) for a in _dump(sock, W.RTM_GETADDR, version, W.decode_address)]


def read_default_routes(sock: DumpSocket) -> list[Route]:
    """Every default route of the socket's namespace, in any table, whatever made it: audit's reading
    (read_l3 keeps only the routes a person or a configuration tool made)."""
    return [r for version in (4, 6) for r in _dump(sock, W.RTM_GETROUTE, version, W.decode_default_route)]


def addresses_by_link(netns: str | None) -> dict[int, list[str]]:
    """ifindex -> the addresses a person configured on it ("10.9.0.1/24"), link-local ones left out, in
    the kernel's order: what moving, deleting or enslaving a link loses (engine/apply.py), which link
    holds a VXLAN's local (kernel/routes.py)."""
    from linkctl.kernel.netlink import (
        RtnlSocket,
    )  # not at the top: the receipt's fast path (kernel/fastpath.py) imports this module

    out: dict[int, list[str]] = {}
    with RtnlSocket(netns) as sock:
        for addr in read_addresses(sock):
            if not addr.link_local:
                out.setdefault(addr.ifindex, []).append(addr.cidr)
    return out


class _inside:
    """nsenter.inside by name (None: stay here); a class for the fast path, as nsenter's is."""

    def __init__(self, name: str | None) -> None:
        self.name, self.fd = name, -1
        self.entered: nsenter.inside | None = None

    def __enter__(self) -> None:
        if self.name is None:
            return
        self.fd = os.open(nsenter.path_of(self.name), os.O_RDONLY | os.O_CLOEXEC)
        entered = self.entered = nsenter.inside(self.fd)
        try:
            entered.__enter__()
        except BaseException:
            os.close(self.fd)
            raise

    def __exit__(self, *exc: object) -> None:
        if self.entered is not None:
            try:
                self.entered.__exit__()
            finally:
                os.close(self.fd)


def _dump(sock: DumpSocket, request: int, version: int, decode: Callable[[bytes, int, int], T | None]) -> list[T]:
    """One dump, again while the kernel marks it interrupted (NLM_F_DUMP_INTR: the table changed during
    it, DAD finishing on a new address, say): a reading must be one state, not two halves."""
    for _ in range(_DUMP_TRIES - 1):
        items, torn = _dump_once(sock, request, version, decode)
        if not torn:
            return items
    return _dump_once(sock, request, version, decode)[0]


_DUMP_TRIES = 5
NLM_F_DUMP_INTR = 0x10


def _dump_once(
    sock: DumpSocket, request: int, version: int, decode: Callable[[bytes, int, int], T | None]
) -> tuple[list[T], bool]:
    torn = False
    sock._send(W.dump_request(request, sock.next_seq(), version))
    answer = _ANSWER[request]
    out: list[T] = []
    while True:
        buf = sock.sock.recv(1 << 20)
        for mtype, flags, _seq, start, end in iter_messages(buf):
            torn = torn or bool(flags & NLM_F_DUMP_INTR)
            if mtype == answer:
                item = decode(buf, start, end)
                if item is not None:
                    out.append(item)
            elif mtype == NLMSG_DONE:
                return out, torn
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
    with _inside(netns_name):
        fd = os.open(f"{_CONF}/{link}/disable_ipv6", os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, b"0\n" if enabled else b"1\n")
    finally:
        os.close(fd)

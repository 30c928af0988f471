"""The NETLINK_ROUTE socket (`RouteSocket`), raw RTM_GETLINK dumps, and a fingerprint of them
that ignores what changes on its own.

`RouteSocket` is the one socket class for requests, dumps and subscriptions: kernel/netlink.py
builds its pipelined requests and decoded dumps on it, watch/ subscribes with it, `try`
watches carriers with it, and the receipt's no-op fast path dumps with it. It lives here,
on that fast path, so that path imports nothing more for it.

`linkctl apply` of a file it has already applied must cost about what the dump
costs (the issue's target: within 2x of `ip -j -d link show`). So this module
imports only the standard library and linkctl/nla.py, and fingerprints 2000 links in a
few milliseconds (walking their 80,000 attributes one by one in Python takes
~25 ms), so each message's attribute layout is learned once and then only confirmed with
one struct unpack (see `Fingerprinter`).

The fingerprint leaves out what the kernel changes without anyone configuring
anything, none of which the planner reads: counters, carrier and operstate,
the queue discipline swapped at down/up, IPv6's periodically re-randomised
reachable time (in IFLA_AF_SPEC), promiscuity and allmulti counts that packet
sockets raise, STP and bonding state: what the attribute tables (linkctl/nla/ifla.py)
mark `volatile`. Everything else is kept, so any change
the planner could act on changes the fingerprint (tests/kernel/test_linkdump.py
checks this byte by byte against the decoder).
"""

from __future__ import annotations

import struct

try:  # hashlib would load OpenSSL (13 ms); blake2 is built into CPython
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - an interpreter without the builtin module
    from hashlib import blake2b

from linkctl.kernel import nsenter
from linkctl.nla import (
    IFINFOMSG,
    NLA_HDR,
    NLM_F_DUMP,
    NLM_F_REQUEST,
    NLMSG_DONE,
    NLMSG_ERROR,
    NLMSG_HDR,
    attr_i32,
    attr_u32,
    ifla,
    message,
    remember,
)
from linkctl.nla import MAX_SHAPES as _MAX_SHAPES
from linkctl.nla import layout as struct_of  # not `layout`: the fingerprint loop's name for a Layout
from linkctl.nla.ifla import (
    IFLA_EXT_MASK,
    IFLA_INFO_DATA,
    IFLA_INFO_KIND,
    IFLA_INFO_SLAVE_DATA,
    IFLA_INFO_SLAVE_KIND,
    IFLA_INFO_XSTATS,
    IFLA_LINKINFO,
    NETNSA_FD,
    NETNSA_NSID,
    RTEXT_FILTER_SKIP_STATS,
    RTM_GETLINK,
    RTM_GETNSID,
    RTM_NEWLINK,
    RTM_NEWNSID,
)

TYPE_CHECKING = False  # not imported at run time: this module is on the no-op fast path
if TYPE_CHECKING:
    import _socket
    from collections.abc import Iterable
    from typing import Self

SOL_SOCKET, SO_SNDBUF, SO_RCVBUF, SO_RCVBUFFORCE = 1, 7, 8, 33
SOL_NETLINK, NETLINK_CAP_ACK, NETLINK_EXT_ACK = 270, 10, 11


class RouteSocket:
    """A NETLINK_ROUTE socket in the namespace of `netns_fd` (None: this thread's own), bound to the
    multicast `groups` (RTMGRP_*) it subscribes to, 0 for requests and dumps only.

    `acks`: the kernel's extended acknowledgements (its message on a refusal) without the request
    echoed back. `rcvbuf`: the receive buffer a burst of answers or events needs, forced past
    net.core.rmem_max where the caller may (CAP_NET_ADMIN). Made with `_socket`: socket.py's
    enums cost the fast path 8 ms.
    """

    __slots__ = ("sock",)

    def __init__(
        self,
        netns_fd: int | None = None,
        groups: int = 0,
        *,
        acks: bool = False,
        rcvbuf: int | None = None,
        sndbuf: int | None = None,
        blocking: bool = True,
        timeout: float | None = None,
    ) -> None:
        import _socket

        family = (_socket.AF_NETLINK, _socket.SOCK_RAW | _socket.SOCK_CLOEXEC, _socket.NETLINK_ROUTE)
        if netns_fd is None:
            sock = _socket.socket(*family)
        else:
            with nsenter.inside(netns_fd):
                sock = _socket.socket(*family)
        try:
            _configure(sock, acks, rcvbuf, sndbuf)
            if timeout is not None:
                sock.settimeout(timeout)
            sock.bind((0, groups))
            if not blocking:
                sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        self.sock = sock

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv(self, size: int = 1 << 20) -> bytes:
        return self.sock.recv(size)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def dump_messages(self, seq: int, stats: bool = True) -> list[bytes]:
        """The RTM_NEWLINK payloads of one dump of every link."""
        self.send(dump_request(seq, stats))
        return collect_dump(self)


def _configure(sock: _socket.socket, acks: bool, rcvbuf: int | None, sndbuf: int | None) -> None:
    if acks:
        sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
    if sndbuf is not None:
        sock.setsockopt(SOL_SOCKET, SO_SNDBUF, sndbuf)
    if rcvbuf is not None:
        try:
            sock.setsockopt(SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf)  # past net.core.rmem_max, as root
        except PermissionError:
            sock.setsockopt(SOL_SOCKET, SO_RCVBUF, rcvbuf)  # an unprivileged `show`: the system's cap


# What the kernel changes by itself, as the attribute tables mark it (linkctl/nla/ifla.py).
VOLATILE_ATTRS = ifla.LINK.volatile
VOLATILE_FLAGS = 0x40 | 0x10000 | 0x20000  # IFF_RUNNING, IFF_LOWER_UP, IFF_DORMANT: carrier
VOLATILE_KIND_DATA = ifla.VOLATILE_KIND_DATA  # by kind: STP state and timers, a bond's active port...
DROPPED_LINKINFO = frozenset({IFLA_INFO_XSTATS, IFLA_INFO_SLAVE_DATA})  # port counters and timers
KEPT_PORT_DATA = ifla.KEPT_PORT_DATA  # ... but for the port settings a file declares, which are kept
_HDR = NLA_HDR.unpack_from


def new_hash() -> blake2b:
    return blake2b(digest_size=20)


def tagged_digest(link_digest: str, tag: bytes, parts: list[tuple[str | None, bytes]]) -> str:
    """The links' fingerprint and each namespace's `tag` part (b"l3": addresses, routes, rules;
    b"vlans": bridge ports' VLANs), as one digest: a receipt's, by the full path and the fast path alike."""
    h = new_hash()
    h.update(link_digest.encode())
    for name, part in parts:
        h.update(b"\0" + tag + b"\0" + (name or "\0").encode() + b"\0" + part)
    return h.hexdigest()


_PREFIX = struct.Struct("=IHiI")  # length, ifi_type, ifi_index, ifi_flags without the carrier flags


def dump_request(seq: int, stats: bool) -> bytes:
    body = IFINFOMSG.pack(0, 0, 0, 0, 0)
    if not stats:
        body += attr_u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS)
    return message(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, seq, body)


def collect_dump(sock: RouteSocket) -> list[bytes]:
    """The RTM_NEWLINK payloads (ifinfomsg and attributes) of a dump already requested."""
    out: list[bytes] = []
    done = False
    while not done:
        done = split_dump(sock.recv(1 << 20), out)
    return out


def split_dump(buf: bytes, out: list[bytes]) -> bool:
    """Append the RTM_NEWLINK payloads in one received buffer to `out`; True at the dump's end."""
    unpack = NLMSG_HDR.unpack_from
    off, end = 0, len(buf)
    while off + 16 <= end:
        length, mtype = unpack(buf, off)[:2]
        if length < 16:
            break
        if mtype == RTM_NEWLINK:
            out.append(buf[off + 16 : off + length])
        elif mtype == NLMSG_DONE:
            # A dump that failed midway ends with NLMSG_DONE carrying the negative errno.
            (err,) = struct.unpack_from("=i", buf, off + 16) if length >= 20 else (0,)
            if err < 0:
                raise OSError(-err, "RTM_GETLINK dump failed")
            return True
        elif mtype == NLMSG_ERROR:
            (err,) = struct.unpack_from("=i", buf, off + 16)
            raise OSError(-err, "RTM_GETLINK dump failed")
        off += (length + 3) & ~3
    return False


def nsid_request(seq: int, fd: int) -> bytes:
    body = struct.pack("=Bxxx", 0) + attr_i32(NETNSA_FD, fd)
    return message(RTM_GETNSID, NLM_F_REQUEST, seq, body)


def parse_nsid(buf: bytes) -> int | None:
    """The id in an RTM_NEWNSID answer; None when the namespace has none here."""
    length, mtype = NLMSG_HDR.unpack_from(buf)[:2]
    if mtype != RTM_NEWNSID:
        return None
    pos = 16 + 4
    while pos + 4 <= length:
        alen, atype = _HDR(buf, pos)
        if alen < 4:
            break
        if atype & 0x3FFF == NETNSA_NSID:
            (nsid,) = struct.unpack_from("=i", buf, pos + 4)
            return nsid if nsid >= 0 else None
        pos += (alen + 3) & ~3
    return None


class Layout:
    """Where every attribute header of one message shape sits, and which bytes are kept.

    `check` unpacks all those headers (and the kind string) in one call; when the
    result equals `expect`, the message has exactly this shape, since each header
    fixes where the next one starts.
    """

    __slots__ = ("check", "expect", "kept", "spans")

    def __init__(self, check: struct.Struct, expect: tuple[object, ...], spans: tuple[tuple[int, int], ...]) -> None:
        self.check, self.expect, self.spans = check, expect, spans
        fmt, cur = ["="], 0
        for start, end in spans:
            fmt.append(f"{start - cur}x{end - start}s" if start > cur else f"{end - start}s")
            cur = end
        self.kept = struct.Struct("".join(fmt))  # the kept byte ranges, read in one call


class Fingerprinter:
    """Fingerprints of link messages; remembers message shapes across calls."""

    def __init__(self) -> None:
        self._layouts: dict[int, list[Layout]] = {}

    def fingerprint(self, msg: bytes) -> bytes:
        return self.fingerprints([msg])[0]

    def fingerprints(self, messages: list[bytes]) -> list[bytes]:
        """Each message's fingerprint, length-prefixed so that a sequence of them is unambiguous.

        The hot loop of the no-op fast path: locals only, one unpack per message.
        """
        out = []
        layouts = self._layouts
        prefix_in, prefix, keep_flags = _PREFIX_IN.unpack_from, _PREFIX.pack, ~VOLATILE_FLAGS
        for msg in messages:
            ltype, index, flags = prefix_in(msg, 2)
            size = len(msg)
            for layout in layouts.get(size, ()):
                if layout.check.unpack_from(msg) == layout.expect:
                    break
            else:
                layout = learn(msg)
                remember(layouts, size, layout)
            body = b"".join(layout.kept.unpack_from(msg))
            out.append(prefix(len(body), ltype, index, flags & keep_flags) + body)
        return out


_PREFIX_IN = struct.Struct("=HiI")
MAX_SHAPES = _MAX_SHAPES  # remembered message shapes per message size


TOP, INFO, DATA, PORT = 0, 1, 2, 3  # where an attribute sits: the link, IFLA_LINKINFO, its kind's, its port's data
REST = -1  # an attribute too short or past its nest's end: the walk stops there, the rest is kept whole


class LinkWalk:
    """One RTM_NEWLINK payload walked attribute by attribute, every header recorded.

    The one walk that both learned-shape readers build on: the fingerprint below keeps byte
    ranges of it, kernel/linkshape.py reads a link's values from it. `headers` (with the kind
    strings, which pick a kind's rules) is what a shape checks in one struct call; `attrs` holds
    (nest, type, header offset, payload start, payload end, next offset) in message order. A
    kind's data is walked where the fingerprint leaves some of it out (volatile attributes), a
    port's where it keeps some of it (the settings a file declares).
    """

    __slots__ = ("attrs", "headers", "kept", "msg", "odd", "volatile")

    def __init__(self, msg: bytes) -> None:
        self.msg = msg
        self.headers: list[tuple[int, str, tuple[object, ...]]] = []  # (offset, format, values)
        self.attrs: list[tuple[int, int, int, int, int, int]] = []
        self.odd = False
        self.volatile: frozenset[int] = frozenset()  # of the kind's data
        self.kept: frozenset[int] = frozenset()  # of the port's data
        self._nest(TOP, 16, len(msg))

    def _nest(self, nest: int, pos: int, end: int) -> None:
        msg, headers, attrs = self.msg, self.headers, self.attrs
        while pos + 4 <= end:
            alen, atype = _HDR(msg, pos)
            headers.append((pos, "HH", (alen, atype)))
            if alen < 4 or pos + alen > end:
                self.odd = True
                attrs.append((nest, REST, pos, pos, end, end))
                return
            atype &= 0x3FFF
            nxt = min(pos + ((alen + 3) & ~3), end)
            attrs.append((nest, atype, pos, pos + 4, pos + alen, nxt))
            if nest == TOP and atype == IFLA_LINKINFO:
                self._nest(INFO, pos + 4, pos + alen)
            elif nest == INFO:
                self._info(atype, pos + 4, pos + alen)
            pos = nxt

    def _info(self, atype: int, s: int, e: int) -> None:
        if atype in (IFLA_INFO_KIND, IFLA_INFO_SLAVE_KIND):
            kind = self.msg[s:e]
            self.headers.append((s, f"{e - s}s", (kind,)))  # the kind picks the rules: part of the shape
            if atype == IFLA_INFO_KIND:
                self.volatile = VOLATILE_KIND_DATA.get(kind.rstrip(b"\0"), frozenset())
            else:
                self.kept = KEPT_PORT_DATA.get(kind.rstrip(b"\0"), frozenset())
        elif atype == IFLA_INFO_DATA and self.volatile:
            self._nest(DATA, s, e)
        elif atype == IFLA_INFO_SLAVE_DATA and self.kept:
            self._nest(PORT, s, e)


def _spans(walk: LinkWalk) -> tuple[tuple[int, int], ...]:
    """The byte ranges the fingerprint keeps: all but what the kernel changes by itself."""
    spans: list[tuple[int, int]] = []

    def keep(start: int, end: int) -> None:
        if spans and spans[-1][1] == start:
            spans[-1] = (spans[-1][0], end)
        elif end > start:
            spans.append((start, end))

    volatile, kept = walk.volatile, walk.kept
    for nest, atype, pos, _s, _e, nxt in walk.attrs:
        if atype == REST:
            keep(pos, nxt)
        elif nest == TOP:
            if atype == IFLA_LINKINFO:
                keep(pos, pos + 4)  # the nest's header; its children by their own rules
            elif atype not in VOLATILE_ATTRS:
                keep(pos, nxt)
        elif nest == INFO:
            if atype == IFLA_INFO_DATA and volatile:
                keep(pos, pos + 4)
            elif atype not in DROPPED_LINKINFO:
                keep(pos, nxt)
        elif (nest == DATA and atype not in volatile) or (nest == PORT and atype in kept):
            keep(pos, nxt)
    return tuple(spans)


def learn(msg: bytes) -> Layout:
    """Walk one message the slow way and describe its shape."""
    walk = LinkWalk(msg)
    check, expect = struct_of(walk.headers)
    return Layout(check, expect, _spans(walk))


class NamespaceDump:
    """One namespace as the fingerprint sees it: None messages when it does not exist."""

    __slots__ = ("messages", "name", "nsids")

    def __init__(self, name: str | None, messages: list[bytes] | None, nsids: tuple[int | None, ...] = ()) -> None:
        self.name = name
        self.messages = messages
        self.nsids = nsids  # the ids it has for the other namespaces, in order


class Digest:
    """One hex digest for the links of several namespaces, fed namespace by namespace.

    Messages go in in the kernel's dump order, and may come in pieces as they are
    received (the fast path fingerprints while the kernel is still dumping).
    """

    def __init__(self) -> None:
        self._h = new_hash()
        self._printer = Fingerprinter()
        self._count = 0

    def begin(self, name: str | None, exists: bool = True) -> None:
        self._h.update(b"netns\0" + (name if name is not None else "\0").encode() + (b"\1" if exists else b"\0"))
        self._count = 0

    def links(self, messages: list[bytes]) -> None:
        self._h.update(b"".join(self._printer.fingerprints(messages)))
        self._count += len(messages)

    def end(self, nsids: tuple[int | None, ...]) -> None:
        """Close a namespace: how many links, and the ids it has for the other namespaces."""
        self._h.update(b"%d links %s\0" % (self._count, repr(nsids).encode()))

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def digest(dumps: Iterable[NamespaceDump]) -> str:
    out = Digest()
    for dump in dumps:
        out.begin(dump.name, dump.messages is not None)
        if dump.messages is not None:
            out.links(dump.messages)
            out.end(dump.nsids)
    return out.hexdigest()

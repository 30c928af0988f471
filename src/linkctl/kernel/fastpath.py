"""The receipt fast path's kernel reads (linkctl/fastpath/): the digest a receipt holds, taken now.

A receipt's digest is the fingerprint of the links of every namespace a plan read (one dump
each, kernel/linkdump.py's Fingerprinter, with the ids each namespace has for the others) and,
when the file declares addresses, routes or rules, those namespaces' layer 3 in a canonical
form. `current_digest` and `layer3_digest` take it for the fast path; kernel/state.py takes the
same from the dumps the full path decodes (its `_fingerprinted` asks the same nsid questions,
and `combined_digest` and `layer3_fingerprint` below serve both), so the digest recorded and the
digest compared are one computation.

Imports only the standard library and kernel/linkdump.py; kernel/l3.py (and the layer 3
model) only for a receipt that holds layer 3.
"""

from __future__ import annotations

import os

from linkctl.kernel import linkdump, nsenter

TYPE_CHECKING = False  # typing is not imported at run time: this module is on the fast path
if TYPE_CHECKING:
    import _socket
    from collections.abc import Callable

    from linkctl.model.l3_state import L3State


def digest_now(namespaces: list[str | None], layer3: list[str | None], vlans: list[str | None]) -> str:
    """The digest a receipt of these namespaces (layer 3 of those in `layer3`, the bridge ports' VLANs of
    those in `vlans` too) would hold now: in kernel/state.py's order."""
    digest = current_digest(namespaces)
    if layer3:
        digest = layer3_digest(digest, layer3)
    if vlans:
        digest = vlan_digest(digest, vlans)
    return digest


def current_digest(namespaces: list[str | None]) -> str:
    """The fingerprint of these namespaces' links now: one dump each, nothing decoded."""
    fds: dict[str | None, int] = {}
    try:
        for name in namespaces:
            try:
                fds[name] = os.open(nsenter.path_of(name), os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                continue
        out = linkdump.Digest()
        for name in namespaces:
            out.begin(name, name in fds)
            if name in fds:
                _dump_into(out, name, fds, namespaces)
        return out.hexdigest()
    finally:
        for fd in fds.values():
            os.close(fd)


def _dump_into(out: linkdump.Digest, name: str | None, fds: dict[str | None, int], order: list[str | None]) -> None:
    # A dump that never ends is a doubt: after 5 s the full command decides.
    with linkdump.RouteSocket(None if name is None else fds[name], timeout=5.0) as sock:
        sock.send(linkdump.dump_request(1, stats=False))
        _receive_into(out, sock)
        nsids = [_nsid(sock, seq, fds.get(other)) for seq, other in enumerate(order, 2) if other != name]
    out.end(tuple(nsids))


def _receive_into(out: linkdump.Digest, sock: linkdump.RouteSocket) -> None:
    """Fingerprint a dump as it arrives, buffer by buffer.

    (A receiving thread, to let the kernel fill the next buffer while this one
    hashes, measured slower here: the GIL hand-over costs more than it overlaps.)
    """
    done = False
    while not done:
        messages: list[bytes] = []
        done = linkdump.split_dump(sock.recv(1 << 20), messages)
        out.links(messages)


def _nsid(sock: linkdump.RouteSocket, seq: int, fd: int | None) -> int | None:
    if fd is None:
        return None
    sock.send(linkdump.nsid_request(seq, fd))
    return linkdump.parse_nsid(sock.recv(1 << 16))


def layer3_fingerprint(state: L3State) -> bytes:
    """What the planner reads of a namespace's layer 3, in a canonical form (a receipt's part of it).

    Decoded, not the raw messages: those carry counters and timers (IFA_CACHEINFO, RTA_CACHEINFO)
    that change with nothing changed."""
    parts = (
        sorted(state.addresses),
        sorted(repr(r) for r in state.routes),
        sorted(repr(r) for r in state.rules),
        sorted(state.ipv6_off.items()),
    )
    return repr(parts).encode()


def combined_digest(link_digest: str, layer3: list[tuple[str | None, bytes]]) -> str:
    """The links' fingerprint and each namespace's layer 3, as one digest."""
    return linkdump.tagged_digest(link_digest, b"l3", layer3)


def layer3_digest(link_digest: str, wanted: list[str | None]) -> str:
    """combined_digest of the namespaces now; a missing one counts as empty."""
    from linkctl.kernel.l3 import read_l3  # a file with addresses, routes or rules

    parts = _each(wanted, lambda raw: layer3_fingerprint(read_l3(raw)), b"-")
    return linkdump.tagged_digest(link_digest, b"l3", parts)


def vlan_digest(link_digest: str, wanted: list[str | None]) -> str:
    """The bridge ports' VLANs of the namespaces now, after the links' fingerprint (a missing one: none)."""
    from linkctl.kernel import brvlan  # a file with bridge port VLANs

    parts = _each(wanted, lambda raw: brvlan.fingerprint(brvlan.read_vlans(raw.route, 1)), brvlan.fingerprint(None))
    return linkdump.tagged_digest(link_digest, b"vlans", parts)


def _each(wanted: list[str | None], read: Callable[[_Raw], bytes], missing: bytes) -> list[tuple[str | None, bytes]]:
    """One dump's part per namespace, each read through its own socket there."""
    parts: list[tuple[str | None, bytes]] = []
    for name in wanted:
        if name is not None and not os.path.exists(nsenter.path_of(name)):
            parts.append((name, missing))
            continue
        sock = _Raw(name)
        try:
            parts.append((name, read(sock)))
        finally:
            sock.route.close()
    return parts


class _Raw:
    """The fast path's socket for read_l3 (its DumpSocket): the one route socket class, with the
    sequence numbers and the namespace name a dump asks of a socket; not kernel/netlink.py, whose
    imports would cost the fast path more than the dumps themselves."""

    def __init__(self, name: str | None) -> None:
        self.netns = name
        self._seq = 0
        fd = os.open(nsenter.path_of(name), os.O_RDONLY | os.O_CLOEXEC) if name is not None else None
        try:
            # A dump that never ends is a doubt: the full command decides.
            self.route = linkdump.RouteSocket(fd, timeout=5.0)
        finally:
            if fd is not None:
                os.close(fd)
        self.sock: _socket.socket = self.route.sock

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _send(self, data: bytes) -> None:
        self.route.send(data)

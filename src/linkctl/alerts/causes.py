"""Which flapping links share one cause, so that their alerts go out as one notification.

Taking down one end of a veth pair takes the carrier of the other with it, and a bridge
loses its carrier with its last port: the links are tied, and each raises its own flap
alert for the one event. As Alertmanager groups alerts by a label, these links are
grouped by what ties them: the ends of a veth pair (even across namespaces), a bridge and
its ports, and, through those, the peers of a bridge's veth ports (a container's end of
its veth and the bridge its host end is in). A link tied to nothing has no cause of its own
and is alerted alone.

The ties are read from the kernel when alerts are due (links come and go); `causes_in` is
the pure part.
"""

from __future__ import annotations

from collections.abc import Iterable

from linkctl.model.state import HostState, Link, NetnsName

LinkId = tuple[NetnsName, str]


def read_causes(links: Iterable[LinkId]) -> dict[LinkId, str]:
    """The cause of each link that shares one, read from the kernel: the namespaces of
    `links` and the ones their veth peers are in. A namespace gone is simply not read."""
    from linkctl.kernel.state import read_with_link_nets

    namespaces = list(dict.fromkeys(ns for ns, _ in links))
    if not namespaces:
        return {}
    return causes_in(read_with_link_nets(namespaces))


def causes_in(host: HostState) -> dict[LinkId, str]:
    """Every link tied to another, mapped to the name of its group: "bridge NS/BR" for a
    group holding a bridge, else "veth pair NS/A + NS/B"."""
    groups = _Groups()
    kinds: dict[LinkId, str | None] = {}
    for ns, state in host.namespaces.items():
        for link in state.links.values():
            me = (ns, link.name)
            kinds[me] = link.kind
            master = state.by_index(link.master_ifindex)
            if master is not None and master.kind == "bridge":
                groups.join(me, (ns, master.name))
            peer = _veth_peer(host, ns, link)
            if peer is not None:
                groups.join(me, peer)
    out: dict[LinkId, str] = {}
    for members in groups.sets():
        bridges = sorted((m for m in members if kinds.get(m) == "bridge"), key=_order)
        if bridges:
            name = "bridge " + " + ".join(_label(m) for m in bridges)
        else:
            name = "veth pair " + " + ".join(_label(m) for m in sorted(members, key=_order))
        for member in members:
            out[member] = name
    return out


def _veth_peer(host: HostState, ns: NetnsName, link: Link) -> LinkId | None:
    if link.kind != "veth" or link.link_ifindex is None:
        return None
    peer_ns: NetnsName = ns
    if link.link_netnsid is not None:
        if (ns, link.link_netnsid) not in host.netnsids:
            return None  # the peer is in a namespace with no name (a container's): not readable
        peer_ns = host.netnsids[(ns, link.link_netnsid)]
    state = host.namespaces.get(peer_ns)
    peer = None if state is None else state.by_index(link.link_ifindex)
    return None if peer is None else (peer_ns, peer.name)


def _label(link: LinkId) -> str:
    ns, name = link
    return name if ns is None else f"{ns}/{name}"


def _order(link: LinkId) -> tuple[str, str]:
    return (link[0] or "", link[1])


class _Groups:
    """Union-find over links; only links joined to another end up in a set."""

    def __init__(self) -> None:
        self._parent: dict[LinkId, LinkId] = {}

    def join(self, a: LinkId, b: LinkId) -> None:
        ra, rb = self._root(a), self._root(b)
        if ra != rb:
            self._parent[max(ra, rb, key=_order)] = min(ra, rb, key=_order)

    def _root(self, x: LinkId) -> LinkId:
        self._parent.setdefault(x, x)
        while self._parent[x] != x:
            self._parent[x] = self._parent[self._parent[x]]  # halve the path as it is walked
            x = self._parent[x]
        return x

    def sets(self) -> list[list[LinkId]]:
        members: dict[LinkId, list[LinkId]] = {}
        for x in list(self._parent):
            members.setdefault(self._root(x), []).append(x)
        return [m for m in members.values() if len(m) > 1]

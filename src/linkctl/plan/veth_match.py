"""A veth peer renamed by hand is found by its index, as the kernel pairs them, and named back.

The kernel ties the two ends of a pair by index (a veth's IFLA_LINK is its peer's ifindex, with
IFLA_LINK_NETNSID when the peer is in another namespace), never by name. Matched by name alone,
a peer renamed with `ip link set u0p name u0q` looked absent and the plan made the pair again
beside the end still there ("File exists"). Named back in place, the pair keeps its addresses,
its ports and its MACs, as a peer moved elsewhere is moved back rather than made again.

The planner then works on a view of the kernel's state in which the rename is done: every later
step names the peer as the file does, and the rename goes first.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from linkctl.kinds.veth import is_peer_entry, peer_netns
from linkctl.model.spec import Declaration, InterfaceSpec
from linkctl.model.state import HostState, Link, NetnsName, NetnsState, VethInfo
from linkctl.plan.ops import RenameLink

Key = tuple[NetnsName, str]


@dataclass(frozen=True)
class PeerRename:
    link: Link  # the peer as the kernel has it now
    name: str  # the name the file gives it
    netns: NetnsName  # where the file puts it: a move after the rename when that is elsewhere
    end: str  # the declared end whose peer it is

    def op(self) -> RenameLink:
        moves = self.netns != self.link.netns  # the kernel brings a link down when it moves it
        up = self.link.admin_up
        why = f"{self.end}'s veth peer, matched by its index"
        return RenameLink(
            self.name, self.link.netns, why, old_name=self.link.name, was_up=up, up_after=up and not moves
        )


def locate(
    host: HostState, name: str, netns: NetnsName, explicit: bool, default: NetnsName, located: dict[Key, NetnsName]
) -> Link | None:
    """The link a declared entry describes: by name where it is, or still in the default namespace."""
    link = host.find(name, located.get((netns, name), netns))
    if link is None and explicit and netns != default:
        # Declared in another namespace, still in the default one: it will be moved.
        link = host.find(name, default)
    return link


def renamed_peers(
    decl: Declaration, host: HostState, default: NetnsName, located: dict[Key, NetnsName]
) -> list[PeerRename]:
    """The peers of declared veth ends whose names differ from the file's, to be named back."""
    out: list[PeerRename] = []
    seen: set[tuple[NetnsName, int]] = set()
    claimed: set[tuple[NetnsName, int]] | None = None
    by_name: dict[str, list[InterfaceSpec]] | None = None
    for spec in decl.interfaces:
        veth = spec.veth
        if veth is None or spec.absent:
            continue
        netns = spec.netns if spec.netns is not None else default
        end = locate(host, spec.name, netns, spec.netns is not None, default, located)
        if end is None or not isinstance(end.info, VethInfo):
            continue
        peer = host.peer_of(end)
        if peer is None or peer.name == veth.peer:
            continue
        if claimed is None or by_name is None:  # only once a peer with another name is found
            claimed, by_name = _claims(decl, host, default, located)
        if (peer.netns, peer.ifindex) in claimed:
            continue  # declared by the name it has: that entry says what becomes of it
        if (peer.netns, peer.ifindex) in seen:
            continue  # both ends declared, both found: named back once
        declared = _declared_peer(spec, by_name, default)
        if declared is not None:
            want = declared.netns if declared.netns is not None else default
        else:
            want = peer_netns(veth, netns)
            if veth.peer_netns is None and peer.netns != netns:
                continue  # an undeclared peer elsewhere, no peer-netns: the planner makes the pair again
        if any(_taken(host, veth.peer, where, peer) for where in (peer.netns, want)):
            continue  # the name is another link's: validation refuses the file, saying so
        seen.add((peer.netns, peer.ifindex))
        out.append(PeerRename(peer, veth.peer, want, spec.name))
    return out


def renamed_view(
    host: HostState, renames: list[PeerRename], located: dict[Key, NetnsName]
) -> tuple[HostState, dict[Key, NetnsName]]:
    """The state as it is once the renames are done, and where each renamed peer is now."""
    if not renames:
        return host, located
    namespaces = dict(host.namespaces)
    for r in renames:
        ns, old = namespaces[r.link.netns], r.link.name
        links = {
            (r.name if n == old else n): (replace(lk, name=r.name) if n == old else lk) for n, lk in ns.links.items()
        }
        namespaces[r.link.netns] = NetnsState(ns.netns, links, l3=ns.l3)
        if r.netns != r.link.netns:
            located[(r.netns, r.name)] = r.link.netns
    return HostState(namespaces, host.netnsids, host.digest), located


def _claims(
    decl: Declaration, host: HostState, default: NetnsName, located: dict[Key, NetnsName]
) -> tuple[set[tuple[NetnsName, int]], dict[str, list[InterfaceSpec]]]:
    """The links the file's entries name as they are, and its entries by name."""
    claimed: set[tuple[NetnsName, int]] = set()
    by_name: dict[str, list[InterfaceSpec]] = {}
    for spec in decl.interfaces:
        by_name.setdefault(spec.name, []).append(spec)
        netns = spec.netns if spec.netns is not None else default
        link = locate(host, spec.name, netns, spec.netns is not None, default, located)
        if link is not None:
            claimed.add((link.netns, link.ifindex))
    return claimed, by_name


def _declared_peer(
    spec: InterfaceSpec, by_name: dict[str, list[InterfaceSpec]], default: NetnsName
) -> InterfaceSpec | None:
    """The entry for the other end, naming this one back (in peer-netns when that is given), as the planner finds it."""
    assert spec.veth is not None
    for other in by_name.get(spec.veth.peer, ()):
        if is_peer_entry(spec, other, other.netns if other.netns is not None else default):
            return other
    return None


def _taken(host: HostState, name: str, netns: NetnsName, peer: Link) -> bool:
    link = host.find(name, netns)
    return link is not None and (link.netns, link.ifindex) != (peer.netns, peer.ifindex)

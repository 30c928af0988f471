"""The planner's second pass: namespaces to make, links to delete (stacked ones before their
base, one request per veth pair), links to move, and the order in which the rest is built."""

from __future__ import annotations

from linkctl.kinds import kind_of
from linkctl.model.state import Link, VethInfo
from linkctl.plan.match import Matcher, Target
from linkctl.plan.ops import CreateNetns, DeleteLink, MoveLink


class Reshape:
    """Namespaces made, links deleted (stacked ones before their base), links moved."""

    def __init__(self, m: Matcher) -> None:
        self.m = m

    def run(self) -> None:
        self._netns_ops()
        self._deletions()
        self._moves()

    def _netns_ops(self) -> None:
        wanted = {t.netns for t in self.m.targets.values() if not t.absent}
        wanted |= {self.m.peer_netns(t) for t in self.m.targets.values() if t.spec.veth is not None and not t.absent}
        for name in sorted(n for n in wanted if n is not None and n not in self.m.host.namespaces):
            why = "it does not exist"
            if name.isdigit():  # `ip link ... netns 1234` means a process; a name here makes a new namespace
                why += f" (for process {name}'s own namespace, name it first: ip netns attach NAME {name})"
            self.m.plan.ops.append(CreateNetns(name, None, why))

    def _deletions(self) -> None:
        dels = [t for t in self.m.targets.values() if t.current is not None and (t.absent or t.recreate)]
        # Stacked links go before their base: they would vanish with it otherwise.
        dels.sort(key=lambda t: -self._stack_depth(t.current))
        for t in dels:
            assert t.current is not None
            if t.current.name != t.spec.name:
                continue
            if self._is_peer_of_earlier(t, dels):
                if t.absent:
                    self.m.plan.notes.append(f"{t.current.name} goes with its veth peer: one request deletes the pair")
                continue
            if not t.kind.creatable and t.absent:
                continue  # validation refuses this; never delete a NIC
            reason = "re-create: " + "; ".join(t.recreate) if t.recreate else "state: absent"
            self.m.plan.ops.append(DeleteLink(t.current.name, t.current.netns, reason))

    def _stack_depth(self, link: Link | None) -> int:
        depth = 0
        ns = self.m.host.ns(link.netns) if link else None
        while link is not None and ns is not None and depth < 16:
            lower = kind_of(link).lower_ifindex(link)
            link = ns.by_index(lower) if lower else None
            depth += 1 if link is not None else 0
        return depth

    def _is_peer_of_earlier(self, t: Target, dels: list[Target]) -> bool:
        """Deleting one end of a veth deletes the other: one request for the pair."""
        assert t.current is not None
        if not isinstance(t.current.info, VethInfo):
            return False
        peer = self.m.host.peer_of(t.current)
        for other in dels:
            if other is t:
                return False
            if (
                peer is not None
                and other.current is not None
                and other.current.ifindex == peer.ifindex
                and other.current.netns == peer.netns
            ):
                return True
        return False

    def _moves(self) -> None:
        for t in self.m.targets.values():
            cur = t.current
            if cur is None or t.absent or t.recreate or cur.netns == t.netns:
                continue
            self.m.plan.ops.append(MoveLink(cur.name, cur.netns, to_netns=t.netns))

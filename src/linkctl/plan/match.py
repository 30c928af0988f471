"""The planner's first pass: each declared interface matched with the link it describes, what
must be re-created and why, and what dies with it; and the lookups every later pass asks.

Every later pass (reshape, build, ports, the MTU notes: a module each) holds this Matcher, not a
parent class: it reads what the match decided and asks its lookups, and adds its ops to its plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from linkctl.kinds import BY_TYPE, kind_of
from linkctl.kinds.base import NO_DIFF, KindDiff, LinkKind
from linkctl.kinds.veth import VETH, is_peer_entry, peer_netns
from linkctl.model.placement import base_netns, current_base
from linkctl.model.spec import Declaration, InterfaceSpec, InterfaceType, LinkStateName
from linkctl.model.state import BridgeInfo, HostState, Link, NetnsName
from linkctl.plan.convert import spec_of
from linkctl.plan.ops import DeleteLink, Plan
from linkctl.plan.settle import settle
from linkctl.plan.veth_match import locate

Key = tuple[NetnsName, str]
# Read in per-target loops: a module global costs a tenth of `InterfaceType.VETH`'s lookup.
_VETH, _BRIDGE, _DOWN = InterfaceType.VETH, InterfaceType.LINUX_BRIDGE, LinkStateName.DOWN
_CONTROLLERS = (InterfaceType.LINUX_BRIDGE, InterfaceType.BOND)


@dataclass(slots=True)
class Target:
    """One declared interface, matched with the link it describes (if any)."""

    spec: InterfaceSpec
    netns: NetnsName
    kind: LinkKind
    current: Link | None = None
    recreate: list[str] = field(default_factory=list)  # why it must be created again
    diff: KindDiff = NO_DIFF  # the kind's own comparison with the current link
    # Read a dozen times per target, thousands of targets per plan: computed once.
    absent: bool = field(init=False)
    key: Key = field(init=False)
    veth: bool = field(init=False)  # a veth with its veth section

    def __post_init__(self) -> None:
        self.absent = self.spec.absent
        self.key = (self.netns, self.spec.name)
        self.veth = self.kind.type is _VETH and self.spec.veth is not None

    @property
    def creates(self) -> bool:
        return not self.absent and (self.current is None or bool(self.recreate))


@dataclass
class Matcher:
    decl: Declaration
    host: HostState
    default_netns: NetnsName = None
    # (netns, name) declared -> namespace it actually is in now (rollback of a move)
    located: dict[Key, NetnsName] = field(default_factory=dict)
    targets: dict[Key, Target] = field(default_factory=dict)
    plan: Plan = field(default_factory=Plan)
    gone: set[Key] = field(default_factory=set)  # links the plan deletes (or the kernel will)
    created_with_master: set[Key] = field(default_factory=set)
    peers_created: set[Key] = field(default_factory=set)
    _master_of: dict[Key, str] | None = None
    _veths: dict[str, list[Target]] | None = None
    _peer_ns: dict[Key, NetnsName] = field(default_factory=dict)  # each veth's answer, asked 3 times
    _order: list[Target] | None = None  # the targets never change once matched: sorted once
    _moved_to: dict[tuple[NetnsName, int], NetnsName] | None = None
    _by_link: dict[tuple[NetnsName, int], Target] | None = None  # the target matched to each existing link
    _stacked: dict[tuple[NetnsName, int], list[Link]] | None = None  # (netns, ifindex) -> links on it
    _peers: set[Key] | None = None  # (netns, name) of the peers the declared veths make

    def match(self) -> None:
        self.decl = settle(self.decl, self.host, self.default_netns, "")[0]  # its problems: validation's
        for spec in self.decl.interfaces:
            netns = spec.netns if spec.netns is not None else self.default_netns
            current = self._locate(spec.name, netns, explicit=spec.netns is not None)
            self.targets[(netns, spec.name)] = Target(spec, netns, kind_for(spec, current), current)
        self._peers_to_move()

    def _peers_to_move(self) -> None:
        """An undeclared veth peer whose end names another peer-netns is moved there, not re-made.

        Moving keeps the pair (the end's port membership, addresses, MAC); re-creating it
        would not. It is planned as a target of its own, declared with nothing but its netns.
        """
        declared = {t.spec.name for t in self.targets.values()}
        for t in list(self.targets.values()):
            veth = t.spec.veth
            if veth is None or veth.peer_netns is None or t.absent or t.current is None:
                continue
            peer = self.host.peer_of(t.current)
            if peer is None or peer.name != veth.peer or peer.name in declared or peer.netns == veth.peer_netns:
                continue
            spec = InterfaceSpec(name=peer.name, netns=veth.peer_netns)
            self.targets[(veth.peer_netns, peer.name)] = Target(spec, veth.peer_netns, kind_of(peer), peer)

    def _locate(self, name: str, netns: NetnsName, explicit: bool) -> Link | None:
        return locate(self.host, name, netns, explicit, self.default_netns, self.located)

    def find_recreations(self) -> None:
        for t in self.targets.values():
            if t.current is None or t.absent:
                continue
            have = kind_of(t.current)
            if t.spec.type and have.type is not t.kind.type:
                t.recreate.append(f"type {have.type.value} -> {t.kind.type.value}")
                continue
            t.diff = diff = t.kind.compare(t.spec, t.current, self.host.ns(t.current.netns), self.current_base(t))
            if diff.recreate:
                t.recreate += [str(d) for d in diff.recreate]
            if t.veth:
                t.recreate += self._veth_peer_changes(t)

    def base_ns(self, t: Target) -> NetnsName:
        """Where the file's rule finds the entry's base (model/placement.py)."""
        base = t.kind.declared_base(t.spec)
        if base is None:
            return t.netns
        if t.spec.base_netns is not None:  # a restore declaration's: where the base was read
            return t.spec.base_netns[0]
        return base_netns(base, t.netns, self.default_netns, t.spec.netns is not None, self._will_exist)

    def _will_exist(self, name: str, netns: NetnsName) -> bool:
        declared = self.targets.get((netns, name))
        if declared is not None:
            return not declared.absent
        if self._peers is None:  # asked for each stacked link's base: the declared veths' peers, once
            self._peers = {
                (self.peer_netns(t), t.spec.veth.peer) for t in self.targets.values() if t.spec.veth is not None
            }
        return self.host.find(name, netns) is not None or (netns, name) in self._peers

    def current_base(self, t: Target) -> str | None:
        cur = t.current
        assert cur is not None
        return current_base(self.host, cur, kind_of(cur).reported_lower(cur), self.base_ns(t), say_elsewhere=True)

    def _veth_peer_changes(self, t: Target) -> list[str]:
        veth = t.spec.veth
        if veth is None or t.current is None:
            return []
        peer = self.host.peer_of(t.current)
        after = self.netns_after(peer) if peer is not None else None
        return [str(d) for d in VETH.compare_peer(veth, t.current, peer, after, self.peer_netns(t)).recreate]

    def netns_after(self, link: Link) -> NetnsName:
        """Where a link is once the plan's moves are done (a peer moved is not a reason to re-create)."""
        if self._moved_to is None:
            self._moved_to = {
                (t.current.netns, t.current.ifindex): t.netns
                for t in self.targets.values()
                if t.current is not None and not t.absent and t.current.netns != t.netns
            }
        return self._moved_to.get((link.netns, link.ifindex), link.netns)

    def peer_netns(self, t: Target) -> NetnsName:
        if t.key in self._peer_ns:
            return self._peer_ns[t.key]
        assert t.spec.veth is not None
        declared = self.declared_peer(t)
        netns = declared.netns if declared is not None else peer_netns(t.spec.veth, t.netns)
        self._peer_ns[t.key] = netns
        return netns

    def declared_peer(self, t: Target) -> Target | None:
        if t.spec.veth is None:
            return None
        if self._veths is None:
            self._veths = {}
            for other in self.targets.values():
                if other.veth:
                    self._veths.setdefault(other.spec.name, []).append(other)
        for found in self._veths.get(t.spec.veth.peer, ()):
            if is_peer_entry(t.spec, found.spec, found.netns):
                return found
        return None

    def cascade_deletions(self) -> None:
        """Links that die with a deleted or re-created link are deleted or re-created too."""
        changed = True
        while changed:
            changed = False
            for t in list(self.targets.values()):
                if t.current is None or not (t.absent or t.recreate):
                    continue
                key = (t.current.netns, t.current.name)
                if key in self.gone:
                    continue
                self.gone.add(key)
                changed = True
                self._doom_dependents(t)

    def _doom_dependents(self, t: Target) -> None:
        base = t.current
        assert base is not None
        peer = self.host.peer_of(base)
        doomed = list(self._stacked_on(base))
        if peer is not None:
            doomed.append(peer)
        for link in doomed:
            declared = self.target_for(link)
            if declared is not None and not declared.absent:
                if not declared.recreate:
                    declared.recreate.append(f"it goes with {base.name}, which is re-created")
                continue
            if declared is None and peer is not None and link.ifindex == peer.ifindex:
                self.gone.add((link.netns, link.name))
                self.plan.notes.append(f"{link.name} goes with {base.name}: they are a veth pair")
            elif declared is None and not t.absent and self._remake(link, t):
                continue
            elif declared is None:
                self.gone.add((link.netns, link.name))
                self.plan.notes.append(f"{link.name} is deleted by the kernel with {base.name}, its lower device")
                self.plan.ops.append(DeleteLink(link.name, link.netns, f"{base.name} is deleted"))

    def _stacked_on(self, base: Link) -> list[Link]:
        """The links the kernel deletes with `base`: stacked on it, in its namespace or another."""
        if self._stacked is None:  # indexed once: asked for each link deleted or re-created
            self._stacked = {}
            for lk in self.host:
                kind = kind_of(lk)
                lower = self.host.in_link_net(lk, kind.reported_lower(lk)) if kind.dies_with_lower else None
                if lower is not None:
                    self._stacked.setdefault((lower.netns, lower.ifindex), []).append(lk)
        return self._stacked.get((base.netns, base.ifindex), [])

    def _remake(self, link: Link, base: Target) -> bool:
        """A link the file does not name, stacked on a base it re-creates, is made again as it was
        (as `show -f yaml` has it) rather than lost with its base: what the file does not write,
        the kernel keeps. Its MTU is kept as any re-created link's is: while it fits on the base."""
        spec = spec_of(link, self.host).model_copy(update={"mtu": None})  # kept as a re-created link's is
        why = f"it stands on {base.spec.name}, which is re-created"
        target = Target(spec, link.netns, kind_of(link), link, recreate=[why])
        if kind_of(link).declared_base(spec) is None or self.base_ns(target) != base.netns:
            return False  # its base cannot be named from here (another namespace): not made again
        self.targets[target.key] = target
        if self._by_link is not None:
            self._by_link[(link.netns, link.ifindex)] = target
        return True

    def target_for(self, link: Link) -> Target | None:
        if self._by_link is None:  # asked per link in loops over thousands: indexed once
            self._by_link = {}
            for t in self.targets.values():
                if t.current is not None:
                    self._by_link.setdefault((t.current.netns, t.current.ifindex), t)
        return self._by_link.get((link.netns, link.ifindex))

    def desired_master(self, netns: NetnsName, name: str) -> str | None:
        if self._master_of is None:
            self._master_of = {
                (t.netns, port): t.spec.name for t in self.targets.values() if not t.absent for port in _ports(t.spec)
            }
        return self._master_of.get((netns, name))

    def is_bridge(self, netns: NetnsName, name: str) -> bool:
        t = self.targets.get((netns, name))
        return t is not None and t.kind.type is _BRIDGE

    def current_master(self, netns: NetnsName, name: str) -> str | None:
        link = self.host.find(name, netns)
        if link is None or link.master_ifindex is None:
            return None
        master = self.host.ns(netns).by_index(link.master_ifindex)
        if master is None or (netns, master.name) in self.gone:
            return None
        return master.name

    def _depth(self, t: Target) -> int:
        seen: set[str] = set()
        depth = 0
        names = [ref for _f, ref in t.kind.references(t.spec)]
        while names:
            depth += 1
            nxt = []
            for name in names:
                if name in seen:
                    continue
                seen.add(name)
                other = self.targets.get((t.netns, name))
                if other:
                    nxt += [ref for _f, ref in other.kind.references(other.spec)]
            names = nxt
        return depth

    def ordered(self) -> list[Target]:
        if self._order is None:
            live = [t for t in self.targets.values() if not t.absent]
            # Controllers (bridges, bonds) before everything else, then by stacking depth.
            self._order = sorted(live, key=lambda t: (t.kind.type not in _CONTROLLERS, self._depth(t)))
        return self._order

    def kept_master(self, t: Target) -> str | None:
        """The bridge a re-created link was a port of, when the file leaves that to the kernel."""
        cur = t.current
        # A bridge is no bridge's port (the kernel answers ELOOP): re-made as one, it leaves its old bridge.
        if not t.recreate or cur is None or cur.netns != t.netns or t.kind.type is _BRIDGE:
            return None
        master = self.host.ns(cur.netns).by_index(cur.master_ifindex)
        if master is None or (cur.netns, master.name) in self.gone or not isinstance(master.info, BridgeInfo):
            return None
        declared = self.targets.get((t.netns, master.name))
        if declared is not None and (declared.absent or declared.recreate or _has_port_list(declared.spec)):
            return None  # its declared port list says, or it goes
        return master.name


# Kinds nmstate declares `type: ethernet`: it treats a veth end as an Ethernet NIC (its own tests
# play NICs with veth ends), so a file written for a NIC applies to a veth stand-in unchanged.
_ETHERNET_LIKE = frozenset({InterfaceType.VETH})


def kind_for(spec: InterfaceSpec, current: Link | None) -> LinkKind:
    """The kind an entry is judged and planned as: its type; without one, the existing link's (as
    nmstate infers it); an existing veth declared `type: ethernet` adopted as what it is."""
    if spec.type is None:
        return kind_of(current) if current is not None else BY_TYPE[InterfaceType.UNKNOWN]
    if spec.type is InterfaceType.ETHERNET and current is not None and kind_of(current).type in _ETHERNET_LIKE:
        return kind_of(current)
    return BY_TYPE[spec.type]


def _ports(spec: InterfaceSpec) -> list[str]:
    """The ports declared, none for no port list (the rule: InterfaceSpec.port_names)."""
    return spec.port_names or []


def _has_port_list(spec: InterfaceSpec) -> bool:
    return spec.port_names is not None

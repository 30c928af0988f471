"""Desired (declaration) + current (kernel state) -> an ordered plan of changes.

Like pyinfra's operations, a change is produced only where a fact differs; links
that already match are listed as unchanged. The order is the one the kernel
needs: namespaces first, deletions (dependents before their base), moves, then
creations and in-place changes with base links before the links stacked on them
and masters before ports, enslaving, and admin state last.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from linkctl.kinds import BY_TYPE, kind_of
from linkctl.kinds.base import NO_DIFF, FieldDiff, KindDiff, LinkKind
from linkctl.kinds.bridge import port_data, port_diffs, port_ip_args
from linkctl.kinds.vxlan import LINUX_DEFAULT_PORT
from linkctl.kinds.vxlan import overhead as vxlan_overhead
from linkctl.model.placement import base_netns, current_base
from linkctl.model.spec import BridgePort, Declaration, InterfaceSpec, InterfaceType, LinkStateName
from linkctl.model.spec_base import Section
from linkctl.model.state import BridgeInfo, BridgePortInfo, HostState, Link, NetnsName, VethInfo, VxlanInfo
from linkctl.plan.convert import spec_of
from linkctl.plan.ops import (
    CreateLink,
    CreateNetns,
    DeleteLink,
    MoveLink,
    Op,
    PeerCreate,
    Plan,
    Props,
    SetLink,
    SetMaster,
    SetPort,
)
from linkctl.plan.veth_match import locate, renamed_peers, renamed_view

Key = tuple[NetnsName, str]
# Read in per-target loops: a module global costs a tenth of `InterfaceType.VETH`'s lookup.
_VETH, _BRIDGE, _DOWN = InterfaceType.VETH, InterfaceType.LINUX_BRIDGE, LinkStateName.DOWN
_VXLAN = InterfaceType.VXLAN


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
class Planner:
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

    def run(self) -> Plan:
        self._match()
        self._find_recreations()
        self._cascade_deletions()
        self._netns_ops()
        self._deletions()
        self._moves()
        for target in self._ordered():
            self._create_or_configure(target)
        self._masters()
        self._port_settings()
        self._bridge_mtus()
        self._states()
        self._veth_mtu_notes()
        self._port_mtu_notes()
        return self.plan

    # --- matching ---------------------------------------------------------------------

    def _match(self) -> None:
        for spec in self.decl.interfaces:
            netns = spec.netns if spec.netns is not None else self.default_netns
            current = self._locate(spec.name, netns, explicit=spec.netns is not None)
            kind = (
                BY_TYPE[spec.type] if spec.type else (kind_of(current) if current else BY_TYPE[InterfaceType.UNKNOWN])
            )
            self.targets[(netns, spec.name)] = Target(spec, netns, kind, current)
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

    def _find_recreations(self) -> None:
        for t in self.targets.values():
            if t.current is None or t.absent:
                continue
            have = kind_of(t.current)
            if t.spec.type and have.type is not t.kind.type:
                t.recreate.append(f"type {have.type.value} -> {t.kind.type.value}")
                continue
            t.diff = diff = t.kind.compare(t.spec, t.current, self.host.ns(t.current.netns), self._current_base(t))
            if diff.recreate:
                t.recreate += [str(d) for d in diff.recreate]
            if t.veth:
                t.recreate += self._veth_peer_changes(t)

    def _base_ns(self, t: Target) -> NetnsName:
        """Where the file's rule finds the entry's base (model/placement.py)."""
        base = t.kind.declared_base(t.spec)
        if base is None:
            return t.netns
        return base_netns(base, t.netns, self.default_netns, t.spec.netns is not None, self._will_exist)

    def _will_exist(self, name: str, netns: NetnsName) -> bool:
        declared = self.targets.get((netns, name))
        if declared is not None:
            return not declared.absent
        if self._peers is None:  # asked for each stacked link's base: the declared veths' peers, once
            self._peers = {
                (self._peer_netns(t), t.spec.veth.peer) for t in self.targets.values() if t.spec.veth is not None
            }
        return self.host.find(name, netns) is not None or (netns, name) in self._peers

    def _current_base(self, t: Target) -> str | None:
        cur = t.current
        assert cur is not None
        return current_base(self.host, cur, kind_of(cur).reported_lower(cur), self._base_ns(t), say_elsewhere=True)

    def _veth_peer_changes(self, t: Target) -> list[str]:
        veth = t.spec.veth
        if veth is None or t.current is None:
            return []
        peer = self.host.peer_of(t.current)
        want_ns = self._peer_netns(t)
        if peer is None:
            return self._peer_unread(t.current, want_ns)
        out = []
        if peer.name != veth.peer:
            out.append(f"veth.peer {peer.name!r} -> {veth.peer!r}")
        if self._netns_after(peer) != want_ns:
            out.append(f"veth.peer-netns {peer.netns!r} -> {want_ns!r}")
        return out

    def _peer_unread(self, cur: Link, want_ns: NetnsName) -> list[str]:
        """A peer in a namespace the plan did not read is not in `want_ns`, which it read (or creates).

        Taken for "fine", the plan created the pair again beside the end that is there ("File exists").
        """
        info = cur.info
        if not isinstance(info, VethInfo) or info.peer_ifindex is None or info.peer_netnsid is None:
            return []
        return [f"veth.peer-netns (a namespace the file does not name) -> {want_ns!r}"]

    def _netns_after(self, link: Link) -> NetnsName:
        """Where a link is once the plan's moves are done (a peer moved is not a reason to re-create)."""
        if self._moved_to is None:
            self._moved_to = {
                (t.current.netns, t.current.ifindex): t.netns
                for t in self.targets.values()
                if t.current is not None and not t.absent and t.current.netns != t.netns
            }
        return self._moved_to.get((link.netns, link.ifindex), link.netns)

    def _peer_netns(self, t: Target) -> NetnsName:
        if t.key in self._peer_ns:
            return self._peer_ns[t.key]
        assert t.spec.veth is not None
        declared = self._declared_peer(t)
        if declared is not None:
            netns = declared.netns
        else:
            netns = t.spec.veth.peer_netns if t.spec.veth.peer_netns is not None else t.netns
        self._peer_ns[t.key] = netns
        return netns

    def _declared_peer(self, t: Target) -> Target | None:
        if t.spec.veth is None:
            return None
        if self._veths is None:
            self._veths = {}
            for other in self.targets.values():
                if other.veth:
                    self._veths.setdefault(other.spec.name, []).append(other)
        want_ns = t.spec.veth.peer_netns
        for found in self._veths.get(t.spec.veth.peer, ()):
            # Not itself (`peer: x` on x, with peer-netns elsewhere); in peer-netns when it is given.
            if found is t or (want_ns is not None and found.netns != want_ns):
                continue
            if (veth := found.spec.veth) is not None and veth.peer == t.spec.name:
                return found
        return None

    def _cascade_deletions(self) -> None:
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
            declared = self._target_for(link)
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
        if kind_of(link).declared_base(spec) is None or self._base_ns(target) != base.netns:
            return False  # its base cannot be named from here (another namespace): not made again
        self.targets[target.key] = target
        if self._by_link is not None:
            self._by_link[(link.netns, link.ifindex)] = target
        return True

    def _target_for(self, link: Link) -> Target | None:
        if self._by_link is None:  # asked per link in loops over thousands: indexed once
            self._by_link = {}
            for t in self.targets.values():
                if t.current is not None:
                    self._by_link.setdefault((t.current.netns, t.current.ifindex), t)
        return self._by_link.get((link.netns, link.ifindex))

    # --- namespaces, deletions, moves ---------------------------------------------------

    def _netns_ops(self) -> None:
        wanted = {t.netns for t in self.targets.values() if not t.absent}
        wanted |= {self._peer_netns(t) for t in self.targets.values() if t.spec.veth is not None and not t.absent}
        for name in sorted(n for n in wanted if n is not None and n not in self.host.namespaces):
            why = "it does not exist"
            if name.isdigit():  # `ip link ... netns 1234` means a process; a name here makes a new namespace
                why += f" (for process {name}'s own namespace, name it first: ip netns attach NAME {name})"
            self.plan.ops.append(CreateNetns(name, None, why))

    def _deletions(self) -> None:
        dels = [t for t in self.targets.values() if t.current is not None and (t.absent or t.recreate)]
        # Stacked links go before their base: they would vanish with it otherwise.
        dels.sort(key=lambda t: -self._stack_depth(t.current))
        for t in dels:
            assert t.current is not None
            if t.current.name != t.spec.name:
                continue
            if self._is_peer_of_earlier(t, dels):
                if t.absent:
                    self.plan.notes.append(f"{t.current.name} goes with its veth peer: one request deletes the pair")
                continue
            if not t.kind.creatable and t.absent:
                continue  # validation refuses this; never delete a NIC
            reason = "re-create: " + "; ".join(t.recreate) if t.recreate else "state: absent"
            self.plan.ops.append(DeleteLink(t.current.name, t.current.netns, reason))

    def _stack_depth(self, link: Link | None) -> int:
        depth = 0
        ns = self.host.ns(link.netns) if link else None
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
        peer = self.host.peer_of(t.current)
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
        for t in self.targets.values():
            cur = t.current
            if cur is None or t.absent or t.recreate or cur.netns == t.netns:
                continue
            self.plan.ops.append(MoveLink(cur.name, cur.netns, to_netns=t.netns))

    # --- creation and in-place configuration ------------------------------------------

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

    def _ordered(self) -> list[Target]:
        if self._order is None:
            live = [t for t in self.targets.values() if not t.absent]
            # Controllers (bridges, bonds) before everything else, then by stacking depth.
            self._order = sorted(live, key=lambda t: (t.kind.type not in _CONTROLLERS, self._depth(t)))
        return self._order

    def _create_or_configure(self, t: Target) -> None:
        if t.key in self.peers_created:
            return
        if t.creates:
            self._create(t)
        else:
            self._configure(t)

    def _create(self, t: Target) -> None:
        if not t.kind.creatable:
            return  # validation has refused this declaration already
        kept = self._kept_master(t)  # a bridge, existing: joined at creation like a declared one
        master = self._desired_master(t.netns, t.spec.name) or kept
        base_ns = self._base_ns(t) if t.kind.dies_with_lower else t.netns  # only stacked kinds have a base
        elsewhere = base_ns != t.netns  # made in its base's namespace and placed in its own
        joins_now = master and not elsewhere and (master == kept or self._is_bridge(t.netns, master))
        at_create = master if joins_now else None
        if at_create:
            self.created_with_master.add(t.key)
        bond_later = bool(master and not at_create and not self._is_bridge(t.netns, master))
        props = self._create_props(t.spec, master_later=bond_later)
        spec = t.spec
        if t.recreate and t.current is not None:
            props = self._kept_props(t, props)
            spec = self._kept_section(t, t.current)
        peer = self._peer_create(t, props) if t.kind.type is _VETH else None
        if not t.recreate and t.spec.vxlan is not None and t.spec.vxlan.destination_port is None:
            self.plan.notes.append(
                f"{t.spec.name} gets the kernel's default VXLAN port {LINUX_DEFAULT_PORT}, not IANA's 4789 that "
                "switches and most other VTEPs use: write destination-port to choose"
            )
        reason = "re-create: " + "; ".join(t.recreate) if t.recreate else "new"
        self.plan.ops.append(
            CreateLink(
                t.spec.name, t.netns, reason, spec=spec, kind=t.kind, props=props,
                master=at_create, peer=peer, lower=t.kind.ifla_link(spec), made_in=(base_ns,) if elsewhere else None,
            )
        )  # fmt: skip

    def _kept_section(self, t: Target, cur: Link) -> InterfaceSpec:
        """A re-created link keeps the kind settings the file does not write (a VXLAN's remote,
        port and base when only its local address changes), as it keeps its MTU."""
        key = t.kind.section_key
        if key is None or kind_of(cur).type is not t.kind.type:
            return t.spec
        have = t.kind.section_from_link(cur, self.host.ns(cur.netns), self._current_base(t))
        given = t.kind.section(t.spec)
        if given is None or have is None:
            return t.spec
        return t.spec.model_copy(update={key: _merged(have, given)})

    def _kept_master(self, t: Target) -> str | None:
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

    def _kept_props(self, t: Target, props: Props) -> Props:
        """What a re-created link had and the file does not say: left as the kernel had it."""
        cur, s = t.current, t.spec
        assert cur is not None
        # A bridge's MTU follows its ports.
        keep_mtu = s.mtu is None and t.kind.type is not _BRIDGE and _mtu_still_fits(t, cur, self._base_mtu_after(cur))
        return replace(
            props,
            mtu=cur.mtu if keep_mtu else props.mtu,
            txqlen=cur.txqlen if s.txqueuelen is None else props.txqlen,
            promisc=True if s.accept_all_mac_addresses is None and cur.promisc else props.promisc,
            up=cur.admin_up if s.state is None and props.up else props.up,
        )

    def _base_mtu_after(self, cur: Link) -> int | None:
        """The MTU the base of a stacked link will have once the plan is carried out (None: no base here)."""
        base = self.host.ns(cur.netns).by_index(kind_of(cur).lower_ifindex(cur))
        if base is None:
            return None
        declared = self.targets.get((cur.netns, base.name))
        return declared.spec.mtu if declared is not None and declared.spec.mtu is not None else base.mtu

    def _create_props(self, spec: InterfaceSpec, master_later: bool) -> Props:
        # A link that will join a bond is created down; it comes up after enslaving.
        up = spec.state is not _DOWN and not master_later
        # A bridge's MTU follows its smallest port unless set after the ports join.
        mtu = None if spec.type is _BRIDGE else spec.mtu
        return Props(mtu, spec.mac_address, spec.txqueuelen, spec.accept_all_mac_addresses, up)

    def _bridge_mtus(self) -> None:
        """Set bridge MTUs after the ports have joined: each join may lower it again."""
        for t in self._ordered():
            if t.kind.type is not _BRIDGE or t.spec.mtu is None or t.absent:
                continue
            have = None if t.creates else (t.current.mtu if t.current else None)
            ports_change = any(isinstance(op, SetMaster) and op.master == t.spec.name for op in self.plan.ops)
            if have != t.spec.mtu or ports_change:
                self.plan.ops.append(
                    SetLink(
                        t.spec.name,
                        t.netns,
                        props=Props(mtu=t.spec.mtu),
                        diffs=(FieldDiff("mtu", have, t.spec.mtu),),
                    )
                )

    def _peer_create(self, t: Target, end: Props) -> PeerCreate:
        assert t.spec.veth is not None
        declared = self._declared_peer(t)
        netns = self._peer_netns(t)
        if declared is not None:
            # The kernel ignores IFLA_MASTER inside VETH_INFO_PEER: the peer is enslaved after.
            self.peers_created.add(declared.key)
            master = self._desired_master(netns, declared.spec.name)
            is_bond_port = bool(master and not self._is_bridge(netns, master))
            props = self._create_props(declared.spec, master_later=is_bond_port)
            return PeerCreate(declared.spec.name, netns, props)
        # An undeclared peer mirrors its end, so that the pair comes up with a carrier.
        props = Props(end.mtu, None, end.txqlen, None, end.up is not False)
        return PeerCreate(t.spec.veth.peer, netns, props)

    def _configure(self, t: Target) -> None:
        cur = t.current
        assert cur is not None
        s = t.spec
        bridge = t.kind.type is _BRIDGE
        diffs = [
            d for d in (
                None if bridge else _diff("mtu", cur.mtu, s.mtu),
                _diff("mac-address", cur.mac, s.mac_address),
                _diff("txqueuelen", cur.txqlen, s.txqueuelen),
                _diff("accept-all-mac-addresses", cur.promisc, s.accept_all_mac_addresses),
            ) if d
        ]  # fmt: skip
        kind_diff = t.diff  # compared in _find_recreations
        diffs += kind_diff.in_place
        if not diffs:
            return
        names = {d.field for d in diffs}
        props = Props(
            s.mtu if "mtu" in names else None,
            s.mac_address if "mac-address" in names else None,
            s.txqueuelen if "txqueuelen" in names else None,
            s.accept_all_mac_addresses if "accept-all-mac-addresses" in names else None,
        )
        kind_fields = frozenset(d.field for d in kind_diff.in_place)
        self.plan.ops.append(
            SetLink(
                s.name,
                t.netns,
                props=props,
                spec=s,
                kind=t.kind,
                kind_fields=kind_fields,
                diffs=tuple(diffs),
            )
        )

    # --- masters and admin state ------------------------------------------------------

    def _desired_master(self, netns: NetnsName, name: str) -> str | None:
        if self._master_of is None:
            self._master_of = {
                (t.netns, port): t.spec.name for t in self.targets.values() if not t.absent for port in _ports(t.spec)
            }
        return self._master_of.get((netns, name))

    def _is_bridge(self, netns: NetnsName, name: str) -> bool:
        t = self.targets.get((netns, name))
        return t is not None and t.kind.type is _BRIDGE

    def _masters(self) -> None:
        wanted: dict[Key, str | None] = {}
        for t in self.targets.values():
            if t.absent or not _has_port_list(t.spec):
                continue
            for port in _ports(t.spec):
                wanted[(t.netns, port)] = t.spec.name
            if t.current is not None and not t.recreate:
                for port in self.host.ns(t.current.netns).ports_of(t.current.name):
                    link = self.host.find(port, t.current.netns)
                    if link is not None and self._netns_after(link) != link.netns:
                        continue  # the kernel releases a port it moves to another namespace
                    wanted.setdefault((t.netns, port), None)
        for key, master in sorted(wanted.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
            self._master_op(key, master)

    def _master_op(self, key: Key, master: str | None) -> None:
        if key in self.created_with_master or key in self.gone:
            return
        netns, name = key
        t = self.targets.get(key)
        created = (t is not None and t.creates) or key in self.peers_created
        current = None if created else self._current_master(netns, name)
        if current == master:
            return
        is_bond = master is not None and not self._is_bridge(netns, master)
        if master is None:
            self.plan.ops.append(SetMaster(name, netns, "not in its master's port list"))
        else:
            self.plan.ops.append(SetMaster(name, netns, master=master, down_first=is_bond))

    def _port_settings(self) -> None:
        """A bridge's declared port settings (stp-priority ...), set once the port is in it: the
        kernel takes them only from a port, not in the request that makes or enslaves it."""
        for t in self._ordered():
            if t.kind.type is not _BRIDGE or t.absent or t.spec.bridge is None or not t.spec.bridge.port:
                continue
            for port in t.spec.bridge.port:
                key = (t.netns, port.name)
                pt = self.targets.get(key)
                joins = t.creates or key in self.peers_created or (pt is not None and pt.creates)
                link = self.host.find(port.name, t.netns)
                was_here = link is not None and self._current_master(t.netns, port.name) == t.spec.name
                if joins and was_here and link is not None and link.port is not None:
                    port = _port_with(port, link.port)  # re-made: what the file does not say, it had
                self._set_port(t.netns, t.spec.name, port, None if joins or not was_here or link is None else link)
        for t in self._ordered():
            # A re-made port rejoining a bridge the file leaves alone keeps its settings too.
            kept = self._kept_master(t) if t.current is not None and t.recreate and not t.absent else None
            if kept is not None and t.current is not None and t.current.port is not None:
                self._set_port(t.netns, kept, _port_with(BridgePort(name=t.spec.name), t.current.port), None)

    def _set_port(self, netns: NetnsName, master: str, port: BridgePort, now: Link | None) -> None:
        """The step setting a port's declared settings that differ from `now` (None: all of them)."""
        diffs = port_diffs(port, now.port if now is not None else None)
        if diffs:
            fields = frozenset(d.field for d in diffs)
            self.plan.ops.append(
                SetPort(
                    port.name, netns, master=master, data=port_data(port, fields),
                    args=tuple(port_ip_args(port, fields)), diffs=diffs,
                )
            )  # fmt: skip

    def _current_master(self, netns: NetnsName, name: str) -> str | None:
        link = self.host.find(name, netns)
        if link is None or link.master_ifindex is None:
            return None
        master = self.host.ns(netns).by_index(link.master_ifindex)
        if master is None or (netns, master.name) in self.gone:
            return None
        return master.name

    def _states(self) -> None:
        for t in self._ordered():
            created = t.creates or t.key in self.peers_created
            # The kernel brings a link down when it moves it to another namespace.
            moved = not created and t.current is not None and t.current.netns != t.netns
            if t.absent or (t.spec.state is None and not created and not moved):
                continue
            if created:
                self._up_after_bond(t)
                continue
            assert t.current is not None
            was_up = t.current.admin_up
            # Undeclared, the state is left as it was: a moved link that was up comes up again.
            want_up = t.spec.state is not _DOWN if t.spec.state is not None else was_up
            have_up = was_up and not moved
            if have_up != want_up:
                self.plan.ops.append(
                    SetLink(
                        t.spec.name,
                        t.netns,
                        props=Props(up=want_up),
                        diffs=(FieldDiff("state", "up" if have_up else "down", "up" if want_up else "down"),),
                    )
                )

    def _veth_mtu_notes(self) -> None:
        """An MTU given to one end of an existing pair, the other end left with another, is said:
        the end with the smaller MTU drops every larger frame the other sends."""
        for t in self.targets.values():
            cur, mtu = t.current, t.spec.mtu
            if mtu is None or cur is None or cur.mtu == mtu or t.absent or t.creates:
                continue
            peer = self.host.peer_of(cur)
            if peer is None or peer.mtu == mtu or self._target_for(peer) is not None:
                continue
            self.plan.notes.append(
                f"{peer.name}, {t.spec.name}'s veth peer, keeps MTU {peer.mtu}: frames over "
                f"{min(peer.mtu, mtu)} bytes between them will be dropped; declare {peer.name} with mtu {mtu} too"
            )

    def _port_mtu_notes(self) -> None:
        """A bridge given an MTU above a port the file leaves alone: the bridge drops every larger
        frame it would forward to that port."""
        for t in self.targets.values():
            cur, mtu = t.current, t.spec.mtu
            if t.kind.type is not _BRIDGE or mtu is None or cur is None or t.absent or t.creates:
                continue
            ns = self.host.ns(cur.netns)
            for name in ns.ports_of(cur.name):
                port = ns.links[name]
                if port.mtu < mtu and self._target_for(port) is None:
                    self.plan.notes.append(
                        f"{name}, a port of {t.spec.name}, keeps MTU {port.mtu}: frames over {port.mtu} bytes "
                        f"that {t.spec.name} forwards to it will be dropped; declare {name} with mtu {mtu} too"
                    )

    def _up_after_bond(self, t: Target) -> None:
        """A link created down because a bond takes it comes up after enslaving."""
        master = self._desired_master(t.netns, t.spec.name)
        if t.spec.state is not _DOWN and master and not self._is_bridge(t.netns, master):
            self.plan.ops.append(
                SetLink(t.spec.name, t.netns, props=Props(up=True), diffs=(FieldDiff("state", "down", "up"),))
            )


_CONTROLLERS = (InterfaceType.LINUX_BRIDGE, InterfaceType.BOND)
_UNDERLAY_FIELDS = ("vxlan.local", "vxlan.remote")  # the encapsulation's overhead depends on them


def _mtu_still_fits(t: Target, cur: Link, base_mtu: int | None) -> bool:
    """A stacked link's MTU is bounded by its lower: kept only if the lower and the overhead stay,
    and it still fits on the lower's MTU after the plan."""
    if not (t.kind.mtu_bounded_by_lower or t.kind.type is _VXLAN):
        return True
    if kind_of(cur).type is not t.kind.type:
        return False
    if any(d.field.endswith("base-iface") or d.field in _UNDERLAY_FIELDS for d in t.diff.recreate):
        return False
    return _fits_on(cur, cur.mtu, base_mtu)


def _merged(have: Section, given: Section) -> Section:
    """`given` with each field it leaves out (None) taken from `have`, section by section."""
    update: dict[str, object] = {}
    for name, value in given:
        old = getattr(have, name)
        if value is None:
            update[name] = old
        elif isinstance(value, Section) and isinstance(old, Section):
            update[name] = _merged(old, value)
    return given.model_copy(update=update)


def _fits_on(link: Link, mtu: int | None, base_mtu: int | None) -> bool:
    """Whether a stacked link's MTU fits on its base's (with a VXLAN's encapsulation)."""
    if mtu is None or base_mtu is None:
        return True
    info = link.info
    overhead = vxlan_overhead(info.local, info.remote) if isinstance(info, VxlanInfo) else 0
    return mtu + overhead <= base_mtu


def _port_with(port: BridgePort, had: BridgePortInfo) -> BridgePort:
    """The declared port settings, with those it leaves out taken from what the port had."""
    kept = {k: v for k, v in had._asdict().items() if getattr(port, k) is None and v is not None}
    return port.model_copy(update=kept)


def _has_port_list(spec: InterfaceSpec) -> bool:
    if spec.bridge is not None and spec.bridge.port is not None:
        return True
    return spec.link_aggregation is not None and spec.link_aggregation.port is not None


def _ports(spec: InterfaceSpec) -> list[str]:
    if spec.bridge is not None and spec.bridge.port is not None:
        return [p.name for p in spec.bridge.port]
    if spec.link_aggregation is not None and spec.link_aggregation.port is not None:
        return list(spec.link_aggregation.port)
    return []


def _diff(name: str, current: object, desired: object) -> FieldDiff | None:
    if desired is None or current == desired:
        return None
    return FieldDiff(name, current, desired)


def make_plan(
    decl: Declaration,
    host: HostState,
    default_netns: NetnsName = None,
    located: dict[Key, NetnsName] | None = None,
) -> Plan:
    renames = renamed_peers(decl, host, default_netns, located or {})  # the planner sees them done
    view, where = renamed_view(host, renames, dict(located or {}))
    planner = Planner(decl, view, default_netns, where)
    plan = planner.run()
    plan.ops[:0] = [r.op() for r in renames]
    touched = {op.name for op in plan.ops}
    touched |= {op.peer.name for op in plan.ops if isinstance(op, CreateLink) and op.peer is not None}
    plan.unchanged = sorted(
        t.spec.name
        for t in planner.targets.values()
        if t.spec.name not in touched and not (t.absent and t.current is None) and not _goes(t, planner.gone)
    )
    plan.unchanged += sorted(t.spec.name for t in planner.targets.values() if t.absent and t.current is None)
    return plan


def _goes(t: Target, gone: set[Key]) -> bool:
    """Deleted with another link (a veth's peer, a stacked link's base): not unchanged."""
    return t.current is not None and (t.current.netns, t.current.name) in gone


__all__ = ["Op", "Plan", "make_plan"]

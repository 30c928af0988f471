"""The planner's third pass: each live target created or configured in place, keeping what the
file does not say as the kernel had it, and bridge MTUs once their ports are in.

A link stacked on a bridge whose MTU settles only after its ports join (bridge_mtus) gets its own
MTU after that too: made earlier, the kernel clamps a VXLAN to the bridge's MTU of the moment
(1500 less 50 on a new bridge) and refuses a larger MTU on an existing one."""

from __future__ import annotations

from dataclasses import replace

from linkctl.kinds import kind_of
from linkctl.kinds.base import FieldDiff
from linkctl.kinds.vxlan import LINUX_DEFAULT_PORT
from linkctl.model.spec import InterfaceSpec
from linkctl.model.spec_base import Section
from linkctl.model.state import Link, NetnsName
from linkctl.plan.match import _BRIDGE, _DOWN, _VETH, Key, Matcher, Target
from linkctl.plan.ops import CreateLink, PeerCreate, Props, SetLink, SetMaster


class Build:
    """Each live target created or configured in place; bridge MTUs once their ports are in."""

    def __init__(self, m: Matcher) -> None:
        self.m = m
        # MTUs set once every base's MTU has settled (late_mtus), in the order the targets came.
        self.late: dict[Key, tuple[int, FieldDiff]] = {}

    def create_or_configure(self, t: Target) -> None:
        if t.key in self.m.peers_created:
            return
        if t.creates:
            self._create(t)
        else:
            self._configure(t)

    def _create(self, t: Target) -> None:
        if not t.kind.creatable:
            return  # validation has refused this declaration already
        kept = self.m.kept_master(t)  # a bridge, existing: joined at creation like a declared one
        master = self.m.desired_master(t.netns, t.spec.name) or kept
        base_ns = self.m.base_ns(t) if t.kind.dies_with_lower else t.netns  # only stacked kinds have a base
        elsewhere = base_ns != t.netns  # made in its base's namespace and placed in its own
        joins_now = master and not elsewhere and (master == kept or self.m.is_bridge(t.netns, master))
        at_create = master if joins_now else None
        if at_create:
            self.m.created_with_master.add(t.key)
        bond_later = bool(master and not at_create and not self.m.is_bridge(t.netns, master))
        props = self._create_props(t.spec, master_later=bond_later)
        spec = t.spec
        if t.recreate and t.current is not None:
            props = self._kept_props(t, props)
            spec = self._kept_section(t, t.current)
        peer = self._peer_create(t, props) if t.kind.type is _VETH else None
        if not t.recreate and t.spec.vxlan is not None and t.spec.vxlan.destination_port is None:
            self.m.plan.notes.append(
                f"{t.spec.name} gets the kernel's default VXLAN port {LINUX_DEFAULT_PORT}, not IANA's 4789 that "
                "switches and most other VTEPs use: write destination-port to choose"
            )
        if props.mtu is not None and self._base_settles_late(t):
            self.late[t.key] = (props.mtu, FieldDiff("mtu", None, props.mtu))
            props = replace(props, mtu=None)
        reason = "re-create: " + "; ".join(t.recreate) if t.recreate else "new"
        self.m.plan.ops.append(
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
        have = t.kind.section_from_link(cur, self.m.host.ns(cur.netns), self.m.current_base(t))
        given = t.kind.section(t.spec)
        if given is None or have is None:
            return t.spec
        return t.spec.model_copy(update={key: _merged(have, given)})

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
            alias=cur.alias if s.description is None else props.alias,
        )

    def _base_mtu_after(self, cur: Link) -> int | None:
        """The MTU the base of a stacked link will have once the plan is carried out (None: no base here)."""
        base = self.m.host.ns(cur.netns).by_index(kind_of(cur).lower_ifindex(cur))
        if base is None:
            return None
        declared = self.m.targets.get((cur.netns, base.name))
        return declared.spec.mtu if declared is not None and declared.spec.mtu is not None else base.mtu

    def _create_props(self, spec: InterfaceSpec, master_later: bool) -> Props:
        # A link that will join a bond is created down; it comes up after enslaving.
        up = spec.state is not _DOWN and not master_later
        # A bridge's MTU follows its smallest port unless set after the ports join.
        mtu = None if spec.type is _BRIDGE else spec.mtu
        # A new link has no alias: an empty description asks for nothing.
        return Props(
            mtu, spec.mac_address, spec.txqueuelen, spec.accept_all_mac_addresses, up, spec.description or None
        )

    def bridge_mtus(self) -> None:
        """Set bridge MTUs after the ports have joined: each join may lower it again."""
        for t in self.m.ordered():
            if t.kind.type is not _BRIDGE or t.spec.mtu is None or t.absent:
                continue
            have = None if t.creates else (t.current.mtu if t.current else None)
            ports_change = any(isinstance(op, SetMaster) and op.master == t.spec.name for op in self.m.plan.ops)
            if have != t.spec.mtu or ports_change:
                self.m.plan.ops.append(
                    SetLink(
                        t.spec.name,
                        t.netns,
                        props=Props(mtu=t.spec.mtu),
                        diffs=(FieldDiff("mtu", have, t.spec.mtu),),
                    )
                )

    def late_mtus(self) -> None:
        """The MTUs held back until their bases settled: bases before the links stacked on them."""
        for (netns, name), (mtu, diff) in self.late.items():
            self.m.plan.ops.append(SetLink(name, netns, props=Props(mtu=mtu), diffs=(diff,)))

    def _base_settles_late(self, t: Target) -> bool:
        """Whether the link `t` stands on reaches its MTU only after the ports pass: a bridge whose
        MTU or ports change, or a link whose own MTU waits for that."""
        name = t.kind.declared_base(t.spec)
        if name is None and t.current is not None and not t.recreate:
            name = self.m.current_base(t)  # a file that names only the MTU keeps the base the link has
        base = self.m.targets.get((self.m.base_ns(t), name)) if name is not None else None
        if base is None or base.absent:
            return False
        return base.key in self.late or (base.kind.type is _BRIDGE and self._bridge_settles_late(base))

    def _bridge_settles_late(self, b: Target) -> bool:
        if b.creates or b.current is None:
            return True
        if b.spec.mtu is not None and b.current.mtu != b.spec.mtu:
            return True  # set by bridge_mtus
        ports = b.spec.port_names
        if ports is None:
            return False
        ns = self.m.host.ns(b.current.netns)
        if sorted(ports) != ns.ports_of(b.current.name):
            return True  # a port joining or leaving moves the MTU the kernel gives it
        # A port whose MTU changes moves it too (the kernel follows its smallest port).
        return any(self._mtu_changes(b.netns, p) for p in ports)

    def _mtu_changes(self, netns: NetnsName, name: str) -> bool:
        port = self.m.targets.get((netns, name))
        if port is None or port.spec.mtu is None:
            return False
        return port.creates or port.current is None or port.current.mtu != port.spec.mtu

    def _peer_create(self, t: Target, end: Props) -> PeerCreate:
        assert t.spec.veth is not None
        declared = self.m.declared_peer(t)
        netns = self.m.peer_netns(t)
        if declared is not None:
            # The kernel ignores IFLA_MASTER inside VETH_INFO_PEER: the peer is enslaved after.
            self.m.peers_created.add(declared.key)
            master = self.m.desired_master(netns, declared.spec.name)
            is_bond_port = bool(master and not self.m.is_bridge(netns, master))
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
                _diff("description", cur.alias or "", s.description),
            ) if d
        ]  # fmt: skip
        kind_diff = t.diff  # compared in _find_recreations
        diffs += kind_diff.in_place
        mtu = next((d for d in diffs if d.field == "mtu"), None)
        if mtu is not None and s.mtu is not None and self._base_settles_late(t):
            self.late[t.key] = (s.mtu, mtu)
            diffs.remove(mtu)
        if not diffs:
            return
        names = {d.field for d in diffs}
        props = Props(
            s.mtu if "mtu" in names else None,
            s.mac_address if "mac-address" in names else None,
            s.txqueuelen if "txqueuelen" in names else None,
            s.accept_all_mac_addresses if "accept-all-mac-addresses" in names else None,
            alias=s.description if "description" in names else None,
        )
        kind_fields = frozenset(d.field for d in kind_diff.in_place)
        self.m.plan.ops.append(
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


def _mtu_still_fits(t: Target, cur: Link, base_mtu: int | None) -> bool:
    """A link whose MTU must fit on its base keeps it only while what the fit depends on stays (its
    base, a VXLAN's encapsulation) and it still fits on the base's MTU after the plan."""
    fit_fields = t.kind.mtu_fit_fields
    if not fit_fields:
        return True
    if kind_of(cur).type is not t.kind.type:
        return False
    if any(d.field in fit_fields for d in t.diff.recreate):
        return False
    return base_mtu is None or cur.mtu <= t.kind.mtu_room(cur, base_mtu)


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


def _diff(name: str, current: object, desired: object) -> FieldDiff | None:
    if desired is None or current == desired:
        return None
    return FieldDiff(name, current, desired)

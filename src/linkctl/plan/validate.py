"""Whole-declaration checks against the current state, before the first change.

Every problem is collected (not just the first), each naming the interface,
the field, the value and what is allowed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from linkctl.errors import NOT_GIVEN, Problem, ValidationFailed
from linkctl.kinds import BY_TYPE, kind_of, vxlan
from linkctl.kinds.base import ETH_DATA_LEN, LinkKind
from linkctl.kinds.vxlan import LINUX_DEFAULT_PORT
from linkctl.model.placement import base_netns
from linkctl.model.spec import MTU_MIN, Declaration, InterfaceSpec, InterfaceType, MacvlanMode
from linkctl.model.state import HostState, Link, NetnsName, VxlanInfo
from linkctl.plan.veth_match import locate, renamed_peers, renamed_view

ETH_MAX_MTU = 65535  # include/uapi/linux/if_ether.h
_SECTIONS = {
    "veth": InterfaceType.VETH,
    "bridge": InterfaceType.LINUX_BRIDGE,
    "vxlan": InterfaceType.VXLAN,
    "mac_vlan": InterfaceType.MAC_VLAN,
    "vlan": InterfaceType.VLAN,
    "link_aggregation": InterfaceType.BOND,
    "ethernet": InterfaceType.ETHERNET,
}
_NEEDS_SECTION = {
    InterfaceType.VETH: "veth: {peer: NAME}",
    InterfaceType.VXLAN: "vxlan: {id: VNI, ...}",
    InterfaceType.MAC_VLAN: "mac-vlan: {base-iface: NAME}",
    InterfaceType.VLAN: "vlan: {base-iface: NAME, id: ID}",
}


@dataclass
class Validator:
    decl: Declaration
    host: HostState
    source: str
    default_netns: NetnsName = None
    creatable: frozenset[str] | None = None  # kernel kinds this kernel can create (probed)
    advice: dict[str, str] = field(default_factory=dict)  # kernel kind -> how to get it here
    problems: list[Problem] = field(default_factory=list)
    _by_key: dict[tuple[NetnsName, str], InterfaceSpec] | None = None
    _peers: set[tuple[NetnsName, str]] | None = None
    _first_claims: dict[tuple[NetnsName, str], InterfaceSpec] | None = None  # (netns, peer) -> first end naming it
    _port_owner: dict[tuple[NetnsName, str], str] | None = None
    located: dict[tuple[NetnsName, str], NetnsName] = field(default_factory=dict)  # renamed veth peers

    def run(self) -> None:
        self._duplicates()
        for spec in self.decl.interfaces:
            self._one(spec)
        self._ports()
        self._stacking_cycles()
        self._macvlans_on_ports()
        self._macvlan_macs()
        self._vxlan_clashes()
        for fit in self._vxlan_fits():
            self._vxlan_fit(fit)
        if self.problems:
            raise ValidationFailed(self.problems)

    def _add(self, spec: InterfaceSpec | None, fld: str, value: object, allowed: str) -> None:
        where = f"{self.source}: interface {spec.name}" if spec else self.source
        self.problems.append(Problem(where, fld, value, allowed))

    def _netns(self, spec: InterfaceSpec) -> NetnsName:
        return spec.netns if spec.netns is not None else self.default_netns

    def _current(self, spec: InterfaceSpec) -> Link | None:
        return locate(self.host, spec.name, self._netns(spec), spec.netns is not None, self.default_netns, self.located)

    def _declared(self, name: str, netns: NetnsName) -> InterfaceSpec | None:
        if self._by_key is None:
            self._by_key = {}
            for spec in self.decl.interfaces:
                self._by_key.setdefault((self._netns(spec), spec.name), spec)
        return self._by_key.get((netns, name))

    def _exists(self, name: str, netns: NetnsName) -> bool:
        spec = self._declared(name, netns)
        if spec is not None:
            return not spec.absent
        return self.host.find(name, netns) is not None or self._implied_peer(name, netns)

    def _implied_peer(self, name: str, netns: NetnsName) -> bool:
        """The undeclared peer of a declared veth exists once the pair is created."""
        if self._peers is None:
            self._peers = {
                (s.veth.peer_netns if s.veth.peer_netns is not None else self._netns(s), s.veth.peer)
                for s in self.decl.interfaces
                if s.veth is not None and not s.absent
            }
        return (netns, name) in self._peers

    def _duplicates(self) -> None:
        counts = Counter((self._netns(s), s.name) for s in self.decl.interfaces)
        for (netns, name), n in counts.items():
            if n > 1:
                where = f" in netns {netns}" if netns else ""
                self._add(
                    None,
                    "name",
                    name,
                    f"each interface once per namespace; {name}{where} appears {n} times",
                )

    def _one(self, spec: InterfaceSpec) -> None:
        current = self._current(spec)
        itype = spec.type or (kind_of(current).type if current else None)
        if itype is None:
            if not spec.absent:
                netns = self._netns(spec)
                # Most often a mistyped --netns or netns: the link exists, elsewhere.
                hint = (
                    f" (netns {netns} does not exist yet: is it spelt right?)"
                    if netns not in self.host.namespaces
                    else ""
                )
                hint += self._named_as_peer(spec)
                self._add(
                    spec,
                    "type",
                    NOT_GIVEN,
                    "a type is needed to create a link: " + ", ".join(t.value for t in InterfaceType) + hint,
                )
            return
        kind = BY_TYPE[itype]
        self._sections(spec, itype)
        if spec.absent:
            if current is not None and not kind_of(current).creatable:
                self._add(
                    spec,
                    "state",
                    "absent",
                    f"{_a(kind_of(current).type.value)} link cannot be deleted; use state: down",
                )
            return
        creating = current is None or kind_of(current).type is not itype
        if current is not None and creating and not kind_of(current).creatable:
            self._kept_kind(spec, itype, current)
            return
        if creating:
            self._creatable(spec, itype, kind.kernel_kind, kind.module, kind.creatable)
        self._mtu(spec, current)
        if kind.mtu_bounded_by_lower:
            kept = None if creating else current
            declared = kind.ifla_link(spec)
            lower = declared or (self._lower_name(kind, kept) if kept is not None else None)
            self._mtu_under_lower(spec, itype, lower, self._base_ns(spec) if declared else self._netns(spec), kept)
        for fld, ref in kind.references(spec):
            if fld.endswith("base-iface"):
                if not self._exists(ref, self._base_ns(spec)):
                    self._add(spec, fld, ref, _BASE_WHERE)
            elif not self._exists(ref, self._netns(spec)):
                self._add(spec, fld, ref, "an interface that exists in the file or the kernel, in the same namespace")
        if itype is InterfaceType.VETH and spec.veth is not None:
            self._veth_peer(spec, current)

    def _base_ns(self, spec: InterfaceSpec) -> NetnsName:
        """Where the file's rule finds the entry's base-iface (model/placement.py)."""
        own = self._netns(spec)
        base = BY_TYPE[spec.type].declared_base(spec) if spec.type else None
        if base is None:
            return own
        return base_netns(base, own, self.default_netns, spec.netns is not None, self._exists)

    def _kept_kind(self, spec: InterfaceSpec, itype: InterfaceType, current: Link) -> None:
        """A NIC, the loopback or a link of a kind linkctl does not make cannot be replaced by another kind."""
        have = kind_of(current).type
        port = f" (to bridge {spec.name}, list it as a port: bridge: {{port: [{{name: {spec.name}}}]}})"
        bridging = itype is InterfaceType.LINUX_BRIDGE and have is not InterfaceType.LOOPBACK
        self._add(
            spec,
            "type",
            itype.value,
            f"{spec.name} is an existing {have.value} link, which cannot be deleted to make {_a(itype.value)} in "
            f"its place: declare it with type {have.value} (or no type), or give the {itype.value} another name"
            + (port if bridging else ""),
        )

    def _peer_claimed_by(self, spec: InterfaceSpec, peer_ns: NetnsName) -> str | None:
        """An earlier end in the file that names the same undeclared peer in the same namespace."""
        assert spec.veth is not None
        if self._declared(spec.veth.peer, peer_ns) is not None:
            return None  # a declared peer names its one end back: checked above
        if self._first_claims is None:
            self._first_claims = {}
            for other in self.decl.interfaces:
                if (v := other.veth) is not None and not other.absent:
                    ns = v.peer_netns if v.peer_netns is not None else self._netns(other)
                    self._first_claims.setdefault((ns, v.peer), other)
        first = self._first_claims.get((peer_ns, spec.veth.peer))
        return first.name if first is not None and first is not spec else None

    def _stacking_cycles(self) -> None:
        """A link cannot stand on itself, directly or through others: its lower must exist first."""
        lowers: dict[tuple[NetnsName, str], tuple[str, str, InterfaceSpec]] = {}
        for spec in self.decl.interfaces:
            if spec.absent or spec.type is None:
                continue
            for fld, ref in BY_TYPE[spec.type].references(spec):
                if fld.endswith("base-iface"):
                    lowers[(self._netns(spec), spec.name)] = (fld, ref, spec)
        for (netns, name), (fld, ref, spec) in lowers.items():
            chain = [name, ref]
            while chain[-1] != name and (netns, chain[-1]) in lowers and chain.count(chain[-1]) == 1:
                chain.append(lowers[(netns, chain[-1])][1])
            if chain[-1] == name and name == min(chain):  # a cycle through this link, said once
                self._add(spec, fld, ref, f"a link this one does not stand on: {' -> '.join(chain)} is a loop")

    def _named_as_peer(self, spec: InterfaceSpec) -> str:
        names = [s.name for s in self.decl.interfaces if s.veth is not None and s.veth.peer == spec.name]
        return f" ({names[0]} names it as its veth peer: type: veth)" if len(names) == 1 else ""

    def _sections(self, spec: InterfaceSpec, itype: InterfaceType) -> None:
        for attr, owner in _SECTIONS.items():
            if getattr(spec, attr) is not None and owner is not itype:
                key = attr.replace("_", "-")
                self._add(
                    spec,
                    key,
                    "(section)",
                    f"the {key} section belongs to type {owner.value}, not {itype.value}",
                )
        need = _NEEDS_SECTION.get(itype)
        section_attr = BY_TYPE[itype].section_key
        if need and not spec.absent and section_attr and getattr(spec, section_attr) is None:
            current = self._current(spec)
            if current is None or kind_of(current).type is not itype:
                self._add(
                    spec,
                    section_attr.replace("_", "-"),
                    NOT_GIVEN,
                    f"required to create a {itype.value}: {need}",
                )

    def _creatable(
        self,
        spec: InterfaceSpec,
        itype: InterfaceType,
        kkind: str | None,
        module: str | None,
        creatable: bool,
    ) -> None:
        if not creatable:
            self._add(
                spec,
                "type",
                itype.value,
                f"{_a(itype.value)} link must already exist: linkctl adopts it but cannot create one",
            )
        elif self.creatable is not None and kkind not in self.creatable:
            self._add(
                spec,
                "type",
                itype.value,
                f"this kernel cannot create {kkind} links: "
                + self.advice.get(kkind or "", f"load the module with `modprobe {module}`"),
            )

    def _mtu(self, spec: InterfaceSpec, current: Link | None) -> None:
        if spec.mtu is None:
            return
        if current is None:
            # Every kind linkctl creates stops at ETH_MAX_MTU; only the loopback goes past it.
            if spec.mtu > ETH_MAX_MTU:
                what = f"a new {spec.type.value} link" if spec.type else "a new link"
                self._add(spec, "mtu", spec.mtu, f"{MTU_MIN} to {ETH_MAX_MTU} for {what}")
            return
        lo = current.min_mtu or 0
        hi = current.max_mtu or 0
        if hi and not lo <= spec.mtu <= hi:
            self._add(spec, "mtu", spec.mtu, f"{lo} to {hi} for this device")

    def _lower_name(self, kind: LinkKind, link: Link) -> str | None:
        """The base an adopted link stands on, when the file does not name it (`{name: mv0, mtu: 9000}`);
        None for a base in another namespace (lower_ifindex says so), whose MTU is not read here."""
        return self.host.ns(link.netns).name_of(kind.lower_ifindex(link))

    def _mtu_under_lower(
        self, spec: InterfaceSpec, itype: InterfaceType, lower: str | None, lower_ns: NetnsName, current: Link | None
    ) -> None:
        """A mac-vlan's or vlan's MTU above its base's: the kernel would answer only 'Invalid argument'."""
        if spec.mtu is None or lower is None or (current is not None and current.mtu == spec.mtu):
            return
        base_mtu = self._desired_mtu(lower, lower_ns)
        if base_mtu is not None and spec.mtu > base_mtu:
            self._add(
                spec, "mtu", spec.mtu,
                f"at most {base_mtu}: a {itype.value} link's MTU cannot exceed its base-iface's ({lower} has "
                f"{base_mtu}); raise {lower}'s mtu to {spec.mtu} or lower this one",
            )  # fmt: skip

    def _vxlan_fit(self, fit: _VxlanFit) -> None:
        """Refuse a declaration that leaves a VXLAN's frames too big for its base-iface.

        Only a misfit this declaration makes worse is refused (it raises the
        VXLAN's MTU, or lowers the base's): one it leaves as it is, or lessens,
        stays `linkctl audit`'s finding, so that `show -f yaml` of such a host
        still applies as a no-op and a step towards the fix is not blocked.
        """
        if fit.mtu_after is None or fit.base_after is None or fit.mtu_after + fit.overhead <= fit.base_after:
            return
        family = "IPv6" if fit.overhead == vxlan.OVERHEAD_V6 else "IPv4"
        raised = fit.mtu_now is None or fit.mtu_after > fit.mtu_now
        if fit.spec is not None and fit.spec.mtu is not None and raised:
            self._add(
                fit.spec, "mtu", fit.mtu_after,
                f"at most {fit.base_after - fit.overhead}: base-iface {fit.base} has MTU {fit.base_after} and VXLAN "
                f"over {family} needs {fit.overhead} bytes; raise {fit.base}'s mtu to {fit.mtu_after + fit.overhead} "
                "or lower this one",
            )  # fmt: skip
        elif (fit.base_now is None or fit.base_after < fit.base_now) and (
            base := self._declared(fit.base, fit.netns)
        ) is not None:
            self._add(
                base, "mtu", fit.base_after,
                f"at least {fit.mtu_after + fit.overhead}: {fit.name} (MTU {fit.mtu_after}) runs over {fit.base} and "
                f"VXLAN over {family} needs {fit.overhead} bytes; give {fit.base} an mtu of "
                f"{fit.mtu_after + fit.overhead} or more, or declare {fit.name} with mtu "
                f"{fit.base_after - fit.overhead} or less",
            )  # fmt: skip

    def _vxlan_fits(self) -> Iterator[_VxlanFit]:
        """Each VXLAN with a base-iface: the declared ones, then the existing ones the file leaves alone."""
        for spec in self.decl.interfaces:
            if spec.vxlan is None or spec.absent or spec.vxlan.base_iface is None:
                continue
            netns, base = self._base_ns(spec), spec.vxlan.base_iface  # the fit is judged where the base is
            current = self._current(spec)
            now = current.mtu if current is not None and isinstance(current.info, VxlanInfo) else None
            rebased = current is None or self._base_name(current) != base
            # Created (or re-created on another base) without an MTU, the kernel derives it from the base.
            after = spec.mtu if spec.mtu is not None else (None if rebased else now)
            yield self._fit(spec.name, netns, spec, base, spec.vxlan.local, spec.vxlan.remote, now, after)
        for link in self.host:
            info = link.info
            if not isinstance(info, VxlanInfo) or self._declared(link.name, link.netns) is not None:
                continue
            if (lower := self._base_name(link)) is not None:
                yield self._fit(link.name, link.netns, None, lower, info.local, info.remote, link.mtu, link.mtu)

    def _fit(
        self, name: str, netns: NetnsName, spec: InterfaceSpec | None, base: str,
        local: str | None, remote: str | None, now: int | None, after: int | None,
    ) -> _VxlanFit:  # fmt: skip
        base_link = self.host.find(base, netns)
        base_now = base_link.mtu if base_link is not None else None
        overhead = vxlan.overhead(local, remote)
        return _VxlanFit(name, netns, spec, base, overhead, now, after, base_now, self._desired_mtu(base, netns))

    def _base_name(self, link: Link) -> str | None:
        return self._lower_name(kind_of(link), link) if isinstance(link.info, VxlanInfo) else None

    def _desired_mtu(self, name: str, netns: NetnsName) -> int | None:
        spec = self._declared(name, netns)
        if spec is not None and spec.mtu is not None:
            return spec.mtu
        link = self.host.find(name, netns)
        if link is not None:
            return link.mtu
        if spec is None or spec.type is None or spec.absent:
            return None
        if spec.type is InterfaceType.LINUX_BRIDGE:
            # A new bridge takes its smallest port's MTU as they join (1500 without ports).
            ports = [self._desired_mtu(p, netns) for p in _port_names(spec) or []]
            return min((m for m in ports if m is not None), default=ETH_DATA_LEN)
        # Created by this file without an MTU: what the kernel gives its kind, where that is fixed.
        return BY_TYPE[spec.type].created_mtu

    def _veth_peer(self, spec: InterfaceSpec, current: Link | None) -> None:
        assert spec.veth is not None
        peer_ns = spec.veth.peer_netns if spec.veth.peer_netns is not None else self._netns(spec)
        if spec.veth.peer == spec.name and peer_ns == self._netns(spec):
            self._add(
                spec,
                "veth.peer",
                spec.veth.peer,
                "a name other than the link's own: both ends would live in one namespace "
                "(the same name is allowed with peer-netns)",
            )
            return
        declared = self._declared(spec.veth.peer, peer_ns) or self._declared(spec.veth.peer, self._netns(spec))
        if declared is spec:
            declared = None  # `peer: x` on x itself, the peer in peer-netns: declared there or not at all
        if declared is not None and declared.veth is not None and declared.veth.peer != spec.name:
            self._add(
                spec,
                "veth.peer",
                spec.veth.peer,
                f"{spec.veth.peer} declares {declared.veth.peer} as its peer; the two must name each other",
            )
        if declared is not None and not declared.absent and declared.type not in (None, InterfaceType.VETH):
            self._add(
                spec,
                "veth.peer",
                spec.veth.peer,
                f"a name no other link takes: {declared.name} is declared as {_a(declared.type.value)} "
                "(RTNETLINK would answer: File exists)",
            )
        if not spec.absent and (claimed := self._peer_claimed_by(spec, peer_ns)) is not None:
            self._add(
                spec,
                "veth.peer",
                spec.veth.peer,
                f"a peer of this pair alone: {claimed} names {spec.veth.peer} as its peer too",
            )
        if declared is not None and declared.absent and not spec.absent:
            self._add(
                declared,
                "state",
                "absent",
                f"not absent while {spec.name} names it as its veth peer (a pair is made and removed whole): "
                f"declare {spec.name} absent too, or leave {declared.name} out",
            )
        existing = self.host.find(spec.veth.peer, peer_ns)
        if existing is None:
            return
        peer_of_current = self.host.peer_of(current) if current is not None else None
        if peer_of_current is None or peer_of_current.ifindex != existing.ifindex:
            # An end paired with another peer: its own check names the link holding this one's name.
            told = declared is not None and self.host.peer_of(existing) is not None
            told = told and current is not None and current.netns == self._netns(spec)
            if not told and (
                declared is None or not (declared.absent or declared.type not in (None, InterfaceType.VETH))
            ):
                self._add(spec, "veth.peer", spec.veth.peer, _peer_taken(spec, existing, peer_of_current))

    def _ports(self) -> None:
        owner: dict[tuple[NetnsName, str], str] = {}
        for spec in self.decl.interfaces:
            if not spec.absent:
                for port in _port_names(spec) or ():
                    self._port(spec, port, owner)

    def _port(self, spec: InterfaceSpec, port: str, owner: dict[tuple[NetnsName, str], str]) -> None:
        netns = self._netns(spec)
        key = (netns, port)
        if key in owner:
            self._add(
                spec,
                "port",
                port,
                f"a port belongs to one controller; {port} is also listed by {owner[key]}",
            )
        owner[key] = spec.name
        if port == spec.name:
            self._add(spec, "port", port, "a controller cannot be its own port")
        elif not self._exists(port, netns):
            self._add(
                spec,
                "port",
                port,
                "an interface that exists in the file or the kernel, in the controller's namespace",
            )
        elif self._port_type(port, netns) in (InterfaceType.LINUX_BRIDGE,) and spec.bridge is not None:
            self._add(
                spec,
                "port",
                port,
                "not a bridge: the kernel does not nest bridges (use a veth pair between them)",
            )

    def _macvlans_on_ports(self) -> None:
        """A mac-vlan takes its base's receive hook, as a bridge or bond takes a port's: the kernel
        answers 'Device or resource busy' to a mac-vlan on a port, and to enslaving a base that carries one."""
        for _netns, name, base, base_ns, spec in self._macvlans():
            controller = self._controller_after(base, base_ns)
            if controller is None:
                continue
            if spec is not None:
                self._add(
                    spec, "mac-vlan.base-iface", base,
                    f"a link that is not a bridge or bond port: {base} is a port of {controller}; "
                    f"put the mac-vlan on {controller} itself, or take {base} out of {controller}",
                )  # fmt: skip
            else:
                self._add(
                    self._declared(controller, base_ns), "port", base,
                    f"a link that carries no mac-vlan: {name} runs over {base}; delete {name} "
                    "(state: absent) or leave this port out",
                )  # fmt: skip

    def _macvlan_macs(self) -> None:
        """A mac-vlan's MAC must be its own on its base: the kernel answers only 'Address already in use'."""
        on_base: dict[tuple[NetnsName, str], list[tuple[str, str | None]]] = {}
        for netns, name, base, base_ns, _spec in self._macvlans():
            on_base.setdefault((base_ns, base), []).append((name, self._mac_after(name, netns)))
        for netns, name, base, base_ns, spec in self._macvlans():
            if spec is None or spec.mac_address is None or spec.mac_vlan is None:
                continue
            current = self.host.find(name, netns)
            if current is not None and current.mac == spec.mac_address:
                continue  # the kernel accepted it once: not this file's doing
            passthru = spec.mac_vlan.mode is MacvlanMode.PASSTHRU  # takes its base's MAC by design
            owner = base if not passthru and self._mac_after(base, base_ns) == spec.mac_address else None
            owner = owner or next(
                (other for other, mac in on_base[(base_ns, base)] if other != name and mac == spec.mac_address), None
            )
            if owner is not None:
                holder = f"its base-iface {base}" if owner == base else f"{owner}, on the same base-iface {base},"
                self._add(
                    spec, "mac-address", spec.mac_address,
                    f"a MAC of its own: {holder} has it; pick another, or leave mac-address out for a random one",
                )  # fmt: skip

    def _mac_after(self, name: str, netns: NetnsName) -> str | None:
        spec = self._declared(name, netns)
        if spec is not None and spec.mac_address is not None:
            return spec.mac_address
        link = self.host.find(name, netns)
        return link.mac if link is not None else None

    def _macvlans(self) -> Iterator[tuple[NetnsName, str, str, NetnsName, InterfaceSpec | None]]:
        """(netns, name, base, base's netns, spec): the declared mac-vlans, then the existing ones
        the file leaves alone (those whose base is in their own namespace)."""
        for spec in self.decl.interfaces:
            if spec.mac_vlan is not None and not spec.absent:
                yield self._netns(spec), spec.name, spec.mac_vlan.base_iface, self._base_ns(spec), spec
        for link in self.host:
            if link.kind == "macvlan" and self._declared(link.name, link.netns) is None:
                base = self.host.ns(link.netns).name_of(kind_of(link).lower_ifindex(link))
                if base is not None:
                    yield link.netns, link.name, base, link.netns, None

    def _controller_after(self, name: str, netns: NetnsName) -> str | None:
        """The bridge or bond `name` is a port of once the declaration is applied."""
        if self._port_owner is None:
            self._port_owner = {}
            for spec in self.decl.interfaces:
                if not spec.absent:
                    for port in _port_names(spec) or ():
                        self._port_owner[(self._netns(spec), port)] = spec.name
        owner = self._port_owner.get((netns, name))
        link = self.host.find(name, netns)
        if owner is not None or link is None or link.slave_kind not in _RX_HANDLER_CONTROLLERS:
            return owner
        master = self.host.ns(netns).name_of(link.master_ifindex)
        declared = self._declared(master, netns) if master else None
        # A controller declared with its port list releases the ports it does not name.
        return None if declared is not None and _port_names(declared) is not None else master

    def _port_type(self, name: str, netns: NetnsName) -> InterfaceType | None:
        spec = self._declared(name, netns)
        if spec is not None and spec.type is not None:
            return spec.type
        link = self.host.find(name, netns)
        return kind_of(link).type if link else None

    def _vxlan_clashes(self) -> None:
        seen: dict[tuple[NetnsName, int, int], str] = {}
        for netns, name, vni, port in self._vxlans():
            key = (netns, vni, port or LINUX_DEFAULT_PORT)
            if key in seen and seen[key] != name:
                first, other = seen[key], name
                spec = self._declared(first, netns)
                if spec is None:  # blame the declared one, name the existing one
                    first, other = other, first
                    spec = self._declared(first, netns)
                self._add(
                    spec,
                    "vxlan.id",
                    vni,
                    f"a VNI not in use on the same UDP port; {other} already uses VNI {vni} "
                    "(RTNETLINK would answer: File exists)",
                )
            seen.setdefault(key, name)

    def _vxlans(self) -> Iterator[tuple[NetnsName, str, int, int | None]]:
        """Declared VXLANs first, then existing ones that the file leaves in place."""
        declared = set()
        for spec in self.decl.interfaces:
            if spec.vxlan is not None and not spec.absent:
                declared.add((self._netns(spec), spec.name))
                yield self._netns(spec), spec.name, spec.vxlan.id, spec.vxlan.destination_port
        for link in self.host:
            info = link.info
            if isinstance(info, VxlanInfo) and info.vni is not None and (link.netns, link.name) not in declared:
                if self._declared(link.name, link.netns) is None:
                    yield link.netns, link.name, info.vni, info.port


# Controllers that take a port's receive hook, as a mac-vlan does (a VRF does not).
_RX_HANDLER_CONTROLLERS = frozenset({"bridge", "bond", "team", "openvswitch"})


def _port_names(spec: InterfaceSpec) -> list[str] | None:
    """The ports a bridge or bond declares (None: no port list, its ports are left as they are)."""
    if spec.bridge is not None and spec.bridge.port is not None:
        return [p.name for p in spec.bridge.port]
    if spec.link_aggregation is not None and spec.link_aggregation.port is not None:
        return list(spec.link_aggregation.port)
    return None


_BASE_WHERE = (
    "an interface that exists in the file or the kernel, in the same namespace (an entry with netns: may "
    "also stand on one of the file's default namespace: it is made there, then moved)"
)


@dataclass(frozen=True)
class _VxlanFit:
    """A VXLAN and its base-iface, before and after the declaration (None: unknown or kernel-derived)."""

    name: str
    netns: NetnsName
    spec: InterfaceSpec | None
    base: str
    overhead: int
    mtu_now: int | None
    mtu_after: int | None
    base_now: int | None
    base_after: int | None


def _peer_taken(spec: InterfaceSpec, existing: Link, peer: Link | None) -> str:
    """Why `existing` cannot be this end's peer; which link its peer is, when it has one by another name."""
    text = "a name not used by another link in the peer's namespace"
    if peer is not None and peer.name != existing.name:
        text += (
            f": {spec.name}'s veth peer is {peer.name} now (ifindex {peer.ifindex}, renamed by hand?), and "
            f"{existing.name} is another link (ifindex {existing.ifindex}): rename or delete {existing.name}, "
            f"then apply again to name the peer back"
        )
    return text + " (RTNETLINK would answer: File exists)"


def validate(
    decl: Declaration,
    host: HostState,
    source: str,
    default_netns: NetnsName = None,
    creatable: frozenset[str] | None = None,
    advice: dict[str, str] | None = None,
) -> None:
    """Raise ValidationFailed with every problem found, or return quietly.

    `advice`: for each kernel kind this kernel cannot create, what to do (probed by the engine)."""
    # Judged as the plan sees it: a veth peer renamed by hand has its declared name back.
    view, located = renamed_view(host, renamed_peers(decl, host, default_netns, {}), {})
    Validator(decl, view, source, default_netns, creatable, advice=advice or {}, located=located).run()


def _a(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"

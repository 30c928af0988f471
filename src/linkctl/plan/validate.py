"""Whole-declaration checks against the current state, before the first change.

Every problem is collected (not just the first), each naming the interface,
the field, the value and what is allowed.

The per-entry checks are here; MTU and port checks in plan/check_mtu.py and plan/check_ports.py.
"""

from __future__ import annotations

from collections import Counter

from linkctl.errors import NOT_GIVEN, ValidationFailed
from linkctl.kinds import BY_TYPE, kind_of
from linkctl.kinds.veth import peer_netns
from linkctl.kinds.vxlan import Underlay, UnderlayQuery
from linkctl.model.spec import Declaration, InterfaceSpec, InterfaceType
from linkctl.model.state import HostState, Link, NetnsName
from linkctl.plan.check_macvlan import MacvlanChecks
from linkctl.plan.check_mtu import MtuChecks
from linkctl.plan.check_ports import PortChecks
from linkctl.plan.checks import Scope
from linkctl.plan.match import kind_for
from linkctl.plan.settle import settle
from linkctl.plan.veth_match import renamed_peers, renamed_view

_SECTIONS = {
    "veth": InterfaceType.VETH,
    "bridge": InterfaceType.LINUX_BRIDGE,
    "vxlan": InterfaceType.VXLAN,
    "mac_vlan": InterfaceType.MAC_VLAN,
    "mac_vtap": InterfaceType.MAC_VTAP,
    "ipvlan": InterfaceType.IPVLAN,
    "vlan": InterfaceType.VLAN,
    "link_aggregation": InterfaceType.BOND,
    "ethernet": InterfaceType.ETHERNET,
}
_NEEDS_SECTION = {
    InterfaceType.VETH: "veth: {peer: NAME}",
    InterfaceType.VXLAN: "vxlan: {id: VNI, ...}",
    InterfaceType.MAC_VLAN: "mac-vlan: {base-iface: NAME}",
    InterfaceType.MAC_VTAP: "mac-vtap: {base-iface: NAME}",
    InterfaceType.IPVLAN: "ipvlan: {base-iface: NAME}",
    InterfaceType.VLAN: "vlan: {base-iface: NAME, id: ID}",
}


class Validator:
    """The entry pass (each interface on its own, names, stacking), then the port and MTU passes."""

    def __init__(self, scope: Scope) -> None:
        self.s = scope
        self.mtu = MtuChecks(scope)
        self._first_claims: dict[tuple[NetnsName, str], InterfaceSpec] | None = None  # (netns, peer) -> first end

    def run(self) -> None:
        self._duplicates()
        for spec in self.s.decl.interfaces:
            self._one(spec)
        ports = PortChecks(self.s)
        ports.owners()
        looped = self._stacking_cycles()
        ports.rest()
        MacvlanChecks(self.s, looped).run()
        for fit in self.mtu.vxlan_fits():
            self.mtu.vxlan_fit(fit)
        if self.s.problems:
            raise ValidationFailed(self.s.problems)

    def _duplicates(self) -> None:
        counts = Counter((self.s.netns(s), s.name) for s in self.s.decl.interfaces)
        for (netns, name), n in counts.items():
            if n > 1:
                where = f" in netns {netns}" if netns else ""
                self.s.add(
                    None,
                    "name",
                    name,
                    f"each interface once per namespace; {name}{where} appears {n} times",
                )

    def _one(self, spec: InterfaceSpec) -> None:
        current = self.s.current(spec)
        itype = kind_for(spec, current).type if spec.type or current else None
        if itype is None:
            if not spec.absent:
                self._untyped(spec)
            return
        kind = BY_TYPE[itype]
        self._sections(spec, itype)
        if spec.absent:
            if current is not None and not kind_of(current).creatable:
                self.s.add(
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
        if creating and current is not None and not kind.creatable:
            self.s.add(
                spec,
                "type",
                itype.value,
                f"{spec.name} is an existing {kind_of(current).type.value} link, not {_a(itype.value)}: declare it "
                f"with type {kind_of(current).type.value} (or no type)",
            )
        elif creating:
            self._creatable(spec, itype, kind.kernel_kind, kind.module, kind.creatable)
        self.mtu.bounds(spec, current)
        if kind.mtu_bounded_by_lower:
            kept = None if creating else current
            declared = kind.ifla_link(spec)
            lower = declared or (self.s.lower_name(kind, kept) if kept is not None else None)
            self.mtu.under_lower(spec, itype, lower, self.s.base_ns(spec) if declared else self.s.netns(spec), kept)
        for fld, ref in kind.references(spec):
            if fld.endswith("base-iface"):
                if not self.s.exists(ref, self.s.base_ns(spec)):
                    self.s.add(spec, fld, ref, _BASE_WHERE)
            elif not self.s.exists(ref, self.s.netns(spec)):
                self.s.add(spec, fld, ref, "an interface that exists in the file or the kernel, in the same namespace")
        if itype is InterfaceType.VETH and spec.veth is not None:
            self._veth_peer(spec, current)

    def _untyped(self, spec: InterfaceSpec) -> None:
        """An entry without a type takes the existing link's (as nmstate does): here there is none."""
        netns = self.s.netns(spec)
        where = f" in netns {netns}" if netns else ""
        # Most often a mistyped --netns or netns: the link exists, elsewhere.
        hint = f" (netns {netns} does not exist yet: is it spelt right?)" if netns not in self.s.host.namespaces else ""
        hint += self._named_as_peer(spec)
        types = ", ".join(t.value for t in InterfaceType)
        self.s.add(
            spec,
            "type",
            NOT_GIVEN,
            f"no link {spec.name} exists{where} to take its type from; a type is needed to create one: {types}{hint}",
        )

    def _kept_kind(self, spec: InterfaceSpec, itype: InterfaceType, current: Link) -> None:
        """A NIC, the loopback or a link of a kind linkctl does not make cannot be replaced by another kind."""
        have = kind_of(current).type
        port = f" (to bridge {spec.name}, list it as a port: bridge: {{port: [{{name: {spec.name}}}]}})"
        bridging = itype is InterfaceType.LINUX_BRIDGE and have is not InterfaceType.LOOPBACK
        self.s.add(
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
        if self.s.declared(spec.veth.peer, peer_ns) is not None:
            return None  # a declared peer names its one end back: checked above
        if self._first_claims is None:
            self._first_claims = {}
            for other in self.s.decl.interfaces:
                if (v := other.veth) is not None and not other.absent:
                    self._first_claims.setdefault((peer_netns(v, self.s.netns(other)), v.peer), other)
        first = self._first_claims.get((peer_ns, spec.veth.peer))
        return first.name if first is not None and first is not spec else None

    def _stacking_cycles(self) -> set[tuple[NetnsName, str]]:
        """A link cannot stand on itself, directly or through others: its lower must exist first.
        Returns the links in a loop (the later checks leave them to this one's problem)."""
        looped: set[tuple[NetnsName, str]] = set()
        lowers: dict[tuple[NetnsName, str], tuple[str, str, InterfaceSpec]] = {}
        for spec in self.s.decl.interfaces:
            if spec.absent or spec.type is None:
                continue
            for fld, ref in BY_TYPE[spec.type].references(spec):
                if fld.endswith("base-iface"):
                    lowers[(self.s.netns(spec), spec.name)] = (fld, ref, spec)
        for (netns, name), (fld, ref, spec) in lowers.items():
            chain = [name, ref]
            while chain[-1] != name and (netns, chain[-1]) in lowers and chain.count(chain[-1]) == 1:
                chain.append(lowers[(netns, chain[-1])][1])
            if chain[-1] == name:
                looped.add((netns, name))
            if chain[-1] == name and name == min(chain):  # a cycle through this link, said once
                self.s.add(spec, fld, ref, f"a link this one does not stand on: {' -> '.join(chain)} is a loop")
        return looped

    def _named_as_peer(self, spec: InterfaceSpec) -> str:
        names = [s.name for s in self.s.decl.interfaces if s.veth is not None and s.veth.peer == spec.name]
        return f" ({names[0]} names it as its veth peer: type: veth)" if len(names) == 1 else ""

    def _sections(self, spec: InterfaceSpec, itype: InterfaceType) -> None:
        # A veth adopted as `type: ethernet` (plan/match.py kind_for) may carry both sections.
        adopted = {itype, InterfaceType.ETHERNET} if spec.type is InterfaceType.ETHERNET else {itype}
        for attr, owner in _SECTIONS.items():
            if getattr(spec, attr) is not None and owner not in adopted:
                key = attr.replace("_", "-")
                self.s.add(
                    spec,
                    key,
                    "(section)",
                    f"the {key} section belongs to type {owner.value}, not {itype.value}",
                )
        need = _NEEDS_SECTION.get(itype)
        section_attr = BY_TYPE[itype].section_key
        if need and not spec.absent and section_attr and getattr(spec, section_attr) is None:
            current = self.s.current(spec)
            if current is None or kind_of(current).type is not itype:
                self.s.add(
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
            self.s.add(
                spec,
                "type",
                itype.value,
                f"{_a(itype.value)} link must already exist: linkctl adopts it but cannot create one",
            )
        elif self.s.creatable is not None and kkind not in self.s.creatable:
            self.s.add(
                spec,
                "type",
                itype.value,
                f"this kernel cannot create {kkind} links: "
                + self.s.advice.get(kkind or "", f"load the module with `modprobe {module}`"),
            )

    def _veth_peer(self, spec: InterfaceSpec, current: Link | None) -> None:
        assert spec.veth is not None
        peer_ns = peer_netns(spec.veth, self.s.netns(spec))
        if spec.veth.peer == spec.name and peer_ns == self.s.netns(spec):
            self.s.add(
                spec,
                "veth.peer",
                spec.veth.peer,
                "a name other than the link's own: both ends would live in one namespace "
                "(the same name is allowed with peer-netns)",
            )
            return
        declared = self.s.declared(spec.veth.peer, peer_ns) or self.s.declared(spec.veth.peer, self.s.netns(spec))
        if declared is spec:
            declared = None  # `peer: x` on x itself, the peer in peer-netns: declared there or not at all
        if declared is not None and declared.veth is not None and declared.veth.peer != spec.name:
            self.s.add(
                spec,
                "veth.peer",
                spec.veth.peer,
                f"{spec.veth.peer} declares {declared.veth.peer} as its peer; the two must name each other",
            )
        if declared is not None and not declared.absent and declared.type not in (None, InterfaceType.VETH):
            self.s.add(
                spec,
                "veth.peer",
                spec.veth.peer,
                f"a name no other link takes: {declared.name} is declared as {_a(declared.type.value)} "
                "(RTNETLINK would answer: File exists)",
            )
        if not spec.absent and (claimed := self._peer_claimed_by(spec, peer_ns)) is not None:
            self.s.add(
                spec,
                "veth.peer",
                spec.veth.peer,
                f"a peer of this pair alone: {claimed} names {spec.veth.peer} as its peer too",
            )
        if declared is not None and declared.absent and not spec.absent:
            self.s.add(
                declared,
                "state",
                "absent",
                f"not absent while {spec.name} names it as its veth peer (a pair is made and removed whole): "
                f"declare {spec.name} absent too, or leave {declared.name} out",
            )
        existing = self.s.host.find(spec.veth.peer, peer_ns)
        if existing is None:
            return
        peer_of_current = self.s.host.peer_of(current) if current is not None else None
        if peer_of_current is None or peer_of_current.ifindex != existing.ifindex:
            # An end paired with another peer: its own check names the link holding this one's name.
            told = declared is not None and self.s.host.peer_of(existing) is not None
            told = told and current is not None and current.netns == self.s.netns(spec)
            if not told and (
                declared is None or not (declared.absent or declared.type not in (None, InterfaceType.VETH))
            ):
                self.s.add(spec, "veth.peer", spec.veth.peer, _peer_taken(spec, existing, peer_of_current))


_BASE_WHERE = (
    "an interface that exists in the file or the kernel, in the same namespace (an entry with netns: may "
    "also stand on one of the file's default namespace: it is made there, then moved)"
)


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
    underlays: dict[UnderlayQuery, Underlay | None] | None = None,
) -> None:
    """Raise ValidationFailed with every problem found, or return quietly.

    `advice`: for each kernel kind this kernel cannot create, what to do (probed by the engine).
    `underlays`: what the kernel routes each VXLAN without base-iface through (plan/check_mtu.py
    underlay_queries says which; read by the engine)."""
    # Judged as the plan sees it: a veth peer renamed by hand has its declared name back.
    view, located = renamed_view(host, renamed_peers(decl, host, default_netns, {}), {})
    decl, settling = settle(decl, view, default_netns, source)  # what the planner carries out (plan/settle.py)
    scope = Scope(
        decl, view, source, default_netns, creatable, advice=advice or {}, located=located, underlays=underlays or {}
    )
    scope.problems += settling
    Validator(scope).run()


def _a(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"

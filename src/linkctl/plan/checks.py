"""What every validation pass shares: the declaration, the state, the problems found so far, and
the lookups (where an entry is, whether a name exists once the file is applied).

The checks are one class chain, one module per concern (checks -> check_mtu -> check_ports ->
validate), each reading the lookups of the ones below."""

from __future__ import annotations

from dataclasses import dataclass, field

from linkctl.errors import Problem
from linkctl.kinds import BY_TYPE, kind_of
from linkctl.kinds.base import LinkKind
from linkctl.kinds.veth import peer_netns
from linkctl.kinds.vxlan import Underlay, UnderlayQuery
from linkctl.model.placement import base_netns
from linkctl.model.spec import Declaration, InterfaceSpec
from linkctl.model.state import HostState, Link, NetnsName, VxlanInfo
from linkctl.plan.veth_match import locate


@dataclass
class Checks:
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
    # What the kernel routes VXLANs without base-iface through, read by the engine (plan/ reads nothing)
    underlays: dict[UnderlayQuery, Underlay | None] = field(default_factory=dict)

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
                (peer_netns(s.veth, self._netns(s)), s.veth.peer)
                for s in self.decl.interfaces
                if s.veth is not None and not s.absent
            }
        return (netns, name) in self._peers

    def _base_ns(self, spec: InterfaceSpec) -> NetnsName:
        """Where the file's rule finds the entry's base-iface (model/placement.py)."""
        own = self._netns(spec)
        base = BY_TYPE[spec.type].declared_base(spec) if spec.type else None
        if base is None:
            return own
        return base_netns(base, own, self.default_netns, spec.netns is not None, self._exists)

    def _lower_name(self, kind: LinkKind, link: Link) -> str | None:
        """The base an adopted link stands on, when the file does not name it (`{name: mv0, mtu: 9000}`);
        None for a base in another namespace (lower_ifindex says so), whose MTU is not read here."""
        return self.host.ns(link.netns).name_of(kind.lower_ifindex(link))

    def _base_name(self, link: Link) -> str | None:
        return self._lower_name(kind_of(link), link) if isinstance(link.info, VxlanInfo) else None

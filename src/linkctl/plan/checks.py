"""What every validation pass shares: the declaration, the state, the problems found so far, and
the lookups (where an entry is, whether a name exists once the file is applied).

Validation is three passes over one Scope, a module each: the entries (plan/validate.py), the MTUs
(plan/check_mtu.py) and the ports (plan/check_ports.py). Each pass holds the scope, not a parent
class: what a pass reads of another is the scope's lookups, never another pass's internals."""

from __future__ import annotations

from dataclasses import dataclass, field

from linkctl.errors import Problem, quoted
from linkctl.kinds import BY_TYPE, kind_of
from linkctl.kinds.base import LinkKind
from linkctl.kinds.veth import peer_netns
from linkctl.kinds.vxlan import Underlay, UnderlayQuery
from linkctl.model.placement import base_netns
from linkctl.model.spec import Declaration, InterfaceSpec
from linkctl.model.state import HostState, Link, NetnsName, VxlanInfo
from linkctl.plan.veth_match import locate


@dataclass
class Scope:
    decl: Declaration
    host: HostState
    source: str
    default_netns: NetnsName = None
    creatable: frozenset[str] | None = None  # kernel kinds this kernel can create (probed)
    advice: dict[str, str] = field(default_factory=dict)  # kernel kind -> how to get it here
    problems: list[Problem] = field(default_factory=list)
    _by_key: dict[tuple[NetnsName, str], InterfaceSpec] | None = None
    _peers: set[tuple[NetnsName, str]] | None = None
    located: dict[tuple[NetnsName, str], NetnsName] = field(default_factory=dict)  # renamed veth peers
    # What the kernel routes VXLANs without base-iface through, read by the engine (plan/ reads nothing)
    underlays: dict[UnderlayQuery, Underlay | None] = field(default_factory=dict)

    def add(self, spec: InterfaceSpec | None, fld: str, value: object, allowed: str) -> None:
        # Spelt as the format's problems spell it (model/load.py): one name, one spelling, so that a
        # key the format refused is not told twice (cli/engine_cmds.py compares the two).
        where = f"{self.source}: interface {quoted(spec.name, bare=True)}" if spec else self.source
        self.problems.append(Problem(where, fld, value, allowed))

    def netns(self, spec: InterfaceSpec) -> NetnsName:
        return spec.netns if spec.netns is not None else self.default_netns

    def current(self, spec: InterfaceSpec) -> Link | None:
        return locate(self.host, spec.name, self.netns(spec), spec.netns is not None, self.default_netns, self.located)

    def declared(self, name: str, netns: NetnsName) -> InterfaceSpec | None:
        if self._by_key is None:
            self._by_key = {}
            for spec in self.decl.interfaces:
                self._by_key.setdefault((self.netns(spec), spec.name), spec)
        return self._by_key.get((netns, name))

    def exists(self, name: str, netns: NetnsName) -> bool:
        spec = self.declared(name, netns)
        if spec is not None:
            return not spec.absent
        return self.host.find(name, netns) is not None or self.implied_peer(name, netns)

    def implied_peer(self, name: str, netns: NetnsName) -> bool:
        """The undeclared peer of a declared veth exists once the pair is created."""
        if self._peers is None:
            self._peers = {
                (peer_netns(s.veth, self.netns(s)), s.veth.peer)
                for s in self.decl.interfaces
                if s.veth is not None and not s.absent
            }
        return (netns, name) in self._peers

    def base_ns(self, spec: InterfaceSpec) -> NetnsName:
        """Where the file's rule finds the entry's base-iface (model/placement.py)."""
        own = self.netns(spec)
        base = BY_TYPE[spec.type].declared_base(spec) if spec.type else None
        if base is None:
            return own
        if spec.base_netns is not None:  # a restore declaration's: where the base was read
            return spec.base_netns[0]
        return base_netns(base, own, self.default_netns, spec.netns is not None, self.exists)

    def lower_name(self, kind: LinkKind, link: Link) -> str | None:
        """The base an adopted link stands on, when the file does not name it (`{name: mv0, mtu: 9000}`);
        None for a base in another namespace (lower_ifindex says so), whose MTU is not read here."""
        return self.host.ns(link.netns).name_of(kind.lower_ifindex(link))

    def base_name(self, link: Link) -> str | None:
        return self.lower_name(kind_of(link), link) if isinstance(link.info, VxlanInfo) else None

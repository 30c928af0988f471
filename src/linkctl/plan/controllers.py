"""`controller:` on a port (nmstate 2.2.2+): merged into its controller's port list, with the kernel's.

What nmstate does, read in its source (rust/src/lib/ifaces/inter_ifaces_controller.rs:
MergedInterfaces::validate_controller_and_port_list_confliction, handle_changed_ports,
resolve_port_iface_controller_type; rust/src/lib/ifaces/mod.rs: MergedInterface::apply_ctrller_change):

* `controller: br0` attaches the port to br0 and leaves br0's other ports as they are: nmstate sets
  the controller on the port alone. Here br0's port list, where the file gives it none, becomes the
  ports br0 has now plus this one, so every later pass (the port checks, the MTUs, the planner, a
  second apply's empty plan) reads one port list.
* `controller: ""` detaches the port from the controller it has now (the same list, less the port).
* br0 declared with a port list that does not name the port is refused, neither wins
  (validate_controller_not_in_port_list: "has controller br0 but not listed in port list"); so is a
  port another declared controller lists, and `""` on a port a declared controller lists
  (validate_controller_in_other_port_list). A controller neither declared nor in the kernel is
  refused ("desired controller ... not found"). A list that names the port agrees: nothing to merge.
* A bond is taken as a bridge is: nothing in those functions depends on the controller's kind (linkctl
  enslaves to a bond down first, as for a bond's port list). Only a bridge or a bond takes ports here.
* nmstate checks these only for a port that stays up (`merged.is_up()`); an entry declared absent
  has its `controller` passed over here too. A port declared down is attached and left down.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from linkctl.errors import Problem, quoted
from linkctl.kinds import kind_of
from linkctl.model.spec import BondSection, BridgePort, BridgeSection, Declaration, InterfaceSpec, InterfaceType
from linkctl.model.state import HostState, Link, NetnsName
from linkctl.plan.vlans import filters

Key = tuple[NetnsName, str]
_TAKES_PORTS = (InterfaceType.LINUX_BRIDGE, InterfaceType.BOND)


def settle_controllers(
    decl: Declaration, host: HostState, default_netns: NetnsName, source: str
) -> tuple[Declaration, list[Problem]]:
    """The declaration with each `controller:` merged into its controller's port list; or, where one
    cannot be, the declaration as it is and the problems (validation reports them before any change)."""
    naming = [s for s in decl.interfaces if s.controller is not None and not s.absent]
    if not naming:
        return decl, []
    merge = _Merge(decl, host, default_netns, source)
    for spec in naming:
        merge.one(spec)
    merge.loops(naming)
    if merge.problems:
        return decl, merge.problems
    return merge.merged(), []


@dataclass
class _Merge:
    decl: Declaration
    host: HostState
    default_netns: NetnsName
    source: str
    problems: list[Problem] = field(default_factory=list)
    joins: dict[Key, list[str]] = field(default_factory=dict)  # controller -> ports named joining it
    leaves: dict[Key, list[str]] = field(default_factory=dict)  # controller -> ports named leaving it
    written: dict[Key, str | None] = field(default_factory=dict)  # controller -> `netns` as the port wrote it
    declared: dict[Key, InterfaceSpec] = field(init=False)
    listed: dict[Key, str] = field(init=False)  # port -> the declared controller whose port list names it

    def __post_init__(self) -> None:
        self.declared = {(self._ns(s), s.name): s for s in self.decl.interfaces}
        self.listed = {
            (self._ns(s), port): s.name for s in self.decl.interfaces if not s.absent for port in s.port_names or ()
        }

    def _ns(self, spec: InterfaceSpec) -> NetnsName:
        return spec.netns if spec.netns is not None else self.default_netns

    def _add(self, spec: InterfaceSpec, allowed: str) -> None:
        where = f"{self.source}: interface {quoted(spec.name, bare=True)}"
        self.problems.append(Problem(where, "controller", spec.controller, allowed))

    def one(self, spec: InterfaceSpec) -> None:
        ns, name, ctrl = self._ns(spec), spec.name, spec.controller
        lister = self.listed.get((ns, name))
        if ctrl == "":
            if lister is not None:
                self._add(
                    spec, f"a port no controller lists: {lister}'s port list names {name}; take {name} out of "
                    f"that list, or leave `controller` out",
                )  # fmt: skip
            else:
                self._leave(spec, ns)
            return
        assert ctrl is not None
        if ctrl == name:
            self._add(spec, "another interface: a link is not its own controller")
            return
        if not self._takes_ports(spec, ns, ctrl):
            return
        if lister is not None and lister != ctrl:
            self._add(
                spec, f"the controller whose port list names it: {lister}'s port list names {name}; take {name} "
                f"out of {lister}'s port list, or write `controller: {lister}`",
            )  # fmt: skip
            return
        names = self.declared[(ns, ctrl)].port_names if (ns, ctrl) in self.declared else None
        if names is None:
            self.joins.setdefault((ns, ctrl), []).append(name)
            self.written.setdefault((ns, ctrl), spec.netns)
        elif name not in names:
            # nmstate refuses the two disagreeing rather than pick one.
            self._add(
                spec, f"a controller whose port list names it: {ctrl}'s port list leaves {name} out (nmstate "
                f"refuses the two disagreeing); add {name} to {ctrl}'s port list, or leave `controller` out",
            )  # fmt: skip

    def _takes_ports(self, spec: InterfaceSpec, ns: NetnsName, ctrl: str) -> bool:
        """Whether `ctrl` is a bridge or bond that stays, in the port's namespace; a problem if not."""
        cspec, link = self.declared.get((ns, ctrl)), self.host.find(ctrl, ns)
        where = f" in netns {ns}" if ns else ""
        if (ns, ctrl) in self._ignored():
            self._add(spec, f"a controller the file manages: {ctrl} is `state: ignore`")
        elif cspec is not None and cspec.absent:
            self._add(spec, f"a controller that stays: {ctrl} is declared absent")
        elif cspec is None and link is None:
            self._add(
                spec, f"a bridge or bond that exists in the file or the kernel, in {spec.name}'s namespace "
                f"(no {ctrl}{where}); declare {ctrl}, or name another",
            )  # fmt: skip
        else:
            ctype = cspec.type if cspec is not None and cspec.type is not None else None
            ctype = ctype or (kind_of(link).type if link is not None else None)
            if ctype in _TAKES_PORTS:
                return True
            if ctype is not None:  # untyped and nowhere: the entry's own problem, told by validation
                self._add(
                    spec, f"a linux-bridge or bond: {ctrl} is {ctype.value}, which takes no ports; name a bridge "
                    f"or bond, or leave `controller` out",
                )  # fmt: skip
        return False

    def _ignored(self) -> set[Key]:
        return {(n if n is not None else self.default_netns, name) for n, name in self.decl.ignored}

    def _leave(self, spec: InterfaceSpec, ns: NetnsName) -> None:
        """`controller: ""`: out of the controller it has now (nothing, where it has none)."""
        link = self.host.find(spec.name, ns)
        master = self.host.ns(ns).name_of(link.master_ifindex) if link is not None else None
        if master is None:
            return
        mspec = self.declared.get((ns, master))
        if mspec is not None and (mspec.absent or mspec.port_names is not None):
            return  # its list already leaves the port out (a list naming it was refused), or it goes
        mlink = self.host.find(master, ns)
        if mlink is None or kind_of(mlink).type not in _TAKES_PORTS:
            self._add(
                spec, f"a port of a bridge or bond: {master} is a {mlink.kind if mlink else 'link'} master linkctl "
                f"does not manage; release it with `ip link set dev {spec.name} nomaster`",
            )  # fmt: skip
            return
        self.leaves.setdefault((ns, master), []).append(spec.name)
        self.written.setdefault((ns, master), spec.netns)

    def loops(self, naming: list[InterfaceSpec]) -> None:
        """A controller that would end up a port of its own port (bond0 in br0, br0 in bond0)."""
        after = dict(self.listed)
        after.update({(ns, port): ctrl for (ns, ctrl), ports in self.joins.items() for port in ports})
        for spec in naming:
            ns, seen, at = self._ns(spec), [spec.name], spec.controller
            while at and at not in seen:
                seen.append(at)
                at = after.get((ns, at))
            if at == spec.name and len(seen) > 1:
                self._add(spec, f"a controller that is not its own port: {' -> '.join([*seen, at])} is a loop")

    def merged(self) -> Declaration:
        changed = set(self.joins) | set(self.leaves)
        out = [self._with_ports(s) if (self._ns(s), s.name) in changed else s for s in self.decl.interfaces]
        for key in sorted(changed - set(self.declared), key=lambda k: (str(k[0]), k[1])):
            out.append(self._with_ports(InterfaceSpec(name=key[1], netns=self.written[key])))
        return self.decl.model_copy(update={"interfaces": out})

    def _with_ports(self, spec: InterfaceSpec) -> InterfaceSpec:
        """The controller's entry with the port list it has now, less the ports leaving, plus those joining."""
        key = (self._ns(spec), spec.name)
        link = self.host.find(spec.name, key[0])
        now = self.host.ns(key[0]).ports_of(spec.name) if link is not None else []
        leaving = set(self.leaves.get(key, ()))
        names = [n for n in now if n not in leaving] + [n for n in self.joins.get(key, ()) if n not in now]
        ctype = spec.type or (kind_of(link).type if link is not None else None)
        if ctype is InterfaceType.BOND:
            bond = spec.link_aggregation or BondSection()
            return spec.model_copy(update={"link_aggregation": bond.model_copy(update={"port": names})})
        return spec.model_copy(update={"bridge": _bridge_ports(spec.bridge, names, link)})


def _bridge_ports(section: BridgeSection | None, names: list[str], link: Link | None) -> BridgeSection:
    """A bridge section with these ports, its filtering kept: a port list without any `vlan` would
    otherwise turn the bridge's VLAN filtering off (plan/vlans.py filtering_wanted)."""
    section = section or BridgeSection()
    update: dict[str, object] = {"port": [BridgePort(name=n) for n in names]}
    if link is not None and section.filtering_read is None:
        update["filtering_read"] = filters(link)
    return section.model_copy(update=update)

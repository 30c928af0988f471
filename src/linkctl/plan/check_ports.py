"""Port checks: one master per port, mac-vlans on a bridge's or bond's port, mac-vlan MAC
clashes with their base, VXLANs that would claim one VNI and port twice."""

from __future__ import annotations

from collections.abc import Iterator

from linkctl.kinds import kind_of
from linkctl.kinds.vxlan import LINUX_DEFAULT_PORT
from linkctl.model.spec import InterfaceSpec, InterfaceType, MacvlanMode
from linkctl.model.state import NetnsName, VxlanInfo
from linkctl.plan.checks import Scope


class PortChecks:
    """The port pass: one controller per port, mac-vlans on ports and their MACs, VXLANs sharing a VNI."""

    def __init__(self, scope: Scope) -> None:
        self.s = scope
        self._port_owner: dict[tuple[NetnsName, str], str] | None = None

    def rest(self) -> None:
        """What follows the owners: mac-vlans on ports, their MACs, VXLANs sharing a VNI and port."""
        self._macvlans_on_ports()
        self._macvlan_macs()
        self._vxlan_clashes()

    def owners(self) -> None:
        """One controller per port, not itself, existing, no bridge in a bridge."""
        owner: dict[tuple[NetnsName, str], str] = {}
        for spec in self.s.decl.interfaces:
            if not spec.absent:
                for port in spec.port_names or ():
                    self._port(spec, port, owner)

    def _port(self, spec: InterfaceSpec, port: str, owner: dict[tuple[NetnsName, str], str]) -> None:
        netns = self.s.netns(spec)
        key = (netns, port)
        if key in owner:
            self.s.add(
                spec,
                "port",
                port,
                f"a port belongs to one controller; {port} is also listed by {owner[key]}",
            )
        owner[key] = spec.name
        if port == spec.name:
            self.s.add(spec, "port", port, "a controller cannot be its own port")
        elif not self.s.exists(port, netns):
            self.s.add(
                spec,
                "port",
                port,
                "an interface that exists in the file or the kernel, in the controller's namespace",
            )
        elif self._port_type(port, netns) is InterfaceType.LOOPBACK and spec.bridge is not None:
            self.s.add(
                spec, "port", port,
                "an Ethernet link: the kernel takes no loopback into a bridge (it answers only 'Invalid "
                f"argument'); leave {port} out of the port list",
            )  # fmt: skip
        elif self._port_type(port, netns) in (InterfaceType.LINUX_BRIDGE,) and spec.bridge is not None:
            self.s.add(
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
                self.s.add(
                    spec, "mac-vlan.base-iface", base,
                    f"a link that is not a bridge or bond port: {base} is a port of {controller}; "
                    f"put the mac-vlan on {controller} itself, or take {base} out of {controller}",
                )  # fmt: skip
            else:
                self.s.add(
                    self.s.declared(controller, base_ns), "port", base,
                    f"a link that carries no mac-vlan: {name} runs over {base}; delete {name} "
                    "(state: absent) or leave this port out",
                )  # fmt: skip

    def _macvlan_macs(self) -> None:
        """A mac-vlan's MAC must be its own on its base: the kernel answers only 'Address already in use'."""
        on_base: dict[tuple[NetnsName, str], list[tuple[str, str | None]]] = {}
        for netns, name, base, base_ns, _spec in self._macvlans():
            on_base.setdefault((base_ns, base), []).append((name, self._mac_after(name, netns)))
        for netns, name, base, base_ns, spec in self._macvlans():
            section = (spec.mac_vlan or spec.mac_vtap) if spec is not None else None  # one layout in the kernel
            if spec is None or spec.mac_address is None or section is None:
                continue
            current = self.s.host.find(name, netns)
            if current is not None and current.mac == spec.mac_address:
                continue  # the kernel accepted it once: not this file's doing
            passthru = section.mode is MacvlanMode.PASSTHRU  # takes its base's MAC by design
            owner = base if not passthru and self._mac_after(base, base_ns) == spec.mac_address else None
            owner = owner or next(
                (other for other, mac in on_base[(base_ns, base)] if other != name and mac == spec.mac_address), None
            )
            if owner is not None:
                holder = f"its base-iface {base}" if owner == base else f"{owner}, on the same base-iface {base},"
                self.s.add(
                    spec, "mac-address", spec.mac_address,
                    f"a MAC of its own: {holder} has it; pick another, or leave mac-address out for a random one",
                )  # fmt: skip

    def _mac_after(self, name: str, netns: NetnsName) -> str | None:
        spec = self.s.declared(name, netns)
        if spec is not None and spec.mac_address is not None:
            return spec.mac_address
        link = self.s.host.find(name, netns)
        return link.mac if link is not None else None

    def _macvlans(self) -> Iterator[tuple[NetnsName, str, str, NetnsName, InterfaceSpec | None]]:
        """(netns, name, base, base's netns, spec): the declared mac-vlans, then the existing ones
        the file leaves alone (those whose base is in their own namespace)."""
        for spec in self.s.decl.interfaces:
            section = spec.mac_vlan or spec.mac_vtap  # a mac-vtap is a mac-vlan with a tap device
            if section is not None and not spec.absent:
                yield self.s.netns(spec), spec.name, section.base_iface, self.s.base_ns(spec), spec
        for link in self.s.host:
            if link.kind in ("macvlan", "macvtap") and self.s.declared(link.name, link.netns) is None:
                base = self.s.host.ns(link.netns).name_of(kind_of(link).lower_ifindex(link))
                if base is not None:
                    yield link.netns, link.name, base, link.netns, None

    def _controller_after(self, name: str, netns: NetnsName) -> str | None:
        """The bridge or bond `name` is a port of once the declaration is applied."""
        if self._port_owner is None:
            self._port_owner = {}
            for spec in self.s.decl.interfaces:
                if not spec.absent:
                    for port in spec.port_names or ():
                        self._port_owner[(self.s.netns(spec), port)] = spec.name
        owner = self._port_owner.get((netns, name))
        link = self.s.host.find(name, netns)
        if owner is not None or link is None or link.slave_kind not in _RX_HANDLER_CONTROLLERS:
            return owner
        master = self.s.host.ns(netns).name_of(link.master_ifindex)
        declared = self.s.declared(master, netns) if master else None
        # A controller declared with its port list releases the ports it does not name.
        return None if declared is not None and declared.port_names is not None else master

    def _port_type(self, name: str, netns: NetnsName) -> InterfaceType | None:
        spec = self.s.declared(name, netns)
        if spec is not None and spec.type is not None:
            return spec.type
        link = self.s.host.find(name, netns)
        return kind_of(link).type if link else None

    def _vxlan_clashes(self) -> None:
        seen: dict[tuple[NetnsName, int, int], str] = {}
        for netns, name, vni, port in self._vxlans():
            key = (netns, vni, port or LINUX_DEFAULT_PORT)
            if key in seen and seen[key] != name:
                first, other = seen[key], name
                spec = self.s.declared(first, netns)
                if spec is None:  # blame the declared one, name the existing one
                    first, other = other, first
                    spec = self.s.declared(first, netns)
                self.s.add(
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
        for spec in self.s.decl.interfaces:
            if spec.vxlan is not None and not spec.absent:
                declared.add((self.s.netns(spec), spec.name))
                yield self.s.netns(spec), spec.name, spec.vxlan.id, spec.vxlan.destination_port
        for link in self.s.host:
            info = link.info
            if isinstance(info, VxlanInfo) and info.vni is not None and (link.netns, link.name) not in declared:
                if self.s.declared(link.name, link.netns) is None:
                    yield link.netns, link.name, info.vni, info.port


# Controllers that take a port's receive hook, as a mac-vlan does (a VRF does not).
_RX_HANDLER_CONTROLLERS = frozenset({"bridge", "bond", "team", "openvswitch"})

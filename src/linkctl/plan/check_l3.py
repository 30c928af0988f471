"""Validation of layer 3 before the first change: every problem of the file's addresses, routes and
rules at once, each naming the field, the value and the fix, where the kernel would refuse half-way.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict

from linkctl.errors import NOT_GIVEN, Problem, ValidationFailed
from linkctl.model.l3 import IpSection, RouteEntry
from linkctl.model.spec import Declaration, InterfaceSpec
from linkctl.model.state import HostState, NetnsName
from linkctl.plan.l3_model import link_netns, route_netns, wanted_addresses
from linkctl.plan.ops import CreateLink, DeleteLink, MoveLink, Op, Plan, RenameLink, SetLink

Key = tuple[NetnsName, str]


def remakes_links(ops: list[Op], host: HostState) -> bool:
    """The plan deletes (a rollback makes it again), moves or takes down a link that exists, or gives it an
    MTU too small for IPv6: its layer 3 must be read, to be carried over, put back and checked. A rollback
    had re-made a deleted link without its addresses and routes, and brought up a link (or its MTU) without
    what the kernel had flushed (the routes through a link that goes down, its IPv6 addresses, and all of
    IPv6 on it below 1280 bytes), and said it was as before."""
    return any(isinstance(op, (MoveLink, DeleteLink)) or (isinstance(op, SetLink) and _sheds(op)) for op in ops)


def _sheds(op: SetLink) -> bool:
    return op.props.up is False or (op.props.mtu is not None and op.props.mtu < IPV6_MIN_MTU)


IPV6_MIN_MTU = 1280  # below it the kernel takes IPv6 off the link: its addresses and routes go


def up_after(ops: list[Op], host: HostState) -> dict[Key, bool]:
    """Each link's admin state once the plan is carried out (links gone are left out)."""
    state = {(lk.netns, lk.name): lk.admin_up for lk in host}
    for op in ops:
        key = (op.netns, op.name)
        if isinstance(op, CreateLink):
            state[key] = bool(op.props.up)
            if op.peer is not None:
                state[(op.peer.netns, op.peer.name)] = bool(op.peer.props.up)
        elif isinstance(op, DeleteLink):
            state.pop(key, None)
        elif isinstance(op, MoveLink):
            state.pop(key, None)
            state[(op.to_netns, op.name)] = False
        elif isinstance(op, RenameLink):
            was = state.pop((op.netns, op.old_name), False)
            state[key] = op.up_after or (was and not op.was_up)
        elif isinstance(op, SetLink) and op.props.up is not None:
            state[key] = op.props.up
    return state


def check_layer3(decl: Declaration, host: HostState, plan: Plan, source: str, default: NetnsName) -> None:
    problems = _Checker(decl, host, plan, source, default).run()
    if problems:
        raise ValidationFailed(problems)


class _Checker:
    def __init__(self, decl: Declaration, host: HostState, plan: Plan, source: str, default: NetnsName) -> None:
        self.decl, self.host, self.source, self.default = decl, host, source, default
        self.up = up_after(plan.ops, host)
        self.problems: list[Problem] = []
        self.nets: dict[Key, list[ipaddress.IPv4Interface | ipaddress.IPv6Interface]] = self._networks_after()

    def run(self) -> list[Problem]:
        for spec in self.decl.interfaces:
            for version in (4, 6):
                section = getattr(spec, f"ipv{version}")
                if section is not None:
                    self._section(spec, version, section)
        self._duplicates()
        entries = self.decl.routes.config if self.decl.routes and self.decl.routes.config else []
        for i, entry in enumerate(entries):
            if not entry.absent:
                self._route(i, entry)
        rules = self.decl.route_rules.config if self.decl.route_rules and self.decl.route_rules.config else []
        for i, rule in enumerate(rules):
            if not rule.absent and rule.version is None:
                self._say(f"route-rules.config[{i}]", "family", NOT_GIVEN, "give `family: ipv4|ipv6`, or ip-from/ip-to")
        return self.problems

    def _say(self, where: str, field: str, value: object, fix: str) -> None:
        self.problems.append(Problem(f"{self.source}: {where}", field, value, fix))

    def _section(self, spec: InterfaceSpec, version: int, section: IpSection) -> None:
        where = f"interface {spec.name}"
        key = f"ipv{version}"
        if section.dhcp:
            self._say(where, f"{key}.dhcp", True, _CLIENT.format(what="a DHCP client", key=key))
        if section.autoconf:
            self._say(where, f"{key}.autoconf", True, _CLIENT.format(what="IPv6 autoconfiguration (SLAAC)", key=key))
        if version == 4 and section.autoconf is not None:
            self._say(where, "ipv4.autoconf", section.autoconf, "autoconf is IPv6's: move it to the ipv6 section")
        for entry in section.addresses():
            if entry.version != version:
                self._say(
                    where,
                    f"{key}.address",
                    entry.cidr,
                    f"an IPv{version} address here; IPv{entry.version} goes under ipv{entry.version}",
                )
            elif section.enabled is False:
                self._say(
                    where,
                    f"{key}.enabled",
                    False,
                    f"addresses listed on a link with {key} disabled: drop them or enable it",
                )

    def _duplicates(self) -> None:
        seen: dict[tuple[NetnsName, str], str] = {}
        for spec in self.decl.interfaces:
            ns = link_netns(spec, self.default)
            for version in (4, 6):
                for cidr in wanted_addresses(getattr(spec, f"ipv{version}"), version) or []:
                    ip = cidr.split("/")[0]
                    other = seen.setdefault((ns, ip), spec.name)
                    if other != spec.name:
                        self._say(
                            f"interface {spec.name}",
                            f"ipv{version}.address",
                            cidr,
                            f"{ip} is declared on {other} too: one link per address",
                        )

    def _networks_after(self) -> dict[Key, list[ipaddress.IPv4Interface | ipaddress.IPv6Interface]]:
        """The addresses each link has once the plan is carried out (declared sets replace the kernel's)."""
        nets: dict[Key, list[ipaddress.IPv4Interface | ipaddress.IPv6Interface]] = defaultdict(list)
        declared: dict[Key, InterfaceSpec] = {(link_netns(s, self.default), s.name): s for s in self.decl.interfaces}
        for ns_name, ns in self.host.namespaces.items():
            if ns.l3 is None:
                continue
            for addr in ns.l3.addresses:
                name = ns.name_of(addr.ifindex)
                if name is not None:
                    nets[(ns_name, name)].append(ipaddress.ip_interface(addr.cidr))
        for key, spec in declared.items():
            for version in (4, 6):
                want = wanted_addresses(getattr(spec, f"ipv{version}"), version)
                if want is not None:
                    kept = [n for n in nets.get(key, []) if n.version != version]
                    nets[key] = kept + [ipaddress.ip_interface(c) for c in want]
        return nets

    def _route(self, i: int, entry: RouteEntry) -> None:
        where = f"routes.config[{i}]"
        if entry.destination is None:
            self._say(
                where, "destination", NOT_GIVEN, "every route names its destination (0.0.0.0/0 for a default route)"
            )
            return
        version = ipaddress.ip_network(entry.destination).version
        for field, value in (("next-hop-address", entry.next_hop_address), ("source", entry.source)):
            if value and ipaddress.ip_address(value).version != version:
                self._say(where, field, value, f"an IPv{version} address, as the destination {entry.destination} is")
                return
        if entry.route_type is not None:
            if entry.next_hop_interface or entry.next_hop_address:
                self._say(
                    where,
                    "route-type",
                    entry.route_type.value,
                    "a blackhole, prohibit or unreachable route has no next hop: drop next-hop-*",
                )
            return
        if not entry.next_hop_interface:
            self._say(where, "next-hop-interface", NOT_GIVEN, "name the link the route leaves by (nmstate requires it)")
            return
        ns = route_netns(self.decl, entry, self.default)
        key = (ns, entry.next_hop_interface)
        if key not in self.up:
            where_ns = f" in netns {ns}" if ns else ""
            self._say(
                where,
                "next-hop-interface",
                entry.next_hop_interface,
                f"no such link{where_ns} once this file is applied: declare it, or fix the name",
            )
            return
        if entry.source and not self._local(key[0], entry.source):
            fix = f"{entry.source} is on no link of this namespace after this plan: the kernel refuses it as a route's "
            fix += 'source ("Invalid prefsrc address"); declare it on a link, or drop `source`'
            self._say(where, "source", entry.source, fix)
            return
        if not self.up[key]:
            self._say(
                where, "next-hop-interface", entry.next_hop_interface,
                f"{entry.next_hop_interface} is down after this plan and the kernel refuses a route through a link "
                f"that is down (\"Device for nexthop is not up\"): declare {entry.next_hop_interface} with state: up",
            )  # fmt: skip
            return
        self._gateway(where, entry, key)

    def _local(self, netns: NetnsName, ip: str) -> bool:
        addr = ipaddress.ip_address(ip)
        return any(n.ip == addr for (ns, _name), nets in self.nets.items() if ns == netns for n in nets)

    def _gateway(self, where: str, entry: RouteEntry, key: Key) -> None:
        gw = entry.next_hop_address
        if not gw:
            return
        addr = ipaddress.ip_address(gw)
        if addr.version == 6 and addr.is_link_local:
            return
        nets = self.nets.get(key, [])
        if any(addr in n.network for n in nets if n.version == addr.version):
            return
        have = ", ".join(str(n) for n in nets if n.version == addr.version) or "none"
        self._say(
            where, "next-hop-address", gw,
            f"{gw} is in none of {key[1]}'s subnets after this plan ({have}): the kernel refuses an unreachable "
            f"gateway (\"Nexthop has invalid gateway\"); add an address in its subnet to {key[1]}, or fix the gateway",
        )  # fmt: skip


_CLIENT = (
    "{what} is not run by linkctl: declare the static addresses with {key}.dhcp: false (and autoconf: false), "
    "or leave this link's {key} to the system's network manager (drop the {key} section)"
)

"""Layer 3 pass of the planner: the addresses, routes and rules that differ, after the link changes.

Like the link passes, a change is produced only where the kernel differs. Addresses listed on a
link are its whole set (IPv6 link-local ones excepted); routes and rules are added to what is
there, and removed only by `state: absent` entries (nmstate's rules). A link the plan makes again
gets back the addresses and routes it had, unless the file says otherwise; a link it deletes or
moves away takes its own with it. Order: rules and routes removed, addresses removed, IPv6 turned
on or off, addresses added, routes (device routes before those through a gateway), rules added.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace

from linkctl.model.l3 import RouteEntry, RouteRuleEntry
from linkctl.model.l3_state import L3State, Rule
from linkctl.model.spec import Declaration, InterfaceSpec
from linkctl.model.state import HostState, Link, NetnsName
from linkctl.plan.l3_model import (
    address_steps,
    link_netns,
    merge_hops,
    route_matches,
    route_netns,
    route_of_entry,
    route_of_kernel,
    rule_matches,
    rule_of_entry,
    same_rule,
    wanted_addresses,
)
from linkctl.plan.l3_ops import MAIN_TABLE, Hop, RouteSpec, SetAddress, SetIpv6, SetRoute, SetRule
from linkctl.plan.ops import CreateLink, DeleteLink, MoveLink, Op

Key = tuple[NetnsName, str]
RouteKey = tuple[int, str, int, int, int]


@dataclass
class LinkFate:
    """What the link ops do to each link: made (again, or moved in), or gone."""

    fresh: set[Key] = field(default_factory=set)
    gone: set[Key] = field(default_factory=set)

    @classmethod
    def of(cls, ops: list[Op]) -> LinkFate:
        fate = cls()
        for op in ops:
            if isinstance(op, CreateLink):
                fate.fresh.add((op.netns, op.name))
                if op.peer is not None:
                    fate.fresh.add((op.peer.netns, op.peer.name))
            elif isinstance(op, DeleteLink):
                fate.gone.add((op.netns, op.name))
            elif isinstance(op, MoveLink):
                fate.gone.add((op.netns, op.name))
                fate.fresh.add((op.to_netns, op.name))
        fate.gone -= fate.fresh
        return fate

    def empties(self, key: Key) -> bool:
        """Whatever layer 3 the link has now is gone once the link ops are done."""
        return key in self.fresh or key in self.gone


@dataclass
class Layer3Planner:
    decl: Declaration
    host: HostState
    default_netns: NetnsName
    fate: LinkFate
    out: dict[str, list[Op]] = field(default_factory=lambda: defaultdict(list))
    notes: list[str] = field(default_factory=list)

    def run(self) -> list[Op]:
        self._addresses()
        self._routes()
        self._rules()
        self._no_dad_for_sources()
        order = ("del rule", "del route", "del address", "ipv6", "add address", "add route", "add gw route", "add rule")
        return [op for part in order for op in self.out[part]]

    def _no_dad_for_sources(self) -> None:
        """An IPv6 address added for a route's source goes without DAD: tentative, it would be refused."""
        sources = {
            (op.netns, op.route.prefsrc)
            for part in ("add route", "add gw route")
            for op in self.out[part]
            if isinstance(op, SetRoute) and op.route.version == 6 and op.route.prefsrc
        }
        if not sources:
            return
        self.out["add address"] = [
            replace(op, nodad=True)
            if isinstance(op, SetAddress) and (op.netns, op.cidr.split("/")[0]) in sources
            else op
            for op in self.out["add address"]
        ]

    # --- helpers -------------------------------------------------------------------------

    def _l3(self, netns: NetnsName) -> L3State | None:
        state = self.host.namespaces.get(netns)
        return state.l3 if state is not None else None

    def _known(self, netns: NetnsName) -> bool:
        """Layer 3 of the namespace was read, or it is made by the plan (and has none yet)."""
        state = self.host.namespaces.get(netns)
        return state is None or state.l3 is not None

    def _link(self, key: Key) -> Link | None:
        return self.host.find(key[1], key[0])

    # --- addresses -----------------------------------------------------------------------

    def _addresses(self) -> None:
        declared = {}
        for spec in self.decl.interfaces:
            if spec.state is None or spec.state.value in ("up", "down"):
                declared[(link_netns(spec, self.default_netns), spec.name)] = spec
        restored = [key for key in self.fate.fresh if key not in declared and self._link(key) is not None]
        for key, spec in declared.items():
            if key not in self.fate.gone and self._known(key[0]):
                self._link_addresses(key, spec)
        for key in sorted(restored, key=str):
            if self._known(key[0]):
                self._link_addresses(key, None)

    def _link_addresses(self, key: Key, spec: InterfaceSpec | None) -> None:
        netns, name = key
        link, l3 = self._link(key), self._l3(netns)
        had = [a for a in l3.addresses if a.ifindex == link.ifindex] if link is not None and l3 is not None else []
        fresh = key in self.fate.fresh or link is None
        now = [] if fresh else had
        off_now = self._ipv6_off(key, fresh)
        for version in (4, 6):
            section = getattr(spec, f"ipv{version}") if spec is not None else None
            want = wanted_addresses(section, version)
            if want is None and fresh and link is not None and l3 is not None:
                want = [a.cidr for a in had if a.version == version and not a.link_local]  # made again: as it was
            if version == 6:
                off_want = self._ipv6_wanted(section, want)
                if off_want is not None and off_want != off_now:
                    self.out["ipv6"].append(SetIpv6(name, netns, enabled=not off_want))
                    now = [a for a in now if a.version != 6]
                if off_want or (off_want is None and off_now):
                    continue  # no IPv6 on the link: nothing to add or remove
            if want is None:
                continue
            keep_extra = bool(section is not None and section.allow_extra_address)
            gone, new = address_steps([a for a in now if a.version == version], want, keep_extra)
            self.out["del address"] += [SetAddress(name, netns, cidr=cidr, add=False) for cidr in gone]
            self.out["add address"] += [SetAddress(name, netns, cidr=cidr) for cidr in new]

    def _ipv6_off(self, key: Key, fresh: bool) -> bool:
        l3 = self._l3(key[0])
        if l3 is None:
            return False
        return l3.ipv6_off.get("default" if fresh else key[1], l3.ipv6_off.get("default", False))

    @staticmethod
    def _ipv6_wanted(section: object, want: list[str] | None) -> bool | None:
        """True: IPv6 off; False: on; None: as it is."""
        enabled = getattr(section, "enabled", None)
        if enabled is not None:
            return not enabled
        return False if want else None

    # --- routes --------------------------------------------------------------------------

    def _routes(self) -> None:
        entries = self.decl.routes.config if self.decl.routes and self.decl.routes.config else []
        desired: dict[NetnsName, dict[RouteKey, list[RouteSpec]]] = defaultdict(lambda: defaultdict(list))
        for entry in entries:
            if entry.state is None:
                spec = route_of_entry(entry)
                desired[self.route_netns(entry)][spec.key].append(spec)
        absent = [(self.route_netns(e), e) for e in entries if e.absent]
        spaces = set(desired) | {ns for ns, _ in absent} | {k[0] for k in self.fate.fresh}
        spaces |= {op.netns for op in self.out["del address"]}  # a link's last IPv4 address takes its routes
        for netns in sorted(spaces, key=str):
            if not self._known(netns):
                continue
            want = {key: merge_hops(specs) for key, specs in desired.get(netns, {}).items()}
            self._routes_in(netns, want, [e for ns, e in absent if ns == netns])

    def route_netns(self, entry: RouteEntry) -> NetnsName:
        return route_netns(self.decl, entry, self.default_netns)

    def _routes_in(self, netns: NetnsName, want: dict[RouteKey, RouteSpec], absent: list[RouteEntry]) -> None:
        l3, state = self._l3(netns), self.host.namespaces.get(netns)
        now: dict[RouteKey, RouteSpec] = {}
        if l3 is not None and state is not None:
            stripped = self._stripped(netns)
            sources, readded = self._removed_sources(netns)
            for route in l3.routes:
                spec = route_of_kernel(route, state)
                matched = any(route_matches(e, spec) for e in absent)
                if spec.version == 4 and spec.table == MAIN_TABLE and spec.prefsrc in sources:
                    # fib_sync_down_addr: gone with its source address (main table only: measured, a table 7
                    # route stays), even one the plan adds again (removals go first): then put back after
                    # it; else named (the kernel refuses a source the host lacks).
                    if spec.key not in want and not matched:
                        if spec.prefsrc in readded:
                            want[spec.key] = spec
                        else:
                            self._say_dropped(netns, spec)
                    continue
                lost = self._lost_hops(netns, spec, stripped if spec.key in want or not matched else set())
                # Gone with its link (IPv6: only its next hops through it); made again with the link.
                if (left := _hops_left(spec, lost)) is not None:
                    now[spec.key] = left
                back = _hops_left(spec, {h for h in lost if (netns, h.dev) in self.fate.gone})
                if back is not None and back != left and spec.key not in want and not matched:
                    want[spec.key] = back
        for key, spec in now.items():
            if key not in want and any(route_matches(e, spec) for e in absent):
                self.out["del route"].append(SetRoute(spec.dst, netns, route=spec, add=False))
        for key, spec in want.items():
            have = now.get(key)
            if have == spec:
                continue
            part = "add gw route" if any(h.gateway for h in spec.hops) else "add route"
            self.out[part].append(SetRoute(spec.dst, netns, route=spec, replace=have is not None))

    def _lost_hops(self, netns: NetnsName, spec: RouteSpec, stripped: set[str]) -> set[Hop]:
        """The next hops of a route that the link ops (and a link's last IPv4 address going) take away."""
        lost = {h for h in spec.hops if h.dev and self.fate.empties((netns, h.dev))}
        if spec.version == 4 and len(spec.hops) == 1 and spec.hops[0].dev in stripped:
            lost.add(spec.hops[0])  # (a multipath route keeps the hop, dead until the link has an address)
        return lost

    def _say_dropped(self, netns: NetnsName, spec: RouteSpec) -> None:
        where = "" if netns is None else f" (netns {netns})"
        self.notes.append(
            f"route {spec.text()}{where} goes with its source address {spec.prefsrc}, which this plan removes: "
            "the kernel deletes it; declare it under `routes:` with another source to keep it"
        )

    def _stripped(self, netns: NetnsName) -> set[str]:
        """Links the plan takes every IPv4 address from, if only until it adds the new ones (removals go
        first): the kernel flushes the IPv4 routes through a link whose last address goes, in every table."""
        l3 = self._l3(netns)
        removed: dict[str, set[str]] = defaultdict(set)
        for op in self.out["del address"]:
            if isinstance(op, SetAddress) and op.netns == netns and ":" not in op.cidr:
                removed[op.name].add(op.cidr)
        out = set()
        for name, cidrs in removed.items():
            link = self._link((netns, name))
            if link is not None and l3 is not None:
                if {a.cidr for a in l3.addresses if a.ifindex == link.ifindex and a.version == 4} <= cidrs:
                    out.add(name)
        return out

    def _removed_sources(self, netns: NetnsName) -> tuple[set[str], set[str]]:
        """IPv4 addresses that leave every link of the namespace, if only until the plan adds them again
        (removals go first), and those of them it adds again. One kept on a link stays local: the kernel
        keeps the routes using it."""
        ops = [op for op in self.out["del address"] + self.out["add address"] if isinstance(op, SetAddress)]
        ops = [op for op in ops if op.netns == netns and ":" not in op.cidr]
        gone = {(op.name, op.cidr) for op in ops if not op.add}
        l3, state = self._l3(netns), self.host.namespaces.get(netns)
        have = [(state.name_of(a.ifindex), a.cidr) for a in l3.addresses] if l3 and state else []
        kept = {cidr.split("/")[0] for name, cidr in have if (name, cidr) not in gone}
        removed = {cidr.split("/")[0] for _name, cidr in gone} - kept
        return removed, removed & {op.cidr.split("/")[0] for op in ops if op.add}

    # --- rules ---------------------------------------------------------------------------

    def _rules(self) -> None:
        entries = self.decl.route_rules.config if self.decl.route_rules and self.decl.route_rules.config else []
        by_ns: dict[NetnsName, list[tuple[bool, Rule, RouteRuleEntry]]] = defaultdict(list)
        for entry in entries:
            netns = entry.netns if entry.netns is not None else self.default_netns
            by_ns[netns].append((entry.absent, rule_of_entry(entry), entry))
        for netns, items in sorted(by_ns.items(), key=lambda kv: str(kv[0])):
            if not self._known(netns):
                continue
            l3 = self._l3(netns)
            have = list(l3.rules) if l3 is not None else []
            present = [rule for absent, rule, _ in items if not absent]
            for absent, _rule, entry in items:
                if not absent:
                    continue
                for rule in list(have):
                    if rule_matches(entry, rule) and not any(same_rule(p, rule) for p in present):
                        self.out["del rule"].append(SetRule(str(rule.priority), netns, rule=rule, add=False))
                        have.remove(rule)
            for rule in present:
                if not any(same_rule(rule, h) for h in have):
                    self.out["add rule"].append(SetRule(str(rule.priority), netns, rule=rule))
                    have.append(rule)


def _hops_left(spec: RouteSpec, lost: set[Hop]) -> RouteSpec | None:
    """The route once the next hops `lost` are gone: an IPv4 route goes whole with any of them (the
    kernel deletes it with any of its links), an IPv6 one keeps the others (each is a route of its own)."""
    if not lost:
        return spec
    hops = [h for h in spec.hops if h not in lost]
    if spec.version == 4 or not hops:
        return None
    if len(hops) == 1:  # one left: a plain route, without a weight
        hops = [Hop(hops[0].dev, hops[0].gateway, None)]
    return replace(spec, hops=tuple(hops))


def plan_layer3(
    decl: Declaration,
    host: HostState,
    default_netns: NetnsName,
    ops: list[Op],
    gone: set[Key] | None = None,
    notes: list[str] | None = None,
) -> list[Op]:
    """The layer 3 ops that follow the link ops `ops`; `gone`: links deleted with another (a veth's
    peer, the links stacked on a deleted base), which have no op of their own. What the kernel will
    do besides (routes it deletes with an address) is added to `notes`."""
    fate = LinkFate.of(ops)
    fate.gone |= (gone or set()) - fate.fresh
    planner = Layer3Planner(decl, host, default_netns, fate)
    out = planner.run()
    if notes is not None:
        notes += planner.notes
    return out

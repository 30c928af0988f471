"""Layer 3 of the declaration and of the kernel in one vocabulary: RouteSpec and Rule, keyed alike.

The declaration's entries and the kernel's routes both become RouteSpec here, so that the
planner compares like with like, and `show` turns the kernel's back into entries.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from linkctl.model.l3 import IpSection, RouteEntry, RouteRuleEntry
from linkctl.model.l3_state import FR_ACT_TO_TBL, RTN_UNICAST, RULE_ACTION_OF, TYPE_OF, Address, Route, Rule
from linkctl.model.spec import Declaration, InterfaceSpec
from linkctl.model.state import NetnsName, NetnsState
from linkctl.plan.l3_ops import MAIN_TABLE, Hop, RouteSpec

ALL_MARK = 0xFFFFFFFF  # the mask the kernel gives a fwmark written without one
_METRIC_KEYS = ("cwnd", "initcwnd", "initrwnd", "mtu", "advmss")


def has_l3(decl: Declaration) -> bool:
    return bool(decl.routes or decl.route_rules) or any(s.ipv4 or s.ipv6 for s in decl.interfaces)


def kernel_metric(version: int, metric: int | None) -> int:
    """The metric the kernel files a route under: IPv6 takes 1024 for none and for 0 (IP6_RT_PRIO_USER)."""
    if metric in (None, -1):
        return 1024 if version == 6 else 0
    assert metric is not None
    return 1024 if version == 6 and metric == 0 else metric


def entry_metrics(entry: RouteEntry) -> tuple[tuple[str, int], ...]:
    """RTA_METRICS of an entry; zeros left out, as the kernel leaves them out of its dumps."""
    out = [(key, int(getattr(entry, key))) for key in _METRIC_KEYS if getattr(entry, key)]
    if entry.quickack:
        out.append(("quickack", 1))
    if entry.lock_mtu:
        out.append(("lock-mtu", 1))
    return tuple(sorted(out))


def route_of_entry(entry: RouteEntry) -> RouteSpec:
    version = entry.version or 4
    rtype = TYPE_OF[entry.route_type.value] if entry.route_type is not None else RTN_UNICAST
    hops: tuple[Hop, ...] = ()
    if rtype == RTN_UNICAST and (entry.next_hop_interface or entry.next_hop_address):
        hops = (Hop(entry.next_hop_interface, entry.next_hop_address or None, entry.weight),)
    return RouteSpec(
        version=version,
        dst=entry.destination or ("0.0.0.0/0" if version == 4 else "::/0"),
        table=entry.table,
        metric=kernel_metric(version, entry.metric),
        type=rtype,
        hops=hops,
        prefsrc=entry.source,
        metrics=entry_metrics(entry),
    )


def merge_hops(routes: Iterable[RouteSpec]) -> RouteSpec:
    """Entries with one key are one route with several next hops (ECMP), each weighted (1 by default)."""
    routes = list(routes)
    first = routes[0]
    hops = sorted({hop for r in routes for hop in r.hops}, key=hop_order)
    if len(hops) > 1:
        hops = [Hop(h.dev, h.gateway, h.weight or 1) for h in hops]
    elif hops:
        hops = [Hop(hops[0].dev, hops[0].gateway, None)]
    return RouteSpec(
        first.version, first.dst, first.table, first.metric, first.type, tuple(hops), first.prefsrc, first.metrics
    )


def hop_order(hop: Hop) -> tuple[str, str, int]:
    """Next hops in one order whatever they leave out (a hop without a gateway beside one with)."""
    return (hop.dev or "", hop.gateway or "", hop.weight or 0)


def route_of_kernel(route: Route, ns: NetnsState) -> RouteSpec:
    hops: tuple[Hop, ...] = ()
    if route.type == RTN_UNICAST:
        many = len(route.nexthops) > 1
        hops = tuple(
            sorted(
                (Hop(ns.name_of(h.oif), h.gateway, (h.weight or 1) if many else None) for h in route.nexthops),
                key=hop_order,
            )
        )
    metrics = tuple(sorted((k, v) for k, v in route.metrics if v))
    return RouteSpec(
        route.version, route.dst, route.table, route.metric, route.type, hops, route.prefsrc, metrics, route.tos
    )


def route_matches(entry: RouteEntry, route: RouteSpec) -> bool:
    """An absent entry as nmstate reads it: every field it gives must match, the rest is a wildcard."""
    if entry.destination and entry.destination != route.dst:
        return False
    if entry.next_hop_interface and all(h.dev != entry.next_hop_interface for h in route.hops):
        return False
    if entry.next_hop_address == "" and any(h.gateway for h in route.hops):
        return False
    if entry.next_hop_address and all(h.gateway != entry.next_hop_address for h in route.hops):
        return False
    if entry.table_id not in (None, 0) and entry.table_id != route.table:
        return False
    if entry.metric not in (None, -1) and kernel_metric(route.version, entry.metric) != route.metric:
        return False
    if entry.weight is not None and all(h.weight != entry.weight for h in route.hops):
        return False
    if entry.route_type is not None and TYPE_OF[entry.route_type.value] != route.type:
        return False
    if entry.source and entry.source != route.prefsrc:
        return False
    have = dict(route.metrics)
    return all(have.get(k) == v for k, v in entry_metrics(entry))


def any_as_none(prefix: str | None) -> str | None:
    """0.0.0.0/0 and ::/0 as a rule selector are "all", which the kernel stores as no selector."""
    return None if prefix is None or prefix.endswith("/0") else prefix


def rule_of_entry(entry: RouteRuleEntry) -> Rule:
    action = RULE_ACTION_OF[entry.action.value] if entry.action is not None else FR_ACT_TO_TBL
    table = (entry.route_table or MAIN_TABLE) if action == FR_ACT_TO_TBL else 0
    fwmask = entry.fwmask if entry.fwmask is not None else (ALL_MARK if entry.fwmark is not None else None)
    return Rule(
        version=entry.version or 4,
        priority=entry.priority if entry.priority is not None else -1,  # -1: the kernel picks one
        table=table,
        action=action,
        src=any_as_none(entry.ip_from),  # the kernel keeps no prefix of length 0: "from all"
        dst=any_as_none(entry.ip_to),
        fwmark=entry.fwmark,
        fwmask=fwmask,
        iif=entry.iif,
        oif=entry.oif,
        suppress_prefixlen=entry.suppress_prefix_length,
    )


def same_rule(want: Rule, have: Rule) -> bool:
    """Equal but for the protocol, and for the priority where the file leaves it to the kernel."""
    if want.priority >= 0 and want.priority != have.priority:
        return False
    fields = ("version", "table", "action", "src", "dst", "fwmark", "fwmask", "iif", "oif", "suppress_prefixlen")
    return all(getattr(want, f) == getattr(have, f) for f in fields)


def rule_matches(entry: RouteRuleEntry, rule: Rule) -> bool:
    """An absent rule entry: the fields it gives match, the rest is a wildcard."""
    checks: list[tuple[object, object]] = [
        (any_as_none(entry.ip_from), rule.src), (any_as_none(entry.ip_to), rule.dst), (entry.priority, rule.priority),
        (entry.fwmark, rule.fwmark), (entry.fwmask, rule.fwmask), (entry.iif, rule.iif), (entry.oif, rule.oif),
        (entry.suppress_prefix_length, rule.suppress_prefixlen),
    ]  # fmt: skip
    if entry.route_table is not None:
        checks.append((entry.route_table, rule.table))
    if entry.action is not None:
        checks.append((RULE_ACTION_OF[entry.action.value], rule.action))
    if entry.version is not None:
        checks.append((entry.version, rule.version))
    return all(want is None or want == have for want, have in checks)


def link_netns(spec: InterfaceSpec, default: NetnsName) -> NetnsName:
    return spec.netns if spec.netns is not None else default


def route_netns(decl: Declaration, entry: RouteEntry, default: NetnsName) -> NetnsName:
    """Where a route lives: its `netns`, else its next-hop interface's (as the file places it), else the default."""
    if entry.netns is not None:
        return entry.netns
    if entry.next_hop_interface:
        for spec in decl.interfaces:
            if spec.name == entry.next_hop_interface and not spec.absent:
                return link_netns(spec, default)
    return default


def wanted_addresses(section: IpSection | None, version: int) -> list[str] | None:
    """The whole set of addresses a section asks for ("a/len"); None where it leaves them alone."""
    if section is None or section.dhcp or section.autoconf:
        return None
    if section.enabled is False:
        return []
    if section.address is None:
        # nmstate's partial editing: `enabled: true` without `address` leaves the addresses as they are.
        return None
    return [a.cidr for a in section.addresses() if a.version == version]


def l3_namespaces(decl: Declaration) -> list[NetnsName]:
    """Namespaces named only by routes and rules (linkctl's `netns` key on them)."""
    entries: list[RouteEntry | RouteRuleEntry] = []
    if decl.routes and decl.routes.config:
        entries += decl.routes.config
    if decl.route_rules and decl.route_rules.config:
        entries += decl.route_rules.config
    return [e.netns for e in entries if e.netns is not None]


def address_steps(now: list[Address], want: list[str], keep_extra: bool) -> tuple[list[str], list[str]]:
    """The addresses to remove, in the order to remove them, and those to add, in the file's order.

    IPv4 keeps one primary address per subnet on a link and deletes its secondaries with it: these
    are removed first, and a secondary the file keeps while its primary goes is removed and added
    again after (the kernel would drop it, or, with promote_secondaries, make it the primary: either
    way the result is the file's, and its first address in the subnet is the primary)."""
    wanted = set(want)
    have = [a for a in now if not a.link_local or a.cidr in wanted]
    gone = [] if keep_extra else [a for a in have if a.cidr not in wanted]
    for primary in [a for a in gone if a.version == 4 and not a.secondary]:
        net = ipaddress.ip_interface(primary.cidr).network
        gone += [
            a for a in have
            if a.version == 4 and a.secondary and a not in gone and ipaddress.ip_interface(a.cidr) in net
        ]  # fmt: skip
    order = sorted(gone, key=lambda a: not a.secondary)  # secondaries first
    left = {a.cidr for a in have} - {a.cidr for a in gone}
    return [a.cidr for a in order], [c for c in dict.fromkeys(want) if c not in left]

"""Layer 3 of the kernel -> the declaration's sections: what `show -f yaml` prints and rollback re-applies.

Planning the result against the same state yields no change (tests/plan/test_l3_plan.py).
"""

from __future__ import annotations

from linkctl.model.l3 import IpAddressEntry, IpSection, RouteEntry, RouteRuleEntry, RouteType, RuleAction, RuleFamily
from linkctl.model.l3_state import FR_ACT_TO_TBL, ROUTE_TYPES, RTN_UNICAST, RULE_ACTIONS, Rule
from linkctl.model.state import Link, NetnsName, NetnsState
from linkctl.plan.l3_model import ALL_MARK, route_of_kernel
from linkctl.plan.l3_ops import RouteSpec


def ip_sections(link: Link, ns: NetnsState) -> dict[str, IpSection]:
    """`ipv4` and `ipv6` of a link as the kernel has them (nothing when layer 3 was not read)."""
    l3 = ns.l3
    if l3 is None:
        return {}
    mine = l3.addresses_of(link.ifindex)
    v4 = [IpAddressEntry(ip=a.ip, prefix_length=a.prefixlen) for a in mine if a.version == 4]
    v6 = [IpAddressEntry(ip=a.ip, prefix_length=a.prefixlen) for a in mine if a.version == 6]
    out = {"ipv4": IpSection(enabled=True, dhcp=False, address=v4) if v4 else IpSection(enabled=False)}
    off = l3.ipv6_off.get(link.name)
    if off:
        out["ipv6"] = IpSection(enabled=False)
    else:
        # enabled only where it was read: a link whose sysctl nobody asked about is left as it is
        out["ipv6"] = IpSection(enabled=True if off is False else None, dhcp=False, autoconf=False, address=v6)
    return out


def route_entries(spec: RouteSpec, netns: NetnsName) -> list[RouteEntry]:
    """One entry per next hop, as nmstate writes an ECMP route."""
    common: dict[str, object] = {
        "destination": spec.dst, "metric": spec.metric, "table_id": spec.table, "netns": netns,
        "source": spec.prefsrc,
    }  # fmt: skip
    metrics = dict(spec.metrics)
    for key in ("cwnd", "initcwnd", "initrwnd", "mtu", "advmss"):
        if key in metrics:
            common[key] = metrics[key]
    if "quickack" in metrics:
        common["quickack"] = True
    if "lock-mtu" in metrics:
        common["lock_mtu"] = True
    if spec.type != RTN_UNICAST:
        return [RouteEntry(route_type=RouteType(ROUTE_TYPES[spec.type]), **common)]
    return [
        RouteEntry(next_hop_interface=h.dev, next_hop_address=h.gateway, weight=h.weight, **common) for h in spec.hops
    ] or [RouteEntry(**common)]


def routes_of(ns: NetnsState) -> list[RouteEntry]:
    if ns.l3 is None:
        return []
    return [e for r in ns.l3.routes for e in route_entries(route_of_kernel(r, ns), ns.netns)]


def rule_entry(rule: Rule, netns: NetnsName) -> RouteRuleEntry:
    return RouteRuleEntry(
        family=RuleFamily.IPV6 if rule.version == 6 else RuleFamily.IPV4,
        priority=rule.priority if rule.priority >= 0 else None,
        ip_from=rule.src,
        ip_to=rule.dst,
        route_table=rule.table if rule.action == FR_ACT_TO_TBL else None,
        action=RuleAction(RULE_ACTIONS[rule.action]) if rule.action in RULE_ACTIONS else None,
        fwmark=rule.fwmark,
        fwmask=rule.fwmask if rule.fwmask != ALL_MARK else None,
        iif=rule.iif,
        oif=rule.oif,
        suppress_prefix_length=rule.suppress_prefixlen,
        netns=netns,
    )


def rules_of(ns: NetnsState) -> list[RouteRuleEntry]:
    return [rule_entry(r, ns.netns) for r in ns.l3.rules] if ns.l3 is not None else []

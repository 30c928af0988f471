"""Checks of layer 3: a default route out of a link that cannot carry it, an address held twice."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from linkctl.diagnose.audit.context import AuditContext, flag_names
from linkctl.diagnose.carrier import carrier_cause
from linkctl.diagnose.findings import Finding, Severity, ip
from linkctl.domain.fix import FileValue, Fix, Fragment
from linkctl.model.l3_state import Address, NextHop, Route
from linkctl.model.state import Link, NetnsName, NetnsState

MAIN_TABLE = 254
Holder = tuple[Link, Address]  # one of the links that hold the same address, and its address there
PROTOCOLS = {2: "kernel", 3: "boot", 4: "static", 9: "ra", 16: "dhcp"}  # the ones `ip route` names most


def default_route_link_down(ctx: AuditContext) -> Iterator[Finding]:
    for netns, state in ctx.host.namespaces.items():
        l3 = ctx.layer3(netns)
        for route in l3.defaults if l3 is not None else ():
            for hop in route.nexthops:
                link = state.by_index(hop.oif)
                if link is not None and (not link.admin_up or link.no_carrier):
                    yield _route_finding(ctx, route, hop, link)


def _route_finding(ctx: AuditContext, route: Route, hop: NextHop, link: Link) -> Finding:
    spelled = _spell(route, hop, link.name)
    state = "is down" if not link.admin_up else "has no carrier"
    live = [h for h in route.nexthops if h is not hop and _carries(ctx.host.ns(link.netns), h)]
    evidence: dict[str, object] = {
        "route": " ".join(spelled),
        "protocol": PROTOCOLS.get(route.protocol, str(route.protocol)),
        "flags": flag_names(link),
        "operstate": link.operstate.label,
        "admin_up": link.admin_up,
        "carrier": not link.no_carrier if link.admin_up else None,
    }
    if len(route.nexthops) > 1:
        evidence["other_next_hops_up"] = len(live)
    return Finding(
        "default-route-link-down",
        Severity.WARNING if live else Severity.PROBLEM,
        link.name,
        link.netns,
        f"the default route `{' '.join(spelled)}` goes out of {link.name}, which {state}",
        "everything without a more specific route is sent to a link that cannot carry it"
        + (": the flows hashed to this next hop are lost" if live else ", and lost"),
        evidence,
        _route_fix(ctx, route, spelled, link),
    )


def _carries(state: NetnsState, hop: NextHop) -> bool:
    other = state.by_index(hop.oif)
    return other is not None and other.admin_up and not other.no_carrier


def _spell(route: Route, hop: NextHop, dev: str) -> tuple[str, ...]:
    """The route as `ip route` prints it and takes it back (`del` matches it by these)."""
    via = ("via", hop.gateway) if hop.gateway else ()
    table = "main" if route.table == MAIN_TABLE else str(route.table)
    return ("default", *via, "dev", dev, "table", table, "metric", str(route.metric))


def _route_fix(ctx: AuditContext, route: Route, spelled: tuple[str, ...], link: Link) -> Fix:
    """Bring the link (or what its carrier waits for) up; or, if it is not meant to carry it, take the route away."""
    family = ("-6",) if route.version == 6 else ()
    drop = " ".join(ip(link.netns, *family, "route", "del", *spelled))
    alternative = f"or, if {link.name} is not meant to carry it, remove the route (`{drop}`)"
    if route.protocol not in (3, 4):  # not boot or static: a client keeps it
        alternative += (
            f" where it comes from ({PROTOCOLS.get(route.protocol, route.protocol)}), which would add it again"
        )
    if not link.admin_up:
        up = ip(link.netns, "link", "set", "dev", link.name, "up")
        return Fix(Fragment.interface(link.name, link.netns, state="up"), (up,), alternative)
    cause = carrier_cause(ctx.host, link)
    note = "; ".join(n for n in (cause.fix.note, alternative) if n)
    return Fix(cause.fix.declaration, cause.fix.commands, note)


def duplicate_address(ctx: AuditContext) -> Iterator[Finding]:
    """The same address on two links of one namespace (VRFs apart: each is its own routing domain)."""
    for netns, state in ctx.host.namespaces.items():
        l3 = ctx.layer3(netns)
        held: dict[tuple[str | None, str], list[Holder]] = {}
        for addr in l3.addresses if l3 is not None else ():
            link = state.by_index(addr.ifindex)
            # a port's addresses are address-on-port's finding; link-local ones repeat by design
            if link is None or addr.link_local or _port(state, link):
                continue
            held.setdefault((_vrf(state, link), addr.ip), []).append((link, addr))
        for (_vrf_name, address), holders in held.items():
            links = {lk.ifindex: (lk, a) for lk, a in holders}
            if len(links) > 1:
                yield _duplicate_finding(ctx, netns, address, sorted(links.values(), key=lambda la: la[0].ifindex))


def _port(state: NetnsState, link: Link) -> bool:
    master = state.by_index(link.master_ifindex)
    return master is not None and master.kind != "vrf"


def _vrf(state: NetnsState, link: Link) -> str | None:
    master = state.by_index(link.master_ifindex)
    return master.name if master is not None and master.kind == "vrf" else None


def _duplicate_finding(ctx: AuditContext, netns: NetnsName, address: str, holders: list[Holder]) -> Finding:
    """Reported on the last link given it (the highest ifindex): the fix takes it off there."""
    names = [lk.name for lk, _ in holders]
    last, addr = holders[-1]
    evidence: dict[str, object] = {"address": address, "links": {lk.name: a.cidr for lk, a in holders}}
    if failed := [lk.name for lk, a in holders if a.dadfailed]:  # IPv6 on one segment: DAD caught it
        evidence["dadfailed"] = failed
    return Finding(
        "duplicate-address",
        Severity.WARNING,
        last.name,
        netns,
        f"{address} is on {' and '.join(names)}",
        "the kernel answers for it on both links (ARP or neighbour discovery from each) and may send "
        "from either: its neighbours learn it at two places; keep it on one link",
        evidence,
        _drop_fix(ctx, last, addr, f"or keep it on {last.name} and take it off {', '.join(names[:-1])}"),
    )


def _drop_fix(ctx: AuditContext, link: Link, addr: Address, note: str) -> Fix:
    """Take the address off the link: its `ipv4:`/`ipv6:` list without it (the list is the whole set)."""
    rest = [a for a in ctx.addresses(link) if a != addr.cidr and ipaddress.ip_interface(a).version == addr.version]
    entries: list[FileValue] = [{"ip": a.partition("/")[0], "prefix-length": int(a.partition("/")[2])} for a in rest]
    fragment = Fragment.interface(link.name, link.netns, **{f"ipv{addr.version}": {"address": entries}})
    return Fix(fragment, (ip(link.netns, "addr", "del", addr.cidr, "dev", link.name),), note)


def dad_failed(ctx: AuditContext) -> Iterator[Finding]:
    """An IPv6 address another host on the link answered for: the kernel keeps it, tentative, unused."""
    for netns, state in ctx.host.namespaces.items():
        l3 = ctx.layer3(netns)
        for addr in l3.addresses if l3 is not None else ():
            link = state.by_index(addr.ifindex)
            if link is not None and addr.dadfailed:
                yield _dad_finding(ctx, link, addr)


def _dad_finding(ctx: AuditContext, link: Link, addr: Address) -> Finding:
    others = _holders_elsewhere(ctx, link, addr.ip)
    whom = f": {', '.join(others)} has it" if others else ": another host on the link has it"
    again = [ip(link.netns, "addr", verb, addr.cidr, "dev", link.name) for verb in ("del", "add")]
    return Finding(
        "dad-failed",
        Severity.PROBLEM,
        link.name,
        link.netns,
        f"{addr.cidr} failed duplicate address detection{whom}",
        "the kernel keeps the address tentative and never uses it: nothing is sent from it or answered "
        "on it, while `ip addr` still lists it",
        {"address": addr.cidr, "flags": "dadfailed,tentative", "also_on": others},
        Fix(
            None,
            tuple(again),
            "give one of the two another address first; the kernel tries the address again only when "
            "it is added again (these commands), and `linkctl apply` sees it as present",
        ),
    )


def _holders_elsewhere(ctx: AuditContext, link: Link, address: str) -> list[str]:
    """The other links of the namespaces read (its veth peer's, say) that hold the address: "NS/LINK"."""
    found = []
    for netns, state in ctx.host.namespaces.items():
        l3 = ctx.layer3(netns)
        for addr in l3.addresses if l3 is not None else ():
            other = state.by_index(addr.ifindex)
            if addr.ip == address and other is not None and other is not link and not addr.dadfailed:
                found.append(f"{netns}/{other.name}" if netns else other.name)
    return found

"""Current state -> declaration: what `show --format yaml` prints and rollback re-applies.

The one invariant: planning the result against the same state yields no change.
"""

from __future__ import annotations

from linkctl.kinds import kind_of
from linkctl.model.l3 import RouteEntry, RouteRulesSection, RoutesSection
from linkctl.model.placement import current_base
from linkctl.model.spec import (
    MTU_MAX,
    MTU_MIN,
    BridgeSection,
    Declaration,
    InterfaceSpec,
    InterfaceType,
    LinkStateName,
    VethSection,
)
from linkctl.model.state import HostState, Link, NetnsName
from linkctl.plan.convert_l3 import ip_sections, routes_of, rules_of
from linkctl.plan.vlans import with_port_vlans


def spec_of(link: Link, host: HostState, restore: bool = False) -> InterfaceSpec:
    """`restore`: for the declaration a rollback applies, which names a base in any namespace read."""
    kind = kind_of(link)
    ns = host.ns(link.netns)
    # A base in the host's namespace is named for a link in another: the file's rule finds it there
    # when the file is applied without --netns (model/placement.py).
    base = current_base(host, link, kind.reported_lower(link), None)
    home = _base_home(host, link, kind.reported_lower(link)) if restore else None
    if home is not None:
        base = home[1]
    section = kind.section_from_link(link, ns, base)
    if isinstance(section, BridgeSection):
        section = with_port_vlans(section, link, ns)
    extra: dict[str, object] = {}
    if kind.section_key and section is not None:
        extra[kind.section_key] = section
    if kind.type is InterfaceType.VETH:
        peer = host.peer_of(link)
        # A peer in the host's namespace, seen from a named one, has no spelling in the format
        # (no netns means "the default"): the section is left out, as for a peer nobody can see.
        if peer is not None and not (peer.netns is None and link.netns is not None):
            peer_ns = peer.netns if peer.netns != link.netns else None
            extra["veth"] = VethSection(peer=peer.name, peer_netns=peer_ns)
    mac = link.mac if kind.type is not InterfaceType.LOOPBACK and _unicast(link.mac) else None
    spec = InterfaceSpec(
        name=link.name,
        type=kind.type,
        state=LinkStateName.UP if link.admin_up else LinkStateName.DOWN,
        mtu=link.mtu if MTU_MIN <= link.mtu <= MTU_MAX else None,
        mac_address=mac,
        accept_all_mac_addresses=link.promisc,
        txqueuelen=link.txqlen,
        # "" where there is none: a rollback clears one the change set (show -f yaml leaves it out).
        description=link.alias or "",
        netns=link.netns,
        **extra,
        **ip_sections(link, ns),
    )
    # linkctl's own field, which a file may not set: given past validation, as BridgePort.raw_vlans is
    return spec if home is None else spec.model_copy(update={"base_netns": (home[0],)})


def _base_home(host: HostState, link: Link, lower_ifindex: int | None) -> tuple[NetnsName, str] | None:
    """(namespace, name) of the base a link stands on in another namespace than its own, when read."""
    lower = host.in_link_net(link, lower_ifindex)
    return None if lower is None or lower.netns == link.netns else (lower.netns, lower.name)


def declaration_of(
    host: HostState, names: set[str] | None = None, netns: list[NetnsName] | None = None, restore: bool = False
) -> Declaration:
    """Every link (or the named ones) of the given namespaces, as a declaration (`restore`: spec_of's)."""
    wanted = netns if netns is not None else list(host.namespaces)
    specs = [
        spec_of(link, host, restore)
        for ns in wanted
        for link in sorted(host.ns(ns).links.values(), key=lambda lk: lk.ifindex)
        if names is None or link.name in names
    ]
    states = [host.ns(ns) for ns in wanted if host.ns(ns).l3 is not None]
    if not states:
        return Declaration(interfaces=specs)
    routes = [e for st in states for e in routes_of(st) if names is None or _via_any(e, names)]
    rules = [e for st in states for e in rules_of(st)] if names is None else []
    return Declaration(
        interfaces=specs,
        routes=RoutesSection(config=routes) if routes else None,
        route_rules=RouteRulesSection(config=rules) if rules else None,
    )


def _via_any(entry: RouteEntry, names: set[str]) -> bool:
    return entry.next_hop_interface in names


def _unicast(mac: str | None) -> bool:
    if mac is None or len(mac) != 17 or mac == "00:00:00:00:00:00":
        return False
    return not int(mac[:2], 16) & 1

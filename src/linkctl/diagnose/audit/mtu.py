"""Checks of MTUs that do not fit: a VXLAN in its underlay, the two ends of a veth, a bridge's ports."""

from __future__ import annotations

from collections.abc import Iterator

from linkctl.diagnose.audit.context import AuditContext, counter
from linkctl.diagnose.findings import Finding, Severity, ip
from linkctl.domain.fix import Fix, Fragment
from linkctl.kinds import veth, vxlan
from linkctl.kinds.bridge import PortMtu
from linkctl.model.state import BridgeInfo, Link, NetnsName, VxlanInfo


def vxlan_mtu_overhead(ctx: AuditContext) -> Iterator[Finding]:
    for link in ctx.host:
        info = link.info
        if not isinstance(info, VxlanInfo):
            continue
        if info.base_ifindex is None:
            # No base: the kernel gave it 1500 whatever carries it, and routes each packet when it sends.
            under = ctx.underlay(link)
            if under is not None:
                yield from _misfit(link, info, under.dev, ctx.host.link_net(link)[1], under.mtu, under)
            continue
        lower = ctx.host.in_link_net(link, info.base_ifindex)
        if lower is not None:
            yield from _misfit(link, info, lower.name, lower.netns, lower.mtu, None)


def _misfit(
    link: Link, info: VxlanInfo, dev: str, dev_netns: NetnsName, dev_mtu: int, under: vxlan.Underlay | None
) -> Iterator[Finding]:
    """One rule and one wording for a base-iface and for a routed underlay; the route, when there is one,
    is the evidence of which link that is."""
    fit = vxlan.mtu_fit(link.mtu, dev_mtu, info.local, info.remote)
    if fit.fits:
        return
    room, raise_to = fit.room, fit.base_needed
    evidence: dict[str, object] = {
        "mtu": link.mtu,
        "underlay": dev,
        "underlay_mtu": dev_mtu,
        "overhead": fit.overhead,
        "family": fit.family.lower(),
        "max_overlay_mtu": room,
    }
    found_by = ""
    raise_it = f"mtu {raise_to} on {dev} (`{' '.join(ip(dev_netns, 'link', 'set', 'dev', dev, 'mtu', str(raise_to)))}`)"
    if under is not None:
        evidence["route"] = under.route
        evidence.update((k, v) for k, v in (("gateway", under.gateway), ("route_mtu", under.route_mtu)) if v)
        found_by = f" (no base-iface: the kernel sends it by the {under.describe()})"
        if under.route_mtu is not None and under.route_mtu < under.dev_mtu:
            raise_it = f"the {under.route}'s mtu metric to {raise_to}, and {dev}'s MTU with it if below"
    yield Finding(
        "vxlan-mtu-overhead",
        Severity.PROBLEM,
        link.name,
        link.netns,
        f"overlay MTU {link.mtu} does not fit in underlay {dev} MTU {dev_mtu} "
        f"less {fit.overhead} bytes of VXLAN encapsulation{found_by}",
        "full-size overlay frames are dropped or fragmented on the underlay: large transfers stall while pings work",
        evidence,
        Fix(
            Fragment.interface(link.name, link.netns, mtu=room),
            (ip(link.netns, "link", "set", "dev", link.name, "mtu", str(room)),),
            f"or raise the underlay instead, if the whole path carries it: {raise_it}",
        ),
    )


def veth_mtu_mismatch(ctx: AuditContext) -> Iterator[Finding]:
    for link in ctx.host:
        peer = ctx.host.peer_of(link)
        if peer is None or not (pair := veth.PairMtu(link.mtu, peer.mtu)).peer_drops:
            continue
        peer_at = f"{peer.name} (netns {peer.netns})" if peer.netns != link.netns and peer.netns else peer.name
        yield Finding(
            "veth-mtu-mismatch",
            Severity.PROBLEM,
            link.name,
            link.netns,
            f"MTU {link.mtu}, its veth peer {peer_at} MTU {peer.mtu}",
            f"frames over {pair.dropped_over} bytes that {link.name} sends are dropped by {peer.name} (counted as "
            "TX drops here, RX drops there): small packets pass, large transfers stall",
            {"mtu": link.mtu, "peer": peer.name, "peer_mtu": peer.mtu, "tx_dropped": counter(link, "tx_dropped")},
            Fix(
                Fragment.interface(peer.name, peer.netns, mtu=link.mtu),
                (ip(peer.netns, "link", "set", "dev", peer.name, "mtu", str(link.mtu)),),
                f"or lower {link.name} to {peer.mtu}: both ends of a veth need one MTU",
            ),
        )


def bridge_port_mtu_mismatch(ctx: AuditContext) -> Iterator[Finding]:
    for link in ctx.host:
        bridge = ctx.host.ns(link.netns).by_index(link.master_ifindex)
        if bridge is None or not isinstance(bridge.info, BridgeInfo) or PortMtu(link.mtu, bridge.mtu).matches:
            continue
        yield Finding(
            "bridge-port-mtu-mismatch",
            Severity.WARNING,
            link.name,
            link.netns,
            f"bridge port MTU {link.mtu} differs from bridge {bridge.name} MTU {bridge.mtu}",
            "frames larger than the smallest MTU on the bridge are dropped silently when "
            "they cross to a port with a smaller one",
            {"mtu": link.mtu, "bridge": bridge.name, "bridge_mtu": bridge.mtu},
            Fix(
                Fragment.interface(link.name, link.netns, mtu=bridge.mtu),
                (ip(link.netns, "link", "set", "dev", link.name, "mtu", str(bridge.mtu)),),
                "or give the bridge and every port the larger MTU, if the path carries it",
            ),
        )

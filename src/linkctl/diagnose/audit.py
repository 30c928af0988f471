"""`linkctl audit`: configuration problems of every link at once.

Each check is a small function with a stable id (the `check` of its findings). The
input is two dumps of the links (for growing counters), an optional declaration (for
links in the wrong namespace) and, for physical NICs only, what ethtool reports.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from linkctl.diagnose import flapping
from linkctl.diagnose.findings import Finding, Severity, ip
from linkctl.diagnose.reachable import reachable, read_reachable
from linkctl.domain.fix import FileValue, Fix, Fragment
from linkctl.errors import LinkctlError
from linkctl.kernel import netns as netns_mod
from linkctl.kernel.ethtool import EeeState, Ethtool, EthtoolError, LinkSettings, Runner, run_program
from linkctl.kernel.state import read_state
from linkctl.kinds import kind_of, vxlan
from linkctl.kinds.simple import ETHERNET
from linkctl.model.spec import Declaration
from linkctl.model.state import BridgeInfo, HostState, Link, NetnsName, Stats, VethInfo, VxlanInfo

_T = TypeVar("_T")

ERROR_COUNTERS = (
    "rx_errors",
    "rx_crc_errors",
    "rx_frame_errors",
    "tx_errors",
    "tx_carrier_errors",
    "collisions",
)
LOSS_COUNTERS = (
    "rx_dropped",
    "tx_dropped",
    "rx_over_errors",
    "rx_fifo_errors",
    "tx_fifo_errors",
    "rx_missed_errors",
)


def is_physical(link: Link) -> bool:
    """A NIC on a bus: what has a cable, a PHY and a driver's power saving to blame."""
    return kind_of(link) is ETHERNET and bool(link.parent_bus)


@dataclass
class AuditContext:
    """What the checks read. `before` is the first dump of two, for counter growth."""

    host: HostState
    before: HostState | None = None
    declaration: Declaration | None = None
    default_netns: NetnsName = None
    runner: Runner = run_program
    interval: float = 0.0
    _settings: dict[tuple[NetnsName, str], LinkSettings | None] = field(default_factory=dict)
    _eee: dict[tuple[NetnsName, str], EeeState | None] = field(default_factory=dict)
    _addresses: dict[NetnsName, dict[int, list[str]]] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)

    def addresses(self, link: Link) -> list[str]:
        """The addresses a person configured on the link (read once per namespace, when a check asks)."""
        if link.netns not in self._addresses:
            from linkctl.kernel.addresses import addresses

            try:
                self._addresses[link.netns] = addresses(link.netns)
            except (OSError, LinkctlError) as exc:
                self.unreadable["addresses"] = str(exc)
                self._addresses[link.netns] = {}
        return self._addresses[link.netns].get(link.ifindex, [])

    def physical(self) -> Iterator[Link]:
        for link in self.host:
            if is_physical(link):
                yield link

    def settings(self, link: Link) -> LinkSettings | None:
        key = (link.netns, link.name)
        if key not in self._settings:
            self._settings[key] = self._ethtool(link, lambda e: e.settings())
        return self._settings[key]

    def eee(self, link: Link) -> EeeState | None:
        key = (link.netns, link.name)
        if key not in self._eee:
            self._eee[key] = self._ethtool(link, lambda e: e.eee())
        return self._eee[key]

    def _ethtool(self, link: Link, read: Callable[[Ethtool], _T]) -> _T | None:
        try:
            return read(Ethtool(link.name, link.netns, self.runner))
        except EthtoolError as exc:
            self.unreadable[f"{link.netns or ''}/{link.name}"] = str(exc)
            return None


Check = Callable[[AuditContext], Iterator[Finding]]


def vxlan_mtu_overhead(ctx: AuditContext) -> Iterator[Finding]:
    for link in ctx.host:
        info = link.info
        if not isinstance(info, VxlanInfo) or info.base_ifindex is None:
            continue
        lower = ctx.host.in_link_net(link, info.base_ifindex)
        if lower is None:
            continue
        overhead = vxlan.overhead(info.local, info.remote)
        room = lower.mtu - overhead
        if link.mtu <= room:
            continue
        raise_to = link.mtu + overhead
        yield Finding(
            "vxlan-mtu-overhead",
            Severity.PROBLEM,
            link.name,
            link.netns,
            f"overlay MTU {link.mtu} does not fit in underlay {lower.name} MTU {lower.mtu} "
            f"less {overhead} bytes of VXLAN encapsulation",
            "full-size overlay frames are dropped or fragmented on the underlay: large "
            "transfers stall while pings work",
            {
                "mtu": link.mtu,
                "underlay": lower.name,
                "underlay_mtu": lower.mtu,
                "overhead": overhead,
                "family": "ipv6" if overhead == vxlan.OVERHEAD_V6 else "ipv4",
                "max_overlay_mtu": room,
            },
            Fix(
                Fragment.interface(link.name, link.netns, mtu=room),
                (ip(link.netns, "link", "set", "dev", link.name, "mtu", str(room)),),
                f"or raise the underlay instead, if the whole path carries it: "
                f"mtu {raise_to} on {lower.name} "
                f"(`{' '.join(ip(lower.netns, 'link', 'set', 'dev', lower.name, 'mtu', str(raise_to)))}`)",
            ),
        )


def veth_mtu_mismatch(ctx: AuditContext) -> Iterator[Finding]:
    for link in ctx.host:
        peer = ctx.host.peer_of(link)
        if peer is None or link.mtu <= peer.mtu:
            continue  # said once, by the end whose frames the other drops
        peer_at = f"{peer.name} (netns {peer.netns})" if peer.netns != link.netns and peer.netns else peer.name
        yield Finding(
            "veth-mtu-mismatch",
            Severity.PROBLEM,
            link.name,
            link.netns,
            f"MTU {link.mtu}, its veth peer {peer_at} MTU {peer.mtu}",
            f"frames over {peer.mtu} bytes that {link.name} sends are dropped by {peer.name} (counted as "
            "TX drops here, RX drops there): small packets pass, large transfers stall",
            {"mtu": link.mtu, "peer": peer.name, "peer_mtu": peer.mtu, "tx_dropped": _counter(link, "tx_dropped")},
            Fix(
                Fragment.interface(peer.name, peer.netns, mtu=link.mtu),
                (ip(peer.netns, "link", "set", "dev", peer.name, "mtu", str(link.mtu)),),
                f"or lower {link.name} to {peer.mtu}: both ends of a veth need one MTU",
            ),
        )


def _counter(link: Link, name: str) -> int | None:
    return getattr(link.stats, name) if link.stats is not None else None


def bridge_port_mtu_mismatch(ctx: AuditContext) -> Iterator[Finding]:
    for link in ctx.host:
        bridge = ctx.host.ns(link.netns).by_index(link.master_ifindex)
        if bridge is None or not isinstance(bridge.info, BridgeInfo) or link.mtu == bridge.mtu:
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


def vxlan_local_not_assigned(ctx: AuditContext) -> Iterator[Finding]:
    for link in ctx.host:
        info = link.info
        if not isinstance(info, VxlanInfo) or not info.local or ipaddress.ip_address(info.local).is_unspecified:
            continue
        known, underlay_ns = ctx.host.link_net(link)  # the VXLAN sends from its underlay's namespace
        mine = _namespace_addresses(ctx, underlay_ns) if known else None
        if mine is None or info.local in {a.partition("/")[0] for a in mine}:
            continue
        yield Finding(
            "vxlan-local-not-assigned",
            Severity.PROBLEM,
            link.name,
            link.netns,
            f"local {info.local} is not an address of any link in its underlay's namespace",
            "the kernel cannot send from it: every frame the VXLAN sends is dropped "
            "(counted as a TX carrier error) while the link shows UP",
            {"local": info.local, "addresses": mine, "tx_carrier_errors": _counter(link, "tx_carrier_errors")},
            _local_fix(ctx, link, info),
        )


def _namespace_addresses(ctx: AuditContext, netns: NetnsName) -> list[str] | None:
    """Every address configured in the namespace; None when they could not be read."""
    found = [a for lk in ctx.host.ns(netns).links.values() for a in ctx.addresses(lk)]
    return None if "addresses" in ctx.unreadable else found


def _local_fix(ctx: AuditContext, link: Link, info: VxlanInfo) -> Fix:
    """Send from the base-iface's own address of the same family, or give the base the address meant."""
    assert info.local is not None
    family = ipaddress.ip_address(info.local).version
    base = ctx.host.in_link_net(link, info.base_ifindex)
    own = [a for a in ctx.addresses(base) if ipaddress.ip_interface(a).version == family] if base else []
    prefix = own[0].partition("/")[2] if own else ("32" if family == 4 else "128")
    meant = f"{info.local}/{prefix}"
    where = base.name if base is not None else "the underlay link"
    add = " ".join(ip(base.netns if base else link.netns, "addr", "add", meant, "dev", where))
    note = f"or, if {info.local} is the address meant, put it on {where} (`{add}`)"
    if not own or info.vni is None:
        return Fix(None, (), note[3:])
    local = own[0].partition("/")[0]
    section: dict[str, FileValue] = {"id": info.vni, "local": local}
    return Fix(Fragment.interface(link.name, link.netns, type="vxlan", vxlan=section), (), note)


def address_on_port(ctx: AuditContext) -> Iterator[Finding]:
    for link in ctx.host:
        master = ctx.host.ns(link.netns).by_index(link.master_ifindex)
        # A VRF's ports keep answering on their addresses: that is what a VRF is for.
        if master is None or master.kind == "vrf" or not (found := ctx.addresses(link)):
            continue
        moves = [ip(link.netns, "addr", "del", a, "dev", link.name) for a in found]
        moves += [ip(link.netns, "addr", "add", a, "dev", master.name) for a in found]
        yield Finding(
            "address-on-port",
            Severity.WARNING,
            link.name,
            link.netns,
            f"port of {master.name} carries {', '.join(found)}",
            "a port hands every frame to its master: nothing answers on the port's own addresses "
            f"(the kernel ignores a port's Layer 3 configuration); they belong on {master.name}",
            {"master": master.name, "addresses": found},
            Fix(None, tuple(moves), "linkctl declares links, not addresses: these are the commands"),
        )


def no_carrier(ctx: AuditContext) -> Iterator[Finding]:
    for link in ctx.host:
        if link.is_loopback or not link.no_carrier:
            continue
        cause = carrier_cause(ctx.host, link)
        yield Finding(
            "no-carrier",
            cause.severity,
            link.name,
            link.netns,
            cause.message,
            "the link is administratively up but passes no traffic: whatever uses it "
            "(addresses, routes, bridge ports) is cut off",
            {
                "flags": _flags(link),
                "operstate": link.operstate.label,
                "carrier": link.carrier,
                "carrier_changes": link.carrier_changes,
                **cause.read,
            },
            cause.fix,
        )


@dataclass(frozen=True)
class CarrierCause:
    """Why an up link has no carrier, the fix, and what was read of the links it depends on."""

    severity: Severity
    message: str
    fix: Fix
    read: dict[str, object] = field(default_factory=dict)


def carrier_cause(host: HostState, link: Link) -> CarrierCause:
    found = dependency_cause(host, link)
    if found is not None:
        return found
    return CarrierCause(
        Severity.PROBLEM,
        "NO-CARRIER: up, but the physical layer reports no link",
        Fix(
            commands=(("linkctl", "diagnose", link.name, *(("--netns", link.netns) if link.netns else ())),),
            note="check the cable, the SFP module and the switch port (only a person can); "
            "a duplex or speed forced on one end only can also keep the link down",
        ),
    )


def dependency_cause(host: HostState, link: Link) -> CarrierCause | None:
    """A missing carrier the links this one depends on explain: its veth peer, bridge ports, lower link."""
    if isinstance(link.info, VethInfo):
        peer = host.peer_of(link)
        if peer is not None and not peer.admin_up:
            return CarrierCause(
                Severity.PROBLEM,
                f"NO-CARRIER: its veth peer {peer.name} is down",
                Fix(
                    Fragment.interface(peer.name, peer.netns, state="up"),
                    (ip(peer.netns, "link", "set", "dev", peer.name, "up"),),
                ),
                {"peer": peer.name, "peer_netns": peer.netns, "peer_admin_up": False},
            )
    if isinstance(link.info, BridgeInfo):
        ports = host.ns(link.netns).ports_of(link.name)
        if not ports:
            return CarrierCause(
                Severity.INFO,
                "NO-CARRIER: a bridge without ports has no carrier",
                Fix(note="add a port, or set the bridge down until it has one"),
                {"ports": ports},
            )
        return CarrierCause(
            Severity.WARNING,
            "NO-CARRIER: none of the bridge's ports has a carrier",
            Fix(note=f"check the ports: {', '.join(ports)}"),
            {"ports": ports},
        )
    lower = host.in_link_net(link, link.link_ifindex)
    if lower is not None and lower.name != link.name and (lower.no_carrier or not lower.admin_up):
        return CarrierCause(
            Severity.PROBLEM,
            f"NO-CARRIER: its lower link {lower.name} has none",
            Fix(
                Fragment.interface(lower.name, lower.netns, state="up"),
                (ip(lower.netns, "link", "set", "dev", lower.name, "up"),),
                "if the lower link is up, see its own no-carrier finding",
            ),
            {"lower": lower.name, "lower_admin_up": lower.admin_up},
        )
    return None


def _flags(link: Link) -> str:
    return ",".join(f.name or "" for f in type(link.flags) if f in link.flags)


def promisc_by_hand(ctx: AuditContext) -> Iterator[Finding]:
    for link in ctx.host:
        if not link.promisc:
            continue
        yield Finding(
            "promisc-by-hand",
            Severity.WARNING,
            link.name,
            link.netns,
            "promiscuous mode was set by hand (IFF_PROMISC)",
            "the link passes every frame on the wire up the stack: CPU cost, and traffic for "
            "other hosts becomes visible to this one (bridges and packet captures raise the "
            "promiscuity count themselves and do not need it)",
            {"flags": _flags(link), "promiscuity": link.promiscuity},
            Fix(
                Fragment.interface(link.name, link.netns, **{"accept-all-mac-addresses": False}),
                (ip(link.netns, "link", "set", "dev", link.name, "promisc", "off"),),
            ),
        )


def counters_growing(ctx: AuditContext) -> Iterator[Finding]:
    if ctx.before is None:
        return
    for link in ctx.host:
        old = ctx.before.find(link.name, link.netns)
        if old is None or old.ifindex != link.ifindex or not old.stats or not link.stats:
            continue
        grown = _grown(old.stats, link.stats)
        if grown:
            yield _growth_finding(ctx, link, grown)


def _grown(old: Stats, new: Stats) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for name in (*ERROR_COUNTERS, *LOSS_COUNTERS):
        before, after = getattr(old, name), getattr(new, name)
        if after > before:
            out[name] = {"before": before, "after": after, "delta": after - before}
    return out


def _growth_finding(ctx: AuditContext, link: Link, grown: dict[str, dict[str, int]]) -> Finding:
    errors = any(n in ERROR_COUNTERS for n in grown)
    names = ", ".join(f"{n} +{v['delta']}" for n, v in grown.items())
    fix = Fix(
        commands=(ip(link.netns, "-s", "-s", "link", "show", "dev", link.name),),
        note="rx_dropped also counts frames of protocols nothing listens to (LLDP, STP): "
        "look for a steady rate before tuning",
    )
    if any(n in ("rx_fifo_errors", "rx_over_errors", "rx_missed_errors") for n in grown) and link.parent_bus:
        fix = Fix(
            Fragment.interface(link.name, link.netns, ethtool={"ring": {"rx": 4096}}),
            (("ethtool", "-G", link.name, "rx", "4096"),),
            "the NIC ran out of receive descriptors: a larger rx ring (up to the "
            "maximum `ethtool -g` shows) absorbs bursts",
        )
    return Finding(
        "counters-growing",
        Severity.PROBLEM if errors else Severity.WARNING,
        link.name,
        link.netns,
        f"counters grew during the audit: {names}",
        "errors mean damaged frames (cable, duplex, driver); drops and overruns mean frames "
        "lost for want of buffers or CPU",
        {"seconds": ctx.interval, **{n: v for n, v in grown.items()}},
        fix,
    )


def half_duplex(ctx: AuditContext) -> Iterator[Finding]:
    for link in ctx.physical():
        st = ctx.settings(link)
        if st is None or st.duplex != "half" or not st.link_detected:
            continue
        yield Finding(
            "half-duplex",
            Severity.PROBLEM,
            link.name,
            link.netns,
            f"running at {st.speed} Mb/s half duplex",
            "no switch port of this century wants half duplex: it usually means one end "
            "is forced and the other autonegotiates (a duplex mismatch), which loses frames "
            "under load as late collisions and CRC errors",
            {"speed": st.speed, "duplex": st.duplex, "autoneg": st.autoneg, "partner_modes": list(st.partner_modes)},
            Fix(
                Fragment.interface(link.name, link.netns, ethernet={"auto-negotiation": True}),
                (("ethtool", "-s", link.name, "autoneg", "on"),),
                "let both ends autonegotiate; if the switch port is forced, set it to auto too",
            ),
        )


def autoneg_off(ctx: AuditContext) -> Iterator[Finding]:
    for link in ctx.physical():
        st = ctx.settings(link)
        if st is None or st.autoneg is not False or st.supports_autoneg is False:
            continue
        yield Finding(
            "autoneg-off",
            Severity.WARNING,
            link.name,
            link.netns,
            f"autonegotiation is off (forced {st.speed} Mb/s {st.duplex})",
            "a forced end makes an autonegotiating partner fall back to half duplex; "
            "1000BASE-T requires autonegotiation",
            {"autoneg": False, "speed": st.speed, "duplex": st.duplex},
            Fix(
                Fragment.interface(link.name, link.netns, ethernet={"auto-negotiation": True}),
                (("ethtool", "-s", link.name, "autoneg", "on"),),
                "change both ends in the same maintenance window: the link renegotiates",
            ),
        )


def speed_below_advertised(ctx: AuditContext) -> Iterator[Finding]:
    for link in ctx.physical():
        st = ctx.settings(link)
        best = st.best_common() if st else None
        if st is None or best is None or st.speed is None or st.speed >= best[0]:
            continue
        yield Finding(
            "speed-below-advertised",
            Severity.WARNING,
            link.name,
            link.netns,
            f"running at {st.speed} Mb/s although both ends advertise {best[0]} Mb/s",
            "a link that negotiates down usually has a damaged pair in the cable or a bad "
            "port: gigabit needs all four pairs, 100 Mb/s only two",
            {
                "speed": st.speed,
                "best_common": best[0],
                "advertised": list(st.advertised_modes),
                "partner": list(st.partner_modes),
            },
            Fix(
                commands=(("ethtool", "-r", link.name),),
                note="restart autonegotiation; if it comes back slow again, replace the "
                "cable or try another switch port (a person has to)",
            ),
        )


def eee_on_flapping_link(ctx: AuditContext) -> Iterator[Finding]:
    for link in ctx.physical():
        if not flapping.by_counter(link.carrier_down_count):
            continue
        downs = link.carrier_down_count or 0
        eee = ctx.eee(link)
        if eee is None or not eee.enabled:
            continue
        yield Finding(
            "eee-on-flapping-link",
            Severity.WARNING,
            link.name,
            link.netns,
            f"Energy-Efficient Ethernet is on and the link lost carrier {downs} times",
            "EEE low-power idle is a known cause of links that drop when idle and "
            "renegotiate (e1000e/I219 and some switches disagree about wake times)",
            {
                "eee_enabled": eee.enabled,
                "eee_active": eee.active,
                "carrier_down_count": downs,
                "carrier_changes": link.carrier_changes,
            },
            Fix(
                Fragment.interface(link.name, link.netns, ethtool={"eee": {"enabled": False}}),
                (("ethtool", "--set-eee", link.name, "eee", "off"),),
                "the link renegotiates once; watch whether the flaps stop "
                f"(`linkctl diagnose {link.name}` ranks the other causes)",
            ),
        )


def wrong_netns(ctx: AuditContext) -> Iterator[Finding]:
    if ctx.declaration is None:
        return
    for spec in ctx.declaration.interfaces:
        if spec.absent:
            continue
        want = spec.netns if spec.netns is not None else ctx.default_netns
        if ctx.host.find(spec.name, want) is not None:
            continue
        found = [lk for lk in ctx.host if lk.name == spec.name and lk.netns != want]
        if len(found) != 1:
            continue
        link = found[0]
        target = want if want is not None else "1"  # `ip link set netns 1`: PID 1's namespace
        yield Finding(
            "wrong-netns",
            Severity.PROBLEM,
            link.name,
            link.netns,
            f"declared in namespace {want or '(host)'} but lives in {link.netns or '(host)'}",
            "whatever expects the link in its declared namespace cannot see it; moving it "
            "drops its addresses and routes",
            {"declared_netns": want, "actual_netns": link.netns},
            Fix(
                Fragment.interface(spec.name, want),
                (ip(link.netns, "link", "set", "dev", link.name, "netns", target),),
                "`linkctl apply FILE` moves it; addresses and routes must be set again",
            ),
        )


CHECKS: dict[str, Check] = {
    "vxlan-mtu-overhead": vxlan_mtu_overhead,
    "veth-mtu-mismatch": veth_mtu_mismatch,
    "bridge-port-mtu-mismatch": bridge_port_mtu_mismatch,
    "vxlan-local-not-assigned": vxlan_local_not_assigned,
    "address-on-port": address_on_port,
    "no-carrier": no_carrier,
    "promisc-by-hand": promisc_by_hand,
    "counters-growing": counters_growing,
    "half-duplex": half_duplex,
    "autoneg-off": autoneg_off,
    "speed-below-advertised": speed_below_advertised,
    "eee-on-flapping-link": eee_on_flapping_link,
    "wrong-netns": wrong_netns,
}


def run_checks(ctx: AuditContext, only: list[str] | None = None) -> list[Finding]:
    findings: list[Finding] = []
    for name, check in CHECKS.items():
        if only is None or name in only:
            findings.extend(check(ctx))
    return sorted(findings, key=lambda f: (-f.severity.rank, f.netns or "", f.ifname, f.check))


def audit_namespaces(netns: NetnsName | None, all_netns: bool) -> list[NetnsName]:
    if not all_netns:
        return [netns]
    return [None, *netns_mod.list_names()]


def run_audit(
    namespaces: list[NetnsName],
    declaration: Declaration | None = None,
    interval: float = 1.0,
    between: Callable[[], None] | None = None,
    runner: Runner = run_program,
    default_netns: NetnsName = None,
) -> tuple[list[Finding], AuditContext]:
    """Two dumps `interval` apart (or around `between`), then every check."""
    for name in namespaces:
        if not netns_mod.exists(name):
            raise LinkctlError(f"--netns {name}: no such network namespace (see `ip netns list`)")
    wanted = list(namespaces)
    if declaration is not None:
        wanted += [None, *netns_mod.list_names()]
    wanted, refused = reachable(namespaces, wanted)
    # The namespaces their veth peers and underlays live in are read too (a check may need the
    # other end); findings are kept for the namespaces asked for.
    before = read_reachable(wanted, refused, stats=True)
    wanted = list(before.namespaces)
    started = time.monotonic()
    if between is not None:
        between()
    else:
        time.sleep(interval)
    after = read_state(wanted, stats=True)
    elapsed = round(time.monotonic() - started, 3)
    ctx = AuditContext(after, before, declaration, default_netns, runner, elapsed)
    ctx.unreadable.update((f"netns {name}", why) for name, why in refused.items())
    findings = run_checks(ctx)
    keep = set(namespaces)
    # a link in the wrong namespace is reported wherever it is found
    return [f for f in findings if f.netns in keep or f.check == "wrong-netns"], ctx

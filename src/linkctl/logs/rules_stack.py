"""Recognisers of the links the stack and switches build: bonding members, switch ports
(router SDKs, vendor switch drivers), bridge port states and IPv6's carrier notes.
"""

from __future__ import annotations

import re
from dataclasses import replace

from linkctl.domain.events import EventKind
from linkctl.logs.recognise import (
    IFN,
    Details,
    MessageMatch,
    Prefix,
    Rule,
    details_of,
    duplex,
    link,
    mbps,
    plausible_driver,
    registrar,
    state,
)

RULES: list[Rule] = []
rule = registrar(RULES)


_BOND_SPEED = r"(?:, (?P<sp>\d+) Mbps (?P<dup>full|half) duplex)?"
# A member's name before a sentence's full stop ("... for interface eth0."): IFN's characters, taken
# lazily so that the stop is not the name's ("eth0.100" keeps its own).
_MEMBER = r"[^\s:()\[\]/]{1,32}?"


@rule(rf"\((?:slave|port) (?P<member>{IFN})\): link status definitely (?P<st>up|down)" + _BOND_SPEED)
def _bond_new(m: re.Match[str], p: Prefix) -> MessageMatch:
    """bonding since 5.3: "bond0: (slave eth0): link status definitely down, disabling
    slave"."""
    return _bond(m, p)


@rule(
    r"link status definitely (?P<st>up|down) for interface "
    r"(?P<member>[^\s,:()]+?)\.?(?=,|$|\s)" + _BOND_SPEED
)
def _bond_old(m: re.Match[str], p: Prefix) -> MessageMatch:
    """bonding up to 5.2 "bond0: link status definitely up for interface eth0, 1000 Mbps
    full duplex"; and before netdev_info "bonding: bond0: link status definitely down for
    interface eth1, disabling it"."""
    return _bond(m, p)


_DELAY = r", (?P<act>disabling|enabling) it in (?P<ms>\d+) ms\.?$"


@rule(rf"link status (?P<st>up|down) for (?:active |backup )?interface (?P<member>{IFN})" + _DELAY)
def _bond_delay_old(m: re.Match[str], p: Prefix) -> MessageMatch:
    """bonding up to 5.2, when downdelay/updelay is set: the first sign of a member's change,
    "bond0: link status down for active interface eth2, disabling it in 200 ms" (netdev_info),
    "bonding: link status up for interface eth3, enabling it in 0 ms" (pr_info, older). The
    bond acts on it only after the delay; the member's carrier changed now."""
    return _bond(m, p)


@rule(
    rf"\((?:slave|port) (?P<member>{IFN})\): link status (?P<st>up|down)(?: for (?:active |backup )?interface)?"
    + _DELAY
)
def _bond_delay_new(m: re.Match[str], p: Prefix) -> MessageMatch:
    """bonding since 5.3 (slave_info): "bond0: (slave eth2): link status down for active
    interface, disabling it in 200 ms", "bond0: (slave eth3): link status up, enabling it in
    200 ms"."""
    return _bond(m, p)


@rule(
    rf"(?:\((?:slave|port) (?P<member>{IFN})\): )?link status (?P<st>up|down) again after (?P<ms>\d+) ms"
    rf"(?: for interface (?P<member_old>{_MEMBER}))?\.?$"
)
def _bond_again(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """bonding: the member went back before its delay ran out, "bond0: link status up again
    after 100 ms for interface eth1" (to 5.2), "bond0: (slave eth1): link status down again
    after 100 ms" (5.3+)."""
    if not (m["member"] or m["member_old"]):
        return None
    return _bond(m, p)


@rule(
    rf"(?:\((?:slave|port) (?P<member>{IFN})\): )?(?:backup )?interface (?:(?P<member_old>{_MEMBER}) )?"
    r"is now (?P<st>up|down)\.?$"
)
def _bond_arp(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """bonding's ARP monitor, up to 5.2: "bond0: interface eth1 is now down" (netdev_info),
    "bonding: bond0: interface eth1 is now down." (older pr_info), in active-backup mode
    "bonding: bond0: backup interface eth1 is now down" (2.6/3.x); since 5.3 (slave_info) "bond0:
    (slave eth1): interface is now up", "bond0: (slave eth1): backup interface is now down"."""
    if (p.ifname is None and p.token is None) or not (m["member"] or m["member_old"]):
        return None
    return _bond(m, p)


@rule(
    rf"(?:(?P<member>{_MEMBER}) is up and now the active interface"
    rf"|link status (?P<down>down) for active interface (?P<member_old>{_MEMBER}), disabling it)\.?$"
)
def _bond_arp_active(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """bonding's active-backup ARP monitor in 2.6/3.x (bond_ab_arp_commit): "bonding: bond0: eth1 is
    up and now the active interface", "bonding: bond0: link status down for active interface eth0,
    disabling it" (no delay: the ARP monitor acts at once)."""
    if p.ifname is None and p.token is None:
        return None
    return _bond(m, p, "down" if m["down"] else "up")


# A speed the slave could not tell: 0, or SPEED_UNKNOWN (-1) printed with %u or in a u16 by 2.6/3.x
# bonding ("link status definitely up for interface eth0, 4294967295 Mbps full duplex").
_NO_SPEED = frozenset({"0", "65535", "4294967295"})


def _bond(m: re.Match[str], p: Prefix, st: str | None = None) -> MessageMatch:
    groups = m.groupdict()
    master = p.ifname or p.token
    kind = EventKind.BOND_MEMBER_UP if (st or m["st"]) == "up" else EventKind.BOND_MEMBER_DOWN
    sp = groups.get("sp")
    speed = mbps(sp) if sp not in _NO_SPEED else None
    detail = f"bond {master}" if master else None
    if groups.get("act"):
        detail = f"{detail or 'bond'}, {groups['act']} it in {groups['ms']} ms"
    return MessageMatch(
        kind,
        groups.get("member") or groups.get("member_old"),
        p.driver,
        p.bus_id,
        speed_mbps=speed,
        duplex=duplex(groups.get("dup")),
        detail=detail,
    )


@rule(r"port (?P<no>\d+) link (?P<st>up|down)$")
def _mtk_port(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """OpenWrt's mtk_soc_eth with its built-in switch (MT7620/MT7621 before DSA): the CPU
    netdev names the link, the switch port comes after it, "mtk_soc_eth 1e100000.ethernet
    eth0: port 2 link down"; a switch driver through its own device says the same ("yt9215
    mdio-bus:1d: port 3 link up"). A USB hub's port ("hub 1-0:1.0: port 3 ...") is no link."""
    if p.ifname is None and p.token is None:
        if p.driver is None or p.bus_id is None or not plausible_driver(p.driver):
            return None
    return link(m, p, state(m["st"]), detail=f"port {m['no']}")


@rule(
    r"(?:ESW: )?(?:WAN )?Link Status Changed - (?P<where>.{1,40}?) Link (?P<st>UP|Up|up|DOWN|Down|down)"
    r"(?P<rest>,\d+Mbps,(?:Full|Half) Duplex)?$"
)
def _ralink_esw(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """The Ralink/MediaTek SDK's raeth driver (RT305x to MT7621 routers on vendor firmware,
    Padavan, Asuswrt): "ESW: Link Status Changed - Port0 Link UP", "... - Port 4 Link Down",
    "... - WAN (P4) Link UP", Padavan's "... - Port2 Link UP,1000Mbps,Full Duplex", with the WAN
    port's "ESW: WAN Link Status Changed - Port4 Link Up"; Padavan's switch drivers after their own
    name, "mtk_esw: Link Status Changed - Port WAN Link Down" (MCM's "MCM: ..."). The switch port
    names no netdev; "ESW" is the raeth switch's tag."""
    named = p.token is not None and p.driver is None and plausible_driver(p.token)
    if not (m[0].startswith("ESW: ") or named):
        return None  # untagged, the words are a sentence's or another subsystem's ("usb: ...")
    tag = p.token if p.token != "ESW" else None
    d = details_of(m["rest"]) if m["rest"] else Details()
    return MessageMatch(state(m["st"]), None, p.driver or tag, p.bus_id, d.speed_mbps, d.duplex, detail=m["where"])


@rule(r"Port (?P<no>\d+) is (?P<st>up|down)$")
def _ar8xxx_port(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """OpenWrt's swconfig driver for the Atheros/Qualcomm switches (AR8216, AR8236, AR8316,
    AR8327, AR8337), through the switch's PHY device: "Atheros AR8216/AR8236/AR8316
    ag71xx-mdio.0:00: Port 2 is up". The switch port names no netdev."""
    if p.bus_id is None:
        return None
    return MessageMatch(state(m["st"]), p.ifname, p.driver, p.bus_id, detail=f"port {m['no']}")


@rule(rf"(?P<ifn>{IFN}) (?P<where>(?:\([^()]*\) ?)+)Link (?P<st>UP|DOWN|Up|Down)\b(?P<rest>.*)")
def _bcm_enet(m: re.Match[str], p: Prefix) -> MessageMatch:
    """Broadcom's router SDK (bcm63xx enet): the netdev, then where it sits on the switch,
    "eth4 (Int switch port: 3) (Logical Port: 3) (phyId: 9) Link DOWN.", "... Link Up at 1000
    mbps full duplex"."""
    kind = state(m["st"])
    details = details_of(m["rest"]) if kind is EventKind.LINK_UP else None
    return link(m, p, kind, details, detail=m["where"].strip())


@rule(r"Port (?P<no>\d+) Link (?P<st>UP|Down)\b(?P<rest>[^!]*)(?P<bang>!?)$")
def _vendor_port(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """Vendor switch drivers that print the PHY port alone: "Port 4 Link UP at 1000 Mbps
    Full Duplex!", "Port 4 Link Down!". Without the mark and with no device before it, "Port 0
    Link Down" is DPDK's applications' (its examples' check_all_ports_link_status, f-stack)."""
    if not m["bang"] and not m["rest"] and p.driver is None and p.ifname is None and p.token is None:
        return None
    kind = state(m["st"])
    details = details_of(m["rest"]) if kind is EventKind.LINK_UP else None
    return MessageMatch(
        kind,
        p.ifname,
        p.driver or p.token,
        p.bus_id,
        details.speed_mbps if details else None,
        details.duplex if details else None,
        None,
        f"port {m['no']}",
    )


@rule(r"Called for logical port - (?P<port>\d+) status (?P<st>UP|DOWN)$")
def _mlnx_sdk_port(m: re.Match[str], p: Prefix) -> MessageMatch:
    """Mellanox's switch SDK (SONiC on Spectrum): "sx_netdev_handle_pude_event: Called for
    logical port - 12500 status DOWN". The SDK's logical port number names no netdev."""
    return MessageMatch(state(m["st"]), None, "sx_netdev", p.bus_id, detail=f"logical port {m['port']}")


@rule(rf"port (?P<no>\d+)\((?P<port>{IFN})\) (?:entering|entered) (?P<state>\w+) state")
def _bridge(m: re.Match[str], p: Prefix) -> MessageMatch:
    """bridge "br0: port 1(eth0) entered forwarding state" (3.x+), "entering" before."""
    bridge = p.ifname or p.token
    detail = f"{m['state']} on {bridge}" if bridge else m["state"]
    return MessageMatch(EventKind.BRIDGE_PORT_STATE, m["port"], p.driver, p.bus_id, detail=detail)


@rule(rf"ADDRCONF\(NETDEV_CHANGE\): (?P<ifn>{IFN}): link becomes ready")
def _ipv6_ready(m: re.Match[str], p: Prefix) -> MessageMatch:
    """IPv6 "IPv6: ADDRCONF(NETDEV_CHANGE): eth0: link becomes ready"."""
    return _no_driver(link(m, p, EventKind.LINK_READY))


@rule(rf"ADDRCONF\(NETDEV_UP\): (?P<ifn>{IFN}): link is not ready")
def _ipv6_not_ready(m: re.Match[str], p: Prefix) -> MessageMatch:
    """IPv6 "ADDRCONF(NETDEV_UP): eth0: link is not ready": an interface up without carrier."""
    return _no_driver(link(m, p, EventKind.OTHER, detail="link is not ready"))


def _no_driver(match: MessageMatch) -> MessageMatch:
    """The prefix "IPv6: " before ADDRCONF names the subsystem that speaks, not the link's driver."""
    return replace(match, driver=None)

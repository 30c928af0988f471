"""Recognisers of the drivers in SoC vendors' SDKs and devices' GPL drops, found by the second
survey of drivers outside mainline Linux (corpus/driver_survey_oot2.md): words no mainline
driver and no family rule uses. They run after the surveyed mainline drivers' rules and before
the generic recogniser.
"""

from __future__ import annotations

import re

from linkctl.domain.events import EventKind
from linkctl.logs.recognise import (
    Details,
    MessageMatch,
    Prefix,
    Rule,
    details_of,
    duplex,
    link,
    mbps,
    registrar,
    state,
)

RULES: list[Rule] = []
rule = registrar(RULES)

# The LSDK's MAC drivers report a PHY's state with a speed and duplex from their own tables:
# "1000Mbps full duplex", "100Mbps half".
_LSDK_MODE = re.compile(r"(?P<speed>10|100|1000)Mbps (?P<dup>full|half)\b")
# Their MODULE_NAMEs; athrs_gmac's link poll prints its timer file's. Only these open the report: "unit
# 0 is down..." after another tag is a disk array's or a daemon's ("RAID5: ", "systemd: ").
_LSDK_DRIVERS = {"AG7100": "ag7100", "AG7240": "ag7240", "ATH_MAC_TIMER": "athrs_gmac"}
_LSDK_TAG = re.compile(r"AG\d{4}|ATH_MAC_TIMER")


@rule(
    r"(?:(?P<tag>[A-Z][A-Z0-9_]*[A-Z0-9]): ?)?"
    r"(?:(?:enet )?unit[: ](?P<unit>\d+)(?: phy[: ](?P<phy>\d+))?(?: phy)? is (?P<st>up|down)\.\.\.(?P<rest>.*)"
    r"|unit (?P<dunit>\d+): phy (?:(?P<dphy>\d+) )?not up carrier \d+)$"
)
def _atheros_lsdk(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """The Atheros/Qualcomm LSDK's MAC drivers (ag7100, ag7240, athrs_gmac; TP-Link, Netgear,
    D-Link firmware on AR71xx to QCA95xx), printk with their MODULE_NAME and the MAC's unit,
    never a netdev: ag7100 "AG7100: unit 0 phy is up...RGMii 1000Mbps full duplex", "AG7100:
    unit 0: phy not up carrier 1"; ag7240 "AG7240: enet unit:1 phy:0 is up...GMii 100Mbps full
    duplex", "... is down...", "AG7240:unit 1: phy 0 not up carrier 1"; athrs_gmac
    "ATH_MAC_TIMER: enet unit:0 is up..." (its mode on the next line)."""
    tag = m["tag"] or p.token
    if tag is None or not _LSDK_TAG.fullmatch(tag):
        return None  # the module's name always comes first; "unit 3 is up..." alone is a sentence
    unit = m["unit"] or m["dunit"]
    phy = m["phy"] or m["dphy"]
    where = f"unit {unit}" + (f" phy {phy}" if phy else "")
    driver = _LSDK_DRIVERS.get(tag, tag.lower())
    if m["dunit"] or m["st"] == "down":
        return MessageMatch(EventKind.LINK_DOWN, None, driver, None, detail=where)
    mode = _LSDK_MODE.search(m["rest"])
    speed = mbps(mode["speed"]) if mode else None
    return MessageMatch(
        EventKind.LINK_UP, None, driver, None, speed, duplex(mode["dup"]) if mode else None, detail=where
    )


@rule(r" ?(?P<speed>\d+) Mbps (?P<dup>Full|Half) duplex, port +\d+, (?:queue +\d+|POW)$")
def _octeon(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """Cavium's Octeon SDK ethernet driver (and the staging octeon-ethernet), only when the link
    comes up: "eth0: 1000 Mbps Full duplex, port  0, queue  0" ("..., POW" without a queue); down
    is "eth0: Link down" (the generic rule)."""
    name = p.ifname or p.token
    if name is None or not any(c.isdigit() for c in name):
        return None  # its netdevs are numbered (eth0, xaui0, agl0); "Bitrate: ..." is no link
    return link(m, p, EventKind.LINK_UP, Details(mbps(m["speed"]), duplex(m["dup"])))


@rule(r"port (?P<no>\d+) (?P<st>got|lost) link$")
def _lantiq_xrx200(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """OpenWrt's old lantiq xrx200 driver (VR9 before its mainline rewrite), netdev_info per
    switch port: "lantiq,xrx200-net 1e108000.eth eth0: port 4 got link", "... lost link"."""
    if p.ifname is None:
        return None
    kind = EventKind.LINK_UP if m["st"] == "got" else EventKind.LINK_DOWN
    return link(m, p, kind, detail=f"port {m['no']}")


@rule(r"(?P<lead>(?:LAN|WAN|Port|port|PHY|phy)\d{1,2}) link (?P<st>up|down)(?P<rest>, \d.*)?$")
def _numbered_port(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """A switch port's label glued to its number before "link", after the netdev: a BCM6838
    Runner driver's "eth0: LAN1 link up, 1000 full duplex", "eth0: LAN2 link down". (The generic
    rule reads "LAN1" as a link's name there.)"""
    if p.ifname is None and p.token is None:
        return None
    kind = state(m["st"])
    details = details_of(m["rest"]) if kind is EventKind.LINK_UP and m["rest"] else None
    return link(m, p, kind, details, detail=m["lead"])


@rule(r"et(?P<unit>\d+) Link (?P<st>Up|Down)(?:: (?P<speed>\d+)(?P<dup>FD|HD))?$")
def _broadcom_et(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """Broadcom's router SDK et driver in a vendor's drop, at KERN_DEBUG beside its "et0: link
    up (1000FD)": "et0 Link Up: 1000FD"."""
    if p.token is not None or p.driver is not None:
        return None
    speed = mbps(m["speed"])
    return MessageMatch(state(m["st"]), f"et{m['unit']}", None, None, speed, duplex(m["dup"]))

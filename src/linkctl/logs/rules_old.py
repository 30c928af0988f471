"""Recognisers of the 2.0-2.4 kernels' drivers (1996-2004), found by the third survey of the
drivers' format strings (corpus/driver_survey_2x.md): words of their own that no later driver
kept. The transmit checks those drivers ran from their own timers before the stack's watchdog
(2.3.x) did it for them are in the families of rules_nic.py ("Tx hung", ewrk3's "timed/locked
out"), the 10BASE-T link beat in rules_drivers.py, sk98lin's "network connection" beside
cdc_ncm's in rules_nic.py.
"""

from __future__ import annotations

import re

from linkctl.domain.events import EventKind
from linkctl.logs.recognise import Details, MessageMatch, Prefix, Rule, duplex, link, mbps, registrar

RULES: list[Rule] = []
rule = registrar(RULES)


def _names_a_netdev(p: Prefix) -> bool:
    """These drivers printed "%s: ", dev->name alone: the prefix's netdev, or a lone numbered
    "WORD: " ("eth0: "), never another program's word."""
    return p.ifname is not None or (p.token is not None and any(c.isdigit() for c in p.token))


@rule(r"CU (?:(?i:wedged)|has died!?)(?:[,.!]|\s|$)")
def _command_unit(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """The Intel i82586's command unit, the part that sends (eexpress, from 2.0 to 2.4): "eth0: CU
    wedged, status 0040 0000, resetting..." when the queue stopped with nothing sent, "eth0: CU has
    died! status 0000 0000, attempting to restart..." when the stack found it dead (2.0-2.2). The
    case is left open: reports of 1997's eepro100, an i82557 of the same command-unit design, give
    it as "CU Wedged, Status ..., Resetting...", in no source the survey could read."""
    if not _names_a_netdev(p):
        return None
    return link(m, p, EventKind.TX_TIMEOUT, detail="command unit stuck")


@rule(r"Link changed: (?P<speed>\d+)Mbps, (?P<dup>full|half) duplex$")
def _sundance(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """sundance (D-Link DFE-550/580) on its link-change interrupt with autonegotiation on: "eth0:
    Link changed: 100Mbps, full duplex" (a continued printk), the common abilities of both ends. In
    2.4 its only report of a link up (a link down leaves them empty: "Link changed: " alone); from
    2.6 it follows "Link up", whose event it repeats. The forced mode's "Link changed: 100Mbps
    ,full duplex." names the configured speed whatever the link does: no event (driver_survey.md)."""
    if not _names_a_netdev(p):
        return None
    return link(m, p, EventKind.LINK_UP, Details(mbps(m["speed"]), duplex(m["dup"])))


@rule(r"MII #(?P<phy>\d+) (?:reports no (?P<down>link)\. Disabling|link is back\. Enabling) watchdog\.?$")
def _winbond_840(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """winbond-840 (2.4 update_link), when the PHY's link status changes: "eth0: MII #1 reports
    no link. Disabling watchdog." (carrier off, and with it the stack's transmit watchdog),
    "eth0: MII #1 link is back. Enabling watchdog."."""
    if not _names_a_netdev(p):
        return None
    kind = EventKind.LINK_DOWN if m["down"] else EventKind.LINK_UP
    return link(m, p, kind, detail=f"MII #{m['phy']}")


@rule(r"Link is (?:(?P<speed>\d+) mbit|(?P<absent>absent))$")
def _xircom_cb(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """xircom_cb (Xircom CardBus, 2.4) prints its own name, never the netdev's: "xircom_cb: Link is
    100 mbit", "xircom_cb: Link is absent" (both with a space before the newline, which a log keeps
    or not). A speed of 0 is no link."""
    if p.token != "xircom_cb" and p.ifname is None:
        return None
    speed = mbps(m["speed"])
    if m["absent"] or not speed:
        kind, details = EventKind.LINK_DOWN, None
    else:
        kind, details = EventKind.LINK_UP, Details(speed_mbps=speed)
    if p.ifname is None:
        return MessageMatch(kind, None, "xircom_cb", None, speed_mbps=details.speed_mbps if details else None)
    return link(m, p, kind, details)

"""The generic recogniser and its guards: "<ifname>: link up" in any driver's words, taken
only where the reading names a netdev (see the guards below); it runs after every family's
own rules.
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
    not_a_program,
    other_device,
    plausible_driver,
    prose_after,
    registrar,
    state,
)

RULES: list[Rule] = []
rule = registrar(RULES)

# --- the generic recogniser ----------------------------------------------------------
# Many drivers print "<ifname>: link up" in words of their own. The generic rule takes
# them, kept from other programs' and subsystems' sentences by four guards: the link is
# named by the device prefix (a netdev's name, at most IFNAMSIZ-1 characters, not a
# subsystem's tag); between the name and "link" come only a few switch-port words or
# bracketed notes ("port 3 ", "(Int switch port: 3) "); the state is the last word or is
# followed by details (", 1000 Mbps", " (1000Mbps/Full duplex)", " at ...", " - ..."), never
# by a further word ("userif-3: sent link down event."); and it runs after every driver's
# own rule, so it only ever adds.

# acenic "Optical link UP", "10/100BaseT link UP"; cassini/sungem "PCS link down".
_LEAD_WORD = (
    r"(?:(?:[Pp]ort|PHY|phy|NIC|[Cc]opper|[Ff]ibre|[Ff]iber|SFP\+?|WAN|LAN|Device|[Oo]ptical|PCS)(?: ?\d+)?:? "
    r"|\d+(?:/\d+)*Base-?T\w* |\([^()]{1,48}\) "
    # A PHY driver's "%s, link down" with its function's name (motorcomm "yt8521_read_status, ").
    r"|[a-z][a-z0-9]*_\w+, )"
)
# How the state is said: "Link is now up at 100baseT" (sunbmac), "PCS link is now down" (sungem),
# "link now down." (ns83820), "Link has been forced up using ..." (sunhme), "link forced UP -
# 100/full" (bcm63xx_enet).
_HOW = r"(?:(?:is |IS )?(?:now )?|has been forced |forced )"
# "on"/"off" only alone or before a speed: dl2k "Link off", ksz884x "link on", sis190 "link on
# 100 Mbps Full Duplex mode"; never before a word ("link on eth0").
_ON_OFF = r"(?P<sw>[Oo]n|[Oo]ff)(?P<swrest>\.?| \d.*)$"
# A driver that names the link in its body, after a device prefix without one: atl1's
# "atl1 0000:03:00.0: eth0 link is up 100 Mbps full duplex". A netdev's name with a digit.
_BODY_IFNAME = r"(?:(?P<ifn>[A-Za-z][\w.\-@]{0,13}\d[\w.\-@]{0,13}) )?"
_BUS_ADDRESS = re.compile(r"[:.]")
# A PHY's device: its MDIO bus and address ("stmmac-0:03", "mdio.0:00", "r8169-0-200:00").
_PHY_ADDRESS = re.compile(r"[\w.\-]+:[0-9a-fA-F]{2}")
_IFNAMSIZ = 16
# Words that end in ": " before "link down" in other programs' sentences, never a netdev.
_LABEL_WORDS = re.compile(
    r"error|err|warning|warn|info|notice|note|debug|crit|critical|fatal|alert|emerg|panic|bug"
    r"|status|state|result|event|ok|fail|failed|link|true|false|yes|no",
    re.IGNORECASE,
)


def plausible_ifname(name: str) -> bool:
    """A netdev's name as a lone "WORD: " can give it: shorter than IFNAMSIZ, neither a
    subsystem's tag ("ata1", "mmc0", "nvme0") nor a label word ("ERROR", "Note")."""
    return len(name) < _IFNAMSIZ and not other_device(name) and not _LABEL_WORDS.fullmatch(name)


@rule(
    rf"{_BODY_IFNAME}(?P<lead>{_LEAD_WORD}{{0,3}})(?:[Ll]ink|LINK) {_HOW}(?:(?P<st>up|down|Up|Down|UP|DOWN)"
    r"(?P<rest>[.!?]?|[.!]? *\(.*|[,:;].*| at .*| - .*| \d.*| using .*| on (?P<on>\w+)(?:,.*)?)$"
    rf"|{_ON_OFF})"
)
def _generic_link(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """ "eth0: link up (1000Mbps/Full duplex)" (ag71xx), "eth0: link up, 100Mbps, full-duplex,
    lpa 0x45E1" (mii), "swp7: Link up at 1000 Mbps, full-duplex", "eth1: port 3 link up",
    "et0: link up (1000FD)" (Broadcom's et), "eth0: link up (1000/Full)" (old macb), gve's
    "Device link is up.", atl1's "eth0 link is up 100 Mbps full duplex" after its device;
    the older drivers' "eth0: Link is now up at 100baseT.", "eth0: Link off", "Optical link
    DOWN", "link UP on port0, 1000Mbps, full-duplex" (the survey in corpus/driver_survey.md)."""
    rest = m["rest"] if m["st"] else m["swrest"]
    if (m["ifn"] and not _names_in_body(p) and not _opens_with_netdev(m, p)) or prose_after(rest):
        return None
    name = m["ifn"] or p.ifname or p.token
    phy = p.bus_id is not None and _PHY_ADDRESS.fullmatch(p.bus_id) is not None
    if name is None and p.driver is not None and p.bus_id is not None and (m["on"] or "ort" in m["lead"] or phy):
        # A switch's or an adapter's device names its port, no netdev: bcm63xx_enetsw "link UP
        # on port0", cxgb4 "cxgb4 0000:02:00.4: Port 0 link down, reason: Link Down"; a PHY
        # names its MDIO address ("YT8521 Gigabit Ethernet stmmac-0:03: ..."), no netdev either.
        name = ""
    if name is None or (name and not plausible_ifname(name)):
        return None
    kind = state(m["st"] or m["sw"])
    details = details_of(rest) if kind is EventKind.LINK_UP else None
    lead = m["lead"].strip() or (f"port {m['on']}" if m["on"] else None)
    found = link(m, p, kind, details, detail=lead)
    if p.token is not None and p.ifname is None and m["ifn"] is None:
        # A lone "WORD: " before the body is the link here, never its driver.
        found = replace(found, ifname=p.token, driver=None)
    return found


# --- the vendors' word orders ---------------------------------------------------------
# The same report in an order of the vendor's own: capitals and "now" (an Atheros SDK's "LINK NOW
# UP"), a state's noun and a verb (the IgH EtherCAT master's "EtherCAT 0: Link state of ecm0 changed
# to UP.", whose EC_MASTER_INFO prefix, a bare number, no device prefix takes; qlcnic's 83xx
# firmware "link state down"; "eth1: link status: down"), and a speed and duplex alone after "Link
# now" ("eth0: Link now 100-FullDuplex": up). The generic rule's guards hold: a netdev named by the
# prefix or after "of", and details or nothing after the state.
_NOUN = r"(?:[Ss]tate|[Ss]tatus|STATE|STATUS)"
_VERB = r"(?: (?:has )?(?:changed|CHANGED) to| (?:is |IS )?(?:now|NOW)| is| IS|:)?"
_VENDOR_STATE = (
    rf"(?: {_NOUN}(?: of (?P<ofn>{IFN}))?{_VERB}|(?: IS)? NOW) (?P<st>up|down|Up|Down|UP|DOWN)"
    r"(?P<rest>[.!]?|[.!]? *[(\[].*|[,:;].*| - .*| \d.*)"
)
_NOW_SPEED = r" (?:is )?now (?P<speed>\d+)(?:M|Mb|Mbps|Mbit)?[-/ ](?P<dup>[Ff]ull|[Hh]alf)[- ]?[Dd]uplex\b(?P<drest>.*)"


@rule(rf"(?:(?P<ec>EtherCAT) \d+: )?(?P<lead>{_LEAD_WORD}{{0,2}})(?:[Ll]ink|LINK)(?:{_VENDOR_STATE}|{_NOW_SPEED})$")
def _vendor_order(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    if prose_after(m["rest"] or m["drest"] or ""):
        return None
    if bool(m["ofn"]) != bool(m["ec"]) or ("changed" in m[0] and not m["ofn"]):
        # Only the EtherCAT master names the link after "of", and only it says "changed to" in a
        # Linux log: "em0: link state changed to DOWN" is the BSDs' kernel (if_link_state_change),
        # "Link state of eth0 changed to UP" without the master's prefix a daemon's or a sentence's.
        return None
    name = m["ofn"] or p.ifname or p.token
    if name is None and p.driver is not None and p.bus_id is not None and plausible_driver(p.driver):
        name = ""  # an adapter's device names no netdev (qlcnic "qlcnic 0000:04:00.0: link state down")
    if name is None or (name and not plausible_ifname(name)):
        return None
    kind = EventKind.LINK_UP if m["speed"] else state(m["st"])
    details: Details | None = None
    if m["speed"]:
        details = Details(mbps(m["speed"]), duplex(m["dup"]))
    elif kind is EventKind.LINK_UP:
        details = details_of(m["rest"])
    found = link(m, p, kind, details, detail=m["lead"].strip() or None)
    if m["ofn"]:
        found = replace(found, ifname=m["ofn"], driver=m["ec"])
    return found


# The names Linux gives netdevs by itself ("eth0", predictable "enp1s0", "eno1", "wlp2s0", "wwan0"),
# which a driver may print first with no colon: tn40xx "enp1s0 Link Up 10G".
_LINUX_IFNAME = re.compile(r"eth\d+|en[ospx]\w*\d\w*|wl[ospx]\w*\d\w*|ww[ospx]\w*\d\w*|wwan\d+")


def _opens_with_netdev(m: re.Match[str], p: Prefix) -> bool:
    """The message opens with a name Linux gives a netdev, with no prefix before it or only a
    driver's "DRIVER: " (older bna's pr_warn "bna: enp1s0f2 link up")."""
    tagged = p.token is not None and plausible_driver(p.token) and not_a_program(p.token)
    bare = p.driver is None and p.ifname is None and p.bus_id is None and (p.token is None or tagged)
    return bare and m.start() == 0 and _LINUX_IFNAME.fullmatch(m["ifn"]) is not None


def _names_in_body(p: Prefix) -> bool:
    """Only a network driver's device prefix ("atl1 0000:03:00.0: ") without a link's name
    leaves the body to name the link."""
    if p.bus_id is None or p.driver is None or p.ifname is not None:
        return False
    return _BUS_ADDRESS.search(p.bus_id) is not None and plausible_driver(p.driver)


# Interfaces named by a BSD driver and its unit (FreeBSD's axgbe "ax0: Link is DOWN", "re0", "ix0",
# "vtnet0"): another system's log. Stems Linux also names by (eth, em, et, wlan, vlan, tap, br...)
# are not here.
_BSD_IFNAME = re.compile(
    r"(?:igb|igc|ix|ixl|ixv|ice|re|rge|bge|bce|bxe|vtnet|vio|vmx|hn|xn|mlxen|mce|cxl|oce|qlnxe|ax|axe|axge"
    r"|ue|ure|cdce|msk|nfe|fxp|rl|vr|xl|alc|ale|age|nge|sge|stge|vge|bfe|cas|hme|lagg|epair|dwc|awg|cgem"
    r"|dtsec)\d+"
)


# A device-tree node with its unit address, as U-Boot's driver model and Zephyr name a device
# ("ethernet@ff540000", "dm9051@0"): Linux names a platform device the other way round
# ("ff540000.ethernet") and never a netdev so.
_DT_UNIT_NAME = re.compile(r"[A-Za-z][\w\-]*@[0-9a-fA-F]+(?:,[0-9a-fA-F]+)*")


def names_a_netdev(found: MessageMatch, prefix: Prefix) -> bool:
    """False when the only link the reading gives is another subsystem's device, a word or another
    system's interface: "ERROR: link down", "mmc0: link up", "sd 0:0:0:0: link down", "ax0: ...",
    "dm9051@0: Link down"."""
    if found.ifname is not None and prefix.driver is None and _BSD_IFNAME.fullmatch(found.ifname):
        return False
    if found.ifname is not None and "@" in found.ifname and _DT_UNIT_NAME.fullmatch(found.ifname):
        return False
    if found.ifname is not None and found.ifname == prefix.token:
        return plausible_ifname(found.ifname)
    if found.ifname is None and prefix.driver is not None:
        return plausible_driver(prefix.driver)
    return True

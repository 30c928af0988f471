"""Recognisers of the drivers whose words are their own, found by surveying Linux 6.12's
format strings (corpus/driver_survey.md): link changes no family's wording covers, and the
transmit timeouts reported in the middle of a driver's sentence.
"""

from __future__ import annotations

import re

from linkctl.domain.events import EventKind
from linkctl.logs.capture_paste import QUOTES
from linkctl.logs.recognise import (
    COUNTER_VALUE,
    IFN,
    Details,
    MessageMatch,
    Prefix,
    Rule,
    duplex,
    flow_control,
    link,
    mbps,
    plausible_driver,
    registrar,
    speed_mbps,
    state,
)

RULES: list[Rule] = []
rule = registrar(RULES)


@rule(r"link now (?P<speed>\d+) mbps, (?P<dup>full|half) duplex and up\.$")
def _ns83820(m: re.Match[str], p: Prefix) -> MessageMatch:
    """ns83820 (NatSemi DP83820 gigabit): "eth0: link now 1000 mbps, full duplex and up."; down
    is "link now down." (the generic rule)."""
    return link(m, p, EventKind.LINK_UP, Details(mbps(m["speed"]), duplex(m["dup"])))


@rule(
    r"cgx (?:(?P<cgx>\d+): lmac (?P<lmac>\d+) Link status (?P<st>UP|DOWN)"
    r"|port (?P<pcgx>\d+):(?P<plmac>\d+) Link is (?P<pst>UP|DOWN) (?P<speed>\d+) Mbps)$"
)
def _octeontx2_cgx(m: re.Match[str], p: Prefix) -> MessageMatch:
    """Marvell OcteonTX2/CN10K's admin function reports its physical ports (a CGX block's
    LMAC), which no netdev names: rvu_af "cgx 0: lmac 1 Link status UP", the CGX driver "cgx
    port 0:1 Link is UP 10000 Mbps"."""
    kind = state(m["st"] or m["pst"])
    speed = mbps(m["speed"]) if kind is EventKind.LINK_UP else None
    where = f"cgx {m['cgx'] or m['pcgx']} lmac {m['lmac'] or m['plmac']}"
    return MessageMatch(kind, None, p.driver, p.bus_id, speed_mbps=speed or None, detail=where)


@rule(
    rf"(?:(?P<ifn>{IFN}): )?phy link (?P<st>UP|DOWN) (?P<mode>[\w\-]+)/(?P<speed>[^/\s]+)/"
    r"(?P<dup>Full|Half|Unknown)/(?P<fc>rx/tx|rx|tx|off)$"
)
def _bcm63xx_phy_link(m: re.Match[str], p: Prefix) -> MessageMatch:
    """OpenWrt's bcm6348-enet and bcm6368-enetsw (bmips): "eth0: phy link UP mii/100Mbps/Full/off"
    after the device's prefix: the PHY's mode, speed, duplex and pause, in both states."""
    details = Details(speed_mbps(m["speed"]), duplex(m["dup"]), flow_control(m["fc"]))
    return link(m, p, state(m["st"]), details)


@rule(r"(?:link \+ intf (?P<hinic>UP)|HINIC_Link is (?P<event>UP|DOWN)|Link Event: state (?P<dpaa2>up|down))$")
def _state_words(m: re.Match[str], p: Prefix) -> MessageMatch:
    """hinic "link + intf UP" (the carrier goes on when both are) and, on the firmware's link
    event, "HINIC_Link is UP" / "HINIC_Link is DOWN"; dpaa2-eth "Link Event: state up" / "state
    down"."""
    return link(m, p, state(m["hinic"] or m["event"] or m["dpaa2"]))


@rule(
    r"(?:Link (?:auto-negotiation|forced) speed (?P<speed>\d+|unknown)M bps (?P<dup>full|half|unknown) duplex"
    r"|(?P<down>failed to detect cable link))$"
)
def _via_velocity(m: re.Match[str], p: Prefix) -> MessageMatch:
    """via-velocity: "Link auto-negotiation speed 1000M bps full duplex", "Link forced speed
    100M bps half duplex"; "failed to detect cable link" when the carrier is gone."""
    if m["down"]:
        return link(m, p, EventKind.LINK_DOWN)
    speed = mbps(m["speed"]) if m["speed"].isdigit() else None
    return link(m, p, EventKind.LINK_UP, Details(speed, duplex(m["dup"])))


@rule(
    r"(?:(?P<st>lost|found) link beat"
    r"|No (?:(?P<chip>21041) (?P<media>10baseT) )?link beat(?: found|, Media switched to (?P<to>[\w\-]+))\.?)$"
)
def _link_beat(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """The PCMCIA cards' 10BASE-T link pulse (3c589_cs, 3c574_cs, axnet_cs, pcnet_cs,
    smc91c92_cs): "3c589_cs 0.0 eth0: lost link beat", "found link beat"; older kernels printed
    "eth0: lost link beat" with the netdev's name alone. The 2.2 tulip's media timer
    (corpus/driver_survey_2x.md) on the 21040 "eth0: No link beat found.", on the 21041 "eth0:
    No 21041 10baseT link beat, Media switched to 10base2." (it then tries the other port)."""
    if p.ifname is None and not (p.token and any(c.isdigit() for c in p.token)):
        return None
    if m["st"] is None:
        where = f"{m['chip']} {m['media']}" if m["chip"] else None
        return link(m, p, EventKind.LINK_DOWN, detail=where)
    return link(m, p, EventKind.LINK_UP if m["st"] == "found" else EventKind.LINK_DOWN)


@rule(rf"(?:Link (?P<st>active|inactive)\b(?P<rest>.*)|(?P<ifn>{IFN}) has (?P<old>lost|reestablished) link)$")
def _tlan(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """tlan (TI ThunderLAN: Compaq Netelligent/NetFlex): "Link active, Autonegotiation
    enabled, 100Mbps Full-Duplex", "Link active", "Link inactive, will retry in 10 secs...";
    its PHY monitor "TLAN: eth0 has lost link", "TLAN: eth0 has reestablished link"."""
    if m["old"]:
        if p.token != "TLAN":  # its PHY monitor's own tag; "Router has lost link" is a sentence
            return None
        return link(m, p, EventKind.LINK_DOWN if m["old"] == "lost" else EventKind.LINK_UP)
    if p.ifname is None:
        return None
    if m["st"] == "inactive":
        return link(m, p, EventKind.LINK_DOWN)
    speed = re.search(r"(?P<sp>\d+)Mbps (?P<dup>Full|Half)-Duplex", m["rest"])
    details = Details(mbps(speed["sp"]), duplex(speed["dup"])) if speed else None
    return link(m, p, EventKind.LINK_UP, details)


@rule(r"Device MAC [0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5} link state (?P<st>up|down)$")
def _hv_netvsc(m: re.Match[str], p: Prefix) -> MessageMatch:
    """Hyper-V's netvsc (rndis_filter.c; netdev_info in older kernels, netdev_dbg since) when the
    host reports the synthetic NIC's link: "hv_netvsc 5117b2d3-d33f-4a02-882a-c7137c41de6d: Device
    MAC 00:15:5d:01:65:1d link state up", after the VMBus device's GUID (or the netdev's name)."""
    return link(m, p, state(m["st"]))


@rule(r"GMAC Link is (?P<st>up|down)(?: with phy_speed=(?P<speed>-?\d+))?$")
def _ess_edma(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """OpenWrt's ipq40xx essedma (Qualcomm IPQ40xx's ESS EDMA), after the platform device and the
    netdev it names: "ess-edma c080000.edma: eth0: GMAC Link is up with phy_speed=1000", "...
    eth1: GMAC Link is down"; the PHY's speed, -1 when unknown, no duplex."""
    if p.ifname is None:
        return None
    speed = mbps(m["speed"])
    return link(m, p, state(m["st"]), Details(speed_mbps=speed if speed and speed > 0 else None))


# --- transmit timeouts said within a sentence -------------------------------------------
# The words anywhere in the body, after a device's prefix: tulip "21140 transmit timed out,
# status ...", yellowfin/hamachi "Yellowfin transmit timed out at ...", r8169 "ASPM disabled on
# Tx timeout", idpf "Detected Tx timeout: Count 1, Queue 3", ice/fm10k "Fake Tx hang detected
# ...", davinci_emac "DaVinci EMAC: xmit timeout, restarting TX", nfp "TX watchdog timeout on
# ring: 3", sfc/myri10ge "TX stuck", acenic "Transmitter is stuck", et131x "Send stuck - reset",
# gve "Timeout on tx queue, 3", ena "TX q 3 is paused for too long", the handler's own name
# (au1000 "au1000_tx_timeout: dev=...", 7990 "lance_tx_timeout"), qede's "[qede_tx_timeout:596
# (ens1f0)]TX timeout on queue 3!".
_TX_ANYWHERE = (
    rf"(?:\[\w+:\d+\((?P<ifn>{IFN})?\)\])?(?P<pre>.{{0,80}}?)(?<![\w-])"
    r"(?P<words>(?i:transmit(?:ter)?|tx|xmit(?:ter)?)[ _](?i:watchdog )?(?i:timed out|time ?out|hang)\b"
    r"|[a-z0-9]+(?:_[a-z0-9]+)*?_tx_timeout\b|(?i:transmitter|tx)(?: is)? stuck\b|Send stuck\b|Timeout on tx queue\b"
    r"|TX q \d+ is paused for too long)(?P<rest>.*)$"
)
# A setting's sentence, never a report: "tx timeout set to 5000 ms", "transmit timeout is 5 s";
# a halt's or a timestamp's timeout is no queue's ("BUG: halt tx timed out").
_TX_SETTING = re.compile(r"(?i)\b(?:set|setting|default|configured?|value|param\w*|watchdog_timeo)\b")
_TX_VALUE_AFTER = re.compile(r"(?:\s+\w+)?\s+(?:is|was|of|to)\b|\s*=")
# A lone "WORD: " (no digit) is another program's unless the driver says what it does next:
# mace/bmac "mace: transmit timeout - resetting".
# A commit's subject ("r8169: disable ASPM in case of tx timeout", "net: hns3: fix a TX timeout issue",
# a changelog's lines): an imperative first word, which no driver's report starts with. Found by
# running the recognisers over the Debian kernel changelog (corpus/README.md, seventh round).
_COMMIT_VERB = re.compile(
    r"(?i:fix(?:es)?|add|avoid|disable|enable|take|use|make|remove|drop|handle|prevent|move|rework|refactor"
    r"|support|allow|implement|introduce|correct|improve|revert|convert|replace|restore|increase|decrease"
    r"|rename|clean ?up|simplify|ensure|skip|update|limit|ignore|don't|do not)\b"
)
# The drivers that print "NAME: transmit timeout - resetting" with their own name alone (Apple's mace
# and bmac); another program's "ssh: transmit timeout - resetting" is not one.
_RESETTING_DRIVERS = frozenset({"mace", "bmac"})
_TX_RESETTING = re.compile(r"\s*[-,]+\s*(?:resetting|reset)\b")
# The handler's name alone is its own trace: 7990 "lance_tx_timeout", OpenWrt's realtek target
# "rtl838x_eth_tx_timeout" (pr_warn of __func__), older "in rtl838x_eth_tx_timeout" and "in
# rtl838x_eth_tx_timeout 81234560" (its private data's address).
_HANDLER_REST = re.compile(r"(?: [0-9a-f]{8,16})?")


@rule(_TX_ANYWHERE)
def _tx_timeout_within(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    body = p.body
    pre, rest = m["pre"], m["rest"]
    if _TX_SETTING.search(body) or pre.endswith(("halt ", "Disable ")):
        return None
    if _TX_VALUE_AFTER.match(rest) and not pre.endswith("Exceeded "):
        return None
    if COUNTER_VALUE.fullmatch(rest):
        return None  # a statistics dump's counter, "tx_timeout: 2" (ena at a reset)
    if _COMMIT_VERB.match(body) or QUOTES.intersection(pre) or rest.startswith("()"):
        return None  # a commit's subject, a quotation, a function named in prose or code
    if m["ifn"]:
        driver = p.driver or p.token or "qede"
        return MessageMatch(EventKind.TX_TIMEOUT, m["ifn"], driver, p.bus_id, detail="driver tx timeout")
    if not _names_a_network_device(p):
        if not _handler_alone(m, p):
            if not (p.token in _RESETTING_DRIVERS and _TX_RESETTING.match(rest)):
                return None
            # mace/bmac print their own name alone: a driver, no netdev.
            return MessageMatch(EventKind.TX_TIMEOUT, None, p.token, None, detail="driver tx timeout")
    return link(m, p, EventKind.TX_TIMEOUT, detail="driver tx timeout")


def _handler_alone(m: re.Match[str], p: Prefix) -> bool:
    """The handler's name is the whole message, after "in " or in brackets (AVM's ag7240
    "[ag7240_tx_timeout]", printk(KERN_ERR "[%s]\\n", __FUNCTION__))."""
    if p.token is not None or p.driver is not None or not m["words"].endswith("_tx_timeout"):
        return False
    pre, rest = m["pre"], m["rest"]
    if pre == "[":
        return rest == "]"
    return pre in ("", "in ") and _HANDLER_REST.fullmatch(rest) is not None


def _names_a_network_device(p: Prefix) -> bool:
    """A netdev, a numbered lone "WORD: " ("eth0: "), or a network driver's device."""
    if p.ifname is not None or (p.token and any(c.isdigit() for c in p.token)):
        return True
    return p.driver is not None and p.bus_id is not None and plausible_driver(p.driver)

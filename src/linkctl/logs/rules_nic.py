"""Recognisers of the Ethernet drivers' own formats: link up and down with speed, duplex
and flow control (Intel, Broadcom, Mellanox, phylib/phylink, USB adapters...), and the
transmit timeouts (the stack's NETDEV WATCHDOG, the Intel drivers' unit hangs).
"""

from __future__ import annotations

import re

from linkctl.domain.events import EventKind
from linkctl.logs.recognise import (
    COUNTER_VALUE,
    IFN,
    Details,
    MessageMatch,
    Prefix,
    Rule,
    details_of,
    duplex,
    flow_control,
    flow_pair,
    link,
    mbps,
    plausible_driver,
    prose_after,
    registrar,
    speed_mbps,
    state,
)

RULES: list[Rule] = []
rule = registrar(RULES)


@rule(rf"(?:(?P<ifn>{IFN}) )?NIC (?:[A-Z]\w+ ){{0,2}}Link is (?P<st>Up|Down|up|down|UP|DOWN)\b(?P<rest>.*)")
def _nic_link(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """Intel (e1000, e1000e, igb, igc, ixgbe, ixgbevf, i40e, ice, iavf), Broadcom (bnxt_en,
    bnx2x, bnx2), vmxnet3, nfp, qlcnic, atl1c/atl1e and others: "NIC Link is Up 1000 Mbps Full
    Duplex, Flow Control: Rx/Tx", "NIC Link is Up 10 Gbps, Flow Control: RX/TX", "NIC Link is
    Up, 25 Gbps Full Duplex, ...", "NIC Link is up 100 Gbps Full Duplex, Requested FEC: ...",
    "NIC Link is Up Speed is 25 Gbps Full Duplex", "NIC Link is Up, 10000 Mbps full duplex,
    Flow control: ON - receive & transmit", bnx2's "NIC Copper Link is Up, 1000 Mbps full
    duplex, receive & transmit flow control ON" (or "Remote Copper", "SerDes"), atl1c's "NIC
    Link is Up<100 Mbps Full Duplex>"."""
    if prose_after(m["rest"]):
        return None
    kind = state(m["st"])
    if kind is EventKind.LINK_DOWN:
        return link(m, p, kind)
    return link(m, p, kind, details_of(m["rest"]))


@rule(
    r"Link is (?P<st>Up|Down) - (?P<speed>[\w.]+?)(?:bps)?/(?P<dup>\w+)"
    r"(?: \(downshifted\))?(?: - flow control (?P<fc>[\w/]+))?"
)
def _phylib_up(m: re.Match[str], p: Prefix) -> MessageMatch:
    """phylib's phy_print_status and phylink: "Link is Up - 1Gbps/Full - flow control
    rx/tx" (r8169, stmmac, every phylib/phylink MAC); old phylib "Link is Up - 1000/Full"."""
    speed = m["speed"]
    rate = mbps(speed) if speed.isdigit() else speed_mbps(speed)
    details = Details(rate, duplex(m["dup"]), flow_control(m["fc"]))
    return link(m, p, state(m["st"]), details)


@rule(r"(?P<phy>\S+) - Link is (?P<st>Up|Down)(?: - (?P<speed>\d+)/(?P<dup>\w+))?")
def _phylib_old(m: re.Match[str], p: Prefix) -> MessageMatch:
    """phylib before 3.x names the PHY, not the link: "stmmac-0:01 - Link is Up -
    1000/Full", "PHY: 0:01 - Link is Down"."""
    details = Details(mbps(m["speed"]), duplex(m["dup"]))
    return MessageMatch(
        state(m["st"]), None, p.driver, p.bus_id, details.speed_mbps, details.duplex, None, f"phy {m['phy']}"
    )


@rule(r"(?:Link is|LINK IS) (?P<st>Up|Down|up|down|UP|DOWN)\b(?P<rest>.*)")
def _link_is(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """phylib "Link is Down"; tg3/sky2/skge "Link is up at 1000 Mbps, full duplex[, flow
    control both]"; qede "Link is up"; ena-style "link is UP" (see `_link_lower`); in capitals
    ("LINK IS UP") in a few vendor drivers."""
    return _link_with_flow_control(m, p, r"flow control (?P<fc>[\w /&-]+?)\.?$")


@rule(r"NIC Up: (?P<rest>.+)$")
def _alx(m: re.Match[str], p: Prefix) -> MessageMatch:
    """alx (Qualcomm Atheros AR816x/AR817x, Killer E2x00): "NIC Up: 1 Gbps Full", "NIC Up: 100
    Mbps Half"; down is "Link Down" (see `_mellanox`)."""
    return link(m, p, EventKind.LINK_UP, details_of(m["rest"]))


@rule(
    r"network connection(?:: (?P<st>connected|disconnected)"
    r"| (?P<sk>up) using port (?P<port>[A-Z])| (?P<skdown>down))$"
)
def _network_connection(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """cdc_ncm and its kin (huawei_cdc_ncm, cdc_mbim): the device's carrier notification,
    "cdc_ncm 2-1:1.0 wwan0: network connection: connected"; it names the netdev. sk98lin (SysKonnect
    and Marvell Yukon, 2.4 to 2.6.2x, corpus/driver_survey_2x.md) after "%s: ", dev->name: "eth0:
    network connection up using port A" (speed, duplex and flow control follow on lines of their
    own, without the link's name), "eth0: network connection down"."""
    if m["st"]:
        if p.ifname is None:
            return None
        return link(m, p, EventKind.LINK_UP if m["st"] == "connected" else EventKind.LINK_DOWN)
    if p.ifname is None and not (p.token and any(c.isdigit() for c in p.token)):
        return None
    if m["sk"]:
        return link(m, p, EventKind.LINK_UP, detail=f"port {m['port']}")
    return link(m, p, EventKind.LINK_DOWN)


@rule(r"link is (?P<st>UP|DOWN|up|down)\.?$")
def _link_lower(m: re.Match[str], p: Prefix) -> MessageMatch:
    """ena-style "link is UP" / "link is DOWN"."""
    return link(m, p, state(m["st"]))


@rule(r"(?:Link|LINK) (?P<st>Up|Down|up|down|UP|DOWN)(?P<rest> - \d+ [MG]bps)?[.!]?$")
def _mellanox(m: re.Match[str], p: Prefix) -> MessageMatch:
    """mlx4_en "mlx4_en: eth2: Link Up"; mlx5_core "... ens1f0: Link up"; enic "Link UP",
    "Link DOWN"; ionic "Link up - 100 Gbps"; vendor drivers' "LINK UP", "LINK DOWN"."""
    kind = state(m["st"])
    if kind is EventKind.LINK_DOWN or not m["rest"]:
        return link(m, p, kind)
    return link(m, p, kind, details_of(m["rest"]))


@rule(r"link (?P<st>up|down)\b(?P<rest>.*)")
def _link_lower_word(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """sfc "link up at 10000Mbps full-duplex (MTU 1500)", "link down"; cxgb4 "link up,
    10Gbps, full-duplex, Tx/Rx PAUSE"; old r8169 "link up", "link down". A port's link with no
    device before it is U-Boot's ("link up on port 0, speed 100, full duplex"), not the kernel's."""
    if m["rest"].startswith(" on port") and p.driver is None and p.ifname is None and p.token is None:
        return None
    return _link_with_flow_control(m, p, r", (?P<fc>[\w/]+) PAUSE")


def _link_with_flow_control(m: re.Match[str], p: Prefix, fc_pattern: str) -> MessageMatch | None:
    """An up line's speed and duplex from `rest`, its flow control from the driver's own wording;
    None when a sentence goes on after the state."""
    kind = state(m["st"])
    rest = m["rest"]
    if prose_after(rest):
        return None
    if kind is EventKind.LINK_DOWN:
        return link(m, p, kind)
    fc = re.search(fc_pattern, rest)
    return link(m, p, kind, details_of(rest, flow_control(fc["fc"]) if fc else None))


@rule(r"Media Link (?P<st>On|ON|Off|OFF)\b(?P<rest>.*)$")
def _sis900(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """sis900 (SiS 900/7016): "eth0: Media Link On 100mbps full-duplex", "eth0: Media Link Off";
    2.4 kernels wrote "Media Link ON 10mbps half-duplex"."""
    if prose_after(m["rest"]):
        return None
    kind = state(m["st"])
    return link(m, p, kind, details_of(m["rest"]) if kind is EventKind.LINK_UP else None)


# The MACs Linux shares through NC-SI, whose names may stand alone before the message.
_NCSI_DRIVERS = frozenset({"ftgmac100", "stmmac", "phytmac"})


@rule(r"NCSI (?:interface|dev is) (?P<st>up|down)$")
def _ncsi(m: re.Match[str], p: Prefix) -> MessageMatch:
    """A NIC shared through NC-SI (a BMC's sideband: ftgmac100, stmmac, phytmac) reports the NC-SI
    channel's link, which is the netdev's carrier: "ftgmac100 1e660000.ethernet eth0: NCSI
    interface up" (netdev_info; netdev_dbg in later kernels); BMC vendors' trees "ftgmac100: NCSI
    dev is down" (after the driver's name alone: no netdev)."""
    if p.token in _NCSI_DRIVERS:
        return MessageMatch(state(m["st"]), None, p.token, None, detail="NC-SI")
    return link(m, p, state(m["st"]), detail="NC-SI")


@rule(r"carrier (?P<st>on|off)$")
def _r8152(m: re.Match[str], p: Prefix) -> MessageMatch:
    """r8152 "r8152 2-1:1.0 eth0: carrier on" / "carrier off"."""
    return link(m, p, state(m["st"]))


@rule(r"(?:atlantic: )?link change old (?P<old>\d+) new (?P<new>\d+)$")
def _atlantic(m: re.Match[str], p: Prefix) -> MessageMatch:
    """atlantic "atlantic: link change old 1000 new 0": the new speed, 0 when down."""
    new = mbps(m["new"])
    if new == 0:
        return link(m, p, EventKind.LINK_DOWN)
    return link(m, p, EventKind.LINK_UP, Details(speed_mbps=new))


@rule(r"ax88179(?:_178a)? - Link status is: (?P<st>[01])$")
def _ax88179(m: re.Match[str], p: Prefix) -> MessageMatch:
    """ax88179_178a "ax88179 - Link status is: 1"; ASIX's own driver "ax88179_178a - Link status
    is: 1"."""
    kind = EventKind.LINK_UP if m["st"] == "1" else EventKind.LINK_DOWN
    return link(m, p, kind)


@rule(rf"\[\w+:\d+\((?P<ifn>{IFN})?\)\]Link is (?P<st>up|down)$")
def _qede(m: re.Match[str], p: Prefix) -> MessageMatch:
    """qede DP_NOTICE: "[qede_link_update:2381(ens1f0)]Link is up"."""
    driver = "qede" if p.driver is None and p.token is None else (p.driver or p.token)
    return MessageMatch(state(m["st"]), m["ifn"], driver, p.bus_id)


@rule(r"PHY Link (?:up speed: (?P<speed>-?\d+)|is (?P<down>down))$")
def _qca_nss(m: re.Match[str], p: Prefix) -> MessageMatch:
    """Qualcomm's NSS data plane (nss-dp, IPQ807x/IPQ60xx/IPQ50xx routers): "nss-dp
    3a001000.dp1 lan4: PHY Link up speed: 100", "... PHY Link is down". The speed is
    phylib's, -1 when unknown; no duplex is printed."""
    if m["down"]:
        return link(m, p, EventKind.LINK_DOWN)
    speed = mbps(m["speed"])
    return link(m, p, EventKind.LINK_UP, Details(speed_mbps=speed if speed and speed > 0 else None))


@rule(r"Link Speed (?P<speed>\d+), USB (?P<usb>\d+)$")
def _aqc111(m: re.Match[str], p: Prefix) -> MessageMatch:
    """aqc111 (Aquantia/Marvell USB 5G/2.5G adapters) at link up: "aqc111 2-1.1:1.0 eth2:
    Link Speed 2500, USB 3" (the speed in Mbps, the USB generation); it says nothing when
    the link goes down (the carrier drops silently)."""
    return link(m, p, EventKind.LINK_UP, Details(speed_mbps=mbps(m["speed"]) or None), detail=f"USB {m['usb']}")


@rule(r"Line (?P<line>\d+): (?P<mode>xDSL|ADSL|VDSL2|G\.fast) link (?P<st>up|down)\b(?P<rest>.*)$")
def _bcm_xdsl(m: re.Match[str], p: Prefix) -> MessageMatch:
    """Broadcom's xDSL driver (router SDKs): "Line 0: xDSL link down", "Line 0: VDSL2 link
    up, Bearer 0, us=40000, ds=100000", "Line 0: ADSL link up, interleaved, us=..., ds=...".
    The DSL line has no netdev name in the message, and its two rates (kbit/s, up and down
    differing) are no Ethernet link speed: kept in the detail."""
    detail = f"{m['mode']} line {m['line']}"
    rates = re.search(r"us=(?P<us>\d+), ds=(?P<ds>\d+)", m["rest"])
    if rates and state(m["st"]) is EventKind.LINK_UP:
        detail += f", up {rates['us']} kbit/s, down {rates['ds']} kbit/s"
    # A lone "WORD: " before "Line N:" is a tag, never the link (link() would take it for one).
    return MessageMatch(state(m["st"]), None, p.driver or p.token, p.bus_id, detail=detail)


@rule(r"Flow control is (?P<tx>on|off) for TX and (?P<rx>on|off) for RX")
def _tg3_flow(m: re.Match[str], p: Prefix) -> MessageMatch:
    """tg3 prints flow control on its own line after "Link is up"."""
    event = link(m, p, EventKind.OTHER)
    return MessageMatch(
        event.event,
        event.ifname,
        event.driver,
        event.bus_id,
        flow_control=flow_pair(m["tx"], m["rx"]),
        detail="flow control",
    )


@rule(
    rf"NETDEV WATCHDOG: (?P<ifn>{IFN}) \((?P<drv>[^)]*)\): transmit queue (?P<q>\d+) "
    r"timed out(?: (?P<ms>\d+) ms)?"
)
def _watchdog_named(m: re.Match[str], p: Prefix) -> MessageMatch:
    """sch_generic up to 6.6: "NETDEV WATCHDOG: eth0 (e1000e): transmit queue 0 timed out
    [5120 ms]"."""
    return MessageMatch(EventKind.TX_TIMEOUT, m["ifn"], m["drv"] or None, p.bus_id, detail=f"queue {m['q']}")


@rule(rf"NETDEV WATCHDOG: (?P<ifn>{IFN})(?: \((?P<drv>[^)]*)\))?: transmit timed out")
def _watchdog_oldest(m: re.Match[str], p: Prefix) -> MessageMatch:
    """2.6 kernels: "NETDEV WATCHDOG: eth0: transmit timed out", from 2.6.27 with the driver,
    "NETDEV WATCHDOG: eth0 (r8169): transmit timed out"."""
    return MessageMatch(EventKind.TX_TIMEOUT, m["ifn"], m["drv"] or None, p.bus_id)


@rule(
    r"NETDEV WATCHDOG: CPU: (?P<cpu>\d+):? transmit queue (?P<q>\d+) timed out"
    r"(?: (?P<ms>\d+) ms)?"
)
def _watchdog_new(m: re.Match[str], p: Prefix) -> MessageMatch:
    """6.7+: netdev_crit "e1000e 0000:00:19.0 eth0: NETDEV WATCHDOG: CPU: 1: transmit queue 0
    timed out 5120 ms" (a paste that lost the colon after the CPU's number is still it)."""
    return link(m, p, EventKind.TX_TIMEOUT, detail=f"queue {m['q']}")


@rule(rf"NETDEV WATCHDOG:(?: CPU: \d+:?| (?!transmit\b|CPU:)(?P<ifn>{IFN})(?: \((?P<drv>[^)]*)\)?)?:?)?(?: |$)")
def _watchdog_cut(m: re.Match[str], p: Prefix) -> MessageMatch:
    """dev_watchdog is the only writer of "NETDEV WATCHDOG: ", so a line of it cut short (a mail
    client's wrap, a page's ellipsis) or with a part left out is still its report: "NETDEV
    WATCHDOG: eth0 (e1000e): transmit", "NETDEV WATCHDOG: CPU: 3: transmit queue 0", "eno1:
    NETDEV WATCHDOG: transmit queue 0 timed out" (the link is the prefix's, not "transmit")."""
    found = link(m, p, EventKind.TX_TIMEOUT, detail="watchdog, line cut")
    return found if not m["drv"] else MessageMatch(found.event, found.ifname, m["drv"], p.bus_id, detail=found.detail)


# A driver's own transmit-timeout handler (ndo_tx_timeout) or hang check, in its words: tg3,
# b44, gem, cassini "transmit timed out, resetting", the LANCE family "transmit timed out,
# status 07fb, resetting", 8139cp/8139too/sis900 "Transmit timeout, status ...", cpsw
# "transmit timeout, restarting dma", ena "Transmit time out", mlx5, mlx4, virtio_net and
# qede "TX timeout on queue: 0, ...", bnxt_en "TX timeout detected, starting reset task!",
# mlx5 "TX timeout detected", r8152 "Tx timeout", sky2 and ag71xx "tx timeout", vmxnet3 "tx
# hang", ixgbe "tx hang 1 detected on queue 3, resetting adapter" and "initiating reset due to
# tx timeout", i40e and ice "tx_timeout: VSI_seid: ..." and "tx_timeout recovery level 1,
# txqueue 3", hns3 "tx_timeout count: 1, ...", forcedeth "Got tx_timeout. irq status: ...".
# The 2.x kernels' drivers checked their transmits from their own timers (corpus/
# driver_survey_2x.md): tulip, xircom_tulip_cb and epic100 "Tx hung, 15 vs. 9." (the ring's
# indices), ewrk3 "transmit timed/locked out, status 0000, resetting.".
# What follows the words must be the report's own (a comma, a colon, "detected", "on
# queue"...), never a setting's ("tx timeout set to 5 s").
_TX_WORDS = r"(?i:transmit|tx)[ _](?i:timed out|time ?out|hang|hung|timed/locked out)"
_TX_AFTER = r"(?:[.!]?$|[,:!(#]|\. |\s*-\s|\s+(?:\d+ )?(?:detected|on queue|recovery|count|triggered|occurred))"


@rule(rf"(?:Got |(?:[Ii]nitiating|[Ss]cheduling) reset due to )?{_TX_WORDS}(?={_TX_AFTER})")
def _tx_timeout_driver(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """Only where the prefix names a netdev or a network driver's device: a lone "WORD: "
    must be a numbered device ("eth0: "), not another program's word ("ssh: ", "upload: ")."""
    rest = p.body[m.end() :]
    if COUNTER_VALUE.fullmatch(rest):
        return None  # a statistics dump's counter, "tx_timeout: 2" (ena at a reset)
    if p.ifname is None and not (p.token and any(c.isdigit() for c in p.token)):
        if _I40E_RECOVERY.match(p.body):
            # i40e's own words, whose device prefix a paste lost: none else prints them.
            return link(m, p, EventKind.TX_TIMEOUT, detail="driver tx timeout")
        if p.driver is None or p.bus_id is None or not plausible_driver(p.driver):
            return None
    return link(m, p, EventKind.TX_TIMEOUT, detail="driver tx timeout")


_I40E_RECOVERY = re.compile(r"tx_timeout recovery level \d+(?:, (?:hung_queue|txqueue) \d+)?$")


@rule(r"(?:\w+: )?Detected (?:Tx|Hardware) Unit(?P<hang> Hang| H(?:an?)?:?$|:?$)")
def _unit_hang(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """e1000/igb/ixgbe "Detected Tx Unit Hang", e1000e "Detected Hardware Unit Hang:"; old
    e1000 puts the function name first ("e1000_clean_tx_irq: Detected Tx Unit Hang"); a line
    cut short before its last word ("Detected Hardware Unit") says no less, after a device; and
    only after a device (or old e1000's "e1000: eth0: ") is it the kernel's."""
    numbered = p.token is not None and any(c.isdigit() for c in p.token)  # "eth0: Detected Tx Unit Hang"
    if p.ifname is None and p.bus_id is None and not numbered and (m["hang"] != " Hang" or p.driver is None):
        # Without a device the words are a list's or a title's ("Detected Hardware Unit Hang" among
        # a page's symptoms); the kernel always prints them after the device's prefix.
        return None
    after = p.body[m.end() :]
    if not after.startswith(":") and prose_after(after):
        # "... Detected Tx Unit Hang failure mode of the emulated adapter": a sentence. After "Hang:"
        # come e1000e's details, lines joined by a paste ("Hang: vmhost kernel: TDH <0> ...").
        return None
    return link(m, p, EventKind.TX_TIMEOUT, detail="unit hang")

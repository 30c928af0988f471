"""Kernel message patterns of the network drivers and subsystems, per format string.

The message is what the kernel printed after any capture prefix (time, host, `kernel:`).
It is read in two steps: the device prefix the printk helper put in front
(`netdev_info`: "DRIVER BUS IFNAME: ", `dev_info`: "DRIVER BUS: ", `pr_fmt`: "DRIVER: ",
or nothing), then the body against the drivers' own format strings, anchored at the
start so that text merely quoting a kernel line is not taken for one.

Every message that yields an event contains one of `SCAN_LITERALS`: the fast scan in
`scan.py` looks for nothing else (a property test keeps the two in step).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from linkctl.domain.events import Duplex, EventKind, FlowControl

# Byte patterns whose presence makes a line a candidate. Each starts with a byte that is
# rare in logs, which lets RE2 skip through a block with memchr.
# One RE2 pass a literal, each about a twentieth of the scan: a form that needs a literal
# of its own must be worth it. Mellanox's switch SDK ("sx_netdev_handle_pude_event: Called
# for logical port - 12500 status DOWN", no netdev named) was not: its pass cost 8 %.
SCAN_LITERALS: tuple[bytes, ...] = (
    rb"k (?:[Uu][Pp]|[Dd][Oo][Ww][Nn]|is|status|change|becomes)",
    rb"WATCHDOG",
    rb"Hang",
    rb"\) enter",
    rb"carrier o",
    rb"Flow control is",
)


@dataclass(frozen=True, slots=True)
class MessageMatch:
    event: EventKind
    ifname: str | None
    driver: str | None
    bus_id: str | None = None
    speed_mbps: int | None = None
    duplex: Duplex | None = None
    flow_control: FlowControl | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Prefix:
    """One reading of the device prefix. `token` is set when the prefix was a single
    "WORD: ", which is a driver when the body names the link and the link otherwise."""

    driver: str | None
    bus_id: str | None
    ifname: str | None
    body: str
    token: str | None = None


_IFN = r"[^\s:()\[\]/]{1,32}"
_NETDEV_PREFIX = re.compile(rf"(?P<drv>[\w.\-]+) (?P<bus>\S+?):? (?P<ifn>{_IFN}): (?P<body>.*)")
_DEV_PREFIX = re.compile(r"(?P<drv>[\w.\-]+) (?P<bus>\S*\d\S*?): (?P<body>.*)")
_PR_TWO = re.compile(rf"(?P<drv>[\w.\-]+): (?P<ifn>{_IFN}): (?P<body>.*)")
_PR_ONE = re.compile(r"(?P<tok>[\w.\-@]+): (?P<body>.*)")


def prefixes(message: str) -> list[Prefix]:
    """The readings of the device prefix, most specific first."""
    found: list[Prefix] = []
    m = _NETDEV_PREFIX.fullmatch(message)
    if m and _looks_like_bus(m["bus"]):
        body = _strip_driver_echo(m["body"], m["drv"])
        found.append(Prefix(m["drv"], m["bus"], m["ifn"], body))
    m = _DEV_PREFIX.fullmatch(message)
    if m and _looks_like_bus(m["bus"]):
        found.append(Prefix(m["drv"], m["bus"], None, _strip_driver_echo(m["body"], m["drv"])))
    m = _PR_TWO.fullmatch(message)
    if m:
        found.append(Prefix(m["drv"], None, m["ifn"], m["body"]))
    m = _PR_ONE.fullmatch(message)
    if m:
        found.append(Prefix(None, None, None, m["body"], token=m["tok"]))
    found.append(Prefix(None, None, None, message))
    return found


def _looks_like_bus(bus: str) -> bool:
    # PCI "0000:00:19.0", USB "2-1:1.0", platform "ff540000.ethernet", vmbus GUIDs,
    # "virtio0": all carry a digit and none is a bare word such as "WATCHDOG".
    return any(c.isdigit() for c in bus)


def _strip_driver_echo(body: str, driver: str) -> str:
    """igb and old igc repeat themselves: "igb 0000:03:00.1 eno2: igb: eno2 NIC Link"."""
    echo = driver + ": "
    return body[len(echo) :] if body.startswith(echo) else body


# --- value normalisation -------------------------------------------------------------

# Vendor kernels write "1000 mbps" in lower case, the mainline drivers "1000 Mbps".
_SPEED = re.compile(r"(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>[MGmg])(?:bps|b/s|bit/s)?\b")


def speed_mbps(text: str | None) -> int | None:
    """ "10 Gbps" → 10000, "2.5 Gbps" → 2500, "1Gbps" → 1000, "1000 M" → 1000;
    "Unknownbps", "unknown speed" → None."""
    if not text:
        return None
    m = _SPEED.search(text)
    if not m:
        return None
    value = float(m["num"]) * (1000 if m["unit"] in "Gg" else 1)
    return round(value) or None


def duplex(text: str | None) -> Duplex | None:
    if not text:
        return None
    low = text.lower()
    if low.startswith("full"):
        return Duplex.FULL
    if low.startswith("half"):
        return Duplex.HALF
    return None


_FLOW_WORDS: dict[str, FlowControl] = {
    "rx/tx": FlowControl.RX_TX,
    "tx/rx": FlowControl.RX_TX,
    "both": FlowControl.RX_TX,
    "on - receive & transmit": FlowControl.RX_TX,
    "tx and rx": FlowControl.RX_TX,
    "receive & transmit": FlowControl.RX_TX,
    "symmetric": FlowControl.RX_TX,
    "rx": FlowControl.RX,
    "on - receive": FlowControl.RX,
    "rx only": FlowControl.RX,
    "rx_only": FlowControl.RX,
    "receive": FlowControl.RX,
    "tx": FlowControl.TX,
    "on - transmit": FlowControl.TX,
    "tx only": FlowControl.TX,
    "tx_only": FlowControl.TX,
    "transmit": FlowControl.TX,
    "none": FlowControl.NONE,
    "off": FlowControl.NONE,
    "no": FlowControl.NONE,
}


def flow_control(text: str | None) -> FlowControl | None:
    """ "Rx/Tx", "RX/TX", "rx/tx", "ON - receive & transmit", "both", "None", "off"..."""
    if not text:
        return None
    key = text.strip().rstrip(".,").lower()
    key = key.removesuffix(" flow control on").removesuffix(" pause").strip()
    return _FLOW_WORDS.get(key)


def _flow_pair(tx: str, rx: str) -> FlowControl:
    """tg3: "Flow control is on for TX and off for RX"."""
    on_tx, on_rx = tx.lower() == "on", rx.lower() == "on"
    if on_tx and on_rx:
        return FlowControl.RX_TX
    if on_rx:
        return FlowControl.RX
    return FlowControl.TX if on_tx else FlowControl.NONE


# --- body patterns -------------------------------------------------------------------

Handler = Callable[[re.Match[str], Prefix], MessageMatch | None]
_RULES: list[tuple[re.Pattern[str], Handler]] = []


def _rule(pattern: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _RULES.append((re.compile(pattern), handler))
        return handler

    return register


def _state(word: str) -> EventKind:
    return EventKind.LINK_UP if word.lower() in ("up", "on") else EventKind.LINK_DOWN


@dataclass(frozen=True, slots=True)
class _Details:
    speed_mbps: int | None = None
    duplex: Duplex | None = None
    flow_control: FlowControl | None = None


def _link(
    m: re.Match[str], p: Prefix, kind: EventKind, details: _Details | None = None, detail: str | None = None
) -> MessageMatch:
    """The event for a link named by the body (group `ifn`) or else by the prefix; a
    lone "WORD: " prefix is the driver when the body names the link."""
    body_ifn = m.groupdict().get("ifn")
    driver, ifname = p.driver, body_ifn or p.ifname
    if p.token is not None:
        if body_ifn:
            driver = p.token
        else:
            ifname = p.token
    d = details or _Details()
    return MessageMatch(kind, ifname, driver, p.bus_id, d.speed_mbps, d.duplex, d.flow_control, detail)


_FLOW_TEXT = re.compile(r"[Ff]low [Cc]ontrol:? (?P<fc>[^,]+?)\s*(?:,|$)")
_DUPLEX_TEXT = re.compile(r"\b(?P<d>[Ff]ull|[Hh]alf|FULL|HALF)[ -]?[Dd]uplex")
_SPEED_TEXT = re.compile(r"(?:\d+(?:\.\d+)?\s*[MGmg]?|Unknown\s*[MG]?|unknown)\s*bps|unknown speed")


def _details(rest: str, flow: FlowControl | None = None) -> _Details:
    """Speed, duplex and flow control wherever a driver put them after "Up"."""
    speed_text = _SPEED_TEXT.search(rest)
    duplex_text = _DUPLEX_TEXT.search(rest)
    flow_text = _FLOW_TEXT.search(rest)
    return _Details(
        speed_mbps(speed_text.group(0)) if speed_text else None,
        duplex(duplex_text["d"]) if duplex_text else None,
        flow or (flow_control(flow_text["fc"]) if flow_text else None),
    )


@_rule(rf"(?:(?P<ifn>{_IFN}) )?NIC Link is (?P<st>Up|Down|up|down|UP|DOWN)\b(?P<rest>.*)")
def _nic_link(m: re.Match[str], p: Prefix) -> MessageMatch:
    """Intel (e1000, e1000e, igb, igc, ixgbe, ixgbevf, i40e, ice, iavf), Broadcom (bnxt_en,
    bnx2x), vmxnet3 and others: "NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx",
    "NIC Link is Up 10 Gbps, Flow Control: RX/TX", "NIC Link is Up, 25 Gbps Full Duplex, ...",
    "NIC Link is up 100 Gbps Full Duplex, Requested FEC: ...", "NIC Link is Up Speed is 25
    Gbps Full Duplex", "NIC Link is Up, 10000 Mbps full duplex, Flow control: ON - receive &
    transmit"."""
    kind = _state(m["st"])
    if kind is EventKind.LINK_DOWN:
        return _link(m, p, kind)
    return _link(m, p, kind, _details(m["rest"]))


@_rule(
    r"Link is (?P<st>Up|Down) - (?P<speed>[\w.]+?)(?:bps)?/(?P<dup>\w+)"
    r"(?: \(downshifted\))?(?: - flow control (?P<fc>[\w/]+))?"
)
def _phylib_up(m: re.Match[str], p: Prefix) -> MessageMatch:
    """phylib's phy_print_status and phylink: "Link is Up - 1Gbps/Full - flow control
    rx/tx" (r8169, stmmac, every phylib/phylink MAC); old phylib "Link is Up - 1000/Full"."""
    speed = m["speed"]
    mbps = int(speed) if speed.isdigit() else speed_mbps(speed)
    details = _Details(mbps, duplex(m["dup"]), flow_control(m["fc"]))
    return _link(m, p, _state(m["st"]), details)


@_rule(r"(?P<phy>\S+) - Link is (?P<st>Up|Down)(?: - (?P<speed>\d+)/(?P<dup>\w+))?")
def _phylib_old(m: re.Match[str], p: Prefix) -> MessageMatch:
    """phylib before 3.x names the PHY, not the link: "stmmac-0:01 - Link is Up -
    1000/Full", "PHY: 0:01 - Link is Down"."""
    details = _Details(int(m["speed"]) if m["speed"] else None, duplex(m["dup"]))
    return MessageMatch(
        _state(m["st"]), None, p.driver, p.bus_id, details.speed_mbps, details.duplex, None, f"phy {m['phy']}"
    )


@_rule(r"Link is (?P<st>Up|Down|up|down|UP|DOWN)\b(?P<rest>.*)")
def _link_is(m: re.Match[str], p: Prefix) -> MessageMatch:
    """phylib "Link is Down"; tg3/sky2/skge "Link is up at 1000 Mbps, full duplex[, flow
    control both]"; qede "Link is up"; ena-style "link is UP" (see `_link_lower`)."""
    return _link_with_flow_control(m, p, r"flow control (?P<fc>[\w /&-]+?)\.?$")


@_rule(r"link is (?P<st>UP|DOWN|up|down)\.?$")
def _link_lower(m: re.Match[str], p: Prefix) -> MessageMatch:
    """ena-style "link is UP" / "link is DOWN"."""
    return _link(m, p, _state(m["st"]))


@_rule(r"Link (?P<st>Up|Down|up|down|UP|DOWN)(?P<rest> - \d+ [MG]bps)?$")
def _mellanox(m: re.Match[str], p: Prefix) -> MessageMatch:
    """mlx4_en "mlx4_en: eth2: Link Up"; mlx5_core "... ens1f0: Link up"; enic "Link UP",
    "Link DOWN"; ionic "Link up - 100 Gbps"."""
    kind = _state(m["st"])
    if kind is EventKind.LINK_DOWN or not m["rest"]:
        return _link(m, p, kind)
    return _link(m, p, kind, _details(m["rest"]))


@_rule(r"link (?P<st>up|down)\b(?P<rest>.*)")
def _link_lower_word(m: re.Match[str], p: Prefix) -> MessageMatch:
    """sfc "link up at 10000Mbps full-duplex (MTU 1500)", "link down"; cxgb4 "link up,
    10Gbps, full-duplex, Tx/Rx PAUSE"; old r8169 "link up", "link down"."""
    return _link_with_flow_control(m, p, r", (?P<fc>[\w/]+) PAUSE")


def _link_with_flow_control(m: re.Match[str], p: Prefix, fc_pattern: str) -> MessageMatch:
    """An up line's speed and duplex from `rest`, its flow control from the driver's own wording."""
    kind = _state(m["st"])
    rest = m["rest"]
    if kind is EventKind.LINK_DOWN:
        return _link(m, p, kind)
    fc = re.search(fc_pattern, rest)
    return _link(m, p, kind, _details(rest, flow_control(fc["fc"]) if fc else None))


@_rule(r"carrier (?P<st>on|off)$")
def _r8152(m: re.Match[str], p: Prefix) -> MessageMatch:
    """r8152 "r8152 2-1:1.0 eth0: carrier on" / "carrier off"."""
    return _link(m, p, _state(m["st"]))


@_rule(r"(?:atlantic: )?link change old (?P<old>\d+) new (?P<new>\d+)$")
def _atlantic(m: re.Match[str], p: Prefix) -> MessageMatch:
    """atlantic "atlantic: link change old 1000 new 0": the new speed, 0 when down."""
    new = int(m["new"])
    if new == 0:
        return _link(m, p, EventKind.LINK_DOWN)
    return _link(m, p, EventKind.LINK_UP, _Details(speed_mbps=new))


@_rule(r"ax88179 - Link status is: (?P<st>[01])$")
def _ax88179(m: re.Match[str], p: Prefix) -> MessageMatch:
    """ax88179_178a "ax88179 - Link status is: 1"."""
    kind = EventKind.LINK_UP if m["st"] == "1" else EventKind.LINK_DOWN
    return _link(m, p, kind)


@_rule(rf"\[\w+:\d+\((?P<ifn>{_IFN})?\)\]Link is (?P<st>up|down)$")
def _qede(m: re.Match[str], p: Prefix) -> MessageMatch:
    """qede DP_NOTICE: "[qede_link_update:2381(ens1f0)]Link is up"."""
    driver = "qede" if p.driver is None and p.token is None else (p.driver or p.token)
    return MessageMatch(_state(m["st"]), m["ifn"], driver, p.bus_id)


@_rule(r"Flow control is (?P<tx>on|off) for TX and (?P<rx>on|off) for RX")
def _tg3_flow(m: re.Match[str], p: Prefix) -> MessageMatch:
    """tg3 prints flow control on its own line after "Link is up"."""
    event = _link(m, p, EventKind.OTHER)
    return MessageMatch(
        event.event,
        event.ifname,
        event.driver,
        event.bus_id,
        flow_control=_flow_pair(m["tx"], m["rx"]),
        detail="flow control",
    )


@_rule(
    rf"NETDEV WATCHDOG: (?P<ifn>{_IFN}) \((?P<drv>[^)]*)\): transmit queue (?P<q>\d+) "
    r"timed out(?: (?P<ms>\d+) ms)?"
)
def _watchdog_named(m: re.Match[str], p: Prefix) -> MessageMatch:
    """sch_generic up to 6.6: "NETDEV WATCHDOG: eth0 (e1000e): transmit queue 0 timed out
    [5120 ms]"."""
    return MessageMatch(EventKind.TX_TIMEOUT, m["ifn"], m["drv"] or None, p.bus_id, detail=f"queue {m['q']}")


@_rule(rf"NETDEV WATCHDOG: (?P<ifn>{_IFN}): transmit timed out")
def _watchdog_oldest(m: re.Match[str], p: Prefix) -> MessageMatch:
    """2.6 kernels: "NETDEV WATCHDOG: eth0: transmit timed out"."""
    return MessageMatch(EventKind.TX_TIMEOUT, m["ifn"], None, p.bus_id)


@_rule(
    r"NETDEV WATCHDOG: CPU: (?P<cpu>\d+): transmit queue (?P<q>\d+) timed out"
    r"(?: (?P<ms>\d+) ms)?"
)
def _watchdog_new(m: re.Match[str], p: Prefix) -> MessageMatch:
    """6.7+: netdev_crit "e1000e 0000:00:19.0 eth0: NETDEV WATCHDOG: CPU: 1: transmit queue 0
    timed out 5120 ms"."""
    return _link(m, p, EventKind.TX_TIMEOUT, detail=f"queue {m['q']}")


@_rule(r"(?:\w+: )?Detected (?:Tx|Hardware) Unit Hang")
def _unit_hang(m: re.Match[str], p: Prefix) -> MessageMatch:
    """e1000/igb/ixgbe "Detected Tx Unit Hang", e1000e "Detected Hardware Unit Hang:"; old
    e1000 puts the function name first ("e1000_clean_tx_irq: Detected Tx Unit Hang")."""
    return _link(m, p, EventKind.TX_TIMEOUT, detail="unit hang")


_BOND_SPEED = r"(?:, (?P<sp>\d+) Mbps (?P<dup>full|half) duplex)?"


@_rule(rf"\((?:slave|port) (?P<member>{_IFN})\): link status definitely (?P<st>up|down)" + _BOND_SPEED)
def _bond_new(m: re.Match[str], p: Prefix) -> MessageMatch:
    """bonding since 5.3: "bond0: (slave eth0): link status definitely down, disabling
    slave"."""
    return _bond(m, p)


@_rule(
    r"link status definitely (?P<st>up|down) for interface "
    r"(?P<member>[^\s,:()]+?)\.?(?=,|$|\s)" + _BOND_SPEED
)
def _bond_old(m: re.Match[str], p: Prefix) -> MessageMatch:
    """bonding up to 5.2 "bond0: link status definitely up for interface eth0, 1000 Mbps
    full duplex"; and before netdev_info "bonding: bond0: link status definitely down for
    interface eth1, disabling it"."""
    return _bond(m, p)


_DELAY = r", (?P<act>disabling|enabling) it in (?P<ms>\d+) ms\.?$"


@_rule(rf"link status (?P<st>up|down) for (?:active |backup )?interface (?P<member>{_IFN})" + _DELAY)
def _bond_delay_old(m: re.Match[str], p: Prefix) -> MessageMatch:
    """bonding up to 5.2, when downdelay/updelay is set: the first sign of a member's change,
    "bond0: link status down for active interface eth2, disabling it in 200 ms" (netdev_info),
    "bonding: link status up for interface eth3, enabling it in 0 ms" (pr_info, older). The
    bond acts on it only after the delay; the member's carrier changed now."""
    return _bond(m, p)


@_rule(
    rf"\((?:slave|port) (?P<member>{_IFN})\): link status (?P<st>up|down)(?: for (?:active |backup )?interface)?"
    + _DELAY
)
def _bond_delay_new(m: re.Match[str], p: Prefix) -> MessageMatch:
    """bonding since 5.3 (slave_info): "bond0: (slave eth2): link status down for active
    interface, disabling it in 200 ms", "bond0: (slave eth3): link status up, enabling it in
    200 ms"."""
    return _bond(m, p)


@_rule(
    rf"(?:\((?:slave|port) (?P<member>{_IFN})\): )?link status (?P<st>up|down) again after (?P<ms>\d+) ms"
    rf"(?: for interface (?P<member_old>{_IFN}))?\.?$"
)
def _bond_again(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """bonding: the member went back before its delay ran out, "bond0: link status up again
    after 100 ms for interface eth1" (to 5.2), "bond0: (slave eth1): link status down again
    after 100 ms" (5.3+)."""
    if not (m["member"] or m["member_old"]):
        return None
    return _bond(m, p)


def _bond(m: re.Match[str], p: Prefix) -> MessageMatch:
    groups = m.groupdict()
    master = p.ifname or p.token
    kind = EventKind.BOND_MEMBER_UP if m["st"] == "up" else EventKind.BOND_MEMBER_DOWN
    sp = groups.get("sp")
    mbps = int(sp) if sp and sp != "0" else None
    detail = f"bond {master}" if master else None
    if groups.get("act"):
        detail = f"{detail or 'bond'}, {groups['act']} it in {groups['ms']} ms"
    return MessageMatch(
        kind,
        groups.get("member") or groups.get("member_old"),
        p.driver,
        p.bus_id,
        speed_mbps=mbps,
        duplex=duplex(groups.get("dup")),
        detail=detail,
    )


@_rule(r"port (?P<no>\d+) link (?P<st>up|down)$")
def _mtk_port(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """OpenWrt's mtk_soc_eth with its built-in switch (MT7620/MT7621 before DSA): the CPU
    netdev names the link, the switch port comes after it, "mtk_soc_eth 1e100000.ethernet
    eth0: port 2 link down". A USB hub's port ("hub 1-0:1.0: port 3 ...") names no netdev."""
    if p.ifname is None and p.token is None:
        return None
    return _link(m, p, _state(m["st"]), detail=f"port {m['no']}")


@_rule(rf"(?P<ifn>{_IFN}) (?P<where>(?:\([^()]*\) ?)+)Link (?P<st>UP|DOWN|Up|Down)\b(?P<rest>.*)")
def _bcm_enet(m: re.Match[str], p: Prefix) -> MessageMatch:
    """Broadcom's router SDK (bcm63xx enet): the netdev, then where it sits on the switch,
    "eth4 (Int switch port: 3) (Logical Port: 3) (phyId: 9) Link DOWN.", "... Link Up at 1000
    mbps full duplex"."""
    kind = _state(m["st"])
    details = _details(m["rest"]) if kind is EventKind.LINK_UP else None
    return _link(m, p, kind, details, detail=m["where"].strip())


@_rule(r"Port (?P<no>\d+) Link (?P<st>UP|Down)\b(?P<rest>[^!]*)!?$")
def _vendor_port(m: re.Match[str], p: Prefix) -> MessageMatch:
    """Vendor switch drivers that print the PHY port alone: "Port 4 Link UP at 1000 Mbps
    Full Duplex!", "Port 4 Link Down!"."""
    kind = _state(m["st"])
    details = _details(m["rest"]) if kind is EventKind.LINK_UP else None
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


@_rule(rf"port (?P<no>\d+)\((?P<port>{_IFN})\) (?:entering|entered) (?P<state>\w+) state")
def _bridge(m: re.Match[str], p: Prefix) -> MessageMatch:
    """bridge "br0: port 1(eth0) entered forwarding state" (3.x+), "entering" before."""
    bridge = p.ifname or p.token
    detail = f"{m['state']} on {bridge}" if bridge else m["state"]
    return MessageMatch(EventKind.BRIDGE_PORT_STATE, m["port"], p.driver, p.bus_id, detail=detail)


@_rule(rf"ADDRCONF\(NETDEV_CHANGE\): (?P<ifn>{_IFN}): link becomes ready")
def _ipv6_ready(m: re.Match[str], p: Prefix) -> MessageMatch:
    """IPv6 "IPv6: ADDRCONF(NETDEV_CHANGE): eth0: link becomes ready"."""
    return _no_driver(_link(m, p, EventKind.LINK_READY))


@_rule(rf"ADDRCONF\(NETDEV_UP\): (?P<ifn>{_IFN}): link is not ready")
def _ipv6_not_ready(m: re.Match[str], p: Prefix) -> MessageMatch:
    """IPv6 "ADDRCONF(NETDEV_UP): eth0: link is not ready": an interface up without carrier."""
    return _no_driver(_link(m, p, EventKind.OTHER, detail="link is not ready"))


def _no_driver(match: MessageMatch) -> MessageMatch:
    """The prefix "IPv6: " before ADDRCONF names the subsystem that speaks, not the link's driver."""
    return replace(match, driver=None)


# --- the generic recogniser ----------------------------------------------------------
# Many drivers print "<ifname>: link up" in words of their own. The generic rule takes
# them, kept from other programs' and subsystems' sentences by four guards: the link is
# named by the device prefix (a netdev's name, at most IFNAMSIZ-1 characters, not a
# subsystem's tag); between the name and "link" come only a few switch-port words or
# bracketed notes ("port 3 ", "(Int switch port: 3) "); the state is the last word or is
# followed by details (", 1000 Mbps", " (1000Mbps/Full duplex)", " at ...", " - ..."), never
# by a further word ("userif-3: sent link down event."); and it runs after every driver's
# own rule, so it only ever adds.

_LEAD_WORD = r"(?:(?:[Pp]ort|PHY|phy|NIC|[Cc]opper|[Ff]ibre|[Ff]iber|SFP\+?|WAN|LAN)(?: ?\d+)?:? |\([^()]{1,48}\) )"
_NOT_NETDEV = re.compile(
    r"(?:ata|usb|hub|mmc|nvme|scsi|sd|sr|pcieport|pci|ACPI|PM|IPv[46]|audit|drm|snd|i2c|spi|tty"
    r"|serial|thunderbolt|Bluetooth|hci|cfg80211|ieee80211|phy|wmi|xhci_hcd|ehci-pci|dwc2)[\d\-.:]*",
    re.IGNORECASE,
)
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
    return len(name) < _IFNAMSIZ and not _NOT_NETDEV.fullmatch(name) and not _LABEL_WORDS.fullmatch(name)


@_rule(
    rf"(?P<lead>{_LEAD_WORD}{{0,3}})[Ll]ink (?:is )?(?P<st>up|down|Up|Down|UP|DOWN)"
    r"(?P<rest>[.!]?|[.!]? *\(.*|[,:;].*| at .*| - .*| \d.*)$"
)
def _generic_link(m: re.Match[str], p: Prefix) -> MessageMatch | None:
    """ "eth0: link up (1000Mbps/Full duplex)" (ag71xx), "eth0: link up, 100Mbps, full-duplex,
    lpa 0x45E1" (mii), "swp7: Link up at 1000 Mbps, full-duplex", "eth1: port 3 link up"."""
    name = p.ifname or p.token
    if name is None or not plausible_ifname(name):
        return None
    kind = _state(m["st"])
    details = _details(m["rest"]) if kind is EventKind.LINK_UP else None
    lead = m["lead"].strip() or None
    found = _link(m, p, kind, details, detail=lead)
    if p.token is not None and p.ifname is None:
        # A lone "WORD: " before the body is the link here, never its driver.
        found = replace(found, ifname=p.token, driver=None)
    return found


# Messages whose words look like an event but are not one about a link's carrier.
_NOT_LINK = re.compile(r"PCIe|pcie|PCI Express|Bluetooth|usb \d|SATA|ata\d|thunderbolt")


def match_message(message: str) -> MessageMatch | None:
    """The event a kernel message reports, or None if it reports none."""
    if _NOT_LINK.search(message[:80]):
        return None
    for prefix in prefixes(message):
        for pattern, handler in _RULES:
            # Most formats go on with words of their own (", disabling it", FEC details):
            # anchoring at the start is what keeps quoted lines out.
            m = pattern.match(prefix.body)
            if m:
                found = handler(m, prefix)
                if found is not None and _names_a_netdev(found, prefix):
                    return found
    return None


def _names_a_netdev(found: MessageMatch, prefix: Prefix) -> bool:
    """False when the only link the reading gives is another subsystem's device or a word:
    "ERROR: link down", "mmc0: link up", "sd 0:0:0:0: link down"."""
    if found.ifname is not None and found.ifname == prefix.token:
        return plausible_ifname(found.ifname)
    if found.ifname is None and prefix.driver is not None:
        return not _NOT_NETDEV.fullmatch(prefix.driver)
    return True

"""The parts every kernel-message recogniser is built of: the match it returns, the
readings of the device prefix, the normalised values (speed, duplex, flow control) and
the rule table a family of recognisers registers into (see patterns.py for the order).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from linkctl.domain.events import Duplex, EventKind, FlowControl
from linkctl.logs.programs import DAEMON_NAMES


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


# No quotation mark either: a name in quotes is a person's (`capture_paste.unquoted_name` takes the
# quotes off one typed before the message), as in 'I see "eth0": transmit timed out'.
IFN = r"[^\s:()\[\]/\"'`\u2018\u2019\u201c\u201d]{1,32}"
# netdev_printk adds the name's registration state: "eth%d (uninitialized): ".
_REG_STATE = r"(?: \((?:unregistered|unregistering|uninitialized)\))?"
# A driver named by a device-tree vendor and device, as the lantiq xrx200's "lantiq,xrx200-net".
_DRV = r"[\w.\-]+(?:,[\w.\-]+)?"
_NETDEV_PREFIX = re.compile(rf"(?P<drv>{_DRV}) (?P<bus>\S+?):? (?P<ifn>{IFN}){_REG_STATE}: (?P<body>.*)")
# The same with the device's address left out or masked by whoever pasted it: "macb ... ethernet
# end0: " (a platform device's node name kept), "r8169 ... eth0: ", "igb XXXX:XX:XX.X eno1: ",
# "igb <pci-addr> eno1: ", "imx-dwmac XXXXXX.ethernet eth0: ".
_MASKED_HEX = "[0-9a-fA-FxX*#?]"
_ELIDED_BUS = (
    r"(?:\.{3,4}|\u2026)(?: ?(?:ethernet|switch|gmac|mac|eth|mdio|dp\d))?"
    rf"|{_MASKED_HEX}{{4}}:{_MASKED_HEX}{{2}}:{_MASKED_HEX}{{2}}\.[0-7xX*#?]|<[\w\-. ]{{1,24}}>"
    # A platform device's unit address masked, its node's name kept: "imx-dwmac XXXXXX.ethernet eth0: ".
    rf"|[xX*#?]{_MASKED_HEX}{{3,15}}\.(?:ethernet|switch|gmac|mac|eth|mdio)"
)
# dev_printk's "DRIVER BUS: " with the bus masked: "igb XXXX:XX:XX.X: Detected Tx Unit Hang".
_MASKED_BUS = rf"[xX*#?]{{4}}:{_MASKED_HEX}{{2}}:{_MASKED_HEX}{{2}}\.[0-7xX*#?]|<[\w\-. ]{{1,24}}>"
_MASKED_DEV_PREFIX = re.compile(rf"(?P<drv>[a-z][\w\-]*) (?P<bus>{_MASKED_BUS}): (?P<body>.*)")
_ELIDED_PREFIX = re.compile(rf"(?P<drv>[a-z][\w\-]*) (?P<bus>{_ELIDED_BUS}) (?P<ifn>{IFN}): (?P<body>.*)")
# The bus holds a digit: taken at its first one, so that a long run of digits is not split every
# way between two runs ("\S*\d\S*?" took 0.17 s on 5,000 digits, 30 s at the scan's 64 KiB).
_DEV_PREFIX = re.compile(rf"(?P<drv>{_DRV}) (?P<bus>[^\s\d]*\d\S*?): (?P<body>.*)")
# dev_info on a platform device named by its device-tree node alone ("mt753x gsw: Port 2 Link is
# Up - 1Gbps/Full", MediaTek's SDK switch): taken only after a driver's name with a digit, as a
# sentence's "The switch: " has none, and only for a network device's node, as "hdmi2 output: ",
# "mlx5 ib: " or "dp1 connector: " report other links. The digit is checked outside the pattern: a
# "[\w-]*\d[\w-]*" backtracks over a long word quadratically.
_DEV_NODE_PREFIX = re.compile(
    r"(?P<drv>[a-z][\w\-]*) (?P<bus>(?:ethernet-)?switch|gsw|esw|ethernet|gmac|mac|eth|mdio): (?P<body>.*)"
)
# dev_info on the netdev itself: its class, "net", where a driver's name would be.
_NET_CLASS = re.compile(rf"net (?P<ifn>{IFN}): (?P<body>.*)")
# A PHY's driver name has spaces ("Atheros AR8216/AR8236/AR8316 ag71xx-mdio.0:00: ", "Generic
# FE-GE Realtek PHY r8169-0-200:00: "): two to five words of a product's name, never a sentence
# with commas ("Right now I am connect to LAN 2, Atheros ..."); its device is the MDIO bus and
# the PHY's address.
_PHY_NAME = r"[A-Za-z0-9][\w/+\-]*(?: [A-Za-z0-9][\w/+\-]*){1,4}"
_PHY_PREFIX = re.compile(rf"(?P<drv>{_PHY_NAME}) (?P<bus>[\w.\-]+:[0-9a-fA-F]{{2}}): (?P<body>.*)")
# netdev_info with no netdev: phylib's message for a PHY attached to none.
_NO_NETDEV = re.compile(r"\((?:NULL|unnamed) net_device\)(?: \(\w+\))?: (?P<body>.*)")
_PR_TWO = re.compile(rf"(?P<drv>[\w.\-]+): (?P<ifn>{IFN}): (?P<body>.*)")
# e1000e of 2.6.27 to 2.6.34 (its e_printk): the PCI device's name and the netdev's, no driver's,
# "0000:00:19.0: eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: RX/TX".
_PCI_NAME = r"[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]"
_PCI_NETDEV = re.compile(rf"(?P<bus>{_PCI_NAME}): (?P<ifn>{IFN}): (?P<body>.*)")
_PR_ONE = re.compile(r"(?P<tok>[\w.\-@]+): (?P<body>.*)")
# A capitalised word, which no network driver's pr_fmt is (module names are lower case; "TLAN",
# "NETDEV WATCHDOG" are capitals): "The e1000: Detected Tx Unit Hang failure mode of ..." is a sentence.
_CAPITAL_WORD = re.compile(r"[A-Z][a-z]+")
# A label a driver puts after the netdev's name ("eth0: status: link down.").
_STATUS_TAG = re.compile(r"status|state|link|info|phy|PHY")
# A C function's name as a tag ("e100_watchdog: ").
_FUNC_TAG = re.compile(r"[a-z][a-z0-9]*_\w+: (?P<body>.*)")
# Words and programs that stand before a netdev's name without being its driver ("ERROR eth0: ",
# "NetworkManager eth0: ").
_NOT_A_DRIVER = re.compile(
    r"(?i:error|err|warning|warn|info|notice|debug|note|interface|device|port|link|status)"
    rf"|{DAEMON_NAMES}|watchdog|kernel"
    # Open vSwitch's bond names its ports so: "member eth1: link state down" (older ones "interface eth1: ").
    r"|member"
    # A shell's commands before what they print or look for ("echo eth0: link down", "grep eth0: ...").
    r"|echo|printf|logger|sudo|z?grep|[ef]grep|rg|z?cat|tail|head|less|awk|sed|tee|mail|journalctl|dmesg"
)
# A netdev's name where dev_printk puts a bus address: letters and digits only, not a bus's own
# numbered device ("virtio0", "spi1", "mmc0"). Its digit is looked for in Python, after the last
# underscore: as one pattern ("[a-z][a-z0-9_]*\d+[a-z0-9]*") three runs split a long failing
# word every way (800 digits before ".edma": 0.8 s).
_PFX_CHARS = re.compile(r"[a-z][a-z0-9_]*")


def _pfx_ifname(bus: str) -> bool:
    return _PFX_CHARS.fullmatch(bus) is not None and any(c in "0123456789" for c in bus.rpartition("_")[2])


_BUS_STEM = re.compile(
    r"(?:virtio|vmbus|spi|i2c|mdio|mmc|nvme|ata|scsi|host|card|hci|phy|port|pci|platform|serial|tty|dma"
    r"|gpio|irq|cpu|mem|node|input|event|hid|video|sound|pcm|snd|fb|drm|md|dm|loop|sd|sr|hub|mii|fixed)\d"
)
# A driver's own tag after the netdev prefix ("hinic ... eth0: HINIC_Intf: Link is UP").
_TAG = re.compile(r"(?P<tag>[\w\-]{2,24}): (?P<body>.*)")


def prefixes(message: str) -> list[Prefix]:
    """The readings of the device prefix, most specific first."""
    found: list[Prefix] = []
    m = _NETDEV_PREFIX.fullmatch(message)
    if not (m and _looks_like_bus(m["bus"]) and not _NOT_A_DRIVER.fullmatch(m["drv"])):
        m = _ELIDED_PREFIX.fullmatch(message)
        m = m if m and plausible_driver(m["drv"]) and not _NOT_A_DRIVER.fullmatch(m["drv"]) else None
    if m:
        body = _strip_echo(_strip_driver_echo(m["body"], m["drv"]), m["ifn"])
        found.append(Prefix(m["drv"], m["bus"], m["ifn"], body))
        tag = _TAG.fullmatch(body)
        # A number after the name is a line's: "ntrdma 0000:00:03.0: ntc_ntb_enabled: 787: link is up!"
        # names a function, as a debug print does, not a netdev.
        if tag and tag["tag"] != m["ifn"] and not tag["tag"].isdigit():
            found.append(Prefix(m["drv"], m["bus"], m["ifn"], tag["body"]))
    m = _NET_CLASS.fullmatch(message)
    if m:
        found.append(Prefix(None, None, m["ifn"], m["body"]))
    m = _DEV_PREFIX.fullmatch(message)
    if m and _looks_like_bus(m["bus"]):
        body = _strip_driver_echo(m["body"], m["drv"])
        if _pfx_ifname(m["bus"]) and not _BUS_STEM.match(m["bus"]) and not _NOT_A_DRIVER.fullmatch(m["drv"]):
            # Old drivers' "PFX "%s: ", dev->name": "sky2 eth0: tx timeout" names the link.
            found.append(Prefix(m["drv"], None, m["bus"], body))
        found.append(Prefix(m["drv"], m["bus"], None, body))
    m = _MASKED_DEV_PREFIX.fullmatch(message)
    if m and plausible_driver(m["drv"]) and not _NOT_A_DRIVER.fullmatch(m["drv"]):
        found.append(Prefix(m["drv"], m["bus"], None, _strip_driver_echo(m["body"], m["drv"])))
    m = _DEV_NODE_PREFIX.fullmatch(message)
    if m and any(c.isdigit() for c in m["drv"]) and plausible_driver(m["drv"]):
        found.append(Prefix(m["drv"], m["bus"], None, m["body"]))
    m = _PHY_PREFIX.fullmatch(message)
    if m:
        found.append(Prefix(m["drv"], m["bus"], None, m["body"]))
    m = _NO_NETDEV.fullmatch(message)
    if m:
        found.append(Prefix(None, None, None, m["body"]))
    m = _PR_TWO.fullmatch(message)
    if m and _CAPITAL_WORD.fullmatch(m["drv"]):
        m = None  # a sentence's or a title's word, not a driver's pr_fmt ("Proxmox: enp0s31f6: ...")
    if m and _STATUS_TAG.fullmatch(m["ifn"]) and any(c.isdigit() for c in m["drv"]):
        # "eth0: status: link up, 100MBit Full Duplex": the netdev, then the driver's own label.
        found.append(Prefix(None, None, m["drv"], m["body"]))
    if m:
        found.append(Prefix(m["drv"], None, m["ifn"], m["body"]))
        tag = _FUNC_TAG.fullmatch(m["body"])
        if tag:
            # Old drivers name their function too: "e100: eth0: e100_watchdog: link down".
            found.append(Prefix(m["drv"], None, m["ifn"], tag["body"]))
    m = _PCI_NETDEV.fullmatch(message)
    if m:
        found.append(Prefix(None, m["bus"], m["ifn"], m["body"]))
    m = _PR_ONE.fullmatch(message)
    if m:
        found.append(Prefix(None, None, None, m["body"], token=m["tok"]))
    found.append(Prefix(None, None, None, message))
    return found


# Other subsystems' devices and tags, which a device prefix may name: never a netdev or a
# network driver.
_NOT_NETDEV = re.compile(
    r"(?:ata|sata|sas|usb|hub|mmc|nvme|scsi|sd|sr|pcieport|pcie|pci|ACPI|PM|IPv[46]|audit|drm|snd|i2c|spi|tty"
    r"|serial|thunderbolt|Bluetooth|hci|cfg80211|ieee80211|phy|wmi|xhci_hcd|ehci-pci|dwc2)[\d\-.:]*",
    re.IGNORECASE,
)


# Drivers of other buses and devices, by the start of their name ("i2c_designware", "xhci_hcd").
_OTHER_DRIVER = re.compile(
    r"(?:i2c|spi|usb|[xeou]hci|ahci|sdhci|mmc|nvme|scsi|btusb|btintel|snd|drm|amdgpu|radeon|i915|nouveau)(?:[\W_]|$)"
)


def other_device(name: str) -> bool:
    """A name another subsystem gives its devices ("ata1", "mmc0", "usb2", "sd 0:0:0:0")."""
    return _NOT_NETDEV.fullmatch(name) is not None


def not_a_program(name: str) -> bool:
    """False for a label word or a daemon's name before a netdev's ("NetworkManager", "INFO")."""
    return _NOT_A_DRIVER.fullmatch(name) is None and not name[:1].isupper()


def plausible_driver(name: str) -> bool:
    """False for another subsystem's device or tag ("ata1", "usb", "mmc0", "i2c_designware")."""
    return not other_device(name) and not _OTHER_DRIVER.match(name) and not _NOT_A_DRIVER.fullmatch(name)


# A platform device named by its device-tree node alone, without a unit address: "switch",
# "ethernet-switch" ("realtek-smi switch lan0: Link is Up ...").
_DT_NODE = re.compile(r"[a-z]+(?:-[a-z]+)*")


def _looks_like_bus(bus: str) -> bool:
    # PCI "0000:00:19.0", USB "2-1:1.0", platform "ff540000.ethernet", vmbus GUIDs,
    # "virtio0": all carry a digit, or are a device-tree node's name; none is an upper-case
    # word such as "WATCHDOG", none has a bracket, as a program's "NetworkManager[812]" has.
    # A bare number is no device's name either: DPDK's testpmd prints "Port 0: Link Down".
    if "[" in bus or bus.isdigit():
        return False
    return any(c.isdigit() for c in bus) or _DT_NODE.fullmatch(bus) is not None


def _strip_driver_echo(body: str, driver: str) -> str:
    """igb and old igc repeat themselves: "igb 0000:03:00.1 eno2: igb: eno2 NIC Link"."""
    return _strip_echo(body, driver)


def _strip_echo(body: str, word: str) -> str:
    """A driver or link name said again after netdev_info's prefix: ixp4xx_eth's "ixp4xx_eth
    ixp4xx_eth.0 eth0: eth0: link up, speed 100 Mb/s, full duplex"."""
    echo = word + ": "
    return body[len(echo) :] if body.startswith(echo) else body


# --- value normalisation -------------------------------------------------------------

# Vendor kernels write "1000 mbps" in lower case, the mainline drivers "1000 Mbps", DSA and
# mv643xx "1000 Mb/s", cdc_ncm "mbit/s".
# The out-of-tree ixgbe 1.x misspelt its gigabit: "NIC Link is Up 1 Gpbs".
# A number is tried from its first digit only ("(?<!\d)"): the leftmost speed starts there anyway, and
# a search tried from each digit of a long run took seconds (5,000 digits: 1.6 s).
_SPEED = re.compile(r"(?<!\d)(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>[MGmg])(?:bps|pbs|b/s|bit/s|[Bb]it)?\b")


# No link runs at a speed of more digits; a longer run is no speed, and converting it would raise
# (int() refuses 4,300 digits, float() makes 309 an infinity round() cannot take).
_MAX_SPEED_DIGITS = 12


def mbps(digits: str | None) -> int | None:
    """A speed a driver printed as a number of Mbps ("1000", phylib's unknown "-1"); None when
    there is none or it is too long to be one."""
    if not digits or len(digits.lstrip("-")) > _MAX_SPEED_DIGITS:
        return None
    return int(digits)


def speed_mbps(text: str | None) -> int | None:
    """ "10 Gbps" → 10000, "2.5 Gbps" → 2500, "1Gbps" → 1000, "1000 M" → 1000, "100 Mb/s" →
    100; "Unknownbps", "unknown speed" → None."""
    if not text:
        return None
    m = _SPEED.search(text)
    if not m or len(m["num"].partition(".")[0]) > _MAX_SPEED_DIGITS:
        return None
    value = float(m["num"]) * (1000 if m["unit"] in "Gg" else 1)
    return round(value) or None


def duplex(text: str | None) -> Duplex | None:
    if not text:
        return None
    low = text.lower()
    if low.startswith(("full", "fd")):
        return Duplex.FULL
    if low.startswith(("half", "hd")):
        return Duplex.HALF
    return None


_FLOW_WORDS: dict[str, FlowControl] = {
    "rx/tx": FlowControl.RX_TX,
    "tx/rx": FlowControl.RX_TX,
    "both": FlowControl.RX_TX,
    "on - receive & transmit": FlowControl.RX_TX,
    "tx and rx": FlowControl.RX_TX,
    "tx rx": FlowControl.RX_TX,  # acenic "Flow Control: TX RX"
    "rx&tx": FlowControl.RX_TX,  # bcm63xx_enet "flow control rx&tx"
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
    # DSA and mv643xx: "flow control disabled" / "enabled" (symmetric pause).
    "disabled": FlowControl.NONE,
    "enabled": FlowControl.RX_TX,
}


def flow_control(text: str | None) -> FlowControl | None:
    """ "Rx/Tx", "RX/TX", "rx/tx", "ON - receive & transmit", "both", "None", "off"..."""
    if not text:
        return None
    key = text.strip().rstrip(".,)").lower()
    key = key.removesuffix(" flow control on").removesuffix(" pause").strip()
    return _FLOW_WORDS.get(key)


def flow_pair(tx: str, rx: str) -> FlowControl:
    """tg3: "Flow control is on for TX and off for RX"."""
    on_tx, on_rx = tx.lower() == "on", rx.lower() == "on"
    if on_tx and on_rx:
        return FlowControl.RX_TX
    if on_rx:
        return FlowControl.RX
    return FlowControl.TX if on_tx else FlowControl.NONE


# --- what the families share ---------------------------------------------------------

Handler = Callable[[re.Match[str], Prefix], MessageMatch | None]


class LazyPattern:
    """A rule's pattern, compiled when a message first reaches it: a log whose events are
    all "NIC Link is ..." needs the first rules only, and compiling the forty of them costs
    every `logs` command 20 ms before it reads a byte."""

    __slots__ = ("_compiled", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._compiled: re.Pattern[str] | None = None

    def match(self, text: str) -> re.Match[str] | None:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self.pattern)
        return compiled.match(text)


Rule = tuple[LazyPattern, Handler]


def registrar(rules: list[Rule]) -> Callable[[str], Callable[[Handler], Handler]]:
    """The decorator that appends a handler and its pattern to `rules`, in order."""

    def rule(pattern: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            rules.append((LazyPattern(pattern), handler))
            return handler

        return register

    return rule


def state(word: str) -> EventKind:
    return EventKind.LINK_UP if word.lower() in ("up", "on") else EventKind.LINK_DOWN


@dataclass(frozen=True, slots=True)
class Details:
    speed_mbps: int | None = None
    duplex: Duplex | None = None
    flow_control: FlowControl | None = None


def link(
    m: re.Match[str], p: Prefix, kind: EventKind, details: Details | None = None, detail: str | None = None
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
    d = details or Details()
    return MessageMatch(kind, ifname, driver, p.bus_id, d.speed_mbps, d.duplex, d.flow_control, detail)


# After a link's state the drivers go on with details (" 1000 Mbps", ", 100Mbps, full-duplex",
# " - ...", " at ...", "<100 Mbps ...>", " Speed is ...", " unknown speed"); a lower-case word
# there is a sentence's ("Link is down after resume", "link is down, retrying").
# A few words are the drivers' own details, not a sentence: sunhme "Link is up using external
# transceiver at 100Mb/s", starfire "Link is up, running at 100Mbit", de2104x "link up, media
# 10baseT", sunhme/sunbmac "Link down, cable problem?", cxgb4 "Port 0 link down, reason: ...", hp100
# "hp100: eth0: link down detected" (2.2-2.4, corpus/driver_survey_2x.md).
_PROSE = re.compile(
    # The drivers' own words after the state, in their shapes: de2104x ", media 10baseT", sunhme "using
    # external transceiver" and ", cable problem?", starfire ", running at 100Mbit", cxgb4 ", reason:",
    # hp100 " detected" as the last word.
    r"[,;:]? +(?!at\b|on\b|with\b|unknown\b|speed\b|full\b|half\b|using (?:external|internal)\b"
    r"|running at\b|media [\w:]|media:|cable problem\b|reason:|detected$)"
    r"[a-z]{2,}\b"
)


# A statistics dump's counter and its value after the words ("tx_timeout: 2", ena at a reset).
COUNTER_VALUE = re.compile(r": \d+")

# "link up/down": both states named, a description ("changes of link up/down, MTU, etc."), no report.
_BOTH_STATES = re.compile(r"\s*/\s*(?:up|down|Up|Down|UP|DOWN)\b")
# A sentence of its own after the state: ONIE's installer "eth0: link down.  Skipping configuration.";
# amd8111e's "Link is Up. Speed is 100 Mbps" goes on with its details.
_NEXT_SENTENCE = re.compile(r"[.!] +(?!Speed\b)[A-Z][a-z]+ [A-Za-z]")


# U-Boot's macb and dnet (and RT-Thread's copies of them) end a link line with the MII register they
# read: "link up, 100Mbps full-duplex (lpa: 0x45e1)", "link down (status: 0x7849)"; no Linux driver does.
_REGISTER_NOTE = re.compile(r"\((?:lpa|status): 0x[0-9a-fA-F]{4}\)$")


def prose_after(rest: str) -> bool:
    """True when what follows a link's state is a sentence's words or a boot loader's register
    note, not a Linux driver's details."""
    if "(" in rest and _REGISTER_NOTE.search(rest) is not None:
        return True
    return any(p.match(rest) is not None for p in (_PROSE, _BOTH_STATES, _NEXT_SENTENCE))


_FLOW_TEXT = re.compile(r"[Ff]low [Cc]ontrol:? (?P<fc>[^,]+?)\s*(?:,|$)")
# bnx2 and old bnx2x: ", receive & transmit flow control ON", nothing when it is off.
_FLOW_ON = re.compile(r"(?P<fc>receive & transmit|receive|transmit) flow control ON")
_DUPLEX_TEXT = re.compile(r"\b(?P<d>[Ff]ull|[Hh]alf|FULL|HALF)[ _-]?[Dd]uplex")
# The duplex as a word after the speed: alx "1 Gbps Full", macb "(1000/Full)", the Broadcom
# et driver "(1000FD)".
_DUPLEX_AFTER_SPEED = re.compile(
    r"\d\s*(?:[MGmg](?:bps|b/s|bit/s)?)?\s*[/ ]?\s*(?P<d>Full|Half|FULL|HALF|full|half|FDX|HDX|FD|HD)\b"
)
# Its numbers from their first digit only, as _SPEED's.
_SPEED_TEXT = re.compile(
    r"(?:(?<!\d)\d+(?:\.\d+)?\s*[MGmg]?|Unknown\s*[MG]?|unknown)\s*(?:bps|b/s|bit/s)|unknown speed|(?<!\d)\d+ Gpbs"
    r"|(?<!\d)\d+(?:\.\d+)?\s*[MGmg][Bb]it\b"
    # A bare Ethernet speed, "10G", "2.5G", "100M" (tn40xx "enp1s0 Link Up 10G"), never "4G LTE".
    r"|\b(?:10|100)M\b|\b(?:1|2\.5|5|10|25|40|50|100|200|400)G\b"
)
# A bare number before a duplex word is Mbps ("(1000/Full)", "(100FD)").
# ibm_emac "1000 FDX"; sunbmac "100baseT" (a speed named by its medium).
_SPEED_BEFORE_DUPLEX = re.compile(
    r"(?<![\d.])(?P<num>\d{2,6})\s*(?:/\s*|\s)?(?:Full|Half|FULL|HALF|full|half|FDX|HDX|FD|HD)\b|(?P<base>\d{2,6})base-?T"
)
# cxgb4/funeth "Tx/Rx PAUSE", "no PAUSE".
_PAUSE = re.compile(r"\b(?P<fc>Tx/Rx|Rx/Tx|Rx|Tx|no) PAUSE\b")


def details_of(rest: str, flow: FlowControl | None = None) -> Details:
    """Speed, duplex and flow control wherever a driver put them after "Up"."""
    speed_text = _SPEED_TEXT.search(rest)
    speed = speed_mbps(speed_text.group(0)) if speed_text else None
    if speed_text is None:
        bare = _SPEED_BEFORE_DUPLEX.search(rest)
        speed = int(bare["num"] or bare["base"]) if bare else None
    duplex_text = _DUPLEX_TEXT.search(rest) or _DUPLEX_AFTER_SPEED.search(rest)
    if flow is None:
        flow_text = _FLOW_TEXT.search(rest)
        flow = flow_control(flow_text["fc"]) if flow_text else None
    if flow is None:
        flow_on = _FLOW_ON.search(rest) or _PAUSE.search(rest)
        flow = flow_control(flow_on["fc"]) if flow_on else None
    return Details(speed, duplex(duplex_text["d"]) if duplex_text else None, flow)

"""Kernel message patterns of the network drivers and subsystems, per format string.

The message is what the kernel printed after any capture prefix (time, host, `kernel:`).
It is read in two steps: the device prefix the printk helper put in front
(`netdev_info`: "DRIVER BUS IFNAME: ", `dev_info`: "DRIVER BUS: ", `pr_fmt`: "DRIVER: ",
or nothing), then the body against the drivers' own format strings, anchored at the
start so that text merely quoting a kernel line is not taken for one.

Every message that yields an event contains one of `SCAN_LITERALS`: the fast scan in
`scan.py` looks for nothing else (a property test keeps the two in step).

The recognisers live by family: recognise.py (the match, the prefix readings, the values),
rules_nic.py (the Ethernet drivers' formats and transmit timeouts), rules_stack.py (bonding,
switch ports, bridge, IPv6) and rules_generic.py (the generic recogniser and its guards).
"""

from __future__ import annotations

import re

from linkctl.logs import rules_generic, rules_nic, rules_stack
from linkctl.logs.recognise import (
    Handler,
    MessageMatch,
    Prefix,
    Rule,
    duplex,
    flow_control,
    prefixes,
    speed_mbps,
)
from linkctl.logs.rules_generic import names_a_netdev, plausible_ifname

__all__ = [
    "SCAN_LITERALS",
    "Handler",
    "MessageMatch",
    "Prefix",
    "duplex",
    "flow_control",
    "match_message",
    "plausible_ifname",
    "prefixes",
    "speed_mbps",
]

# Plain byte strings whose presence makes a line a candidate, searched all at once by an
# Aho-Corasick automaton (see scan.py): its SIMD prefilter costs about the same for 20
# literals as for one, so a form may have a literal of its own. The state words are listed
# in the cases the rules take (Up, UP, up...), since the search is exact. (With one RE2
# pass a literal, the Mellanox SDK's "status DOWN" was left out for its 8 % of the scan.)
_STATES = (b"Up", b"UP", b"up", b"Down", b"DOWN", b"down")
SCAN_LITERALS: tuple[bytes, ...] = (
    *(b"k " + word for word in _STATES),  # "Link is Up", "link down", "Link UP", "PHY Link up"
    b"k is",
    b"k status",
    b"k change",
    b"k becomes",
    b"k Speed",  # aqc111 "Link Speed 2500, USB 3"
    b"WATCHDOG",
    b"Hang",
    b") enter",
    b"carrier o",
    b"Flow control is",
    # A driver's own tx timeout: "transmit timed out", "Transmit timeout", "Transmit time out",
    # "TX timeout", "tx timeout", "tx_timeout", "tx hang".
    b"ransmit time",
    b"x timeout",
    b"X timeout",
    b"x_timeout",
    b"x hang",
    b"NIC Up",  # alx "NIC Up: 1 Gbps Full"
    b"network connection:",  # cdc_ncm "network connection: connected"
    b" is up",  # the Atheros swconfig switches "Port 2 is up"
    b" is down",
    b"is now up",  # bonding's ARP monitor "interface eth1 is now down"
    b"is now down",
    b"status DOWN",  # Mellanox's switch SDK "... logical port - 12500 status DOWN"
    b"status UP",
    b"LINK UP",  # vendor drivers in capitals: "LINK UP", "LINK DOWN", "LINK IS UP"
    b"LINK DOWN",
    b"LINK IS",
    b"Media Link",  # sis900 "Media Link On 100mbps full-duplex", "Media Link Off"
    b"x Timeout",  # ionic "Tx Timeout triggered - txq 3", "TX Timeout", "TX TIMEOUT"
    b"X Timeout",
    b"X TIMEOUT",
    b"ransmit Time",
    b"X HANG",
    b"Tx Unit",  # a unit-hang line cut before "Hang": "Detected Tx Unit"
    b"Hardware Unit",
    b"NCSI interface",  # ftgmac100/stmmac "NCSI interface up" (the NC-SI channel's link)
)

# Tried in this order: the drivers' own formats, then the stack's (bonding, switch ports,
# bridge, IPv6), the generic recogniser last so that it only ever adds.
_RULES: list[Rule] = [*rules_nic.RULES, *rules_stack.RULES, *rules_generic.RULES]

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
                if found is not None and names_a_netdev(found, prefix):
                    return found
    return None

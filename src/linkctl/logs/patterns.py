"""Kernel message patterns of the network drivers and subsystems, per format string.

The message is what the kernel printed after any capture prefix (time, host, `kernel:`).
It is read in two steps: the device prefix the printk helper put in front
(`netdev_info`: "DRIVER BUS IFNAME: ", `dev_info`: "DRIVER BUS: ", `pr_fmt`: "DRIVER: ",
or nothing), then the body against the drivers' own format strings, anchored at the
start so that text merely quoting a kernel line is not taken for one.

Every message that yields an event contains one of `SCAN_LITERALS` (literals.py): the fast
scan in `scan.py` looks for nothing else (tests over the corpora keep the two in step).

The recognisers live by family: recognise.py (the match, the prefix readings, the values),
rules_nic.py (the Ethernet drivers' formats and transmit timeouts), rules_stack.py (bonding,
switch ports, bridge, IPv6), rules_drivers.py (drivers' own words found by the survey of the
format strings), rules_old.py (the 2.0-2.4 kernels' drivers' own words, found by their survey),
rules_vendor.py (SoC vendors' SDK drivers found by the second survey outside mainline) and
rules_generic.py (the generic recogniser and its guards).
"""

from __future__ import annotations

import re

from linkctl.logs import rules_drivers, rules_generic, rules_nic, rules_old, rules_stack, rules_vendor
from linkctl.logs.literals import SCAN_LITERALS
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

# Tried in this order: the drivers' own formats, then the stack's (bonding, switch ports,
# bridge, IPv6), the surveyed drivers' own words (mainline's, the 2.x kernels', vendors'), the generic
# recogniser last so that it only ever adds.
_RULES: list[Rule] = [
    *rules_nic.RULES,
    *rules_stack.RULES,
    *rules_drivers.RULES,
    *rules_old.RULES,
    *rules_vendor.RULES,
    *rules_generic.RULES,
]

# Messages whose words look like an event but are not one about a link's carrier.
_NOT_LINK = re.compile(r"PCIe|pcie|PCI Express|Bluetooth|usb \d|SATA|ata\d|thunderbolt")


# A kernel message reports one state; a line with two is a person's summary ("lan2: Link is Down
# / lan2: Link is Up - 100Mbps/Full flaps every 1-2 seconds").
_TWO_STATES = re.compile(r"[Ll]ink is (?:[Uu]p|[Dd]own|UP|DOWN)\b.*[Ll]ink is (?:[Uu]p|[Dd]own|UP|DOWN)\b")


# systemd-networkd's administrative state after the link's name alone ("eth0: Link UP", journalctl
# -o cat): enic says the same words only behind netdev_info's driver and bus (corpus/program_survey.md).
_NETWORKD_ADMIN = re.compile(r"[^\s:]{1,15}: Link (?:UP|DOWN)")


def match_message(message: str) -> MessageMatch | None:
    """The event a kernel message reports, or None if it reports none."""
    if _NOT_LINK.search(message[:80]) or _TWO_STATES.search(message) or _NETWORKD_ADMIN.fullmatch(message):
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

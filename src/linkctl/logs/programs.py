"""The userspace programs that print link words of their own next to the kernel's, by name: network
daemons, routing and cluster daemons, packet frameworks (corpus/program_survey.md). A line they
wrote carries their syslog tag ("dhcpcd[511]: ", "bird: ", "host ptp4l: "), which no kernel line
has; the kernel's own tag ("kernel: ") is not among them.
"""

from __future__ import annotations

import re

# Each name as its syslog tag spells it; a daemon's instance suffix follows ("Keepalived_vrrp",
# "teamd_team0", "ifplugd(eth0)", "systemd-networkd").
DAEMON_NAMES = (
    r"NetworkManager|systemd(?:-\w+)?|networkd|dhcpcd|dhclient|udhcpc|netifd|ifupdown2?|ifplugd|netplugd"
    r"|connmand?|wickedd?|iwd|wpa_supplicant|hostapd|[Kk]eepalived|teamd|lldpd|lldpad|pppd|openvpn"
    r"|zebra|bgpd|ospf6?d|isisd|bfdd|watchfrr|bird6?|corosync|pacemakerd|ptp4l|phc2sys|ts2phc|mstpd"
    r"|ovs-vswitchd|ovsdb-server|vpp|dpdk-testpmd|testpmd|mii-tool"
)
# A daemon's tag at the head of a line without its stamp: "[HOST ]NAME[SUFFIX][[PID]]: ".
_DAEMON_TAG = re.compile(rf"(?:[\w.\-]+ )?(?:{DAEMON_NAMES})(?:[_\-][\w\-]+|\([\w.\-]{{1,15}}\))?(?:\[\d+\])?: ")


def daemon_tagged(line: str) -> bool:
    """True for a line that opens with a userspace daemon's syslog tag ("bird: bgp1: Link down",
    "host systemd-networkd: eth0: Link DOWN"): that program's line, not the kernel's."""
    return _DAEMON_TAG.match(line) is not None

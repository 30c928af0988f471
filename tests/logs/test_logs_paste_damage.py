"""Issue 19, before the fifth holdout: the whole family of damage a paste does to a kernel line
(the fourth holdout's misses were a blog's line-number gutter and masked uptimes, not driver
formats), three driver forms known and untaught (sis900, capitals, ionic), and the false positives
each widening could bring. The lines are made up here from the damage's shapes and the drivers'
format strings; each paste template is crossed with every driver line of corpus/drivers.yaml."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from logs_helpers import assert_form, taken_by_both_scans
from test_logs_corpus import CORPUS

from linkctl.logs.capture import YearHint
from linkctl.logs.lines import parse_line

YEARS = YearHint(year=2024)
DRIVERS: list[dict[str, Any]] = yaml.safe_load((CORPUS / "drivers.yaml").read_text())
SYSLOG = "Mar 30 06:32:45 aurora kernel: {msg}"
DMESG = "[  12.500000] {msg}"

# Paste templates around a capture format: (template, what the capture still tells).
PASTES: list[tuple[str, dict[str, Any]]] = [
    # Gutters: line numbers of any shape, a table's rule, a diff, a prompt, a bullet.
    ("  7  " + SYSLOG, {"host": "aurora"}),
    ("7\t" + SYSLOG, {"host": "aurora"}),
    ("12: " + SYSLOG, {"host": "aurora"}),
    ("3. " + DMESG, {"uptime": 12.5}),
    ("| " + SYSLOG + " |", {"host": "aurora"}),
    ("\u2502 " + DMESG, {"uptime": 12.5}),
    ("+" + SYSLOG, {"host": "aurora"}),
    ("- " + DMESG, {"uptime": 12.5}),
    ("$ " + SYSLOG, {"host": "aurora"}),
    ("* " + SYSLOG, {"host": "aurora"}),
    ("> > " + SYSLOG, {"host": "aurora"}),
    # Taught after the seventeenth holdout: a root shell's bare prompt before a stampless message.
    ("# {msg}", {"uptime": None}),
    # A chat's or a CI runner's stamp, a CI system's markers, a web UI's date.
    ("[10:00:01] <nick> " + SYSLOG, {"host": "aurora"}),
    ("10:00 nick: " + DMESG, {"uptime": 12.5}),
    ("2024-01-01T10:00:00.1234567Z " + SYSLOG, {"host": "aurora", "time": "2024-03-30T06:32:45"}),
    ("[2024-01-01T10:00:00.123Z] " + DMESG, {"uptime": 12.5}),
    ("[Pipeline] " + SYSLOG, {"host": "aurora"}),
    ("##[warning]" + SYSLOG, {"host": "aurora"}),
    ("2024/03/30 06:32:45 kernel: {msg}", {"host": None}),
    # HTML and markdown left in the text.
    ("&gt; " + SYSLOG, {"host": "aurora"}),
    ("<code>" + DMESG + "</code>", {"uptime": 12.5}),
    (DMESG + "<br />", {"uptime": 12.5}),
    ("`" + DMESG + "`", {"uptime": 12.5}),
    ("**" + SYSLOG + "**", {"host": "aurora"}),
    # Masked stamps and names.
    ("[...] {msg}", {"uptime": None}),
    ("[Mon Mar 30 xx:xx:xx 2024] {msg}", {"uptime": None, "time": None}),
    ("[12345.xxxxxx] {msg}", {"uptime": None}),
    ("Mar 30 06:32:45 <redacted> kernel: {msg}", {"host": "<redacted>"}),
    ("Mar 30 06:32:45 [hostname] kernel: {msg}", {"host": "[hostname]"}),
    ("<redacted> kernel: {msg}", {"host": "<redacted>"}),
    # Spaces a page renders, a shell's continuation, CRLF.
    ("[\u00a012.500000]\u00a0{msg}", {"uptime": 12.5}),
    (DMESG + " \\", {"uptime": 12.5}),
    (DMESG + "\r", {"uptime": 12.5}),
]


def _driver_cases() -> list[dict[str, Any]]:
    # A space inside the message is kept as the driver wrote it; templates with NBSP change
    # only the capture's spaces and the message's first one.
    return [case for case in DRIVERS if case["expect"] is not None]


@pytest.mark.parametrize(("template", "capture"), PASTES, ids=[p[0][:40] for p in PASTES])
def test_paste_damage_around_every_driver_line(template: str, capture: dict[str, Any]) -> None:
    wrong = []
    for case in _driver_cases():
        message = case["line"]
        if "\u00a0" in template:
            message = message.replace(" ", "\u00a0", 1)
        line = template.replace("{msg}", message)
        event = parse_line(line, years=YEARS)
        if event is None:
            wrong.append(f"no event from {line!r}")
            continue
        got = event.to_json()
        for key, value in {**case["expect"], **capture}.items():
            if got[key] != value:
                wrong.append(f"{key}: {got[key]!r} != {value!r} in {line!r}")
    assert not wrong, "\n".join(wrong[:10])


FORMS: list[tuple[str, dict[str, Any]]] = [
    # sis900's own words; capitals; ionic's transmit timeout.
    (
        "sis900 0000:00:04.0 eth0: Media Link On 100mbps full-duplex",
        {"event": "link_up", "ifname": "eth0", "speed_mbps": 100, "duplex": "full"},
    ),
    ("eth0: Media Link ON 10mbps half-duplex", {"event": "link_up", "speed_mbps": 10, "duplex": "half"}),
    ("eth0: Media Link Off", {"event": "link_down", "ifname": "eth0"}),
    ("foo 0000:01:00.0 eth2: LINK UP", {"event": "link_up", "ifname": "eth2"}),
    ("eth2: LINK DOWN", {"event": "link_down", "ifname": "eth2"}),
    ("eth2: LINK IS UP", {"event": "link_up", "ifname": "eth2"}),
    ("ionic 0000:b5:00.0 enp181s0np0: Tx Timeout triggered - txq 3", {"event": "tx_timeout", "ifname": "enp181s0np0"}),
    ("eth0: TX TIMEOUT", {"event": "tx_timeout", "ifname": "eth0"}),
    # A line cut in two (a mail client's wrap): the piece that holds the event's words.
    (
        "[  12.5] NETDEV WATCHDOG: eth0 (e1000e): transmit",
        {"event": "tx_timeout", "ifname": "eth0", "driver": "e1000e"},
    ),
    ("[  12.5] NETDEV WATCHDOG: enp3s0 (r8", {"event": "tx_timeout", "ifname": "enp3s0"}),
    ("r8169 0000:03:00.0 eth0: NETDEV WATCHDOG: CPU: 3: transmit queue 0", {"event": "tx_timeout", "ifname": "eth0"}),
    ("Mar 30 06:32:45 h kernel: e1000e 0000:00:19.0 eth0: Detected Hardware Unit", {"event": "tx_timeout"}),
    ("igb 0000:01:00.0: Detected Tx Unit", {"event": "tx_timeout", "ifname": None}),
    ("Link is Down", {"event": "link_down", "ifname": None}),
    # An elided device prefix.
    ("[  12.5] ... eno1: NIC Link is Down", {"event": "link_down", "ifname": "eno1", "uptime": 12.5}),
    ("Mar 30 06:32:45 h kernel: [...] eno1: NIC Link is Down", {"event": "link_down", "ifname": "eno1"}),
    # Masked names are what the line shows.
    ("e1000e 0000:00:19.0 eth?: NIC Link is Down", {"ifname": "eth?"}),
    ("e1000e 0000:XX:XX.X ethX: NIC Link is Down", {"ifname": "ethX"}),
    # Taught after the fifth holdout's blind score, by family (lines made up here): a shell prompt
    # the console printed a kernel line over, with no stamp after it; NC-SI's link (ftgmac100,
    # stmmac, phytmac); an uptime whose bracket a screenshot's OCR read as a digit or ")".
    ("# cpsw 4a100000.ethernet eth0: Link is Down", {"event": "link_down", "ifname": "eth0"}),
    ("~ # r8169 0000:03:00.0 enp3s0: Link is Up - 1Gbps/Full - flow control rx/tx", {"speed_mbps": 1000}),
    ("root@OpenWrt:~# mtk_soc_eth 1e100000.ethernet eth0: port 2 link down", {"ifname": "eth0"}),
    ("`[admin@nas ~]$ r8152 2-1:1.0 eth1: carrier off`", {"event": "link_down", "ifname": "eth1"}),
    ("stmmaceth 10020000.gmac eth0: NCSI interface down", {"event": "link_down", "ifname": "eth0"}),
    ("Mar 30 06:32:45 bmc kernel: ftgmac100 1e670000.ethernet eth1: NCSI interface up", {"event": "link_up"}),
    ("[12345.6789011 r8169 0000:03:00.0 eth0: Link is Down", {"event": "link_down", "uptime": None}),
    ("[ 812.004551) igb 0000:01:00.0 eno1: NIC Link is Down", {"ifname": "eno1", "uptime": None}),
    # Taught in the sixth holdout's round, before its lines were read: a kernel line after text no
    # capture format explains, a device's prefix or the watchdog following it (lines made up here).
    ("node1 | NETDEV WATCHDOG: eth0 (r8169): transmit queue 0 timed out", {"event": "tx_timeout", "ifname": "eth0"}),
    ("=> r8168: eth2: link down", {"event": "link_down", "ifname": "eth2"}),
    (">>> e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx", {"flow_control": "rx/tx"}),
    ("2024-01-01 10:00:00,123 | kern.warn | r8169 0000:03:00.0 eth0: Link is Down", {"ifname": "eth0"}),
    ("2024-01-01 10:00:00 | [  12.500000] r8169 0000:03:00.0 eth0: Link is Down", {"uptime": 12.5}),
    ("Mar 30 06:32:45 h kernel: >> r8169 0000:03:00.0 eth0: Link is Down", {"event": "link_down"}),
    ("fw-12 :: ixgbe 0000:05:00.0 enp5s0f0: NIC Link is Up 10 Gbps, Flow Control: RX/TX", {"speed_mbps": 10000}),
    ("(console) mvneta f1070000.ethernet eth0: Link is Down", {"event": "link_down", "ifname": "eth0"}),
    # Taught after the sixth holdout's blind score, by family (lines made up here): an uptime of
    # eleven or twelve digits (a clock gone wrong), i40e's recovery words without their device, a
    # PHY driver's "FUNCTION, link down", OpenWrt's bcm63xx "phy link UP MODE/SPEED/DUPLEX/PAUSE".
    ("[123456789012.000001] r8169 0000:03:00.0 eth0: Link is Down", {"uptime": 123456789012.000001}),
    ("tx_timeout recovery level 3, hung_queue 7", {"event": "tx_timeout", "ifname": None}),
    (
        "Motorcomm YT8531 Gigabit mdio-bus:01: yt8531_read_status, link up, media: UTP",
        {"event": "link_up", "ifname": None},
    ),
    (
        "bcm6368-enetsw 10700000.ethernet: eth1: phy link UP rgmii/1Gbps/Full/rx/tx",
        {"event": "link_up", "ifname": "eth1", "speed_mbps": 1000, "duplex": "full", "flow_control": "rx/tx"},
    ),
    (
        "bcm6348-emac fffe4800.ethernet: eth0: phy link DOWN mii/100Mbps/Half/off",
        {"event": "link_down", "speed_mbps": 100, "duplex": "half", "flow_control": "none"},
    ),
    # Taught after the seventh holdout's blind score, by family (lines made up here): old drivers'
    # "PFX IFNAME: " (sky2, skge), a function's name after "DRIVER: IFNAME: " (old e100), a line that
    # opens with a name Linux gives a netdev and no colon (tn40xx), with a bare "10G" for a speed.
    ("skge eth1: tx timeout", {"event": "tx_timeout", "ifname": "eth1", "driver": "skge"}),
    ("[  12.500000] sky2 eth2: Link is down", {"event": "link_down", "ifname": "eth2"}),
    ("e100: eth1: e100_watchdog: link up, 10Mbps, half-duplex", {"ifname": "eth1", "speed_mbps": 10, "duplex": "half"}),
    ("[  3.2] enp4s0 Link Up 2.5G", {"event": "link_up", "ifname": "enp4s0", "speed_mbps": 2500}),
    ("eno2 Link Down", {"event": "link_down", "ifname": "eno2"}),
    # Taught after the eighth holdout's blind score, by family (lines made up here): a diff's marker
    # glued to the netdev's prefix, the PCMCIA cards' link beat after the netdev's name alone, a
    # driver's "status: " label after the netdev with "100MBit", a page's paragraph of joined records.
    ("+eth1: link down", {"event": "link_down", "ifname": "eth1"}),
    ("Mar 30 06:32:45 h kernel: eth1: lost link beat", {"event": "link_down", "ifname": "eth1"}),
    ("eth1: status: link up, 10MBit Half Duplex, auto-negotiation complete.", {"ifname": "eth1", "speed_mbps": 10}),
    (
        "[ 5.1] eth0: registered [ 5.2] IPv6: ADDRCONF(NETDEV_UP): eth0: link is not ready"
        " [ 7.3] r8169 0000:03:00.0 eth0: Link is Up - 1Gbps/Full - flow control off [ 7.4] br0: port 1 entered",
        {"event": "link_up", "ifname": "eth0", "uptime": 7.3},
    ),
    # Taught after the ninth holdout's blind score, by family (lines made up here): a letter an Amlogic
    # vendor kernel glues to the uptime's bracket; records a page joined without their stamps, each
    # behind the same prefix (the first one's event).
    ("[  812.004551@2]d stmmaceth c9410000.ethernet eth0: Link is Down", {"event": "link_down", "uptime": 812.004551}),
    (
        "e1000e: eth1 NIC Link is Up 100 Mbps Full Duplex e1000e: eth1 NIC Link is Down",
        {"event": "link_up", "speed_mbps": 100},
    ),
    # From the review of this round's changes: a joined record at the line's start; a unit hang after the
    # netdev's name alone; TLAN's own tag; mace/bmac name their driver, no netdev.
    (
        "[ 5.1] r8169 0000:03:00.0 eth0: Link is Down [ 7.3] r8169 0000:03:00.0 eth0: Link is Up - 1Gbps/Full",
        {"event": "link_down", "uptime": 5.1},
    ),
    ("[  123.456789] eth0: Detected Tx Unit Hang", {"event": "tx_timeout", "ifname": "eth0"}),
    ("TLAN: eth1 has reestablished link", {"event": "link_up", "ifname": "eth1"}),
    ("bmac: transmit timeout - resetting", {"event": "tx_timeout", "ifname": None, "driver": "bmac"}),
    ("2024-03-30T06:32:45.1+01:00 sja1105 spi2.0: xmit timed out", {"event": "tx_timeout", "bus_id": "spi2.0"}),
    # Taught after the fifteenth holdout (its misses' families, lines made up here): a platform device's
    # address left out with its node's name kept; older drivers' "DRIVER: IFNAME link up" (bna's
    # pr_warn); NETDEV WATCHDOG's words after a netdev prefix with a part left out.
    ("Mar 30 06:32:45 aurora kernel: macb ... ethernet end0: Link is Down", {"ifname": "end0", "driver": "macb"}),
    ("[  12.5] stmmac ....gmac eth1: Link is Up - 1Gbps/Full", {"ifname": "eth1", "speed_mbps": 1000}),
    ("bna: enp1s0f2 link up", {"event": "link_up", "ifname": "enp1s0f2", "driver": "bna"}),
    ("[  136.2] bna: eth3 link down", {"event": "link_down", "ifname": "eth3"}),
    ("r8169 0000:02:00.0 eno1: NETDEV WATCHDOG: transmit queue 0 timed out", {"event": "tx_timeout", "ifname": "eno1"}),
    # The same family, the device's address masked or left out another way.
    ("Mar 30 06:32:45 aurora kernel: r8169 ... eth0: Link is Down", {"ifname": "eth0", "driver": "r8169"}),
    ("igb XXXX:XX:XX.X eno1: igb: eno1 NIC Link is Down", {"event": "link_down", "ifname": "eno1"}),
    ("[  12.3] igb <pci-addr> eno1: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: RX", {"speed_mbps": 1000}),
    ("igb XXXX:XX:XX.X: Detected Tx Unit Hang", {"event": "tx_timeout", "driver": "igb", "ifname": None}),
    # Taught after the sixteenth holdout: a platform device's unit address masked, its node's name kept.
    ("[  9.8] stmmac xxxxxxxx.gmac eth1: Link is Down", {"event": "link_down", "ifname": "eth1", "driver": "stmmac"}),
    ("dwmac-rk ****.ethernet end1: Link is Up - 100Mbps/Full - flow control rx/tx", {"flow_control": "rx/tx"}),
    # Taught after the seventeenth holdout: a root shell's bare prompt ("# ") the console printed over.
    ("# ftgmac100: NCSI interface down", {"event": "link_down", "driver": "ftgmac100"}),
    ("# mlx5_core 0000:3b:00.1 ens1f1: Link down", {"event": "link_down", "ifname": "ens1f1"}),
    # ...and what the eighteenth's guards keep: e1000e's details joined after "Hang:", capitals' PFX.
    (
        "e1000e 0000:00:1f.6 eth0: Detected Hardware Unit Hang: h kernel: TDH <0> h kernel: TDT <1>",
        {"event": "tx_timeout"},
    ),
    ("TLAN: eth0: Link active", {"event": "link_up", "ifname": "eth0"}),
    ("hinic 0000:03:00.0 eth0: HINIC_Intf: Link is UP", {"event": "link_up", "ifname": "eth0"}),
]


@pytest.mark.parametrize(("line", "expect"), FORMS, ids=[f[0][:50] for f in FORMS])
def test_form(line: str, expect: dict[str, Any]) -> None:
    assert_form(line, expect, YEARS)


FALSE_POSITIVES = [
    # Taught after the seventeenth holdout: a bootloader's PCIe link (U-Boot's "PCIE-0: Link up", as
    # "ata1: SATA link up"), and a program's sentence after the state (ONIE's installer).
    "PCIE-0: Link up",
    "pcie1: link up",
    "sata0: link down",
    "ONIE: eth0: link down.  Skipping configuration.",
    "eth0: link up. Starting DHCP client",
    # Taught after the eighteenth holdout: a function's name and a line's number before the state, as a
    # debug print gives them (a PCIe NTB's link, no netdev); a capitalised word before a netdev's name,
    # which no network driver's pr_fmt is (a title, a sentence's article); a unit hang's words going on
    # as a sentence.
    "[  517.277240] ntrdma 0000:00:03.0: ntc_ntb_enabled: 787: link is up!",
    "Proxmox: enp0s31f6: Detected Hardware Unit Hang",
    "The e1000: Detected Tx Unit Hang failure mode of the emulated E1000 adapter",
    "Ubuntu: eth0: Link is Down",
    "e1000e 0000:00:1f.6 eno1: Detected Hardware Unit Hang when the adapter is under load",
    # Taught after the nineteenth holdout: DPDK's applications' port report (f-stack, its examples).
    "Port 0 Link Down",
    "[ 12.0] Port 1 Link Down",
    # A markdown heading that is a sentence, a root prompt before a command's words.
    "# eth0 link down after resume on kernel 6.1",
    "# ncsi-netlink --set-interface eth0: NCSI interface down",
    # Userspace's view of a carrier: not the kernel's line (corpus/README.md's labelling rules).
    "Jan 01 10:00:00 host systemd-networkd[123]: eth0: Lost carrier",
    "Jan 01 10:00:00 host systemd-networkd[123]: eth0: Gained carrier",
    "eth0: Lost carrier",
    "Jan 01 10:00:00 host systemd-networkd[123]: eth0: Link DOWN",
    "Jan 01 10:00:00 host NetworkManager[812]: <info>  [1704103200.1234] device (eth0): carrier: link connected",
    "dhcpcd[123]: eth0: carrier lost",
    "ifplugd(eth0)[1234]: Link beat lost.",
    "netifd: Network device 'lan1' link is up",
    "Port 0: Link Up - speed 10000 Mbps - full-duplex",
    "Port 0: Link Down",
    # Tools' output: ip link, ethtool.
    "2: eth0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc fq_codel state DOWN mode DEFAULT group default",
    "  2 | 2: eth0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 state DOWN",
    "\tLink detected: no",
    "eth0             DOWN",
    # Other systems' logs.
    "%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down",
    "Jan  1 10:00:00 switch01 %LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down",
    "mib2d[1234]: SNMP_TRAP_LINK_DOWN: ifIndex 520, ifAdminStatus up(1), ifOperStatus down(2)",
    "em0: link state changed to DOWN",
    "ether1 link down",
    # Sentences: a link's state followed by a sentence's words, quoted messages, commit subjects.
    "Link is down after resume from suspend",
    "r8169: Link is down after resume",
    "eth0: link down after suspend",
    "e1000e: eth0 NIC Link is Down since the last update",
    "- r8169: Link is down after resume",
    "> Link is Down and then Up again",
    "2024-01-01T10:00:00.1234567Z eth0: link is down, retrying",
    "Media Link On is shown",
    'The log shows "e1000e: eth0 NIC Link is Down" every few minutes.',
    'Subject: [PATCH] r8169: fix "Link is Down" printed twice',
    'Subject: [PATCH net] ionic: print "Tx Timeout triggered" once',
    "the NETDEV WATCHDOG: eth0 line appears",
    '"[  12.500000] r8169 0000:03:00.0 enp3s0: Link is Down"',
    "| Link is Down | yes |",
    # Source code in a diff or a quote is not its output.
    '+\tnetdev_info(dev, "Link is Down\\n");',
    '    printk(KERN_INFO "%s: Media Link Off\\n", net_dev->name);',
    # A chat line with no capture format is a person talking.
    "[10:00:01] <nick> eth0: Link is Down",
    "10:00 <nick> NIC Link is Down again",
    # Status markers and placeholders are no masked stamps.
    "[*] Link is Down",
    "[x] Link is down",
    "[timestamp] e1000e 0000:00:19.0 eth0: Detected Hardware Unit Hang",
    # A cut unit-hang line says whose only after a device.
    "Detected Hardware Unit",
    # Settings, not reports.
    "eth0: TX timeout set to 5000 ms",
    "Bluetooth: hci0: link tx timeout",
    # A command typed at a prompt is no kernel line, whatever it names; nor is a sentence about NC-SI.
    "# ip link set dev eth0 down",
    "$ sudo ip link set eth0 down; dmesg",
    "# echo 0 > /sys/class/net/eth0/carrier: link down",
    "root@bmc:~# ncsi-netlink --set-interface eth0: NCSI interface down",
    "The NCSI interface up message never appears",
    # Other systems' logs in the fifth holdout's sources (macOS kexts, Zephyr, lwIP).
    "Dec  2 15:51:30 Toms-iMac kernel[0]: Ethernet [AtherosE2200]: Link down on en2",
    "[00:00:00.153,000] <inf> eth_nxp_enet_mac: Link is down",
    "Ethernet Link down",
    # Text before a device's prefix that is a person's, a quotation, documentation or another
    # program's: never a kernel line (the sixth holdout's round).
    "see r8169 0000:03:00.0 eth0: Link is Down",
    "I got this again r8169 0000:03:00.0 eth0: Link is Down",
    "dmesg shows: r8169 0000:03:00.0 eth0: Link is Down",
    "Here is the log: e1000e 0000:00:19.0 eth0: NIC Link is Down",
    "after resume 'r8169 0000:03:00.0 eth0: Link is Down' appears",
    "[timestamp] e1000e: eth0 NIC Link is Down",
    "<date> r8169 0000:03:00.0 eth0: Link is Down",
    "10:00 myhost dhcpcd[123]: r8169 0000:03:00.0 eth0: Link is Down",
    "the NETDEV WATCHDOG: eth0 line appears",
    "Right now I am connect to LAN 2, Atheros AR8216/AR8236/AR8316 mdio.0:00: Port 3 is up",
    # The sixth holdout's false positives, by family: a statistics dump's counter (ena at a reset),
    # a unit hang's words with no device (a page's list of symptoms), a summary with two states.
    "ena 0000:00:06.0 eth1: tx_timeout: 17",
    "[  +0.000004] ena 0000:00:06.0 eth1: tx_timeout: 0",
    "Detected Tx Unit Hang",
    "Detected Hardware Unit Hang",
    "- eth1: Link is Down / eth1: Link is Up, over and over",
    # Found by running the recognisers over text that holds no kernel line (the seventh round): the
    # Debian kernel changelog's commit subjects (made-up ones here, of the same shapes), a function
    # named with its parentheses, a quotation, and the kernel documentation's "link up/down".
    "  - r8169: disable ASPM in case of tx timeout",
    "  - [arm64] net: hns3: fix a TX timeout issue",
    "  - net/mlx5e: Take state lock during tx timeout reporter",
    "  - atl1c: fix tx timeout after link flap on some NIC",
    "  - drivers: net: slip: fix a bug in sl_tx_timeout()",
    '  - media: cec: core: avoid confusing "transmit timed out" message',
    "changes of link up/down, MTU, etc. For instance, bringing the device",
    "eth0: link up/down",
    # The seventh holdout's false positives, by family: another system's interface, named by a BSD
    # driver and its unit (FreeBSD's axgbe copied Linux's words); a bus's own numbered device is no
    # netdev; a person's words before a netdev's name.
    "ax0: Link is DOWN",
    "ix0: Link is UP - 10Gbps/Full - flow control off",
    "vtnet0: link state changed to UP",
    "re0: link up",
    "spi1: tx timeout",
    "I see enp1s0 Link Down",
    # The eighth holdout's false positives, by family: U-Boot's port line (no device before it); and a
    # quotation of joined records stays a quotation.
    "link up on port 0, speed 1000, full duplex",
    'I saw "[ 1.0] eth0: Link is Down" and then [ 2.0] the rest',
    # Joined with a slash or a word: a person's summary, not records.
    "eth1: Link is Down / eth1: Link is Up again",
    "eth1: Link is Down and then eth1: Link is Up",
    # From the review: sentences, programs and speeds the round's changes had let through.
    "Router has lost link",
    "ssh: transmit timeout - resetting",
    "2024-01-01T10:00:00+00:00 rhel8 platform-python3.6: eth0: Link is Down",
    "2024-01-01T10:00:00+00:00 node node-1: eth0: Link is Down",
    "Link is up, running out of ideas",
    "link down, reason for this is unknown",
    "- NetworkManager eth0: link down",
    "2024-03-30 06:32:45,123 | daemon.info | systemd-networkd eth0: Link DOWN",
    "e.g. r8169 0000:02:00.0 eth0: Link is Down",
    "[PATCH v2 1/3] e1000e: eth0: Detected Hardware Unit Hang",
    # Words the rules read case-blind but the fast scan holds no literal for: both readers agree.
    "r8169 0000:03:00.0 eth0: TX Timed Out",
    # A daemon's or a label's "WORD: IFNAME link down" is not a driver's.
    "systemd: eth0 link down",
    "keepalived: eth0 link down",
    "NetworkManager: eth0 link up",
    "Info: eth0 link up",
    "watchdog: eth0 link down",
    # A masked bus behind another subsystem's name or a daemon's.
    "usb XXXX:XX:XX.X: Link is Down",
    "NetworkManager <pci> eth0: Link is Down",
    "NetworkManager XXXXXX.ethernet eth0: Link is Down",
    "usb XXXXXX.usb eth0: Link is Down",
]


def test_a_bare_speed_is_an_ethernet_one() -> None:
    """ "10G" after the state is a speed; "4G LTE" is a mobile network's name, no speed."""
    lte = parse_line("eth0: link up 4G LTE", years=YEARS)
    assert lte is not None and lte.speed_mbps is None
    ten = parse_line("eth0: link up 10G", years=YEARS)
    assert ten is not None and ten.speed_mbps == 10000


def test_lines_built_to_make_the_readers_backtrack_finish() -> None:
    """A review's hostile lines for the new readers: each parses to nothing instead of hanging."""
    for line in (
        "2024-01-01T10:00:00+00:00 x spi" + "0" * 60000 + "x: Link is Down",
        " [ 1.5] x" * 6000,
    ):
        assert parse_line(line, years=YEARS) is None


def test_lines_built_to_make_the_trailer_backtrack_finish() -> None:
    """The second review's: backslashes or backticks before a letter (30 took minutes: each split of
    the run between the trailer's repetitions was tried) and a long run of spaces (20,000 took 8 s)
    before the state; the trailer is still cut after a long run of spaces."""
    down = "[ 12.5] eth0: Link is Down "
    for line in (down + "\\" * 40 + "x", down + "`" * 60000 + "x", down + " " * 60000 + "|"):
        event = parse_line(line, years=YEARS)
        assert event is not None and event.event.value == "link_down"
    assert parse_line("[ 12.5] eth0: link state" + " " * 60000 + "down", years=YEARS) is None


@pytest.mark.parametrize("line", FALSE_POSITIVES)
def test_false_positive_stays_out(line: str) -> None:
    event = parse_line(line, years=YEARS)
    assert event is None, f"{line!r} gave {event}"


def test_the_fast_scan_lets_every_damaged_line_through() -> None:
    """The prefilter's literals hold for the new forms and for every damaged driver line."""
    damaged = [t.replace("{msg}", c["line"]) for t, _ in PASTES for c in _driver_cases()]
    slow = taken_by_both_scans([line for line, _ in FORMS] + FALSE_POSITIVES + damaged, YEARS)
    assert len(slow) >= len(damaged)

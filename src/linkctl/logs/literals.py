"""The literals of the fast scan: a line holding none of them yields no event.

Every message a recogniser (patterns.py and its rules) takes contains one of `SCAN_LITERALS`;
the scan (scan.py) hands on only the lines that do, and tests over the corpora, the holdouts
and the fuzzer keep the two in step. A module of its own, with no imports: a large file's scan
processes start once these are known, before the rules are compiled (~20 ms of `re`).
"""

from __future__ import annotations

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
    # "TX timeout", "tx timeout", "tx_timeout", "tx hang"; "ransmit " also holds "Transmit Timeout"
    # and ewrk3's "transmit timed/locked out".
    b"ransmit ",
    b"x timeout",
    b"X timeout",
    b"x_timeout",
    b"x hang",
    b"NIC Up",  # alx "NIC Up: 1 Gbps Full"
    b"network connection",  # cdc_ncm "network connection: connected", sk98lin "network connection up using port A"
    b" is up",  # the Atheros swconfig switches "Port 2 is up"
    b" is down",
    b"is now ",  # bonding's ARP monitor "interface eth1 is now down" (one literal for "up" and "down")
    b"status DOWN",  # Mellanox's switch SDK "... logical port - 12500 status DOWN"
    b"status UP",
    b"LINK ",  # vendor drivers in capitals: "LINK UP", "LINK DOWN", "LINK IS UP", "LINK NOW UP"
    b"k state",  # "link state down" (qlcnic 83xx), "Link state of ecm0 changed to UP." (IgH EtherCAT)
    b"Media Link",  # sis900 "Media Link On 100mbps full-duplex", "Media Link Off"
    b"x Timeout",  # ionic "Tx Timeout triggered - txq 3", "TX Timeout", "TX TIMEOUT"
    b"X Timeout",
    b"X TIMEOUT",
    b"X HANG",
    b"Tx Unit",  # a unit-hang line cut before "Hang": "Detected Tx Unit"
    b"Hardware Unit",
    b"NCSI interface",  # ftgmac100/stmmac "NCSI interface up" (the NC-SI channel's link)
    # Found by the survey of Linux 6.12's format strings (corpus/driver_survey.md): link words
    # no literal above holds...
    b"k now ",  # ns83820 "link now down."
    b"forced ",  # sunhme "Link has been forced up using ...", bcm63xx_enet "link forced UP"
    b"ink on",  # ksz884x "link on", sis190 "link on 100 Mbps Full Duplex mode"
    b"ink off",  # dl2k "Link off", ksz884x "link off"
    b"intf UP",  # hinic "link + intf UP"
    b"Link Event",  # dpaa2-eth "Link Event: state up"
    b"Link active",  # tlan "Link active", "Link inactive, will retry in 10 secs..."
    b"Link inactive",
    b"t link",  # tlan "TLAN: eth0 has lost link" ("has reestablished link"), lantiq xrx200 "got link"
    b"reestablished link",
    b"M bps",  # via-velocity "Link auto-negotiation speed 1000M bps full duplex"
    b"detect cable link",  # via-velocity "failed to detect cable link"
    b"link beat",  # the PCMCIA cards' "lost link beat", "found link beat"
    # ...and transmit timeouts: "Tx timed out.", "TX timed out!", "xmit timed out", "xmit
    # timeout", "xmitter timed out", "tx time out.", "TX stuck", "Transmitter is stuck", "Send
    # stuck - reset", gve "Timeout on tx queue", ena "TX q 3 is paused for too long", nfp "TX
    # watchdog timeout on ring".
    b"x timed out",
    b"X timed out",
    b"x time out",
    b"xmit",  # "xmit timed out", "xmit timeout", "xmitter timed out"
    b" stuck",
    b"Timeout on tx",
    b"paused for too long",
    b"X watchdog",
    # Found by the second survey outside mainline (corpus/driver_survey_oot2.md): the Atheros LSDK's
    # "phy not up carrier 1", Octeon's "1000 Mbps Full duplex, port  0, queue  0".
    b"up carrier",
    b"duplex, port",
    # Found by the survey of the 2.0-2.4 kernels' drivers (corpus/driver_survey_2x.md): tulip's and
    # epic100's "Tx hung, 15 vs. 9.", the i82586's "CU wedged" and "CU has died!" (eexpress),
    # winbond-840's "MII #1 reports no link.". Three pairs of literals above became one each to make
    # room ("ransmit ", "xmit", "is now "): the searcher's SIMD prefilter takes 64 at most.
    b"x hung",
    b" CU ",
    b"reports no link",
)

# The same literals in the order handed to the searcher. Its SIMD prefilter (Teddy) keeps the
# literals in 16 buckets; those whose first four bytes differ go round the buckets in this order,
# and a bucket of dissimilar literals lets more look-alike positions through to be checked. With
# the 64 literals of the second survey outside mainline the case-blind sort ran at 0.36 s/GiB on
# the benchmark's syslog, its tuned order at 0.18 (the 41 literals before the driver survey, sorted:
# 0.18); with these (the 2.x kernels' survey's) the sort ran at 0.76 s/GiB on the check slice, this
# order at 0.19, the previous literals in their order at 0.18-0.20 (256 MiB of the syslog, best of 7,
# same run). Found by bench/literal_order.py, which a changed literal needs run again (a test keeps
# this a permutation of SCAN_LITERALS). The lines found do not depend on the order.
SEARCH_ORDER: tuple[bytes, ...] = (
    b"Link Event",
    b"Hardware Unit",
    b"x hang",
    b"Tx Unit",
    b"status DOWN",
    b"is now ",
    b"x hung",
    b"k Up",
    b"X timeout",
    b"Hang",
    b"detect cable link",
    b"k Speed",
    b"paused for too long",
    b"x_timeout",
    b"k up",
    b"t link",
    b"duplex, port",
    b"X Timeout",
    b") enter",
    b"Flow control is",
    b"link beat",
    b"X watchdog",
    b"ransmit ",
    b"LINK ",
    b"Link active",
    b"Timeout on tx",
    b"ink on",
    b"k DOWN",
    b"k now ",
    b"X TIMEOUT",
    b" is up",
    b"reestablished link",
    b"k becomes",
    b"X HANG",
    b"x timeout",
    b"forced ",
    b"k state",
    b"network connection",
    b"NIC Up",
    b"k status",
    b"carrier o",
    b"M bps",
    b"NCSI interface",
    b"x time out",
    b"k change",
    b"x Timeout",
    b"x timed out",
    b"k down",
    b"WATCHDOG",
    b"k Down",
    b"ink off",
    b"status UP",
    b"intf UP",
    b" stuck",
    b"X timed out",
    b" is down",
    b"k UP",
    b" CU ",
    b"reports no link",
    b"k is",
    b"xmit",
    b"up carrier",
    b"Link inactive",
    b"Media Link",
)

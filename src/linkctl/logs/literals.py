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

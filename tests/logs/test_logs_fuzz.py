"""Fuzzing the parser and checking the fast scan against parsing every line."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkctl.logs import scan
from linkctl.logs.capture import YearHint
from linkctl.logs.lines import parse_line
from linkctl.logs.literals import SCAN_LITERALS

YEARS = YearHint(2024)
PIECES = [
    "Mar 30 06:32:45 ",
    "aurora ",
    "kernel:",
    " ",
    "[  12.5] ",
    "e1000e",
    ": ",
    "eth0",
    " NIC Link is ",
    "Up",
    "Down",
    " 1000 Mbps",
    " Full Duplex",
    ", Flow Control: ",
    "Rx/Tx",
    "0000:00:19.0",
    "Link is Up - ",
    "1Gbps/Full",
    " - flow control ",
    "bond0: ",
    "(slave eth1): ",
    "link status definitely ",
    "port 1(eth0) entered ",
    "forwarding state",
    "NETDEV WATCHDOG: ",
    "(e1000e)",
    ": transmit queue 0 timed out",
    "carrier on",
    "\x1b[0m",
    "{",
    "}",
    '"MESSAGE": ',
    "[",
    "]",
    "\xff",
    "\x00",
    "2024-03-30T06:32:45+02:00 ",
    "Detected Tx Unit Hang",
    "IPv6: ADDRCONF(NETDEV_CHANGE): ",
    "link becomes ready",
    # Issue 19's generalisation: more capture formats and driver words.
    "> ",
    "kern.log:",
    "[Mar30 06:32] ",
    "[  +0.000012] ",
    "[  12.500000 <    0.000123>] ",
    "Sat 2024-03-30 06:32:45 CET ",
    "user.info ",
    '"ident": "kernel", ',
    '"message": ',
    "tx timeout",
    "TX timeout on queue: 0",
    "transmit timed out, resetting",
    "NIC Up: 1 Gbps Full",
    "network connection: connected",
    "Port 2 is up",
    "interface eth1 is now down",
    "link up (1000FD)",
    "Device link is up.",
]
lines = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=12)), max_size=14).map("".join)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines)
def test_parse_line_never_raises(line: str) -> None:
    parse_line(line, "f", 1, YEARS)
    parse_line(line.encode("utf-8", "surrogatepass"), "f", 1, YEARS)


def _has_literal(text: bytes) -> bool:
    return any(literal in text for literal in SCAN_LITERALS)


@settings(max_examples=600, deadline=None)
@given(lines)
def test_every_event_line_holds_a_scan_literal(line: str) -> None:
    """Else the fast scan would skip a line the parser takes."""
    event = parse_line(line, "f", 1, YEARS)
    if event is not None:
        assert _has_literal(line.encode("utf-8", "surrogatepass"))


@settings(max_examples=150, deadline=None)
@given(st.lists(lines, max_size=40))
def test_scan_finds_what_parsing_every_line_finds(all_lines: list[str]) -> None:
    text = "\n".join(line.replace("\n", " ").replace("\r", " ") for line in all_lines)
    data = text.encode("utf-8", "surrogatepass")
    slow = [n for n, line in enumerate(data.split(b"\n"), 1) if parse_line(line, "f", n, YEARS) is not None]
    fast = [c.line for c in scan.candidates(io.BytesIO(data)) if parse_line(c.text, "f", c.line, YEARS) is not None]
    assert fast == slow


# Edge cases built from the fuzzer's alphabet, kept as plain tests. The fuzz runs so far
# found no failing input; add any it finds here.


def test_found_lone_open_brace_is_not_json() -> None:
    assert parse_line("{", years=YEARS) is None


def test_found_json_array_message_with_non_bytes() -> None:
    assert parse_line('{"MESSAGE": [300, -1], "_TRANSPORT": "kernel"}', years=YEARS) is None


def test_found_control_characters_inside_an_event() -> None:
    event = parse_line("e1000e: eth0 NIC Link is Up\x00 1000 Mbps", years=YEARS)
    assert event is not None and event.event.value == "link_up"


def test_found_empty_interface_in_qede_brackets() -> None:
    event = parse_line("[qede_link_update:1()]Link is up", years=YEARS)
    assert event is not None and event.ifname is None


def test_found_bare_literal_is_not_an_event() -> None:
    assert parse_line("Link is ", years=YEARS) is None
    assert parse_line("kernel: ", years=YEARS) is None

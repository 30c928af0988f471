"""The survey of the 2.0-2.4 kernels' drivers (corpus/driver_survey_2x.md): every row of its table
parsed as it says, its counts, and each family it taught in other shapes than the table's (inside
captures, after a mail's quote, cut short) beside the look-alikes that must stay out."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from logs_helpers import assert_form, taken_by_both_scans

from linkctl.logs.capture import YearHint
from linkctl.logs.lines import parse_line

YEARS = YearHint(year=2024)
SURVEY = Path(__file__).parent / "corpus" / "driver_survey_2x.md"
_KIND = {"tx timeout": "tx_timeout", "link up": "link_up", "link down": "link_down"}
_DETAIL = re.compile(r"\((?:(?P<speed>\d+))?/?(?P<dup>full|half)?/?(?P<fc>rx/tx)?\)")


def _rows() -> list[dict[str, str]]:
    names = ["driver", "source", "call", "line", "expected", "before", "now", "note"]
    rows = []
    for text in SURVEY.read_text(encoding="utf-8").splitlines():
        if text.startswith("| ") and not text.startswith(("| driver ", "|---")):
            rows.append(dict(zip(names, (cell.strip() for cell in text.strip("|").split(" | ")), strict=True)))
    return rows


ROWS = _rows()


@pytest.mark.parametrize("row", ROWS, ids=[r["line"][:60] for r in ROWS])
def test_survey_row_parses_as_the_table_says(row: dict[str, str]) -> None:
    event = parse_line(row["line"], years=YEARS)
    kind = _KIND.get(row["expected"].split(" (")[0])
    if kind is None:  # a look-alike
        assert row["now"] == "stays out"
        assert event is None or event.event.value not in ("link_up", "link_down", "tx_timeout"), event
        return
    if row["now"] == "missed":
        assert event is None or event.event.value != kind, f"{row['line']!r} is taken now: the table says missed"
        return
    assert row["now"] == "taken"
    assert event is not None and event.event.value == kind, f"{row['line']!r} gave {event}"
    detail = _DETAIL.search(row["expected"])
    if detail:
        assert event.speed_mbps == (int(detail["speed"]) if detail["speed"] else None)
        assert (event.duplex.value if event.duplex else None) == detail["dup"]
        assert (event.flow_control.value if event.flow_control else None) == detail["fc"]


def test_survey_counts_are_the_tables() -> None:
    text = SURVEY.read_text(encoding="utf-8")
    events = [r for r in ROWS if not r["expected"].startswith("other")]
    before = sum(r["before"] == "taken" for r in events)
    now = sum(r["now"] == "taken" for r in events)
    assert f"Rows: {len(ROWS)} (events {len(events)}, look-alikes {len(ROWS) - len(events)})" in text
    assert f"Event rows taken before this survey: {before}/{len(events)}; after it: {now}/{len(events)}." in text


# Each family in other shapes than the table's: (line, what it must give).
FORMS: list[tuple[str, dict[str, Any]]] = [
    # The drivers' own transmit checks: "Tx hung" (tulip, xircom_tulip_cb, epic100), the i82586's
    # command unit in either case (eexpress; reports of 1997's eepro100 capitalise it), ewrk3's words.
    ("Jun  3 23:03:03 freke kernel: eth0: Tx hung, 15 vs. 9.", {"event": "tx_timeout", "ifname": "eth0"}),
    ("> eth0: Tx hung, 15 vs. 9", {"event": "tx_timeout", "ifname": "eth0"}),
    ("[  812.004] eth1: Tx hung, 3 vs. 1.", {"event": "tx_timeout", "ifname": "eth1", "uptime": 812.004}),
    ("> eth0: CU Wedged, Status 0240 0000, Resetting...", {"event": "tx_timeout", "ifname": "eth0"}),
    ("kernel: eth0: CU wedged, status 0040 0000, resetting...", {"event": "tx_timeout", "ifname": "eth0"}),
    ("eth1: CU has died! status 0000 0000, attempting to restart...", {"event": "tx_timeout", "ifname": "eth1"}),
    ("kernel: eth0: transmit timed/locked out, status 0000, resetting.", {"event": "tx_timeout", "ifname": "eth0"}),
    # The 10BASE-T link beat of the 2.2 tulip's media timer.
    ("kernel: eth0: No link beat found.", {"event": "link_down", "ifname": "eth0"}),
    ("eth2: No 21041 10baseT link beat, Media switched to AUI.", {"event": "link_down", "ifname": "eth2"}),
    # sk98lin's "network connection" beside cdc_ncm's.
    ("Sep  6 08:04:08 host kernel: eth1: network connection up using port A", {"event": "link_up", "ifname": "eth1"}),
    ("eth0: network connection down", {"event": "link_down", "ifname": "eth0"}),
    ("cdc_ncm 2-1:1.0 wwan0: network connection: connected", {"event": "link_up", "ifname": "wwan0"}),
    # sundance's autonegotiated speed, winbond-840's MII monitor, xircom_cb's own name.
    ("eth0: Link changed: 10Mbps, half duplex", {"event": "link_up", "speed_mbps": 10, "duplex": "half"}),
    ("kernel: eth0: MII #1 reports no link. Disabling watchdog.", {"event": "link_down", "ifname": "eth0"}),
    ("eth0: MII #1 link is back. Enabling watchdog.", {"event": "link_up", "ifname": "eth0"}),
    ("kernel: xircom_cb: Link is 10 mbit", {"event": "link_up", "ifname": None, "driver": "xircom_cb"}),
    ("xircom_cb: Link is 0 mbit", {"event": "link_down", "ifname": None, "driver": "xircom_cb"}),
    # hp100's last word after the state.
    ("kernel: hp100: eth1: link down detected", {"event": "link_down", "ifname": "eth1", "driver": "hp100"}),
    # A link's name its reporter typed in quotes, in any pair of quotation marks.
    ('> "eth0": 21140 transmit timed out, status ...', {"event": "tx_timeout", "ifname": "eth0"}),
    ("'eth0': 21140 transmit timed out, status fc660000, resetting...", {"event": "tx_timeout", "ifname": "eth0"}),
    ("\u201ceth0\u201d: Tx hung, 15 vs. 9.", {"event": "tx_timeout", "ifname": "eth0"}),
    ('Jun  3 23:03:03 freke kernel: "eth1": link down', {"event": "link_down", "ifname": "eth1", "host": "freke"}),
]


@pytest.mark.parametrize(("line", "expect"), FORMS, ids=[f[0][:50] for f in FORMS])
def test_family_form(line: str, expect: dict[str, Any]) -> None:
    assert_form(line, expect, YEARS)


LOOK_ALIKES = [
    # The words without a netdev's name before them, or after another program's word.
    "Tx hung, 15 vs. 9.",
    "ssh: Tx hung, 1 vs. 2.",
    "the CU wedged again, status unknown",
    "watchdog: CU wedged, status 0040 0000, resetting...",
    "No link beat found.",
    "network connection up using port A",
    "NetworkManager: network connection down",
    "MII #1 reports no link. Disabling watchdog.",
    "dhcpcd: Link is 100 mbit",
    "xircom_cb: Link status has changed",
    # sundance's forced mode names the configured speed, not the link's (driver_survey.md).
    "eth0: Link changed: 100Mbps ,full duplex",
    "eth0: Link changed: ",
    # A word after "detected" makes it a sentence.
    "eth0: link down detected twice today",
    # Quotation marks: a name in a sentence, an unmatched pair, a name with no digit, a JSON key.
    'I see "eth0": transmit timed out, every minute',
    "\"eth0': link down",
    "'foo': link down",
    '"eth0" is down',
    'the code that prints "CU Wedged, Status 0240 0000, Resetting..."',
]


@pytest.mark.parametrize("line", LOOK_ALIKES)
def test_look_alike_stays_out(line: str) -> None:
    assert parse_line(line, years=YEARS) is None


def test_the_fast_scan_lets_every_survey_line_through() -> None:
    """Every line the survey's families take holds one of the scan's literals (three were added and
    three pairs merged to stay within the searcher's 64): the fast scan finds what the slow path
    finds."""
    lines = [r["line"] for r in ROWS] + [line for line, _ in FORMS] + LOOK_ALIKES
    slow = taken_by_both_scans(lines, YEARS)
    assert len(slow) >= sum(r["now"] == "taken" for r in ROWS) + len(FORMS)

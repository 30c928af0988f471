"""The survey of other programs' link words (corpus/program_survey.md): every row of its table parsed
as it says, its counts, and each family it taught in other shapes than the table's, beside the
kernel's own lines that must still be taken."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from logs_helpers import assert_form, taken_by_both_scans

from linkctl.logs.capture import YearHint
from linkctl.logs.lines import parse_line
from linkctl.logs.programs import daemon_tagged

YEARS = YearHint(year=2024)
SURVEY = Path(__file__).parent / "corpus" / "program_survey.md"


def _rows() -> list[dict[str, str]]:
    names = ["program", "source", "format", "line", "expected", "before", "now", "note"]
    rows = []
    for text in SURVEY.read_text(encoding="utf-8").splitlines():
        if text.startswith("| ") and not text.startswith(("| program ", "|---")):
            cells = [cell.strip().replace("\\|", "|") for cell in text.strip("|").split(" | ")]
            rows.append(dict(zip(names, cells, strict=True)))
    return rows


ROWS = _rows()


@pytest.mark.parametrize("row", ROWS, ids=[r["line"][:60] for r in ROWS])
def test_survey_row_parses_as_the_table_says(row: dict[str, str]) -> None:
    event = parse_line(row["line"], years=YEARS)
    assert row["expected"] in ("other (must stay out)", "other (ambiguous bare)")
    if row["now"] == "taken":
        # Only a line the kernel's drivers print byte for byte is left taken (recall first).
        assert row["expected"] == "other (ambiguous bare)", row
        assert event is not None, f"{row['line']!r} is out now: the table says taken"
        return
    assert row["now"] == "stays out"
    assert event is None, f"{row['line']!r} gave {event}"


def test_survey_counts_are_the_tables() -> None:
    text = SURVEY.read_text(encoding="utf-8")
    programs = {r["program"].split(" (")[0] for r in ROWS}
    before = sum(r["before"] == "taken" for r in ROWS)
    now = sum(r["now"] == "taken" for r in ROWS)
    assert f"Rows: {len(ROWS)}, programs {len(programs)}." in text
    assert f"Rows taken before this survey: {before}/{len(ROWS)}; after it: {now}/{len(ROWS)}" in text


def test_every_ambiguous_program_has_a_tagged_row_that_stays_out() -> None:
    """An ambiguous bare line stays taken; the same program's line with its own tag must not."""
    for row in ROWS:
        if row["expected"] != "other (ambiguous bare)" or row["program"].startswith("FreeBSD"):
            continue  # FreeBSD's kernel tags its lines "kernel:" as Linux's does
        tagged = [r for r in ROWS if r["program"] == row["program"] and r["line"] != row["line"]]
        assert any(r["now"] == "stays out" and r["line"].endswith(row["line"]) for r in tagged), row


# Kernel lines beside each family: what the guards must leave taken.
KERNEL_KEPT: list[tuple[str, dict[str, Any]]] = [
    ("r8169: eth0: link down", {"event": "link_down", "ifname": "eth0"}),
    ("e1000e: eth0 NIC Link is Down", {"event": "link_down", "ifname": "eth0"}),
    ("host kernel: eth0: Link is Down", {"event": "link_down", "ifname": "eth0"}),
    ("kernel: bgp1: Link down", {"event": "link_down", "ifname": "bgp1"}),
    ("Mar  3 10:00:01 host kernel[750]: ftgmac100 1e660000.ethernet eth0: NCSI interface down", {"event": "link_down"}),
    ("enic 0000:0b:00.0 eth11: Link UP", {"event": "link_up", "ifname": "eth11", "driver": "enic"}),
    ("enic 0000:0b:00.0 eth11: Link DOWN", {"event": "link_down", "ifname": "eth11"}),
    ("mlx4_en: eth2: Link Up", {"event": "link_up", "ifname": "eth2"}),
    ("mlx5_core 0000:01:00.0 enp1s0np0: Link down", {"event": "link_down", "ifname": "enp1s0np0"}),
    ("eth0: Link up", {"event": "link_up", "ifname": "eth0"}),
    ("dm9000 dm9000 eth0: link up, 100Mbps, full-duplex, lpa 0x45E1", {"event": "link_up", "speed_mbps": 100}),
    ("eth0: link up (100/full)", {"event": "link_up", "ifname": "eth0"}),
    ("macb f0028000.ethernet eth0: link up (100/Full)", {"event": "link_up", "ifname": "eth0"}),
    ("sc92031 0000:01:00.0 eth0: link down", {"event": "link_down", "ifname": "eth0"}),
    ("bond0: (slave eth1): link status definitely down, disabling slave", {"event": "bond_member_down"}),
    (
        "igb 0000:03:00.1 eno2: igb: eno2 NIC Link is Up 1000 Mbps Full Duplex, Flow Control: RX/TX",
        {"event": "link_up"},
    ),
]


@pytest.mark.parametrize(("line", "expect"), KERNEL_KEPT, ids=[k[0][:50] for k in KERNEL_KEPT])
def test_the_kernels_lines_beside_the_families_are_still_taken(line: str, expect: dict[str, Any]) -> None:
    assert_form(line, expect, YEARS)


# A daemon's syslog tag without its stamp, with or without a host, its PID or its instance.
DAEMON_TAGGED = [
    "bird: bgp1: Link down",
    "bird6: bgp2: Link down",
    "host bird: bgp1: Link down",
    "systemd-networkd: eth0: Link is Down",
    "host systemd-networkd: enp3s0: link down",
    "NetworkManager: eth0: Link is Down",
    "ptp4l: port 1: link down",
    "phc2sys: eth0: link down",
    "testpmd: Link down",
    "dpdk-testpmd: Port 0: Link Down",
    "Keepalived_vrrp: eth0: Link is Down",
    "teamd_team0: eth1: link down",
    "ifplugd(eth0): eth0: link down",
    "ovs-vswitchd: eth1: link down",
    "zebra: eth0: Link is Down",
    "corosync: eth0: link down",
    "vpp: eth0: Link down",
    "mii-tool: eth0: link down",
]


@pytest.mark.parametrize("line", DAEMON_TAGGED)
def test_a_daemons_tag_without_its_stamp_keeps_its_line_out(line: str) -> None:
    assert daemon_tagged(line)
    assert parse_line(line, years=YEARS) is None


NETWORKD_ADMIN = [
    "eth0: Link UP",
    "enp3s0: Link DOWN",
    "wlan0: Link UP",
    "br-lan: Link DOWN",
    "kernel: eth0: Link DOWN",
]


OVS_BOND = ["member eth1: link state down", "member eth1: link state up", "member ens1f0: link state down"]


UBOOT_REGISTER_NOTE = [
    "macb0: link up, 10Mbps half-duplex (lpa: 0x0021)",
    "gem0: link up, 1000Mbps full-duplex (lpa: 0x3800)",
    "dnet0: link down (status: 0x7809)",
    "e0: link down (status: 0x7849)",
]


NODE_AT_UNIT = [
    "dm9051@0: Link down",
    "ethernet@ff540000: Link is Down",
    "enc28j60@0: link up",
    "ethernet@40028000: link down",
]


# Each family taught, by what it keeps out (a daemon's tag is tested above with its own check).
STAYS_OUT = [
    *(("networkd's admin state", line) for line in NETWORKD_ADMIN),
    *(("Open vSwitch's bond member", line) for line in OVS_BOND),
    *(("a boot loader's register note", line) for line in UBOOT_REGISTER_NOTE),
    *(("a device-tree node@unit", line) for line in NODE_AT_UNIT),
]


@pytest.mark.parametrize(("family", "line"), STAYS_OUT, ids=[f"{f}: {line}" for f, line in STAYS_OUT])
def test_each_familys_lines_stay_out(family: str, line: str) -> None:
    assert parse_line(line, years=YEARS) is None, family


def test_the_fast_scan_lets_every_survey_line_through() -> None:
    """No scan literal was added: the fast scan finds what the slow path finds over the survey's lines."""
    lines = [r["line"] for r in ROWS] + [k for k, _ in KERNEL_KEPT] + DAEMON_TAGGED + NETWORKD_ADMIN
    slow = taken_by_both_scans(lines, YEARS)
    assert len(slow) >= len(KERNEL_KEPT) + sum(r["now"] == "taken" for r in ROWS)

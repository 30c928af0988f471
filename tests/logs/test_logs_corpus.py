"""Table-driven: every driver line in every capture format gives its expected event."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from logs_helpers import ISSUE_KEYS

from linkctl.logs.capture import YearHint
from linkctl.logs.lines import parse_line

CORPUS = Path(__file__).parent / "corpus"
DRIVERS: list[dict[str, Any]] = yaml.safe_load((CORPUS / "drivers.yaml").read_text())
CAPTURES: list[dict[str, Any]] = yaml.safe_load((CORPUS / "captures.yaml").read_text())
YEARS = YearHint(year=2024)


def _wrap(capture: dict[str, Any], message: str) -> str:
    if "json" in capture:
        record = {k: (v.replace("{msg}", message) if isinstance(v, str) else v) for k, v in capture["json"].items()}
        return json.dumps(record)
    # "{json_msg}": the message as a JSON string, as a multi-line JSON output prints a member.
    return str(capture["template"]).replace("{json_msg}", json.dumps(message)).replace("{msg}", message)


def _check(line: str, expect: dict[str, Any] | None) -> None:
    event = parse_line(line, "corpus.log", 7, YEARS)
    if expect is None:
        assert event is None, f"{line!r} gave {event}"
        return
    assert event is not None, f"no event from {line!r}"
    got = event.to_json()
    for key, value in expect.items():
        assert got[key] == value, f"{key}: {got[key]!r} != {value!r} in {line!r}"


@pytest.mark.parametrize("case", DRIVERS, ids=[c["line"][:60] for c in DRIVERS])
def test_driver_line(case: dict[str, Any]) -> None:
    _check(case["line"], case["expect"])


@pytest.mark.parametrize("capture", CAPTURES, ids=[c["name"] for c in CAPTURES])
@pytest.mark.parametrize("case", DRIVERS, ids=[c["line"][:40] for c in DRIVERS])
def test_driver_line_in_capture(case: dict[str, Any], capture: dict[str, Any]) -> None:
    line = _wrap(capture, case["line"])
    expect = None if case["expect"] is None else {**case["expect"], **capture["expect"]}
    _check(line, expect)


def test_jsonl_keys_are_the_issues() -> None:
    event = parse_line("e1000e: eth0 NIC Link is Down", "f", 1, YEARS)
    assert event is not None
    assert list(event.to_json()) == ISSUE_KEYS


def test_raw_is_the_message_and_place_is_kept() -> None:
    line = "Mar 30 06:32:45 aurora kernel: [566322.867110] e1000e: eth0 NIC Link is Down"
    event = parse_line(line, "kern.log", 12, YEARS)
    assert event is not None
    assert (event.raw, event.file, event.line) == ("e1000e: eth0 NIC Link is Down", "kern.log", 12)


def test_other_programs_syslog_lines_are_not_kernel_events() -> None:
    assert parse_line("Mar 30 06:32:45 aurora NetworkManager[812]: <info> eth0: Link is Down", years=YEARS) is None
    assert parse_line("2024-03-30T06:32:45+02:00 aurora sshd[1]: Link is Down", years=YEARS) is None


def test_year_less_stamp_takes_year_from_reference_and_new_year() -> None:
    from datetime import datetime

    january = YearHint(reference=datetime(2025, 1, 2, 10, 0))
    event = parse_line("Dec 31 23:59:59 aurora kernel: r8152 2-1:1.0 eth0: carrier off", years=january)
    assert event is not None and event.time is not None
    assert event.time.year == 2024
    event = parse_line("Jan  2 09:00:00 aurora kernel: r8152 2-1:1.0 eth0: carrier on", years=january)
    assert event is not None and event.time is not None and event.time.year == 2025


def test_journald_non_utf8_message_array() -> None:
    message = list(b"e1000e: eth0 NIC Link is Down \xff")
    line = json.dumps(
        {"MESSAGE": message, "_TRANSPORT": "kernel", "__REALTIME_TIMESTAMP": "1711780365000000", "_HOSTNAME": "h"}
    )
    event = parse_line(line, years=YEARS)
    assert event is not None and event.ifname == "eth0" and event.host == "h"


def test_journald_records_of_other_programs_are_skipped() -> None:
    line = json.dumps({"MESSAGE": "eth0: Link is Down", "_TRANSPORT": "syslog", "SYSLOG_IDENTIFIER": "NetworkManager"})
    assert parse_line(line, years=YEARS) is None


def test_recorded_journalctl_json_output() -> None:
    recorded = (CORPUS / "journal.jsonl").read_text().splitlines()
    events = [e for e in (parse_line(line, "journal", i, YEARS) for i, line in enumerate(recorded, 1)) if e is not None]
    assert [(e.event.value, e.ifname) for e in events] == [
        ("link_down", "enp0s31f6"),
        ("link_up", "enp0s31f6"),
        ("link_ready", "enp0s31f6"),
    ]
    assert events[1].speed_mbps == 1000 and events[1].flow_control is not None

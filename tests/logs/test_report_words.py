"""What a person reads in a report: no Python value (None) in place of a figure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

LINES = (
    "Dec  6 10:00:00 aurora kernel: e1000e: eth0 NIC Link is Down\n"
    "Dec  6 10:00:03 aurora kernel: e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex, Flow Control: None\n"
    "Dec  6 12:00:00 aurora kernel: e1000e: eth0 NIC Link is Down\n"
)


def test_compare_at_before_the_first_line_says_why_there_is_no_rate(tmp_path: Path) -> None:
    log = tmp_path / "kern.log"
    log.write_text(LINES)
    res = subprocess.run(
        [sys.executable, "-m", "linkctl", "logs", "analyze", str(log), "--year", "2025", "--compare-at",
         "2025-12-06T09:00:00"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    line = next(x for x in res.stdout.splitlines() if x.strip().startswith("at 2025-12-06"))
    assert "None" not in line and "in no measurable time before" in line, line
    assert "/h (2 downs in" in line, line


def test_a_span_reads_in_hours_minutes_or_seconds_as_each_report_words_it() -> None:
    from linkctl.logs.report_text import duration

    assert duration(7200) == "2.0 h" and duration(90) == "1.5 min"
    assert duration(0.0123) == "0.0123 s"  # `logs analyze`'s page: a short down period stays visible
    assert duration(0.0123, ".1f") == "0.0 s" and duration(59.94, ".1f") == "59.9 s"  # `report`'s table

"""What a person reads in a report: no Python value (None) in place of a figure."""

from __future__ import annotations

import re
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


def _many_links(path: Path, links: int, twice_from: int) -> None:
    """`links` links, eth{i} down then up, once; from eth{twice_from} on, twice (the worse ones)."""
    out = []
    for i in range(links):
        for hour in (10, 14) if i >= twice_from else (10,):
            stamp = f"Dec  6 {{}}:{i // 60:02d}:{i % 60:02d} aurora kernel: e1000e: eth{i} NIC Link is"
            out.append(f"{stamp.format(hour)} Down\n")
            out.append(f"{stamp.format(hour + 2)} Up 1000 Mbps Full Duplex\n")
    path.write_text("".join(out))


def test_the_page_of_a_log_of_many_links_draws_the_worst_hundred_and_says_how_many_more(tmp_path: Path) -> None:
    """10,000 flapping links made a 13 MB page of one 400,000 px drawing: the timeline draws the
    100 worst links and says the other 50 are in the tables, which still list every one."""
    log, page = tmp_path / "kern.log", tmp_path / "page.html"
    _many_links(log, 150, twice_from=50)
    res = subprocess.run(
        [sys.executable, "-m", "linkctl", "logs", "analyze", str(log), "--year", "2025", "-f", "html", "-o", str(page)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    html = page.read_text()
    timeline = html[html.index("<svg id='timeline'") : html.index("</svg>", html.index("<svg id='timeline'"))]
    assert timeline.count("<g class='row'") == 100
    drawn = set(re.findall(r"<title>aurora/(eth\d+)</title>", timeline))
    assert drawn == {f"eth{i}" for i in range(50, 150)}  # the links down twice
    assert "The timeline draws the 100 worst links; 50 more are in the summary and the down bursts below only." in html
    episodes = html[html.index("<table id='episodes'") :]
    assert all(f"<td>eth{i}</td>" in episodes for i in range(150))

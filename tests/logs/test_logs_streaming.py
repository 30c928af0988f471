"""`logs analyze` in one streaming pass: memory follows the links and episodes, not the
events, and the reports summarise a run of any length."""

from __future__ import annotations

import gzip
import json
import random
import statistics
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from logs_helpers import LINKCTL

from linkctl.logs.analysis import KEEP_PER_LINK, analyze, report_json
from linkctl.logs.bounded import EXACT_DISTINCT, Spread
from linkctl.logs.report_text import render_text
from linkctl.logs.sources import read_files

START = datetime(2024, 3, 30, 6, 0, 0)


def _flaps(pairs: int, distinct_durations: bool = False) -> bytes:
    """`pairs` down/up pairs of eth0, three seconds apart: one long flap episode."""
    lines = []
    for i in range(pairs):
        when = START + timedelta(seconds=3 * i)
        up_after = 1.0 + (i * 1e-6 if distinct_durations else (i % 7) * 0.25)
        down, up = 10.0 + 3 * i, 10.0 + 3 * i + up_after
        stamp = when.strftime("%b %d %H:%M:%S")
        lines.append(f"{stamp} h kernel: [{down:.6f}] e1000e 0000:00:19.0 eth0: NIC Link is Down\n")
        lines.append(
            f"{stamp} h kernel: [{up:.6f}] e1000e 0000:00:19.0 eth0: NIC Link is Up 1000 Mbps Full Duplex,"
            " Flow Control: Rx/Tx\n"
        )
    return "".join(lines).encode()


def _peak_rss_mib(argv: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run argv under a fresh Python whose only child it is: its RUSAGE_CHILDREN peak is argv's."""
    probe = (
        "import json, resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(json.dumps([peak, done.returncode, done.stdout[-4000:], done.stderr[-4000:]]))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    peak, rc, out, err = json.loads(done.stdout)
    return peak / 1024, subprocess.CompletedProcess(argv, rc, out, err)


def test_analyze_of_many_events_stays_small(tmp_path: Path) -> None:
    # 200,000 events in a gzip of about 1 MB. Keeping every event took about 300 MiB
    # here (and 7.7 GB for 13.4 M events); streaming needs the interpreter and a few MiB.
    log = tmp_path / "kern.log.1.gz"
    with gzip.open(log, "wb", compresslevel=1) as out:
        out.write(_flaps(100_000, distinct_durations=True))
    page = tmp_path / "report.html"
    peak, done = _peak_rss_mib([LINKCTL, "logs", "analyze", str(log), "--format", "html", "-o", str(page)])
    assert done.returncode == 0, done.stderr
    assert peak < 120, f"peak RSS {peak:.0f} MiB"
    html = page.read_text()
    assert len(html) < 2_000_000  # it was 52 MB: one row per event
    assert "200000 event(s)" in html
    assert "199600 more event(s) between the first 200 and the last 200" in html
    assert html.count("<tr><td>h</td><td>eth0</td>") == 2  # the summary row and the one episode
    assert f"{100_000 - 2 * KEEP_PER_LINK} down period(s)" in html


def test_reports_of_a_long_run_give_its_ends_and_counts(tmp_path: Path) -> None:
    pairs = 2 * KEEP_PER_LINK + 500
    log = tmp_path / "kern.log"
    log.write_bytes(_flaps(pairs))
    report = analyze(read_files([str(log)], year=2024))  # a generator: nothing is listed first
    (link,) = report.links
    assert report.event_count == 2 * pairs and link.down_events == pairs
    assert link.periods.total == pairs and link.periods.omitted == 500
    starts = [p.start.event.uptime for p in link.periods]
    assert starts[0] == 10.0 and starts[-1] == 10.0 + 3 * (pairs - 1)
    assert starts[KEEP_PER_LINK] == 10.0 + 3 * (KEEP_PER_LINK + 500)  # the tail follows the gap
    every = [1.0 + (i % 7) * 0.25 for i in range(pairs)]
    assert link.down_s.min == 1.0 and link.down_s.max == 2.5
    assert link.down_s.median() == pytest.approx(statistics.median(every), abs=1e-6)
    out = report_json(report)
    assert out["events"] == 2 * pairs
    (data,) = out["links"]
    assert len(data["down_periods"]) == 2 * KEEP_PER_LINK and data["down_periods_omitted"] == 500
    assert data["down_s"]["median"] == pytest.approx(statistics.median(every), abs=1e-6)
    assert [e["downs"] for e in data["episodes"]] == [pairs]
    text = render_text(report)
    assert "    ... 500 more down periods ...\n" in text
    assert text.count("    down at ") == 2 * KEEP_PER_LINK


def test_a_normal_log_reports_every_period_and_no_omission_keys(tmp_path: Path) -> None:
    log = tmp_path / "kern.log"
    log.write_bytes(_flaps(40))
    (data,) = report_json(analyze(read_files([str(log)], year=2024)))["links"]
    assert len(data["down_periods"]) == 40
    assert not {"down_periods_omitted", "changes_omitted"} & set(data)
    assert "median_approximate" not in data["down_s"]


def test_spread_median_is_exact_then_within_its_stated_error() -> None:
    rnd = random.Random(5)
    few = [rnd.choice([0.5, 1.25, 2.0, 7.5]) for _ in range(5001)]
    spread = Spread()
    for value in few:
        spread.add(value)
    assert spread.exact and spread.median() == statistics.median(few)
    many = [rnd.lognormvariate(0.0, 2.0) for _ in range(3 * EXACT_DISTINCT)]
    spread = Spread()
    for value in many:
        spread.add(value)
    assert not spread.exact
    assert spread.median() == pytest.approx(statistics.median(many), rel=5e-4)
    assert (spread.min, spread.max) == (min(many), max(many))

"""The log readers' review findings not fixed yet, each asserted as the README promises it and
marked xfail(strict=True) with its cause; tests/logs/repro/ shows each one with the figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from linkctl.logs.analysis import Verdict, analyze
from linkctl.logs.sources import read_files

LINES = (
    "Mar 30 06:00:00 aurora kernel: [100.000000] e1000e: eth0 NIC Link is Down\n"
    "Mar 30 06:00:05 aurora kernel: [105.000000] e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex\n"
    "Mar 30 07:00:00 aurora kernel: [3700.000000] e1000e: eth0 NIC Link is Down\n"
    "Mar 30 07:00:09 aurora kernel: [3709.000000] e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex\n"
)


@pytest.mark.xfail(
    strict=True,
    reason="files of different sets are read one after the other, each in its own order, and a kernel "
    "line in two of them (rsyslog writes it to kern.log and to syslog) is counted twice: 4 downs, "
    "boots 2 (the second file's uptime goes back); events are neither merged by time nor deduplicated "
    "(repro: tests/logs/repro/kern_log_and_syslog_together.py)",
)
def test_kern_log_and_syslog_together_count_each_kernel_line_once(tmp_path: Path) -> None:
    kern, syslog = tmp_path / "kern.log", tmp_path / "syslog"
    kern.write_text(LINES)
    syslog.write_text(LINES + "Mar 30 06:30:00 aurora sshd[812]: Accepted publickey for root\n")
    alone = analyze(read_files([str(kern)], year=2024)).links[0]
    both = analyze(read_files([str(kern), str(syslog)], year=2024)).links[0]
    assert alone.down_events == 2 and alone.boots == 1
    assert (both.down_events, both.boots, both.verdict) == (2, 1, Verdict.DEGRADED)

"""The log readers' review findings, each asserted as the README promises it; tests/logs/repro/
shows each one with the figures before its fix."""

from __future__ import annotations

from pathlib import Path

from linkctl.logs.analysis import Verdict, analyze
from linkctl.logs.sources import read_files

LINES = (
    "Mar 30 06:00:00 aurora kernel: [100.000000] e1000e: eth0 NIC Link is Down\n"
    "Mar 30 06:00:05 aurora kernel: [105.000000] e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex\n"
    "Mar 30 07:00:00 aurora kernel: [3700.000000] e1000e: eth0 NIC Link is Down\n"
    "Mar 30 07:00:09 aurora kernel: [3709.000000] e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex\n"
)


# Found by the log readers' review: read one after the other, each kernel line rsyslog writes to both
# files counted twice (4 downs, boots 2: the second file's uptime going back).
def test_kern_log_and_syslog_together_count_each_kernel_line_once(tmp_path: Path) -> None:
    kern, syslog = tmp_path / "kern.log", tmp_path / "syslog"
    kern.write_text(LINES)
    syslog.write_text(LINES + "Mar 30 06:30:00 aurora sshd[812]: Accepted publickey for root\n")
    alone = analyze(read_files([str(kern)], year=2024)).links[0]
    both = analyze(read_files([str(kern), str(syslog)], year=2024)).links[0]
    assert alone.down_events == 2 and alone.boots == 1
    assert (both.down_events, both.boots, both.verdict) == (2, 1, Verdict.DEGRADED)


def test_a_line_repeated_in_one_file_or_only_in_the_second_set_is_kept(tmp_path: Path) -> None:
    kern, syslog = tmp_path / "kern.log", tmp_path / "syslog"
    kern.write_text(LINES + LINES.splitlines(keepends=True)[0])  # the same line twice in one file
    later = "Mar 30 08:00:00 aurora kernel: [7300.000000] e1000e: eth0 NIC Link is Down\n"
    syslog.write_text(LINES + later)
    read = [(e.raw, e.uptime) for e in read_files([str(kern), str(syslog)], year=2024)]
    assert read.count(("e1000e: eth0 NIC Link is Down", 100.0)) == 2
    assert read[-1] == ("e1000e: eth0 NIC Link is Down", 7300.0) and len(read) == 6


def test_unstamped_lines_of_two_files_are_each_kept(tmp_path: Path) -> None:
    one, two = tmp_path / "paste1.txt", tmp_path / "paste2.txt"
    one.write_text("eth0: link down\n")
    two.write_text("eth0: link down\n")
    assert len(list(read_files([str(one), str(two)]))) == 2

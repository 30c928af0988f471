"""The one reader of the running system's kernel log: `logs` and `diagnose` read the same
/dev/kmsg record to the same message and the same time, and fail alike without journald."""

from __future__ import annotations

import errno
import json
import os
import re
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from logs_helpers import write_kmsg

from linkctl.diagnose.logscan import Subject
from linkctl.diagnose.logscan import read_journal as diagnose_journal
from linkctl.diagnose.logscan import read_kmsg as diagnose_kmsg
from linkctl.domain.events import EventKind
from linkctl.errors import LinkctlError
from linkctl.kernel import klog
from linkctl.logs import sources, system_log
from linkctl.logs.capture import Captured


def test_logs_and_diagnose_date_a_kmsg_record_alike() -> None:
    name = "lk" + uuid.uuid4().hex[:10]
    write_kmsg(f"e1000e: {name} NIC Link is Down")
    try:
        events = [e for e in sources.read_kmsg() if e.ifname == name]
    except LinkctlError as exc:
        pytest.skip(str(exc))
    evidence = diagnose_kmsg(Subject(name), None)
    assert [e.event for e in events] == [EventKind.LINK_DOWN] and evidence.downs == 1
    logged = events[0].time
    assert logged is not None and logged.tzinfo is None  # naive local, as a syslog stamp
    assert evidence.first is not None and evidence.first.tzinfo is not None
    # Each reader reads the boot time once: the same clock gives the same time to a few µs.
    assert abs((evidence.first - logged.astimezone()).total_seconds()) < 0.001
    assert evidence.samples["link_down"] == [f"e1000e: {name} NIC Link is Down"]


def test_the_clock_counts_from_boot_in_epoch_seconds() -> None:
    clock = system_log.Clock(started=1_700_000_000.25, host="h1")
    assert clock.when(None, 10.5) == datetime.fromtimestamp(1_700_000_010.75)
    written = datetime(2024, 3, 30, 6, 32, 45)
    assert clock.when(written, 10.5) == written  # a line's own stamp wins
    assert clock.date(Captured("m", uptime=1.0)).host == "h1"
    assert clock.date(Captured("m", host="h2")).host == "h2"


def test_a_journal_record_is_read_with_its_exact_time_and_host() -> None:
    line = json.dumps(
        {
            "_TRANSPORT": "kernel",
            "MESSAGE": "e1000e: eth0 NIC Link is Down",
            "__REALTIME_TIMESTAMP": "1700000000123456",
            "_SOURCE_MONOTONIC_TIMESTAMP": "5000000",
            "_HOSTNAME": "h1",
        }
    )
    captured = system_log.capture(line.encode())
    assert captured is not None
    event = system_log.link_event(system_log.Record(captured, "journal", 7))
    assert event is not None
    assert (event.event, event.ifname, event.host, event.uptime, event.line) == (
        EventKind.LINK_DOWN,
        "eth0",
        "h1",
        5.0,
        7,
    )
    assert event.time is not None and event.time.timestamp() == 1700000000.123456
    assert system_log.capture(json.dumps({"_TRANSPORT": "syslog", "MESSAGE": "x"})) is None


def test_without_journalctl_both_say_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LinkctlError, match=r"^journalctl: not installed$"):
        list(sources.read_journal())
    evidence = diagnose_journal(Subject("eth0"), None)
    assert not evidence.available and evidence.source == "journal: not available (journalctl: not installed)"


def test_a_program_that_outlives_its_timeout_is_killed() -> None:
    proc = klog.Program.start(["sleep", "30"], timeout=0.1)
    assert proc.stdout.read() == b""  # returns once the kill closes the pipe
    status, _ = proc.finish()
    assert proc.timed_out and status < 0
    quick = klog.Program.start(["true"], timeout=30)
    quick.stdout.read()
    assert quick.finish() == (0, "") and not quick.timed_out


def _wraps(fd: int) -> bool:
    """Whether the kernel overwrote the record `fd` (opened at the oldest) was to read next."""
    try:
        os.read(fd, 16384)
    except OSError as exc:
        return exc.errno == errno.EPIPE
    return False


def test_records_the_ring_buffer_overwrote_before_they_were_read_are_said(capfd: pytest.CaptureFixture[str]) -> None:
    # Opened at the oldest record, then 64 KiB of notices written: a full ring drops its oldest
    # records (only those: what other readers wrote lately stays), and the next read says EPIPE.
    try:
        records = system_log.kmsg()
        probe = os.open(klog.KMSG, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        pytest.skip(f"/dev/kmsg not readable here: {exc.strerror}")
    try:
        write_kmsg(*[f"linkctl test: filling the ring {i} " + "x" * 900 for i in range(72)])
        if not _wraps(probe):
            pytest.skip("the kernel's ring buffer had room for 64 KiB: nothing was overwritten")
    finally:
        os.close(probe)
    capfd.readouterr()
    assert sum(1 for _ in records) > 0
    assert re.search(
        r"/dev/kmsg: the kernel overwrote records before they were read \(\d+ time", capfd.readouterr().err
    )


def test_a_program_that_says_more_than_a_pipe_holds_on_stderr_is_read_to_its_end() -> None:
    # journalctl warns on stderr for each journal file it cannot read: 100 KB of that before its
    # output ended blocked it on a full pipe while linkctl waited for its stdout, forever (here the
    # timeout kills it).
    warn = 'echo "journal file $i is corrupted or uncleanly shut down, renaming and replacing." >&2'
    script = f"i=0; while [ $i -lt 1500 ]; do {warn}; i=$((i+1)); done; echo out; echo fatal >&2; exit 3"
    proc = klog.Program.start(["sh", "-c", script], timeout=30)
    assert proc.stdout.read() == b"out\n"
    status, said = proc.finish()
    assert not proc.timed_out and status == 3
    assert said.endswith("replacing.\nfatal") and len(said) <= klog.STDERR_KEPT

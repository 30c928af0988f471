"""This machine as the system names it (kernel/host), and a notice written to the kernel log."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest

from linkctl.kernel import host, klog
from linkctl.logs import system_log


def test_machine_id_is_empty_until_there_is_one(tmp_path: Path) -> None:
    path = tmp_path / "machine-id"
    assert host.machine_id(path) == ""  # none
    path.write_text("uninitialized\n")  # systemd's, before the first boot completes
    assert host.machine_id(path) == ""
    path.write_bytes(b"\xff\xfe\n")
    assert host.machine_id(path) == ""
    path.write_text("0123456789abcdef0123456789abcdef\n")
    assert host.machine_id(path) == "0123456789abcdef0123456789abcdef"


def test_boot_id_and_process_start_are_read_from_proc() -> None:
    assert host.boot_id() == Path("/proc/sys/kernel/random/boot_id").read_text().strip() != ""
    child = subprocess.Popen(["sleep", "30"])
    try:
        started = host.process_start(child.pid)
        assert started > 0 and host.process_exists(child.pid)
        assert host.process_start(child.pid) == started  # the same process, the same start
    finally:
        child.kill()
        child.wait()
    assert host.process_start(child.pid) == 0 and not host.process_exists(child.pid)


def test_a_notice_written_to_the_kernel_log_reads_back() -> None:
    if not os.access(klog.KMSG, os.W_OK):
        pytest.skip("/dev/kmsg not writable here")
    marker = "lk" + uuid.uuid4().hex[:10]
    assert klog.write_kmsg(f"linkctl[1]: {marker}: rolled back\nsecond line " + "x" * 2000)
    (found,) = [r.captured.message for r in system_log.kmsg() if marker in r.captured.message]
    # one record, on one line, cut below a record's 1 KiB
    assert found.startswith(f"linkctl[1]: {marker}: rolled back second line x") and len(found) == 900
    assert not klog.write_kmsg("x", path=str(Path("/nonexistent") / "kmsg"))

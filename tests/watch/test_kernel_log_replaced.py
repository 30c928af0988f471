"""`watch --kernel-log FILE` when what a rotation leaves at the path is not a file to read: a
directory, a FIFO. The watcher says so and goes on; the file that comes back is followed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.watch.test_daemon import base_args, history, ip, namespace, store_url, unique, watching

pytestmark = pytest.mark.kernel
__all__ = ["store_url"]  # the fixture, used by name


def _append(path: Path, line: str) -> None:
    with path.open("a") as f:
        f.write(line + "\n")


def test_a_kernel_log_replaced_by_a_directory_or_a_fifo_is_said_and_the_next_file_followed(
    store_url: str, tmp_path: Path
) -> None:
    with namespace() as ns:
        log = tmp_path / "kern.log"
        log.write_text("")
        names = [unique() for _ in range(3)]
        for name in names:
            ip("-n", ns, "link", "add", name, "type", "veth")
        refused = f"--kernel-log {log}: not a regular file: not followed"
        with watching([*base_args([ns], store_url), "--kernel-log", str(log)]) as w:
            _append(log, f"May  1 12:00:01 host kernel: veth: {names[0]} NIC Link is Down")
            w.wait_line(lambda line: f" {names[0]} link_down " in line)
            log.rename(tmp_path / "kern.log.1")
            log.mkdir()  # it stopped the watcher: IsADirectoryError from its read
            w.wait_line(lambda line: refused in line)
            log.rmdir()
            _append(log, f"May  1 12:00:02 host kernel: veth: {names[1]} NIC Link is Down")
            w.wait_line(lambda line: f" {names[1]} link_down " in line)
            log.rename(tmp_path / "kern.log.2")
            os.mkfifo(log)  # its open blocked the watcher's one loop, netlink and all
            w.wait_line(lambda line: refused in line)
            log.unlink()
            _append(log, f"May  1 12:00:03 host kernel: veth: {names[2]} NIC Link is Down")
            w.wait_line(lambda line: f" {names[2]} link_down " in line)
            assert w.proc.poll() is None
    rows = {r["ifname"] for r in history(store_url, ns) if r["source"] == "kmsg"}
    assert set(names) <= rows

"""The kernel log as `linkctl watch` follows it: /dev/kmsg (sought to its end; EPIPE means
records were overwritten before they were read) or, where that is not readable, a file
given with --kernel-log, followed across rotation and truncation."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from linkctl.errors import LinkctlError
from linkctl.logs.lines import parse_line
from linkctl.logs.sources import kmsg_records
from linkctl.watch.kernel_log import KernelLogRecord, kernel_record_from_log

KMSG = "/dev/kmsg"
KMSG_READS = 4096  # read(2) calls per wake-up, so that a storm does not hold the loop
TAIL_BYTES = 64  # the last bytes read from a followed file: they reveal a truncation


class KmsgFollower:
    """/dev/kmsg from now on: one record per read(2)."""

    def __init__(self, path: str = KMSG) -> None:
        self.path = path
        self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        os.lseek(self.fd, 0, os.SEEK_END)
        self.overwritten = 0
        self.number = 0

    def fileno(self) -> int:
        return self.fd

    def read_lines(self) -> list[bytes]:
        return list(kmsg_records(self.fd, KMSG_READS, self._overwritten))

    def _overwritten(self) -> None:
        self.overwritten += 1

    def close(self) -> None:
        os.close(self.fd)


class FileFollower:
    """A syslog file from its end on, across rotation (new inode) and truncation."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None
        self.inode = 0
        self.pos = 0
        self.partial = b""
        self.tail = b""
        self.number = 0
        self._open(at_end=True)

    def _open(self, at_end: bool) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return  # rotated away and not re-created yet: the next event brings it
        except PermissionError:
            raise LinkctlError(f"--kernel-log {self.path}: permission denied") from None
        self.fd = fd
        self.inode = os.fstat(fd).st_ino
        self.pos = os.lseek(fd, 0, os.SEEK_END) if at_end else 0
        self.partial = b""
        self.tail = os.pread(fd, TAIL_BYTES, max(0, self.pos - TAIL_BYTES)) if self.pos else b""

    def read_lines(self) -> list[bytes]:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return self._drain()  # rotated away: finish the old file
        if st.st_ino != self.inode or self.fd is None:
            lines = self._drain()
            self.close()
            self._open(at_end=False)
            return lines + self._drain()
        if self._truncated(st.st_size):
            self.pos = 0
            self.partial = self.tail = b""
        return self._drain()

    def _truncated(self, size: int) -> bool:
        """copytruncate: shorter than what was read, or other bytes where we stopped.

        The size alone misses a truncation followed by a longer write before we
        looked; the last bytes read tell the two apart.
        """
        if size < self.pos:
            return True
        if self.fd is None or not self.tail:
            return False
        return os.pread(self.fd, len(self.tail), self.pos - len(self.tail)) != self.tail

    def _drain(self) -> list[bytes]:
        if self.fd is None:
            return []
        chunks = []
        while chunk := os.pread(self.fd, 1 << 20, self.pos):
            chunks.append(chunk)
            self.pos += len(chunk)
        data = self.partial + b"".join(chunks)
        if chunks:
            self.tail = (self.tail + b"".join(chunks))[-TAIL_BYTES:]
        *lines, self.partial = data.split(b"\n")
        return lines

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def read_records(follower: KmsgFollower | FileFollower, clock: Callable[[], datetime]) -> list[KernelLogRecord]:
    """The lines about links that the follower has new, as the watcher joins them."""
    lines = follower.read_lines()
    source = KMSG if isinstance(follower, KmsgFollower) else str(follower.path)
    # Stamped when read, like the netlink events they are joined to: the
    # kernel's own clock (sched_clock since boot) drifts from the wall clock.
    when = clock()
    records: list[KernelLogRecord] = []
    for line in lines:
        follower.number += 1
        parsed = parse_line(line, source, follower.number)
        if parsed is None or parsed.ifname is None:
            continue
        record = kernel_record_from_log(replace(parsed, time=when))
        if record is not None:
            records.append(record)
    return records

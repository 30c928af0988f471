"""The kernel log as the system hands it over, as bytes: log files (plain, .gz, stdin),
/dev/kmsg records, the output of `dmesg` and `journalctl`, and the clocks that date them.

One reader for `logs`, `diagnose` and `watch` (whose followers, of /dev/kmsg and of a
syslog file across rotation, are here too); what a line means is theirs to decide.
"""

from __future__ import annotations

import errno
import gzip
import io
import os
import select
import stat
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from linkctl.errors import LinkctlError

KMSG = "/dev/kmsg"


def open_file(path: str) -> io.BufferedIOBase | io.RawIOBase:
    """A log file's bytes ("-" is stdin); .gz is uncompressed on the way. Raises OSError."""
    if path == "-":
        return os.fdopen(os.dup(0), "rb")
    return _open_path(path)


GZIP_MAGIC = b"\x1f\x8b"


def _open_path(path: str) -> io.BufferedIOBase | io.RawIOBase:
    stream = open(path, "rb")  # noqa: SIM115 - the caller closes it
    if not path.endswith(".gz"):
        return stream
    try:
        head = stream.peek(2)[:2]
    except OSError:
        head = GZIP_MAGIC  # a directory, say: gzip's own error names it
    if head in (GZIP_MAGIC, b""):
        stream.close()
        return TolerantGzip(path)
    # A log left uncompressed under a .gz name (a copy renamed, a compressor that never ran) was
    # read as a gzip 'ending early' at its first byte: nothing of it was read.
    print(f"linkctl: warning: {path}: not gzip-compressed, read as plain text", file=sys.stderr)
    return stream


def file_lines(path: str) -> Iterator[bytes]:
    """The lines of a log file ("-" is a file of that name here). Raises OSError when it
    cannot be opened."""
    raw = _open_path(path)
    # Line by line on a raw stream would be one read(2) per byte.
    stream = io.BufferedReader(raw) if isinstance(raw, io.RawIOBase) else raw
    return _lines(stream)


def _lines(stream: io.BufferedIOBase | io.BufferedReader) -> Iterator[bytes]:
    with stream:
        yield from stream


class TolerantGzip(io.RawIOBase):
    """A .gz stream that ends where its data ends: a truncated or corrupt archive (a log
    still being compressed, a copy cut short) gives what it holds, with a warning."""

    PIECE = 64 * 1024

    def __init__(self, path: str) -> None:
        super().__init__()
        self._path = path
        self._gz = gzip.open(path, "rb")  # noqa: SIM115 - closed in close()
        self.cut: str | None = None  # why the data ended early, if it did

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any, /) -> int:
        view = memoryview(buffer).cast("B")
        try:
            return self._gz.readinto(view[: self.PIECE])
        except (EOFError, OSError, zlib.error) as exc:
            self.cut = str(exc)
            print(
                f"linkctl: warning: {self._path}: compressed data ends early ({exc}); read up to there", file=sys.stderr
            )
            return 0

    def close(self) -> None:
        self._gz.close()
        super().close()


def modified(path: str) -> datetime | None:
    """When the file was last written (local time): the year a syslog line leaves out."""
    try:
        return datetime.fromtimestamp(os.stat(path).st_mtime)
    except OSError:
        return None


def boot_started() -> float:
    """The wall-clock time (epoch seconds) at which CLOCK_MONOTONIC read zero: kernel
    timestamps count from there, and stop during suspend as CLOCK_MONOTONIC does."""
    return time.time() - time.clock_gettime(time.CLOCK_MONOTONIC)


def open_kmsg(path: str = KMSG, at_end: bool = False) -> int:
    """/dev/kmsg opened non-blocking, at its oldest record or (at_end) after its newest.
    Raises OSError."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    if at_end:
        os.lseek(fd, 0, os.SEEK_END)
    return fd


def kmsg_records(fd: int, reads: int | None = None, overwritten: Callable[[], None] | None = None) -> Iterator[bytes]:
    """The messages readable now from an open /dev/kmsg fd (non-blocking), first lines only.

    One reader for every /dev/kmsg user (`logs`, `diagnose`, `watch`): `reads` bounds the
    read(2) calls, so that a follower gets back to its loop during a storm; `overwritten`
    is told each time the ring buffer overwrote records before they were read (EPIPE).
    """
    done = 0
    while reads is None or done < reads:
        done += 1
        try:
            record = os.read(fd, 16384)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # records overwritten while we read: go on
                if overwritten is not None:
                    overwritten()
                continue
            raise
        if not record:
            return
        # Only the first line is the message; " KEY=value" lines follow it.
        yield record.split(b"\n", 1)[0]


def write_kmsg(message: str, path: str = KMSG) -> bool:
    """`message` into the kernel log as one notice (<5>), where a person who lost the session
    will look; cut to 900 characters, below a record's 1 KiB. False when it cannot be written
    (not root, no /dev/kmsg)."""
    line = message.replace("\n", " ")[:900]
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, f"<5>{line}\n".encode())
        finally:
            os.close(fd)
    except OSError:
        return False
    return True


KMSG_READS = 4096  # read(2) calls per wake-up, so that a storm does not hold a follower's loop
STDERR_KEPT = 4096  # the end of what a program says on stderr: its error is there
TAIL_BYTES = 64  # the last bytes read from a followed file: they reveal a truncation


class KmsgFollower:
    """/dev/kmsg from now on (`linkctl watch`): one record per read(2), first lines only."""

    def __init__(self, path: str = KMSG) -> None:
        self.path = path
        self.fd = open_kmsg(path, at_end=True)
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
        self.refused: str | None = None  # why what is now at the path is not followed
        self._open(at_end=True)
        if self.refused is not None:
            raise LinkctlError(f"--kernel-log {self.path}: {self.refused}")

    def _open(self, at_end: bool) -> None:
        """Follows what is at the path now, if it is a file that can be read. What replaced
        it after a rotation (a directory, a FIFO, a file we may not read) is not followed, and
        `refused` says why, until a file comes back: it stopped the whole watch (IsADirectoryError,
        PermissionError), or a FIFO's open blocked it."""
        self.refused = None
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
        except FileNotFoundError:
            return  # rotated away and not re-created yet: the next event brings it
        except OSError as exc:
            self.refused = "permission denied" if isinstance(exc, PermissionError) else exc.strerror
            return
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            self.refused = "not a regular file"
            return
        self.fd = fd
        self.inode = os.fstat(fd).st_ino
        self.pos = os.lseek(fd, 0, os.SEEK_END) if at_end else 0
        self.partial = b""
        self.tail = os.pread(fd, TAIL_BYTES, max(0, self.pos - TAIL_BYTES)) if self.pos else b""

    def read_lines(self) -> list[bytes]:
        """The whole lines written since the last call (a line still being written waits)."""
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


def readable_within(fd: int, seconds: float) -> bool:
    """Whether `fd` has something to read before `seconds` pass."""
    ready, _, _ = select.select([fd], [], [], seconds)
    return bool(ready)


@dataclass
class Program:
    """A program whose output is read as it comes (`dmesg`, `journalctl -o json`)."""

    argv: list[str]
    _proc: subprocess.Popen[bytes]
    _timer: threading.Timer | None = None
    timed_out: bool = False
    _said: bytearray = field(default_factory=bytearray)  # the end of its stderr
    _listener: threading.Thread | None = None

    @classmethod
    def start(cls, argv: list[str], timeout: float | None = None) -> Program:
        """The program started; killed if it is still running `timeout` seconds on (a
        journal that takes that long is not waited for). Raises OSError
        (FileNotFoundError when the program is not installed)."""
        program = cls(argv, subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        # Its stderr is read as it comes, by a thread of its own: read only after stdout, a
        # program that said more than a pipe holds (64 KiB: journalctl's warnings of a journal
        # file each) blocked on it while we waited for its stdout to end, forever.
        program._listener = threading.Thread(target=program._listen, daemon=True)
        program._listener.start()
        if timeout is not None:
            program._timer = threading.Timer(timeout, program._expire)
            program._timer.daemon = True
            program._timer.start()
        return program

    def _expire(self) -> None:
        if self._proc.poll() is None:
            self.timed_out = True
            self._proc.kill()

    @property
    def stdout(self) -> io.BufferedReader:
        assert self._proc.stdout is not None
        return cast(io.BufferedReader, self._proc.stdout)

    def _listen(self) -> None:
        assert self._proc.stderr is not None
        with self._proc.stderr as said:
            while chunk := os.read(said.fileno(), STDERR_KEPT):
                self._said += chunk
                del self._said[:-STDERR_KEPT]

    def finish(self) -> tuple[int, str]:
        """Its exit status and the end of what it said on stderr, once stdout has been read."""
        status = self._proc.wait()
        if self._listener is not None:
            self._listener.join()
        error = bytes(self._said).decode("utf-8", "replace").strip()
        if self._timer is not None:
            self._timer.cancel()
        return status, error

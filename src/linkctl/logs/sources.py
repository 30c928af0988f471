"""Where log lines come from: files (plain, .gz, rotated sets, stdin), /dev/kmsg, the
`dmesg` program and journald."""

from __future__ import annotations

import errno
import gzip
import io
import os
import re
import socket
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, cast

from linkctl.domain.events import KernelLogLine
from linkctl.errors import LinkctlError
from linkctl.logs import scan
from linkctl.logs.capture import YearHint
from linkctl.logs.lines import parse_line
from linkctl.logs.scan import Candidate, all_lines, candidates


class Source(StrEnum):
    KMSG = "kmsg"
    DMESG = "dmesg"
    JOURNAL = "journal"


_ROTATED = re.compile(r"(?P<base>.+?)(?:[.-](?P<n>\d{1,8}))?(?P<gz>\.gz)?")


def time_order(paths: list[str]) -> list[str]:
    """A rotated set oldest first: kern.log.2.gz, kern.log.1, kern.log (also dateext
    names such as kern.log-20240330.gz). Files of different sets keep their order."""
    bases: list[str] = []
    keyed: list[tuple[int, int, str]] = []
    for path in paths:
        m = _ROTATED.fullmatch(path)
        base = m["base"] if m else path
        if base not in bases:
            bases.append(base)
        n = m["n"] if m else None
        age = 0 if n is None else (int(n) if len(n) < 8 else -int(n))
        keyed.append((bases.index(base), -age, path))
    return [path for _, _, path in sorted(keyed)]


def read_files(paths: list[str], year: int | None = None) -> Iterator[KernelLogLine]:
    """The events of the files, read in time order."""
    for path in time_order(paths):
        yield from read_file(path, year)


def read_file(path: str, year: int | None = None) -> Iterator[KernelLogLine]:
    name = "-" if path == "-" else path
    years = YearHint(year, None if path == "-" else _mtime(path))
    for candidate in _candidates(path):
        event = parse_line(candidate.text, name, candidate.line, years)
        if event is not None:
            yield event


def _candidates(path: str) -> Iterator[Candidate]:
    processes = os.cpu_count() or 1
    if processes > 1 and path != "-" and not path.endswith(".gz"):
        try:
            large = os.path.isfile(path) and os.path.getsize(path) >= scan.PARALLEL_FROM
        except OSError:
            large = False
        if large:
            yield from scan.file_candidates(path, processes)
            return
    with _open(path) as stream:
        yield from candidates(stream)


def _mtime(path: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(os.stat(path).st_mtime)
    except OSError:
        return None


def _open(path: str) -> io.BufferedIOBase | io.RawIOBase:
    if path == "-":
        return os.fdopen(os.dup(0), "rb")
    try:
        if path.endswith(".gz"):
            return _TolerantGzip(path)
        return open(path, "rb")
    except FileNotFoundError:
        raise LinkctlError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise LinkctlError(f"{path}: is a directory, not a log file") from None
    except PermissionError:
        raise LinkctlError(f"{path}: permission denied (try as root)") from None


class _TolerantGzip(io.RawIOBase):
    """A .gz stream that ends where its data ends: a truncated or corrupt archive (a log
    still being compressed, a copy cut short) gives what it holds, with a warning."""

    PIECE = 64 * 1024

    def __init__(self, path: str) -> None:
        super().__init__()
        self._path = path
        self._gz = gzip.open(path, "rb")  # noqa: SIM115 - closed in close()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any, /) -> int:
        view = memoryview(buffer).cast("B")
        try:
            return self._gz.readinto(view[: self.PIECE])
        except (EOFError, OSError, zlib.error) as exc:
            print(
                f"linkctl: warning: {self._path}: compressed data ends early ({exc}); read up to there", file=sys.stderr
            )
            return 0

    def close(self) -> None:
        self._gz.close()
        super().close()


def read_source(source: Source, year: int | None = None) -> Iterator[KernelLogLine]:
    if source is Source.KMSG:
        return read_kmsg()
    if source is Source.DMESG:
        return read_dmesg()
    return read_journal()


@dataclass(frozen=True, slots=True)
class _Boot:
    """Turns kernel timestamps (seconds since boot) into wall-clock times, as dmesg -T
    does; not exact across suspend, which stops the kernel's clock."""

    started: float
    host: str

    @classmethod
    def now(cls) -> _Boot:
        since_boot = time.clock_gettime(time.CLOCK_MONOTONIC)
        return cls(time.time() - since_boot, socket.gethostname())

    def stamp(self, event: KernelLogLine) -> KernelLogLine:
        when = event.time
        if when is None and event.uptime is not None:
            when = datetime.fromtimestamp(self.started) + timedelta(seconds=event.uptime)
        return replace(event, time=when, host=event.host or self.host)


def read_kmsg(path: str = "/dev/kmsg") -> Iterator[KernelLogLine]:
    """The kernel's ring buffer, from its oldest record to now."""
    boot = _Boot.now()
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except PermissionError:
        raise LinkctlError(f"{path}: permission denied (reading it needs root or kernel.dmesg_restrict=0)") from None
    except OSError as exc:
        raise LinkctlError(f"{path}: {exc.strerror}") from None
    try:
        for number, record in enumerate(kmsg_records(fd), 1):
            event = parse_line(record, path, number)
            if event is not None:
                yield boot.stamp(event)
    finally:
        os.close(fd)


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


def read_dmesg() -> Iterator[KernelLogLine]:
    boot = _Boot.now()
    for event in _program(["dmesg"], "dmesg", scan=True):
        yield boot.stamp(event)


def read_journal() -> Iterator[KernelLogLine]:
    yield from _program(["journalctl", "-k", "-o", "json", "--no-pager"], "journal", scan=False)


def _program(argv: list[str], name: str, scan: bool) -> Iterator[KernelLogLine]:
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError:
        raise LinkctlError(f"{argv[0]}: not installed") from None
    assert proc.stdout is not None and proc.stderr is not None
    stdout = cast(io.BufferedReader, proc.stdout)
    lines = candidates(stdout) if scan else all_lines(stdout)
    read_any = False
    for candidate in lines:
        read_any = True
        event = parse_line(candidate.text, name, candidate.line)
        if event is not None:
            yield event
    error = proc.stderr.read().decode("utf-8", "replace").strip()
    if proc.wait() != 0:
        raise LinkctlError(f"{' '.join(argv)} failed: {error or 'exit ' + str(proc.returncode)}")
    if not read_any and name == "journal":
        # journalctl without journald prints nothing and exits 0: not an empty log to report on.
        # (An empty dmesg is a cleared ring buffer: that one is reported as no events.)
        raise LinkctlError(
            f"`{' '.join(argv)}` printed nothing (journald is not running here, or keeps no kernel "
            "messages): try --source kmsg, or give log files"
        )


def source_path(source: Source) -> Path | None:
    return Path("/dev/kmsg") if source is Source.KMSG else None

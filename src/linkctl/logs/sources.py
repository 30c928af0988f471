"""Where log lines come from: files (plain, .gz, rotated sets, stdin), /dev/kmsg, the
`dmesg` program and journald; their bytes come through kernel/klog, the events are parsed here
(/dev/kmsg and journald through logs/system_log, the reader `diagnose` shares).

A large file's scan starts before the parser is imported (`read_file`): its processes scan
while this one imports the capture formats; kernel/klog (gzip, subprocess, sockets) and
system_log, which a large file does not need, are imported by the functions that use them."""

from __future__ import annotations

import io
import os
import re
import stat
from collections.abc import Generator, Iterator
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from linkctl.error_base import LinkctlError  # not linkctl.errors: no dataclasses before the fork
from linkctl.logs import ranges
from linkctl.logs.scan import Advance, Candidate, candidates

if TYPE_CHECKING:
    from pathlib import Path  # 5-10 ms with urllib.parse: not before a large file's scan starts

    from linkctl.domain.events import KernelLogLine
    from linkctl.logs.progress import Progress


KMSG_DEVICE = (1, 11)  # /dev/kmsg's major and minor (devices.txt): the same on every Linux


class Source(StrEnum):
    KMSG = "kmsg"
    DMESG = "dmesg"
    JOURNAL = "journal"


_ROTATED = re.compile(r"(?P<base>.+?)(?:[.-](?P<n>\d{1,8}))?(?P<gz>\.gz)?")


def time_order(paths: list[str]) -> list[str]:
    """A rotated set oldest first: kern.log.2.gz, kern.log.1, kern.log (also dateext
    names such as kern.log-20240330.gz). Files of different sets keep their order."""
    bases: list[str] = []
    keyed: list[tuple[int, int, int, str]] = []
    for path in paths:
        m = _ROTATED.fullmatch(path)
        base = _set_of(path)
        if base not in bases:
            bases.append(base)
        n = m["n"] if m else None
        keyed.append((bases.index(base), *_age(n), path))
    return [path for *_, path in sorted(keyed)]


def _age(n: str | None) -> tuple[int, int]:
    """A rotated file's place in its set, oldest first: the live file (no number) last
    whatever its siblings' names, kern.log.2 before kern.log.1, dateext's -20240329 before
    -20240330 (a date there sorted the live file first: its events before last week's)."""
    if n is None:
        return (1, 0)
    return (0, -int(n) if len(n) < 8 else int(n))


def read_files(
    paths: list[str], year: int | None = None, progress: Progress | None = None, unread: list[str] | None = None
) -> Iterator[KernelLogLine]:
    """The events of the files, read in time order; `progress` is told each file and how
    many of its bytes were read, `unread` what of them could not be read.

    A kernel line already read from another set is passed over: rsyslog writes each one to
    kern.log and to syslog (or messages) alike, and read together they counted every link event
    twice. Within a set a line repeated is the kernel's own, and kept."""
    ordered = time_order(paths)
    if len({_set_of(path) for path in ordered}) < 2:
        for path in ordered:
            yield from read_file(path, year, progress, unread)
        return
    earlier: set[int] = set()  # hashes of the earlier sets' events (message, stamps, host): bytes an event
    current: set[int] = set()
    last = None
    for path in ordered:
        if _set_of(path) != last:
            earlier |= current
            current, last = set(), _set_of(path)
        for event in read_file(path, year, progress, unread):
            if event.time is None and event.uptime is None:
                yield event  # nothing tells two unstamped lines apart from one
                continue
            key = hash((event.raw, event.time, event.uptime, event.host))
            if key not in earlier:
                current.add(key)
                yield event


def _set_of(path: str) -> str:
    m = _ROTATED.fullmatch(path)
    return m["base"] if m else path


def read_file(
    path: str, year: int | None = None, progress: Progress | None = None, unread: list[str] | None = None
) -> Generator[KernelLogLine, None, None]:
    name = "-" if path == "-" else path
    if _is_kmsg(path):
        # Read as a file it never ends: its read(2) waits for the kernel's next message.
        yield from read_kmsg(path)
        return
    if progress is not None:
        progress.reading(os.path.basename(name))
    found = _candidates(path, progress.advance if progress is not None else None, unread)
    try:
        from linkctl.logs.capture import YearHint
        from linkctl.logs.lines import parse_line

        years = YearHint(year, None if path == "-" else _modified(path))
        for candidate in found:
            event = parse_line(candidate.text, name, candidate.line, years)
            if event is not None:
                yield event
    finally:
        found.close()  # a large file's processes stop when the reader does


def _is_kmsg(path: str) -> bool:
    """Whether `path` is the kernel's /dev/kmsg (by its device numbers, whatever its name)."""
    if path == "-":
        return False
    try:
        st = os.stat(path)
    except OSError:
        return False
    return stat.S_ISCHR(st.st_mode) and (os.major(st.st_rdev), os.minor(st.st_rdev)) == KMSG_DEVICE


def _modified(path: str) -> datetime | None:
    """When the file was last written (local time): the year a syslog line leaves out. As
    klog.modified, without importing klog (gzip, subprocess, sockets: ~15 ms of CPU) for a large
    file, which needs none of it."""
    try:
        return datetime.fromtimestamp(os.stat(path).st_mtime)
    except OSError:
        return None


def plain_size(paths: list[str]) -> int | None:
    """The bytes a progress bar can count to: the files' sizes, or None when one of them is
    stdin or compressed (its size says nothing of what it holds) or cannot be read."""
    total = 0
    for path in paths:
        if path == "-" or path.endswith(".gz"):
            return None
        try:
            total += os.path.getsize(path)
        except OSError:
            return None
    return total


class _Found(Protocol):
    def __iter__(self) -> Iterator[Candidate]: ...
    def close(self) -> None: ...


def _candidates(path: str, advance: Advance | None, unread: list[str] | None = None) -> _Found:
    """The candidate lines of a file. Not a generator: a large file's processes start now."""
    processes = len(os.sched_getaffinity(0))  # the cores this process may run on
    if processes > 1 and path != "-" and not path.endswith(".gz"):
        try:
            large = os.path.isfile(path) and os.path.getsize(path) >= ranges.PARALLEL_FROM
        except OSError:
            large = False
        if large:
            try:
                return ranges.file_candidates(path, processes, advance)
            except OSError as exc:  # gone or unreadable since it was looked at
                raise _open_error(path, exc) from None
    return _streamed(path, advance, unread)


def _streamed(path: str, advance: Advance | None, unread: list[str] | None) -> Generator[Candidate, None, None]:
    with _open(path) as stream:
        yield from candidates(stream, advance=advance)
        cut = getattr(stream, "cut", None)  # a .gz's data ended early
        if cut is not None and unread is not None:
            unread.append(f"{path}: compressed data ends early ({cut}); read up to there")


def _open(path: str) -> io.BufferedIOBase | io.RawIOBase:
    from linkctl.kernel import klog

    try:
        return klog.open_file(path)
    except OSError as exc:
        raise _open_error(path, exc) from None


def _open_error(path: str, exc: OSError) -> Exception:
    if isinstance(exc, FileNotFoundError):
        return LinkctlError(f"{path}: no such file")
    if isinstance(exc, IsADirectoryError):
        return LinkctlError(f"{path}: is a directory, not a log file")
    if isinstance(exc, PermissionError):
        return LinkctlError(f"{path}: permission denied (try as root)")
    return exc


def read_source(source: Source, year: int | None = None) -> Iterator[KernelLogLine]:
    if source is Source.KMSG:
        return read_kmsg()
    if source is Source.DMESG:
        return read_dmesg()
    return read_journal()


def read_kmsg(path: str | None = None) -> Iterator[KernelLogLine]:
    """The kernel's ring buffer (`path`: /dev/kmsg), from its oldest record to now."""
    from linkctl.kernel import klog
    from linkctl.logs import system_log

    path = path or klog.KMSG
    try:
        records = system_log.kmsg(path)
    except PermissionError:
        raise LinkctlError(f"{path}: permission denied (reading it needs root or kernel.dmesg_restrict=0)") from None
    except OSError as exc:
        raise LinkctlError(f"{path}: {exc.strerror}") from None
    for record in records:
        event = system_log.link_event(record)
        if event is not None:
            yield event


def read_dmesg() -> Iterator[KernelLogLine]:
    from dataclasses import replace

    from linkctl.logs import system_log

    clock = system_log.Clock.now()
    for event in _program(["dmesg"], "dmesg"):
        yield replace(event, time=clock.when(event.time, event.uptime), host=event.host or clock.host)


def read_journal() -> Iterator[KernelLogLine]:
    from linkctl.logs import system_log

    read_any = False
    try:
        for record in system_log.journal():
            read_any = True
            event = system_log.link_event(record)
            if event is not None:
                yield event
    except system_log.Unavailable as exc:
        raise LinkctlError(str(exc)) from None
    if not read_any:
        # journalctl without journald prints nothing and exits 0: not an empty log to report on.
        # (An empty dmesg is a cleared ring buffer: that one is reported as no events.)
        raise LinkctlError(
            f"`{' '.join(system_log.JOURNAL)}` printed nothing (journald is not running here, or keeps no kernel "
            "messages): try --source kmsg, or give log files"
        )


def _program(argv: list[str], name: str) -> Iterator[KernelLogLine]:
    from linkctl.kernel import klog
    from linkctl.logs.lines import parse_line

    try:
        proc = klog.Program.start(argv)
    except FileNotFoundError:
        raise LinkctlError(f"{argv[0]}: not installed") from None
    for candidate in candidates(proc.stdout):
        event = parse_line(candidate.text, name, candidate.line)
        if event is not None:
            yield event
    returncode, error = proc.finish()
    if returncode != 0:
        raise LinkctlError(f"{' '.join(argv)} failed: {error or 'exit ' + str(returncode)}")


def source_path(source: Source) -> Path | None:
    from pathlib import Path

    return Path("/dev/kmsg") if source is Source.KMSG else None

"""Where log lines come from: files (plain, .gz, rotated sets, stdin), /dev/kmsg, the
`dmesg` program and journald; their bytes come through kernel/klog, the events are parsed here
(/dev/kmsg and journald through logs/system_log, the reader `diagnose` shares)."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from dataclasses import replace
from enum import StrEnum
from pathlib import Path

from linkctl.domain.events import KernelLogLine
from linkctl.errors import LinkctlError
from linkctl.kernel import klog
from linkctl.logs import scan, system_log
from linkctl.logs.capture import YearHint
from linkctl.logs.lines import parse_line
from linkctl.logs.progress import Progress
from linkctl.logs.scan import Candidate, candidates


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


def read_files(paths: list[str], year: int | None = None, progress: Progress | None = None) -> Iterator[KernelLogLine]:
    """The events of the files, read in time order; `progress` is told each file and how
    many of its bytes were read."""
    for path in time_order(paths):
        yield from read_file(path, year, progress)


def read_file(path: str, year: int | None = None, progress: Progress | None = None) -> Iterator[KernelLogLine]:
    name = "-" if path == "-" else path
    years = YearHint(year, None if path == "-" else klog.modified(path))
    if progress is not None:
        progress.reading(os.path.basename(name))
    for candidate in _candidates(path, progress.advance if progress is not None else None):
        event = parse_line(candidate.text, name, candidate.line, years)
        if event is not None:
            yield event


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


def _candidates(path: str, advance: scan.Advance | None) -> Iterator[Candidate]:
    processes = os.cpu_count() or 1
    if processes > 1 and path != "-" and not path.endswith(".gz"):
        try:
            large = os.path.isfile(path) and os.path.getsize(path) >= scan.PARALLEL_FROM
        except OSError:
            large = False
        if large:
            yield from scan.file_candidates(path, processes, advance)
            return
    with _open(path) as stream:
        yield from candidates(stream, advance=advance)


def _open(path: str) -> io.BufferedIOBase | io.RawIOBase:
    try:
        return klog.open_file(path)
    except FileNotFoundError:
        raise LinkctlError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise LinkctlError(f"{path}: is a directory, not a log file") from None
    except PermissionError:
        raise LinkctlError(f"{path}: permission denied (try as root)") from None


def read_source(source: Source, year: int | None = None) -> Iterator[KernelLogLine]:
    if source is Source.KMSG:
        return read_kmsg()
    if source is Source.DMESG:
        return read_dmesg()
    return read_journal()


def read_kmsg(path: str = klog.KMSG) -> Iterator[KernelLogLine]:
    """The kernel's ring buffer, from its oldest record to now."""
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
    clock = system_log.Clock.now()
    for event in _program(["dmesg"], "dmesg"):
        yield replace(event, time=clock.when(event.time, event.uptime), host=event.host or clock.host)


def read_journal() -> Iterator[KernelLogLine]:
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
    return Path("/dev/kmsg") if source is Source.KMSG else None

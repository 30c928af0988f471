"""Fast candidate scan: find the few lines worth parsing in a large log.

A log of a GiB holds millions of lines and a few hundred link events, so no per-line
work is affordable. The stream is read in blocks of about 1 MiB (memory stays flat);
each block is searched once for all of `patterns.SCAN_LITERALS` by an Aho-Corasick
automaton (ahocorasick_rs, the Rust crate behind ripgrep's literal search: its SIMD
prefilter runs the twenty literals in one pass at about 0.19 s/GiB here, where one RE2 pass a
literal cost 0.64 s/GiB); only the lines holding a match are handed on. The search
releases the GIL, so two threads scan blocks side by side while the main thread reads and
parses. Newlines are counted per block for the line numbers. A large regular file is cut
into ranges that processes scan over a mapping of the file (see `file_candidates`).

Without ahocorasick_rs the same literals run through `re`: correct, several times slower.
"""

from __future__ import annotations

import io
import mmap
import os
import re
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, Any, Protocol

from linkctl.interrupts import quiet_in_workers
from linkctl.logs.lines import MAX_LINE
from linkctl.logs.patterns import SCAN_LITERALS

Readable = io.BufferedIOBase | io.RawIOBase

BLOCK = 1 << 20
# A "line" longer than this is skipped to its end without being kept in memory.
MAX_CARRY = 8 << 20
WORKERS = 2
IN_FLIGHT = 4


class _Searcher(Protocol):
    def find_matches_as_indexes(self, haystack: memoryview, /) -> list[tuple[int, int, int]]: ...


class _ReSearcher:
    """`re` behind the automaton's one method: the fallback where the wheel is missing."""

    def __init__(self, literals: tuple[bytes, ...]) -> None:
        self._pattern = re.compile(b"|".join(re.escape(literal) for literal in literals))

    def find_matches_as_indexes(self, haystack: memoryview, /) -> list[tuple[int, int, int]]:
        return [(0, m.start(), m.end()) for m in self._pattern.finditer(haystack)]


def _compile() -> _Searcher:
    try:
        import ahocorasick_rs
    except ImportError:  # pragma: no cover - ahocorasick-rs is a dependency
        return _ReSearcher(SCAN_LITERALS)
    # Leftmost-first, not the default "standard" semantics: only those let the crate use
    # its packed SIMD searcher (Teddy); standard ran at 2.2 s/GiB with these literals.
    return ahocorasick_rs.BytesAhoCorasick(list(SCAN_LITERALS), matchkind=ahocorasick_rs.MATCHKIND_LEFTMOST_FIRST)


_SEARCHER = _compile()


@dataclass(frozen=True, slots=True)
class Candidate:
    """A line that holds a scan literal: its 1-based number and its bytes."""

    line: int
    text: bytes


class _Pool:
    """The reusable read buffers, with explicit ownership: a buffer is lent to one
    block and written again only after that block gave it back (`_Block.release`),
    which its reader does once the block is drained. Running out is a bug in the
    reader, not a reason to overwrite a buffer some worker may still be scanning."""

    def __init__(self, count: int) -> None:
        self._free = [bytearray(2 * BLOCK) for _ in range(count)]
        self._lent: set[int] = set()

    def take(self) -> bytearray:
        if not self._free:
            raise RuntimeError("scan: every read buffer is held by a block not yet drained")
        buf = self._free.pop()
        self._lent.add(id(buf))
        return buf

    def give_back(self, buf: bytearray) -> None:
        # Only a lent buffer comes back, and once: a second return would hand one
        # buffer to two blocks.
        if id(buf) not in self._lent:
            raise RuntimeError("scan: a read buffer was given back that was not lent")
        self._lent.discard(id(buf))
        self._free.append(buf)


class _Block:
    """`size` bytes of lines in `data`. A pooled `data` belongs to the block until
    `release()`; after that it may hold the next read."""

    __slots__ = ("_pool", "data", "size", "skipped_lines")

    def __init__(self, data: bytearray, size: int, skipped_lines: int, pool: _Pool | None = None) -> None:
        self.data = data
        self.size = size
        self.skipped_lines = skipped_lines  # giant lines dropped just before this block
        self._pool = pool

    def release(self) -> None:
        if self._pool is not None:
            self._pool.give_back(self.data)
            self._pool = None


def _blocks(stream: Readable, pool: _Pool) -> Iterator[_Block]:
    """Blocks that end at a line end (the last one may not), read into buffers of
    `pool` so that no byte is copied twice; a line longer than MAX_CARRY is dropped
    whole and counted, so later line numbers stay right. A buffer taken from the pool
    is read into again only while no block holds it: skipping a giant line reuses the
    one buffer it holds, and a yielded buffer comes back only through its block."""
    carry, skipping, skipped = b"", False, 0
    own: bytearray | None = None  # taken from the pool, not yet lent to a block
    try:
        while True:
            if own is None:
                own = pool.take()
            # A carry longer than a block gets a buffer of its own (rare: a long line).
            buf = own if len(carry) <= BLOCK else bytearray(len(carry) + BLOCK)
            buf[: len(carry)] = carry
            got = stream.readinto(memoryview(buf)[len(carry) : len(carry) + BLOCK])
            if not got:
                break
            size = len(carry) + got
            begin = 0
            if skipping:
                end = buf.find(b"\n", 0, size)
                if end < 0:
                    carry = b""
                    continue
                begin, skipping, skipped = end + 1, False, skipped + 1
            cut = buf.rfind(b"\n", begin, size) + 1
            carry = bytes(buf[max(cut, begin) : size])
            if cut:
                if begin:  # rare: drop the tail of a giant line that ends in this block
                    buf[: cut - begin] = buf[begin:cut]
                    cut -= begin
                if buf is own:
                    own = None
                    yield _Block(buf, cut, skipped, pool)
                else:
                    yield _Block(buf, cut, skipped)
                skipped = 0
            if len(carry) > MAX_CARRY:
                carry, skipping = b"", True
    finally:
        if own is not None:
            pool.give_back(own)
    if carry and not skipping:
        yield _Block(bytearray(carry), len(carry), skipped)


class _Counter:
    """Counts newlines, the one cost every byte of a scanned file pays.

    bytes.count is a plain per-byte loop (1.1 s/GiB measured here); numpy's SIMD compare
    and count does 0.12 s/GiB, but importing numpy costs 0.05 s of wall time and 0.1-0.17 s
    of CPU (OpenBLAS starts a thread per core, though nothing here multiplies a matrix). So
    the first NUMPY_FROM bytes are counted by bytes.count, the rest by numpy: a short log
    never pays for the import, a long one pays it once (`file_candidates` imports it before
    forking, so every process shares it).
    """

    NUMPY_FROM = 64 << 20
    counted = 0


def _numpy() -> Any:
    # BLAS is never used: one thread for it, not one per core.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    import numpy

    return numpy


def count_newlines(data: bytearray, start: int, end: int) -> int:
    """Newlines in data[start:end]."""
    if _Counter.counted < _Counter.NUMPY_FROM or end - start < 65536:
        _Counter.counted += end - start
        return data.count(b"\n", start, end)
    np = _numpy()
    view = np.frombuffer(data, np.uint8, count=end - start, offset=start)
    return int(np.count_nonzero(view == 10))


def _scan_block(data: bytearray, size: int) -> tuple[int, list[tuple[int, bytes]]]:
    """The number of lines in the block and its candidate lines (index within it)."""
    with memoryview(data) as whole, whole[:size] as view:
        matches = _SEARCHER.find_matches_as_indexes(view)
    found_lines: list[tuple[int, bytes]] = []
    index, last, line_end = 0, 0, -1
    for _, at, _ in matches:  # in order of position
        if at < line_end:
            continue  # a further literal on a line already taken
        start = data.rfind(b"\n", 0, at) + 1
        index += count_newlines(data, last, start)
        last = start
        line_end = data.find(b"\n", at, size)
        line_end = size if line_end < 0 else line_end
        found_lines.append((index, bytes(data[start : min(line_end, start + MAX_LINE)])))
    lines = index + count_newlines(data, last, size)
    if size and data[size - 1] != 10:
        lines += 1
    return lines, found_lines


Advance = Callable[[int], None]  # told how many more bytes were scanned (a progress bar)


def candidates(stream: Readable, workers: int = WORKERS, advance: Advance | None = None) -> Iterator[Candidate]:
    """The candidate lines of a byte stream, in order, with their line numbers."""
    # The reader holds at most IN_FLIGHT - 1 undrained blocks when it asks for the
    # next buffer, so IN_FLIGHT buffers are enough.
    buffers = _Pool(IN_FLIGHT)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[tuple[_Block, Future[tuple[int, list[tuple[int, bytes]]]]]] = deque()
        line_base = 0
        for block in _blocks(stream, buffers):
            pending.append((block, pool.submit(_scan_block, block.data, block.size)))
            if len(pending) >= IN_FLIGHT:
                line_base = yield from _drain_one(pending, line_base, advance)
        while pending:
            line_base = yield from _drain_one(pending, line_base, advance)


def _drain_one(
    pending: deque[tuple[_Block, Future[tuple[int, list[tuple[int, bytes]]]]]],
    line_base: int,
    advance: Advance | None,
) -> Generator[Candidate, None, int]:
    block, future = pending.popleft()
    try:
        lines, found = future.result()
    finally:
        block.release()  # the worker is done with it, and the candidates are copies
    if advance is not None:
        advance(block.size)
    line_base += block.skipped_lines
    for index, text in found:
        yield Candidate(line_base + index + 1, text)
    return line_base + lines


def all_lines(stream: IO[bytes]) -> Iterator[Candidate]:
    """Every line, for sources too small to need a scan (kmsg, journal)."""
    for number, text in enumerate(stream, 1):
        yield Candidate(number, text[:MAX_LINE].rstrip(b"\r\n"))


# --- large files: ranges in parallel processes ---------------------------------------
# Counting newlines holds the GIL, so threads cannot share it; a large regular file is
# cut into ranges scanned by forked processes, each returning its line count and its few
# candidate lines. A process maps the file rather than reading it: the search and the count
# run over the page cache itself, without copying each block out of it (read() was half of a
# range's time with other work on the cores). The pages are let go block by block, so the
# memory stays flat.

PARALLEL_FROM = 64 << 20
# A large file is cut into ranges of about this size, more than there are processes: the
# processes share the work as they come free, and a progress bar moves range by range.
RANGE = 32 << 20
# A literal cut by a block's end is found in the block's search: each one reads this far on.
_OVERLAP = max(len(literal) for literal in SCAN_LITERALS) - 1


def _scan_range(path: str, start: int, end: int) -> tuple[int, list[tuple[int, bytes]]]:
    """The lines that start in [start, end) (the partial line at `start` belongs to the range
    before, the line running past `end` is this range's to its end): their number and the
    candidates among them (index within the range). A line longer than MAX_CARRY is counted,
    never a candidate, as the stream reader drops it."""
    with open(path, "rb") as file:
        if os.fstat(file.fileno()).st_size == 0:
            return 0, []
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        return _scan_mapped(mapped, start, min(end, len(mapped)))
    finally:
        mapped.close()


def _scan_mapped(mapped: mmap.mmap, start: int, end: int) -> tuple[int, list[tuple[int, bytes]]]:
    size = len(mapped)
    lo = 0 if start == 0 else _line_after(mapped, start - 1, size)
    if lo >= end:
        return 0, []  # the range lies inside one long line
    hi = _line_after(mapped, end - 1, size)
    np = _numpy()
    data = np.frombuffer(mapped, np.uint8)
    view = memoryview(mapped)
    try:
        newlines, found = _scan_span(mapped, data, view, lo, hi)
    finally:
        view.release()
        del data  # the mapping closes only when nothing exports its buffer
    return newlines + (hi > lo and mapped[hi - 1] != 10), found


def _line_after(mapped: mmap.mmap, at: int, size: int) -> int:
    """Where the line after the one holding byte `at` starts (the end of the file if none)."""
    newline = mapped.find(b"\n", at)
    return size if newline < 0 else newline + 1


def _scan_span(mapped: mmap.mmap, data: Any, view: memoryview, lo: int, hi: int) -> tuple[int, list[tuple[int, bytes]]]:
    """Newlines in [lo, hi) and the candidate lines there (index: newlines before them), block
    by block; the blocks are aligned to BLOCK so that each one's pages can be let go after it."""
    np = _numpy()
    found: list[tuple[int, bytes]] = []
    counted, newlines, line_end = lo, 0, -1
    for block in range(lo - lo % BLOCK, hi, BLOCK):
        first, last = max(block, lo), min(block + BLOCK, hi)
        for _, at, _ in _SEARCHER.find_matches_as_indexes(view[first : min(last + _OVERLAP, hi)]):
            at += first
            if at >= last or at < line_end:
                continue  # the next block's, or a further literal on a line already taken
            line_start = max(mapped.rfind(b"\n", lo, at) + 1, lo)
            line_end = mapped.find(b"\n", at, hi)
            line_end = hi if line_end < 0 else line_end
            if line_start > counted:
                newlines += int(np.count_nonzero(data[counted:line_start] == 10))
                counted = line_start
            if line_end - line_start <= MAX_CARRY:
                found.append((newlines, bytes(mapped[line_start : min(line_end, line_start + MAX_LINE)])))
        if last > counted:
            newlines += int(np.count_nonzero(data[counted:last] == 10))
            counted = last
        if block + BLOCK <= hi:
            mapped.madvise(mmap.MADV_DONTNEED, block, BLOCK)  # read: let its pages go
    return newlines, found


def file_candidates(path: str, processes: int, advance: Advance | None = None) -> Iterator[Candidate]:
    """The candidate lines of a large regular file, scanned by `processes` processes."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    _numpy()  # imported once here, before the fork, not in each process
    _Counter.counted = _Counter.NUMPY_FROM  # a large file: numpy from its first byte on

    size = os.path.getsize(path)
    count = max(processes, -(-size // RANGE))
    cuts = [size * i // count for i in range(count + 1)]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(processes, mp_context=context, initializer=quiet_in_workers) as pool:
        futures = [pool.submit(_scan_range, path, cuts[i], cuts[i + 1]) for i in range(count)]
        base = 0
        for i, future in enumerate(futures):
            lines, found = future.result()
            for index, text in found:
                yield Candidate(base + index + 1, text)
            base += lines
            if advance is not None:
                advance(cuts[i + 1] - cuts[i])

"""Fast candidate scan: find the few lines worth parsing in a large log.

A log of a GiB holds millions of lines and a few hundred link events, so no per-line
work is affordable. The stream is read in blocks of about 1 MiB (memory stays flat);
each block is searched once for all of `literals.SCAN_LITERALS` by an Aho-Corasick
automaton (ahocorasick_rs, the Rust crate behind ripgrep's literal search: its SIMD
prefilter runs the literals in one pass, 0.14 s/GiB here for twenty, 0.17 s/GiB for the 64
of now in their tuned order, literals.SEARCH_ORDER, where one RE2 pass a literal cost
0.64 s/GiB; Hyperscan, tried, took 0.8-1.0 s/GiB for 41); only the lines holding a match are
handed on. The search releases the GIL, so two threads scan blocks side by side while the
main thread reads and parses. Newlines are counted per block for the line numbers. A large regular file is cut
into ranges that processes scan over a mapping of the file (ranges.py).

Without ahocorasick_rs the same literals run through `re`: correct, several times slower.
Newlines are counted by stringzilla (`count_newlines`).
"""

from __future__ import annotations

import io
import re
from collections import deque
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Protocol

import stringzilla

from linkctl.logs.literals import SCAN_LITERALS, SEARCH_ORDER

if TYPE_CHECKING:
    from concurrent.futures import Future

Readable = io.BufferedIOBase | io.RawIOBase

# The kernel never prints a message this long (LOG_LINE_MAX is 1 KiB less its header);
# a longer line is junk whose head is still looked at, and nothing more.
MAX_LINE = 64 * 1024
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
    # Leftmost semantics, not the default "standard": only those let the crate use its packed
    # SIMD searcher (Teddy); standard ran at 2.2 s/GiB. Leftmost-longest, not -first: with the
    # 29 literals of issue 19 it ran at 0.22-0.26 s/GiB where -first took 0.29-0.35 (min and
    # median of 7, same run). Either finds every line holding a literal, which is all the scan
    # asks: a match never spans a newline, and both report the leftmost start on a line.
    # Handed over in SEARCH_ORDER, which decides how the SIMD searcher shares its buckets among
    # the literals (literals.py says how it was found and what it saves).
    return ahocorasick_rs.BytesAhoCorasick(list(SEARCH_ORDER), matchkind=ahocorasick_rs.MATCHKIND_LEFTMOST_LONGEST)


SEARCHER = _compile()


def holds_literal(text: str) -> bool:
    """Whether a message holds one of the scan's literals: a recogniser's match on one that does not
    would be an event the fast scan never hands on (the rules' case-blind words, "TX Timed Out")."""
    with memoryview(text.encode("utf-8", "surrogateescape")) as view:
        return bool(SEARCHER.find_matches_as_indexes(view))


LONGEST_LITERAL = max(len(literal) for literal in SCAN_LITERALS)


class Candidate:
    """A line that holds a scan literal: its 1-based number and its bytes.

    A plain class, not a dataclass: `dataclasses` (with `inspect`, ~10 ms) would be imported
    before a large file's scan processes start, rather than while they scan."""

    __slots__ = ("line", "text")

    def __init__(self, line: int, text: bytes) -> None:
        self.line = line
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Candidate) and (self.line, self.text) == (other.line, other.text)

    def __hash__(self) -> int:
        return hash((self.line, self.text))

    def __repr__(self) -> str:
        return f"Candidate(line={self.line!r}, text={self.text!r})"


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


def count_newlines(data: bytearray | memoryview, start: int, end: int) -> int:
    """Newlines in data[start:end]: the one cost every byte of a scanned file pays.

    StringZilla's SIMD search counts 0.18 s/GiB here, where bytes.count is a plain per-byte
    loop (1.1 s/GiB). numpy's compare and count did 0.12 s/GiB, but importing numpy cost
    0.07-0.1 s of CPU before the first byte of a large file could be scanned (stringzilla: 1 ms).
    """
    return int(stringzilla.count(data, "\n", start, end))


def _scan_block(data: bytearray, size: int) -> tuple[int, list[tuple[int, bytes]]]:
    """The number of lines in the block and its candidate lines (index within it)."""
    with memoryview(data) as whole, whole[:size] as view:
        matches = SEARCHER.find_matches_as_indexes(view)
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
    from concurrent.futures import ThreadPoolExecutor  # with `logging`: 9 ms a large file need not pay

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

"""A large regular file: ranges scanned side by side by forked processes, their candidate
lines streamed back in file order.

The file is cut into ranges of RANGE bytes. The processes take range numbers from one pipe
(a 4-byte read of a pipe is atomic, so each number goes to one process: a process slowed by
other work on its core simply takes fewer) and send each range's line count and candidate
lines back through a pipe of their own, which the parent reads in file order. That pipe is
what bounds the memory: a process runs ahead of the reader by a pipe's worth of results (64
KiB) and the one range it is sending, however many ranges there are and however many
candidates a range holds (a range dense with candidates is sent in parts of PART bytes).
Range numbers are handed out well ahead (CLAIMS_AHEAD), so that the processes never wait for
them while the parent imports the parser or parses.

Processes, not threads (the automaton releases the GIL, the newline count does not): a process
scans a mapping of the file (read() into a buffer copies each byte once more: 0.09 s more CPU a
GiB, measured), and a mapping read past the end of a file truncated meanwhile (copytruncate)
raises SIGBUS, which would kill linkctl itself. It kills a worker only; the parent then ends
the scan where the file now ends, as the stream reader does.

The processes are forked as soon as the automaton is built: the parent imports the parser
while they scan, and parses the candidates as they come.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # not signal.py, whose enums cost 2 ms here
import faulthandler
import marshal
import mmap
import os
import resource
import select
from collections import deque
from collections.abc import Callable
from typing import NoReturn

from linkctl import interrupts
from linkctl.error_base import LinkctlError  # not linkctl.errors: no dataclasses before the fork
from linkctl.logs import scan
from linkctl.logs.scan import BLOCK, MAX_CARRY, MAX_LINE, Advance, Candidate

# From this size on a regular file is scanned in ranges (below it, forking costs more than it saves).
PARALLEL_FROM = 64 << 20
# Ranges of this size: 64 for a GiB, so that the processes share the last ones evenly.
RANGE = 16 << 20
# Range numbers handed out ahead of the range the reader waits for: 16 KiB of them, which the
# claims pipe (64 KiB) always has room for, so that handing one out never blocks.
CLAIMS_AHEAD = 4096
# A range's candidate lines are sent in parts of about this many bytes: a range of 16 MiB that
# is all events is never held whole, by the worker nor by the reader.
PART = 1 << 20
# A literal cut by a block's end is found in the block's search: each one reads this far on.
_OVERLAP = scan.LONGEST_LITERAL - 1
_HEADER = 8  # the length of a result, before it


class _Worker:
    # Plain classes, not dataclasses: making those cost 4 ms before the scan could start.
    __slots__ = ("ended", "fd", "next", "pid", "status")

    def __init__(self, pid: int, fd: int) -> None:
        self.pid = pid
        self.fd = fd  # the read end of its results
        self.next: tuple[int, int, list[tuple[int, bytes]]] | None = None  # read, not yet taken
        self.ended = False  # its results ended, and it was waited for
        self.status = ""  # how it ended, when not as it should


class _State:
    __slots__ = ("base", "claims", "cuts", "handed", "ready", "taken", "workers")

    def __init__(self, cuts: list[int], claims: int) -> None:
        self.cuts = cuts
        self.claims = claims  # the write end of the range numbers (-1 once closed)
        self.handed = 0  # range numbers handed out so far
        self.taken = 0  # ranges whose results the reader has taken
        self.base = 0  # lines before the range the reader is in
        self.ready: deque[Candidate] = deque()
        self.workers: list[_Worker] = []


class RangeScan:
    """The candidate lines of a large regular file, in order: an iterator whose processes are
    started when it is made. `close()` (also at the end, or when it is collected) stops them."""

    def __init__(self, path: str, processes: int, advance: Advance | None = None) -> None:
        self._path = path
        self._advance = advance
        self._fd = -1  # what close() finds, should the open fail
        self._state: _State | None = None
        self._fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        self._size = os.fstat(self._fd).st_size
        count = 0 if self._size == 0 else max(processes, -(-self._size // RANGE))
        cuts = [self._size * i // count for i in range(count + 1)]
        if count:
            self._start(cuts, min(processes, count))

    def _start(self, cuts: list[int], processes: int) -> None:
        claims_r, claims_w = os.pipe()
        state = self._state = _State(cuts, claims_w)
        try:
            for _ in range(processes):
                results_r, results_w = os.pipe()
                pid = os.fork()
                if pid == 0:
                    inherited = [claims_w, *(w.fd for w in state.workers), results_r]
                    _work(self._fd, self._size, cuts, claims_r, results_w, inherited)
                os.close(results_w)
                state.workers.append(_Worker(pid, results_r))
        finally:
            os.close(claims_r)
        for _ in range(min(len(cuts) - 1, CLAIMS_AHEAD)):
            self._hand_out(state)

    def __iter__(self) -> RangeScan:
        return self

    def __next__(self) -> Candidate:
        state = self._state
        if state is None:
            raise StopIteration
        while not state.ready:
            if state.taken == len(state.cuts) - 1 or not self._take(state):
                self.close()
                raise StopIteration
        return state.ready.popleft()

    def _take(self, state: _State) -> bool:
        """The next result (a range's candidates, or a part of them) into `ready`; False when its
        worker ended without it because the file was cut short meanwhile."""
        index = state.taken
        result = _result(state, index)
        if result is None:
            self._lost(state, index)
            return False
        _, lines, found = result
        state.ready.extend(Candidate(state.base + line + 1, text) for line, text in found)
        if lines < 0:
            return True  # a part: the range goes on in its worker's next result
        state.base += lines
        state.taken += 1
        self._hand_out(state)
        if self._advance is not None:
            self._advance(state.cuts[index + 1] - state.cuts[index])
        return True

    def _hand_out(self, state: _State) -> None:
        if state.handed < len(state.cuts) - 1 and state.claims >= 0:
            try:
                _write_all(state.claims, state.handed.to_bytes(4, "little"))
            except BrokenPipeError:  # every worker has died: the range missing is found so
                _close_claims(state)
                return
            state.handed += 1
        if state.handed == len(state.cuts) - 1:
            _close_claims(state)  # the workers read the end of it, and leave

    def _lost(self, state: _State, index: int) -> None:
        """Range `index` will not come: a worker ended before sending it. A file cut short meanwhile
        (copytruncate) ends the scan there, as the stream reader's does; anything else is an error."""
        now = os.fstat(self._fd).st_size
        ended = [w.status for w in state.workers if w.ended and w.status]
        self.close()
        if now >= self._size:
            raise LinkctlError(
                f"{self._path}: the scan of bytes {state.cuts[index]}-{state.cuts[index + 1]} failed "
                f"(a worker process {', '.join(sorted(set(ended))) or 'ended'}); the events before line "
                f"{state.base + 1} were given"
            )

    def close(self) -> None:
        """Stop the processes (they may be scanning ranges nobody will read) and let go of the file."""
        state, self._state = self._state, None
        if state is not None:
            _close_claims(state)
            for worker in state.workers:
                os.close(worker.fd)
                if not worker.ended:
                    _kill(worker.pid)
                    os.waitpid(worker.pid, 0)
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        self.close()


def _result(state: _State, index: int) -> tuple[int, int, list[tuple[int, bytes]]] | None:
    """Range `index`'s result, read from whichever worker took it; None if none will send it.

    Each worker takes its numbers in increasing order and answers in that order, so the
    result is the next one of some worker: a worker's next result is read (and held) until
    one of them is `index`'s."""
    while True:
        for worker in state.workers:
            if worker.next is not None and worker.next[0] == index:
                result, worker.next = worker.next, None
                return result
        waiting = [w for w in state.workers if w.next is None and not w.ended]
        if not waiting:
            return None  # every worker has ended, or holds a later range's result
        if len(waiting) == 1:
            ready = [waiting[0].fd]
        else:
            poller = select.poll()
            for worker in waiting:
                poller.register(worker.fd, select.POLLIN)
            ready = [fd for fd, _ in poller.poll()]
        for worker in waiting:
            if worker.fd in ready:
                worker.next = _read_result(worker.fd)
                if worker.next is None:
                    _ended(state, worker)


def _ended(state: _State, worker: _Worker) -> None:
    """A worker's results ended. Before the last range was handed out, it died (SIGBUS on a file
    cut short, the OOM killer): no more ranges are handed out, so that the others end too
    once they have sent what they took, and the reader learns which range is missing."""
    _, status = os.waitpid(worker.pid, 0)
    worker.ended = True
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        worker.status = f"was killed by signal {-code}"
    elif code:
        worker.status = f"ended with status {code}"
    _close_claims(state)


def _close_claims(state: _State) -> None:
    if state.claims >= 0:
        os.close(state.claims)
        state.claims = -1


def _read_result(fd: int) -> tuple[int, int, list[tuple[int, bytes]]] | None:
    header = _read_exactly(fd, _HEADER)
    size = int.from_bytes(header, "little")
    body = _read_exactly(fd, size) if len(header) == _HEADER else b""
    if len(body) < size or not body:
        return None  # the worker ended, maybe killed in the middle of a result
    result: tuple[int, int, list[tuple[int, bytes]]] = marshal.loads(body)
    return result


def _read_exactly(fd: int, size: int) -> bytes:
    """`size` bytes, or fewer where the pipe ends."""
    parts = []
    while size:
        part = os.read(fd, min(size, 1 << 20))
        if not part:
            break
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _kill(pid: int) -> None:
    # Not waited for yet, so the pid is still this worker's (a zombie at worst). SIGKILL: a worker
    # holds nothing that needs cleaning up, and may be blocked writing a result nobody will read.
    os.kill(pid, _signal.SIGKILL)


# --- in a worker -----------------------------------------------------------------------


def _work(fd: int, size: int, cuts: list[int], claims: int, results: int, inherited: list[int]) -> NoReturn:
    """A forked worker: scans the ranges whose numbers it reads from `claims` until that pipe
    ends, and writes each one's result to `results`. Never returns."""
    code = 1
    try:
        interrupts.ignore()  # Ctrl-C reaches the whole process group: the parent handles it
        # SIGBUS on a file cut short is how a worker learns of it: no core file, no Python dump.
        faulthandler.disable()
        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
        for other in inherited:
            os.close(other)
        mapped = mmap.mmap(fd, size, prot=mmap.PROT_READ)
        while len(claim := os.read(claims, 4)) == 4:
            index = int.from_bytes(claim, "little")
            sender = _Sender(results, index)
            sender.send(_scan_range(mapped, cuts[index], cuts[index + 1], sender.add))
        code = 0
    finally:
        os._exit(code)  # never the parent's cleanup (its buffers, its atexit handlers)


class _Sender:
    """A range's result, written to the results pipe: its candidate lines in parts of about PART
    bytes (`add`), then the last part with the range's line count (`send`). A part short of the
    last says -1 lines."""

    __slots__ = ("_fd", "_found", "_index", "_size")

    def __init__(self, fd: int, index: int) -> None:
        self._fd, self._index = fd, index
        self._found: list[tuple[int, bytes]] = []
        self._size = 0

    def add(self, line: int, text: bytes) -> None:
        self._found.append((line, text))
        self._size += len(text) + 16
        if self._size >= PART:
            self.send(-1)

    def send(self, lines: int) -> None:
        body = marshal.dumps((self._index, lines, self._found))
        _write_all(self._fd, len(body).to_bytes(_HEADER, "little") + body)
        self._found, self._size = [], 0


Found = Callable[[int, bytes], None]  # told each candidate line: its index in the range, its bytes


def _scan_range(mapped: mmap.mmap, start: int, end: int, found: Found) -> int:
    """The lines that start in [start, end) (the partial line at `start` belongs to the range
    before, the line running past `end` is this range's to its end): their number; the
    candidates among them go to `found`. A line longer than MAX_CARRY is counted, never a
    candidate, as the stream reader drops it."""
    size = len(mapped)
    lo = 0 if start == 0 else _line_after(mapped, start - 1, size)
    if lo >= end:
        return 0  # the range lies inside one long line
    hi = _line_after(mapped, end - 1, size)
    with memoryview(mapped) as view:
        newlines = _scan_span(mapped, view, lo, hi, found)
    return newlines + (hi > lo and mapped[hi - 1] != 10)


def _line_after(mapped: mmap.mmap, at: int, size: int) -> int:
    """Where the line after the one holding byte `at` starts (the end of the file if none)."""
    newline = mapped.find(b"\n", at)
    return size if newline < 0 else newline + 1


def _scan_span(mapped: mmap.mmap, view: memoryview, lo: int, hi: int, found: Found) -> int:
    """Newlines in [lo, hi) and the candidate lines there (index: newlines before them), block
    by block: the count reads a block the search has just brought into the cache. The blocks are
    aligned to BLOCK so that each one's pages can be let go after it (the memory stays flat)."""
    search, count = scan.SEARCHER.find_matches_as_indexes, scan.count_newlines
    counted, newlines, line_end = lo, 0, -1
    for block in range(lo - lo % BLOCK, hi, BLOCK):
        first, last = max(block, lo), min(block + BLOCK, hi)
        for _, at, _ in search(view[first : min(last + _OVERLAP, hi)]):
            at += first
            if at >= last or at < line_end:
                continue  # the next block's, or a further literal on a line already taken
            line_start = max(mapped.rfind(b"\n", lo, at) + 1, lo)
            line_end = mapped.find(b"\n", at, hi)
            line_end = hi if line_end < 0 else line_end
            if line_start > counted:
                newlines += count(view, counted, line_start)
                counted = line_start
            if line_end - line_start <= MAX_CARRY:
                found(newlines, bytes(mapped[line_start : min(line_end, line_start + MAX_LINE)]))
        if last > counted:
            newlines += count(view, counted, last)
            counted = last
        if block + BLOCK <= hi:
            mapped.madvise(mmap.MADV_DONTNEED, block, BLOCK)  # read: let its pages go
    return newlines


def file_candidates(path: str, processes: int, advance: Advance | None = None) -> RangeScan:
    """The candidate lines of a large regular file, scanned by `processes` processes that start now."""
    return RangeScan(path, processes, advance)

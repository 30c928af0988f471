"""The scan reads every line once: parallel ranges meet without overlap, and a pooled
read buffer is not written while a worker may still scan its block."""

from __future__ import annotations

import mmap
import random
import subprocess
import sys
from pathlib import Path

import pytest

from linkctl.logs import ranges, scan
from linkctl.logs.literals import SCAN_LITERALS
from linkctl.logs.sources import read_file

DOWN = b"Mar 30 06:32:45 h kernel: [ 10.0] e1000e 0000:00:19.0 eth0: NIC Link is Down\n"
UP = b"Mar 30 06:32:47 h kernel: [ 12.0] e1000e 0000:00:19.0 eth0: NIC Link is Up 1000 Mbps Full Duplex\n"


def _one_stream(path: Path) -> list[tuple[int, bytes]]:
    with path.open("rb") as stream:
        return [(c.line, c.text) for c in scan.candidates(stream)]


def _ranges(path: Path, processes: int) -> list[tuple[int, bytes]]:
    return [(c.line, c.text) for c in ranges.file_candidates(str(path), processes)]


def test_identical_lines_cut_at_line_starts_are_read_once(tmp_path: Path) -> None:
    # 840 lines of one length: every cut of 2..8 ranges falls exactly on a line start,
    # the case where the range before used to read the next range's first line too.
    path = tmp_path / "same.log"
    path.write_bytes(DOWN * 840)
    for processes in range(2, 9):
        assert [line for line, _ in _ranges(path, processes)] == list(range(1, 841)), processes


def test_identical_lines_through_the_reader_give_one_event_per_line(tmp_path: Path) -> None:
    path = tmp_path / "kern.log"
    path.write_bytes(DOWN * 8400)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ranges, "PARALLEL_FROM", 1)  # the parallel path without writing 64 MiB
        events = list(read_file(str(path), 2024))
    assert len(events) == 8400
    assert [e.line for e in events] == list(range(1, 8401))


def test_a_range_inside_one_long_line_holds_no_line(tmp_path: Path) -> None:
    path = tmp_path / "long.log"
    path.write_bytes(DOWN + b"x" * 5000 + b" Link is Down\n" + UP + DOWN)
    one = _one_stream(path)
    assert [line for line, _ in one] == [1, 2, 3, 4]
    for processes in range(2, 9):
        assert _ranges(path, processes) == one, processes


def test_random_files_and_cuts_match_one_stream(tmp_path: Path) -> None:
    rnd = random.Random(12)
    pieces = [DOWN, UP, b"\n", b"noise\n", b"Link is Down", b"x" * 300 + b"\n"]
    path = tmp_path / "random.log"
    for _ in range(12):
        path.write_bytes(b"".join(rnd.choice(pieces) for _ in range(rnd.randrange(0, 120))))
        one = _one_stream(path)
        for processes in (2, 3, 5, 11):
            assert _ranges(path, processes) == one, (processes, path.read_bytes())


def test_queued_blocks_survive_skipping_a_giant_line(tmp_path: Path) -> None:
    # Blocks dense with candidates keep one worker busy for a while; meanwhile the
    # reader skips a line longer than MAX_CARRY in many reads. Those reads must not
    # land in the buffers of the blocks still queued for the worker.
    dense = b"k is down\n" * ((3 * scan.BLOCK + scan.BLOCK // 2) // 10)
    path = tmp_path / "giant.log"
    with path.open("wb") as out:
        out.write(dense)
        out.write(b"x" * (scan.MAX_CARRY + 10 * scan.BLOCK) + b"\n")
        out.write(DOWN + UP)
    dense_lines = dense.count(b"\n")
    expected = [(n, b"k is down") for n in range(1, dense_lines + 1)]
    expected += [(dense_lines + 2, DOWN.rstrip(b"\n")), (dense_lines + 3, UP.rstrip(b"\n"))]
    for workers in (1, 2):
        with path.open("rb") as stream:
            got = [(c.line, c.text) for c in scan.candidates(stream, workers)]
        assert len(got) == len(expected), workers
        assert got == expected, workers


def test_a_buffer_is_lent_to_one_block_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "blocks.log"
    path.write_bytes(DOWN * (3 * scan.BLOCK // len(DOWN)))
    pool = scan._Pool(2)
    with path.open("rb") as stream:
        blocks = scan._blocks(stream, pool)
        first, second = next(blocks), next(blocks)
        kept = bytes(first.data[: first.size])
        with pytest.raises(RuntimeError, match="not yet drained"):
            next(blocks)  # a third read would need a buffer a block still holds
        assert bytes(first.data[: first.size]) == kept
    first.release()
    first.release()  # releasing twice gives the buffer back once
    second.release()
    assert len(pool._free) == 2


def test_newlines_counted_as_bytes_count_does(tmp_path: Path) -> None:
    # Whatever the span's alignment, in a read buffer and in a mapping of a file.
    rng = random.Random(3)
    data = bytearray(rng.choice(b"ab\n") for _ in range(300_000))
    spans = [(0, 300_000), (1, 299_999), (7, 65_543), (65_536, 300_000), (0, 10), (5, 5), (9, 3)]
    expected = [data.count(b"\n", lo, hi) for lo, hi in spans]
    assert [scan.count_newlines(data, lo, hi) for lo, hi in spans] == expected
    path = tmp_path / "data"
    path.write_bytes(data)
    with (
        path.open("rb") as file,
        mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mapped,
        memoryview(mapped) as view,
    ):
        assert [scan.count_newlines(view, lo, hi) for lo, hi in spans] == expected


def _lines_hit(search: scan._Searcher, data: bytes) -> set[int]:
    """The numbers of the lines holding a match."""
    return {data.count(b"\n", 0, at) for _, at, _ in search.find_matches_as_indexes(memoryview(data))}


def test_the_automaton_and_the_re_fallback_take_the_same_lines() -> None:
    """The automaton (sorted for speed, leftmost-longest) and the `re` fallback, used where the
    wheel is missing, hand on the same lines of the corpora, the holdouts and lines that hold a
    literal in other words; and every literal alone is found by both."""
    corpus = Path(__file__).parent / "corpus"
    text = b"\n".join(p.read_bytes() for p in sorted(corpus.iterdir()) if p.suffix in (".jsonl", ".yaml"))
    data = text + b"\n" + b"\n".join(SCAN_LITERALS) + b"\nnothing here\n"
    fallback = scan._ReSearcher(SCAN_LITERALS)
    automaton = _lines_hit(scan.SEARCHER, data)
    assert automaton == _lines_hit(fallback, data)
    assert len(automaton) > 500
    alone = text.count(b"\n") + 1
    assert set(range(alone, alone + len(SCAN_LITERALS))) <= automaton


def test_the_scan_processes_start_before_the_rules_are_compiled() -> None:
    """What a large file's scan imports before it forks (the plain CLI path, the sources, the
    scan) leaves out the rules and `dataclasses`: those load in the parent while the processes
    scan, not before they start."""
    code = (
        "import sys\n"
        "import linkctl.cli.entry, linkctl.cli.logs_plain, linkctl.logs.sources, linkctl.logs.ranges\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('linkctl.logs') or m == 'dataclasses')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    loaded = set(done.stdout.split())
    assert {"linkctl.logs.literals", "linkctl.logs.scan", "linkctl.logs.ranges"} <= loaded
    assert not loaded & {"dataclasses", "linkctl.logs.patterns", "linkctl.logs.recognise", "linkctl.logs.lines"}


def test_the_search_order_is_the_literals_within_the_simd_searchers_limits() -> None:
    """SEARCH_ORDER is SCAN_LITERALS reordered (bench/literal_order.py tunes it): a literal added to
    one and not the other fails here. Past 64 literals ahocorasick_rs drops its SIMD searcher
    (Teddy), and a literal under 4 bytes narrows its fingerprint: both would slow every scan."""
    from linkctl.logs.literals import SEARCH_ORDER

    assert sorted(SEARCH_ORDER) == sorted(SCAN_LITERALS)
    assert len(set(SEARCH_ORDER)) == len(SEARCH_ORDER) <= 64
    assert min(len(literal) for literal in SEARCH_ORDER) >= 4

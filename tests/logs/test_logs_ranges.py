"""A large file scanned in ranges by processes gives exactly the events of one stream: same
events, same order, same bytes of JSONL, whatever the cuts; memory stays bounded; a file cut
short meanwhile ends the scan, a worker lost otherwise is an error; no worker outlives the reader."""

from __future__ import annotations

import gc
import gzip
import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from logs_helpers import LINKCTL

from linkctl.errors import LinkctlError
from linkctl.logs import ranges, scan, sources
from linkctl.logs.scan import MAX_CARRY

CORPUS = Path(__file__).parent / "corpus" / "drivers.yaml"
NOISE = [
    b"sshd[411]: Accepted publickey for deploy from 10.0.0.1 port 2222 ssh2",
    b"CRON[77]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
    b"kernel: [ 5.0] EXT4-fs (dm-0): mounted filesystem with ordered data mode.",
    b"nginx[9]: GET /Link is/not/a/kernel/line HTTP/1.1",  # a literal, no event
    b"",
]


def _corpus_messages() -> list[bytes]:
    cases = yaml.safe_load(CORPUS.read_text())
    return [case["line"].encode() for case in cases]


def _log(rnd: random.Random, lines: int, messages: list[bytes]) -> bytes:
    """Syslog lines: the corpus's kernel messages among noise, with lines longer than a range,
    CRLF endings and no final newline."""
    out = []
    for n in range(lines):
        stamp = b"Mar 30 06:%02d:%02d aurora " % (n // 60 % 60, n % 60)
        kind = rnd.random()
        if kind < 0.3:
            out.append(stamp + b"kernel: [%d.5] " % n + rnd.choice(messages) + b"\n")
        elif kind < 0.32:
            out.append(stamp + b"x" * rnd.randrange(3000, 9000) + b" eth0: Link is Down\r\n")
        else:
            out.append(stamp + rnd.choice(NOISE) + b"\n")
    return b"".join(out).rstrip(b"\n")


def _jsonl(paths: list[Path]) -> list[str]:
    return [json.dumps(e.to_json(), ensure_ascii=False) for e in sources.read_files([str(p) for p in paths], 2024)]


@pytest.fixture
def small_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file scanned in ranges of about 5 KB, searched in blocks of a page: most lines and
    some literals straddle a border; a range's candidates sent in parts of a few lines; two
    processes whatever the cores here."""
    monkeypatch.setattr(ranges, "PARALLEL_FROM", 1)
    monkeypatch.setattr(ranges, "RANGE", 5000)
    monkeypatch.setattr(ranges, "PART", 300)
    monkeypatch.setattr(ranges, "BLOCK", 4096)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1})


def _streamed(monkeypatch: pytest.MonkeyPatch, paths: list[Path]) -> list[str]:
    with monkeypatch.context() as mp:
        mp.setattr(ranges, "PARALLEL_FROM", 1 << 62)
        return _jsonl(paths)


def test_ranges_give_the_jsonl_of_one_stream_on_a_rotated_set(
    tmp_path: Path, small_ranges: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    rnd = random.Random(19)
    messages = _corpus_messages()
    paths = [tmp_path / "kern.log", tmp_path / "kern.log.1", tmp_path / "kern.log.2.gz"]
    paths[0].write_bytes(_log(rnd, 3000, messages))
    paths[1].write_bytes(_log(rnd, 2000, messages))
    paths[2].write_bytes(gzip.compress(_log(rnd, 1000, messages)))
    parallel = _jsonl(paths)
    assert parallel == _streamed(monkeypatch, paths)
    # Oldest first (the .gz, read as a stream), each file's lines in order.
    files = [json.loads(line)["file"] for line in parallel]
    assert files == sorted(files, key=[str(p) for p in reversed(paths)].index)
    assert len(parallel) > 1500


def test_candidates_match_one_stream_for_any_number_of_processes(tmp_path: Path, small_ranges: None) -> None:
    rnd = random.Random(5)
    path = tmp_path / "kern.log"
    path.write_bytes(_log(rnd, 1500, _corpus_messages()))
    with path.open("rb") as stream:
        one = [(c.line, c.text) for c in scan.candidates(stream)]
    for processes in (1, 2, 3, 7):
        assert [(c.line, c.text) for c in ranges.file_candidates(str(path), processes)] == one, processes


def test_a_literal_cut_by_a_block_border_is_found(tmp_path: Path, small_ranges: None) -> None:
    line = b"Mar 30 06:32:45 h kernel: [ 10.0] e1000e 0000:00:19.0 eth0: NIC Link is Down\n"
    at = line.index(b"Link is") + 2  # the block border falls inside "Link is"
    path = tmp_path / "kern.log"
    path.write_bytes(b"a" * (4096 - at - 1) + b"\n" + line * 3)
    found = list(ranges.file_candidates(str(path), 2))
    assert [c.line for c in found] == [2, 3, 4]


def test_a_line_longer_than_the_carry_limit_is_counted_never_given(tmp_path: Path, small_ranges: None) -> None:
    down = b"Mar 30 06:32:45 h kernel: [ 10.0] e1000e: eth0 NIC Link is Down\n"
    path = tmp_path / "kern.log"
    path.write_bytes(down + b"Link is Up " + b"x" * MAX_CARRY + b"\n" + down)
    assert [c.line for c in ranges.file_candidates(str(path), 2)] == [1, 3]


def test_workers_run_ahead_of_the_reader_by_a_pipe_of_results_at_most(tmp_path: Path, small_ranges: None) -> None:
    # Every line a candidate: workers let run would hold the whole file's lines in memory.
    path = tmp_path / "dense.log"
    path.write_bytes(b"eth0: Link is Down\n" * 500_000)  # results of 12 MB or so in all
    before = _children()
    found = ranges.file_candidates(str(path), 2)
    next(found)
    workers = _children() - before
    time.sleep(0.5)  # time enough for the workers to run to the end, were they let
    sent = sum(_written(pid) for pid in workers)
    assert 0 < sent < 1 << 20  # a pipe's worth each (64 KiB) and the range each is sending
    found.close()


def _written(pid: int) -> int:
    """Bytes a process has written (to its results pipe)."""
    fields = dict(line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines())
    return int(fields["wchar"])


def _children() -> set[int]:
    """This process's children, from /proc."""
    mine = str(os.getpid())
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if stat.rsplit(")", 1)[1].split()[1] == mine:
                found.add(int(entry))
    return found


def _big(tmp_path: Path) -> Path:
    """Every line an event: the workers fill their results pipes and wait for the reader, far
    from the end of the file."""
    down = b"Mar 30 06:32:45 h kernel: [ 10.0] e1000e 0000:00:19.0 eth0: NIC Link is Down\n"
    path = tmp_path / "kern.log"
    path.write_bytes(down * 20_000)  # 1.6 MB, 320 ranges
    return path


def test_a_reader_that_stops_early_leaves_no_worker(tmp_path: Path, small_ranges: None) -> None:
    path = _big(tmp_path)
    before = _children()
    found = ranges.file_candidates(str(path), 2)
    next(found)
    assert len(_children() - before) == 2
    found.close()
    assert _children() == before
    events = sources.read_file(str(path), 2024)
    next(events)
    events.close()  # as when `| head` leaves
    assert _children() == before
    ranges.file_candidates(str(path), 2)  # never read, then collected
    gc.collect()
    assert _children() == before


def test_a_file_cut_short_while_scanned_gives_what_was_read(tmp_path: Path, small_ranges: None) -> None:
    path = _big(tmp_path)
    before = _children()
    events = sources.read_file(str(path), 2024)
    first = next(events)
    os.truncate(path, 0)  # copytruncate: the workers' mapping now ends at the first byte
    lines = [first.line] + [e.line for e in events]
    assert lines == list(range(1, len(lines) + 1))
    assert len(lines) < 20_000
    assert _children() == before


def test_a_file_rotated_away_while_scanned_is_read_to_its_end(tmp_path: Path, small_ranges: None) -> None:
    path = _big(tmp_path)
    events = sources.read_file(str(path), 2024)
    next(events)
    os.rename(path, tmp_path / "kern.log.1")
    path.write_bytes(b"")
    assert len(list(events)) == 19_999


def test_a_worker_lost_otherwise_is_an_error_naming_the_file(tmp_path: Path, small_ranges: None) -> None:
    path = _big(tmp_path)
    before = _children()
    found = ranges.file_candidates(str(path), 2)
    next(found)
    time.sleep(0.2)  # the workers' pipes full: each is in the middle of a range
    os.kill(min(_children() - before), signal.SIGKILL)
    with pytest.raises(LinkctlError, match=rf"{path}: the scan of bytes \d+-\d+ failed.*killed by signal 9"):
        list(found)
    assert _children() == before


def _without_file(lines: str) -> list[dict[str, object]]:
    return [{**json.loads(line), "file": None} for line in lines.splitlines()]


def test_the_plain_command_on_a_large_file_prints_what_the_stream_reader_prints(tmp_path: Path) -> None:
    down = b"Mar 30 06:32:45 aurora kernel: [566322.867110] e1000e: eth0 NIC Link is Down\n"
    noise = b"Mar 30 06:32:45 aurora sshd[123]: Accepted publickey for deploy from 10.0.0.1 port 2222 ssh2\n"
    path = tmp_path / "kern.log"
    block = noise * 4999 + down
    count = ranges.PARALLEL_FROM // len(block) + 3
    with path.open("wb") as out:
        for _ in range(count):
            out.write(block)
    argv = [LINKCTL, "logs", "parse", "--format", "jsonl"]
    ranged = subprocess.run([*argv, str(path)], capture_output=True, text=True, timeout=120, check=True)
    with path.open("rb") as stdin:  # stdin: the typer command, and the stream reader
        streamed = subprocess.run([*argv, "-"], stdin=stdin, capture_output=True, timeout=120, check=True)
    assert ranged.stderr == streamed.stderr.decode() == ""
    assert [json.loads(line)["line"] for line in ranged.stdout.splitlines()] == [5000 * n for n in range(1, count + 1)]
    assert _without_file(ranged.stdout) == _without_file(streamed.stdout.decode())

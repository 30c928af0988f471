"""Bad input never crashes the reader nor loses the events around it."""

from __future__ import annotations

import gzip
import os
import threading
from pathlib import Path

import pytest

from linkctl.logs import ranges, scan
from linkctl.logs.sources import read_file, read_files

DOWN = b"Mar 30 06:32:45 h kernel: [ 10.0] e1000e 0000:00:19.0 eth0: NIC Link is Down\n"
UP = (
    b"Mar 30 06:32:47 h kernel: [ 12.0] e1000e 0000:00:19.0 eth0: NIC Link is Up 1000 Mbps"
    b" Full Duplex, Flow Control: Rx/Tx\n"
)


def _events(path: Path) -> list[tuple[int | None, str]]:
    return [(e.line, e.event.value) for e in read_file(str(path), 2024)]


def test_junk_between_events(tmp_path: Path) -> None:
    junk = [
        b"\x00\x01\x02binary\xff\xfe garbage Link is \x00\n",  # binary with a literal
        b"Mar 30 06:32:46 h kernel: [ 11.0] e1000e 0000:00:19.0 eth0: NIC Link is Up \xff\xfe"
        b" Mbps \xc3\x28 Duplex\n",  # invalid UTF-8
        b"\x1b[31mMar 30 06:32:46 h kernel: \x1b[0m[ 11.1] r8152 2-1:1.0 eth1: carrier off\n",
        b"Mar 30 06:32:46 h kernel: [ 11.2] e1000e: eth0 NIC Link is\n",  # truncated
        b"Mar 30 06:32:46 h kernel: [ 11.3] NETDEV WATCHDOG: (: transmit queue x\n",
        b'{"MESSAGE": [1, 2, "x"], "_TRANSPORT": "kernel", "k": "Link is Down"}\n',
        b"{not json Link is Down\n",
        b"Feb 30 25:61:61 h kernel: e1000e: eth0 NIC Link is Down\n",  # impossible date
        b"2024-13-45T99:99:99Z h kernel: eth0: Link is Down\n",
        b"[99999999999999999999.9] eth0: Link is Down\n",
    ]
    path = tmp_path / "junk.log"
    path.write_bytes(DOWN + b"".join(junk) + UP)
    events = _events(path)
    assert events[0] == (1, "link_down")
    assert events[-1] == (len(junk) + 2, "link_up")
    lines = {line for line, _ in events}
    assert 4 in lines  # the coloured r8152 line is still read


def test_one_megabyte_line_keeps_neighbours_and_numbering(tmp_path: Path) -> None:
    big = b"Mar 30 06:32:46 h kernel: " + b"Link is Down " * ((1 << 20) // 13 + 1) + b"\n"
    assert len(big) > 1_000_000
    path = tmp_path / "big.log"
    path.write_bytes(DOWN + big + UP)
    assert _events(path)[0] == (1, "link_down")
    assert _events(path)[-1] == (3, "link_up")


def test_line_longer_than_the_carry_limit(tmp_path: Path, monkeypatch: object) -> None:
    import pytest

    mp = pytest.MonkeyPatch()
    mp.setattr(scan, "MAX_CARRY", 3 << 20)
    try:
        path = tmp_path / "huge.log"
        with path.open("wb") as out:
            out.write(DOWN)
            out.write(b"x" * (10 << 20) + b" Link is Down\n")
            out.write(UP)
        assert _events(path) == [(1, "link_down"), (3, "link_up")]
    finally:
        mp.undo()


def test_file_without_final_newline_and_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "nonl.log"
    path.write_bytes(DOWN + UP.rstrip(b"\n"))
    assert _events(path) == [(1, "link_down"), (2, "link_up")]
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    assert _events(empty) == []


def test_crlf_lines(tmp_path: Path) -> None:
    path = tmp_path / "crlf.log"
    path.write_bytes(DOWN.replace(b"\n", b"\r\n") + UP.replace(b"\n", b"\r\n"))
    assert [e for _, e in _events(path)] == ["link_down", "link_up"]


def test_truncated_gzip_gives_what_it_has(tmp_path: Path, capsys: object) -> None:
    import random

    rnd = random.Random(3)
    noise = b"".join(
        b"Mar 30 06:32:46 h sshd[%d]: %x\n" % (rnd.randrange(9999), rnd.getrandbits(64)) for _ in range(40000)
    )
    path = tmp_path / "kern.log.1.gz"
    data = gzip.compress(DOWN + noise + UP)
    path.write_bytes(data[: len(data) // 2])
    got = [e.event.value for e in read_file(str(path))]
    assert got == ["link_down"]


def test_a_plain_log_under_a_gz_name_is_read_and_said_so(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    # kern.log.2.gz that is plain text (a copy renamed, a compressor that never ran): nothing of
    # it was read, said as "compressed data ends early (Not a gzipped file)".
    path = tmp_path / "kern.log.2.gz"
    path.write_bytes(DOWN + UP)
    assert _events(path) == [(1, "link_down"), (2, "link_up")]
    assert capfd.readouterr().err == f"linkctl: warning: {path}: not gzip-compressed, read as plain text\n"
    gz = tmp_path / "kern.log.3.gz"
    gz.write_bytes(gzip.compress(DOWN))
    assert _events(gz) == [(1, "link_down")] and capfd.readouterr().err == ""


def test_many_blocks_line_numbers_match_a_plain_reading(tmp_path: Path) -> None:
    noise = b"Mar 30 06:32:46 h sshd[1]: Accepted publickey for deploy from 10.0.0.1\n"
    chunks = []
    expected = []
    line = 0
    for i in range(3000):
        chunks.append(noise * 97)
        line += 97
        chunks.append(DOWN if i % 2 else UP)
        line += 1
        expected.append(line)
    path = tmp_path / "many.log"
    path.write_bytes(b"".join(chunks))
    assert path.stat().st_size > 4 * scan.BLOCK
    assert [n for n, _ in _events(path)] == expected


def test_file_rotated_while_being_read(tmp_path: Path) -> None:
    path = tmp_path / "kern.log"
    noise = b"Mar 30 06:32:46 h sshd[1]: session opened for user deploy by (uid=0)\n" * 20000
    with path.open("wb") as out:
        for _ in range(8):
            out.write(DOWN + noise + UP)
    reader = read_file(str(path), 2024)
    first = next(reader)
    # logrotate: rename the file away and start a new one, while we are mid-file.
    os.rename(path, tmp_path / "kern.log.1")
    path.write_bytes(DOWN)
    rest = list(reader)
    assert first.event.value == "link_down"
    assert len(rest) == 15  # all the other events of the file that was opened


def test_file_truncated_while_being_read(tmp_path: Path) -> None:
    path = tmp_path / "kern.log"
    noise = b"Mar 30 06:32:46 h sshd[1]: session opened for user deploy by (uid=0)\n" * 20000
    path.write_bytes((DOWN + noise + UP) * 8)
    reader = read_file(str(path), 2024)
    next(reader)
    os.truncate(path, 0)  # copytruncate
    rest = list(reader)  # no crash; what was already read stays
    assert all(e.event.value in ("link_down", "link_up") for e in rest)


def test_stdin_is_read(tmp_path: Path) -> None:
    r, w = os.pipe()

    def feed() -> None:
        with os.fdopen(w, "wb") as out:
            out.write(DOWN + UP)

    thread = threading.Thread(target=feed)
    thread.start()
    saved = os.dup(0)
    os.dup2(r, 0)
    try:
        events = list(read_files(["-"], 2024))
    finally:
        os.dup2(saved, 0)
        os.close(r)
        thread.join()
    assert [(e.file, e.line) for e in events] == [("-", 1), ("-", 2)]


def test_parallel_ranges_give_the_same_events_as_one_stream(tmp_path: Path) -> None:
    import pytest

    noise = b"Mar 30 06:32:46 h sshd[1]: Accepted publickey for deploy from 10.0.0.1\n"
    path = tmp_path / "ranges.log"
    with path.open("wb") as out:
        for i in range(500):
            out.write(noise * (i % 37) + (DOWN if i % 2 else UP))
    one = [(c.line, c.text) for c in scan.candidates(path.open("rb"))]
    for processes in (2, 3, 7):
        many = [(c.line, c.text) for c in ranges.file_candidates(str(path), processes)]
        assert many == one
    mp = pytest.MonkeyPatch()
    mp.setattr(ranges, "PARALLEL_FROM", 1)
    try:
        assert [(e.line, e.event.value) for e in read_file(str(path), 2024)] == [
            (n, ("link_down" if b"Down" in t else "link_up")) for n, t in one
        ]
    finally:
        mp.undo()

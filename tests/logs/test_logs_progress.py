"""`logs parse|analyze`: a progress bar on stderr when it is a terminal (a real pseudo-terminal
here), none under CI=true, with -q, or when stderr is a pipe; and the bar's own arithmetic."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from logs_helpers import LINKCTL

from linkctl.logs import ranges
from linkctl.logs.progress import Progress

EVENT = b"Mar 30 06:32:45 aurora kernel: [566322.867110] e1000e: eth0 NIC Link is Down\n"
NOISE = b"Mar 30 06:32:45 aurora sshd[123]: Accepted publickey for deploy from 10.0.0.1 port 2222 ssh2\n"


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A log past PARALLEL_FROM, so that the scan runs in ranges (one event per 1000 lines)."""
    path = tmp_path_factory.mktemp("progress") / "kern.log"
    block = NOISE * 999 + EVENT
    with path.open("wb") as out:
        for _ in range(ranges.PARALLEL_FROM // len(block) + 10):
            out.write(block)
    return path


def _run_on_terminal(args: list[str], env: dict[str, str], stdout: Path) -> tuple[int, bytes]:
    """Run linkctl with stderr on a pseudo-terminal, stdout into a file: its exit code and
    everything it drew on the terminal."""
    master, slave = os.openpty()
    with stdout.open("wb") as out:
        child = subprocess.Popen([LINKCTL, *args], stdout=out, stderr=slave, stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    drawn = b""
    while True:
        try:
            piece = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not piece:
            break
        drawn += piece
    os.close(master)
    return child.wait(timeout=120), drawn


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    return {**env, **extra}


def test_parse_draws_a_bar_on_a_terminal_and_erases_it(big_log: Path, tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    code, drawn = _run_on_terminal(["logs", "parse", str(big_log)], _env(), out)
    assert code == 0, drawn
    text = drawn.decode()
    assert "reading kern.log" in text and re.search(r"\] +\d+ %  \d+ (?:KiB|MiB) of 6\d MiB", text), text
    assert text.endswith("\r\x1b[K")  # erased: the terminal's line is clean afterwards
    assert len(out.read_bytes().splitlines()) == big_log.stat().st_size // (len(NOISE) * 999 + len(EVENT))


@pytest.mark.parametrize(
    ("args", "env"),
    [(["-q"], {}), (["--quiet"], {}), ([], {"CI": "true"})],
    ids=["-q", "--quiet", "CI=true"],
)
def test_no_bar_when_quiet_or_under_ci(big_log: Path, tmp_path: Path, args: list[str], env: dict[str, str]) -> None:
    code, drawn = _run_on_terminal(["logs", "parse", *args, str(big_log)], _env(**env), tmp_path / "events.jsonl")
    assert code == 0, drawn
    assert drawn == b""


def test_no_bar_when_stderr_is_a_pipe(big_log: Path) -> None:
    done = subprocess.run([LINKCTL, "logs", "parse", str(big_log)], capture_output=True, env=_env(), timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""


def test_analyze_draws_the_bar_and_quiet_drops_the_note_too(big_log: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    code, drawn = _run_on_terminal(
        ["logs", "analyze", "-f", "json", "-o", str(report), str(big_log)], _env(), tmp_path / "out"
    )
    assert code == 0, drawn
    assert b"reading kern.log" in drawn and drawn.endswith(b"\r\x1b[K" + b"wrote " + str(report).encode() + b"\r\n")
    code, drawn = _run_on_terminal(
        ["logs", "analyze", "-q", "-f", "json", "-o", str(report), str(big_log)], _env(), tmp_path / "out"
    )
    assert code == 0, drawn
    assert drawn == b""
    assert report.read_text().startswith("{")


def test_bar_counts_to_the_total_and_redraws_at_most_ten_times_a_second() -> None:
    now = [100.0]
    written: list[str] = []
    bar = Progress(1000, written.append, clock=lambda: now[0])
    bar.reading("kern.log")
    for _ in range(9):  # nine reads within the tenth of a second after the name was drawn
        bar.advance(50)
    assert len(written) == 1
    now[0] += 0.25
    bar.advance(550)
    assert written[-1].endswith("[########################] 100 %  1 KiB of 1 KiB  0.2 s")
    bar.close()
    assert written[-1] == "\r\x1b[K"


def test_bar_without_a_total_counts_bytes() -> None:
    written: list[str] = []
    bar = Progress(None, written.append, clock=lambda: 5.0)
    bar.reading("-")
    bar.advance(3 << 20)
    assert bar.line() == "reading -  3 MiB  0.0 s"

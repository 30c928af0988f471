"""A command that only prints, whose standard output fails: a reader that left (`| head`) ends it
quietly with 0, as `ip link | head`; a full disk or a closed descriptor is said in one line on
stderr with 1. Never "internal error", never a traceback."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import LINKCTL

# Output longer than a pipe's buffer, so that the writer meets the reader's leaving.
LONG = ["completion", "bash"]


def _env(tmp_path: Path) -> dict[str, str]:
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    return {**os.environ, "LINKCTL_RUNTIME_DIR": str(runtime)}


def _log(tmp_path: Path) -> str:
    log = tmp_path / "kern.log"
    log.write_text("[1.0] e1000e: eth0 NIC Link is Down\n" * 20000)
    return str(log)


# logs parse: the plain form run without typer (cli/logs_plain.py) and the table typer prints.
LOG_FORMS = [["logs", "parse", "LOG", "--format", "jsonl"], ["logs", "parse", "LOG"]]


@pytest.mark.parametrize("args", [LONG, *LOG_FORMS])
def test_a_reader_that_leaves_ends_the_command_quietly(tmp_path: Path, args: list[str]) -> None:
    args = [_log(tmp_path) if a == "LOG" else a for a in args]
    proc = subprocess.Popen([*LINKCTL, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(tmp_path))
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # as `head -1` does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert err == ""


@pytest.mark.parametrize("args", [LONG, ["--help"], ["show"], *LOG_FORMS])
def test_a_full_disk_under_standard_output_is_said_in_one_line(tmp_path: Path, args: list[str]) -> None:
    args = [_log(tmp_path) if a == "LOG" else a for a in args]
    with open("/dev/full", "w") as full:
        done = subprocess.run([*LINKCTL, *args], stdout=full, stderr=subprocess.PIPE, text=True, env=_env(tmp_path))
    assert done.returncode == 1
    assert done.stderr == "linkctl: cannot write to standard output: No space left on device\n"


def test_a_closed_standard_output_is_said_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [*LINKCTL, "show"], stderr=subprocess.PIPE, text=True, env=_env(tmp_path), preexec_fn=lambda: os.close(1)
    )
    assert done.returncode == 1
    assert done.stderr == "linkctl: cannot write to standard output: it is closed\n"

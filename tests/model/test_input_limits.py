"""Bad input is refused in bounded time and memory, with a short message, before anything changes.

Each case runs the real `linkctl` on a real file, FIFO or device, in a child
held to RLIMIT_AS and RLIMIT_CPU: an unbounded read or an alias expanded in full
dies of MemoryError or SIGXCPU instead of passing, and a read that waits for
ever is ended by the subprocess timeout.
"""

from __future__ import annotations

import os
import resource
import subprocess
from pathlib import Path

import pytest

from linkctl.errors import quoted
from linkctl.model import source
from tests.conftest import LINKCTL

MEMORY = 1024**3  # address space: python, pydantic and a 4 MiB file fit well within it
CPU_SECONDS = 60
WAIT = 120  # a read that blocks uses no CPU: only this ends it


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))


def linkctl(*args: str, stdin: int | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LINKCTL, *args],
        stdin=stdin if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=WAIT,
        preexec_fn=_limits,
        check=False,
    )


def refused(res: subprocess.CompletedProcess[str], *words: str, longest: int = 400) -> None:
    """Exit 1, "nothing was changed", every word said, and no line longer than `longest`."""
    assert res.returncode == 1, res.stderr[-2000:]
    assert "nothing was changed" in res.stderr, res.stderr[-2000:]
    for word in words:
        assert word in res.stderr, res.stderr[-2000:]
    assert max(len(line) for line in res.stderr.splitlines()) <= longest, res.stderr[:2000]
    assert "internal error" not in res.stderr


def bomb(levels: int) -> str:
    """Nine lists of nine aliases of ... `levels` deep, used as an interface's name."""
    text = "interfaces:\n- name: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n  type: veth\n"
    text += "  veth: {peer: p0}\n"
    for i in range(1, levels):
        text += f"- name: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n  type: veth\n  veth: {{peer: p{i}}}\n"
    return text


def test_a_sane_file_runs_within_the_test_s_limits(tmp_path: Path) -> None:
    # The limits must not fail linkctl itself: the refusals below are linkctl's, not the limits'.
    path = tmp_path / "ok.yml"
    path.write_text("interfaces: []\n")
    res = linkctl("plan", str(path))
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize("command", ["plan", "apply"])
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_refused_before_a_byte_is_read(command: str, device: str) -> None:
    # Was: read until MemoryError at 5.4 GB.
    res = linkctl(command, device)
    refused(res, f"{device}: file: 'a character device'", "a regular file, or - to read the declaration from")


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    # Was: blocked for ever (no writer ever comes).
    fifo = tmp_path / "decl.yml"
    os.mkfifo(fifo)
    res = linkctl("apply", str(fifo))
    refused(res, "'a named pipe (FIFO)'", "linkctl apply - < FILE")


def test_a_file_past_the_size_limit_is_refused_with_the_figures(tmp_path: Path) -> None:
    # Was: a 50 MB name read, parsed and quoted whole: a 52 MB message.
    path = tmp_path / "big.yml"
    with path.open("w") as fh:
        fh.write("interfaces:\n- name: ")
        fh.write("x" * 50_000_000)
        fh.write("\n  type: dummy\n")
    res = linkctl("plan", str(path))
    refused(res, "'50,000,035 bytes'", f"at most {source.MAX_BYTES:,} bytes (4 MiB", "split the declaration")


def test_standard_input_is_read_with_the_same_bound() -> None:
    # `linkctl plan - < /dev/zero`: was a MemoryError.
    with open("/dev/zero", "rb") as zero:
        res = linkctl("plan", "-", stdin=zero.fileno())
    refused(res, "<stdin>: input: 'more than 4,194,304 bytes'", "split the declaration")


def test_a_declaration_on_standard_input_still_works(tmp_path: Path) -> None:
    path = tmp_path / "ok.yml"
    path.write_text("interfaces: []\n")
    with path.open("rb") as fh:
        res = linkctl("plan", "-", stdin=fh.fileno())
    assert res.returncode == 0, res.stderr


def test_an_alias_bomb_as_a_name_is_refused_before_it_is_built(tmp_path: Path) -> None:
    # Was: 1 min 49 s to 8.3 GB, then MemoryError (messages built str(name) of 9**9 items).
    path = tmp_path / "bomb.yml"
    path.write_text(bomb(9))
    res = linkctl("plan", str(path))
    refused(res, "YAML: 'aliases': aliases that add at most 1,000,000 items", "write the repeated parts out")


def test_a_small_bomb_within_the_limit_gets_a_short_message(tmp_path: Path) -> None:
    # Was: a level-5 bomb (59,049 items) as a name gave a 3.85 MB message.
    path = tmp_path / "bomb5.yml"
    path.write_text(bomb(5))
    res = linkctl("plan", str(path))
    refused(res, "interfaces[4]: name: [[[...]", "Input should be a valid string")
    assert len(res.stderr) < 3000


def test_a_long_name_under_the_size_limit_is_quoted_short(tmp_path: Path) -> None:
    # A 3 MB name passes the size limit: the message names the entry and quotes 80 characters of it.
    path = tmp_path / "long.yml"
    path.write_text("interfaces:\n- name: " + "x" * 3_000_000 + "\n  type: veth\n  veth: {peer: p0}\n")
    res = linkctl("plan", str(path))
    refused(res, "interface xxxx", "an interface name has 1 to 15 bytes, this one 3000000")


def test_an_unknown_key_of_a_megabyte_is_quoted_short(tmp_path: Path) -> None:
    path = tmp_path / "key.yml"
    # An explicit key (`? KEY`): YAML holds an implicit one to 1024 characters.
    path.write_text("interfaces:\n- name: v0\n  type: veth\n  veth: {peer: p0}\n  ? " + "k" * 1_000_000 + "\n  : 1\n")
    res = linkctl("plan", str(path))
    refused(res, "interface v0: kkkk", "unknown key")


def test_a_number_past_python_s_digits_is_a_refusal_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "digits.yml"
    path.write_text("interfaces:\n- name: v0\n  type: veth\n  mtu: " + "9" * 5000 + "\n  veth: {peer: p0}\n")
    res = linkctl("plan", str(path))
    refused(res, ":4:8: YAML: 'a number of 5,000 digits'")


@pytest.mark.parametrize(
    "value",
    ["x" * 50_000_000, ["a"] * 10_000_000, {f"k{i}": i for i in range(100_000)}, 7**4000, b"\0" * 10**6],
    ids=["str", "list", "dict", "int", "bytes"],
)
def test_quoted_shows_at_most_80_characters_of_any_value(value: object) -> None:
    assert len(quoted(value)) <= 80
    assert len(quoted(value, bare=True)) <= 80

"""A change whose output cannot be written (`apply FILE | head -1`, stdout on a full device) is made,
verified and kept, and exits with the change's code: no traceback, no false "internal error".

Real `linkctl` processes in a throwaway namespace; the links are read with iproute2.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.engine.faults import env, links, run
from tests.engine.kernel_helpers import write

pytestmark = pytest.mark.kernel

SCRIPT = str(Path(sys.executable).parent / "linkctl")  # the installed program, as a person runs it
# The plain form runs without typer (cli/entry.py); --wait goes through it.
FORMS = {"plain": [], "typer": ["--wait", "1"]}


def _pair(mtu: int) -> str:
    return (
        f"interfaces:\n- {{name: rv0, type: veth, state: up, mtu: {mtu}, veth: {{peer: rp0}}}}\n"
        f"- {{name: rp0, type: veth, state: up, mtu: {mtu}}}\n"
    )


def _apply_into(
    stdout: int, path: str, netns: str, runtime: Path, extra: list[str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SCRIPT, "apply", path, "-n", netns, *extra],
        stdout=stdout, stderr=subprocess.PIPE, text=True, env={**env(runtime), "LINKCTL_RECEIPTS": "off"},
        timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("form", FORMS)
def test_a_reader_gone_neither_undoes_the_change_nor_fails_it(netns: str, tmp_path: Path, form: str) -> None:
    """The pipe's reader has left before the first word: the plan (printed while the kernel works)
    and "applied and verified" both meet EPIPE. The change stays and the exit code is 0, as the README
    defines it; EPIPE is not reported (the reader left on purpose, as with `ip link | head`)."""
    runtime = tmp_path / "run"
    x, y = write(tmp_path, _pair(1500), "x.yml"), write(tmp_path, _pair(9000), "y.yml")
    assert run(["apply", x, "-n", netns], runtime).returncode == 0
    rfd, wfd = os.pipe()
    os.close(rfd)
    try:
        res = _apply_into(wfd, y, netns, runtime, FORMS[form])
    finally:
        os.close(wfd)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""  # no traceback, no "internal error", no "rolled back"
    assert links(netns)["rv0"]["mtu"] == 9000


@pytest.mark.parametrize("form", FORMS)
def test_a_full_stdout_keeps_the_change_and_says_how_it_ended_on_stderr(netns: str, tmp_path: Path, form: str) -> None:
    runtime = tmp_path / "run"
    x, y = write(tmp_path, _pair(1500), "x.yml"), write(tmp_path, _pair(9000), "y.yml")
    assert run(["apply", x, "-n", netns], runtime).returncode == 0
    with open("/dev/full", "w") as full:
        res = _apply_into(full.fileno(), y, netns, runtime, FORMS[form])
    assert res.returncode == 0, res.stderr
    assert "cannot write to stdout (No space left on device): applied and verified: 2 change(s)" in res.stderr
    assert "internal error" not in res.stderr and "Traceback" not in res.stderr, res.stderr
    assert links(netns)["rv0"]["mtu"] == 9000

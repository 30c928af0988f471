"""A full runtime directory (a small /run): refused before the change, or the change undone and said.

The runtime directory is a 64 KiB tmpfs filled with a file; real `linkctl` processes in a throwaway
namespace, read with iproute2.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine.faults import env, links, run
from tests.engine.kernel_helpers import write

pytestmark = pytest.mark.kernel

SCRIPT = str(Path(sys.executable).parent / "linkctl")  # the installed program, as a person runs it


def _pair(mtu: int) -> str:
    return (
        f"interfaces:\n- {{name: rv0, type: veth, state: up, mtu: {mtu}, veth: {{peer: rp0}}}}\n"
        f"- {{name: rp0, type: veth, state: up, mtu: {mtu}}}\n"
    )


@pytest.fixture
def tiny_runtime(tmp_path: Path) -> Iterator[Path]:
    where = tmp_path / "run"
    where.mkdir(mode=0o700)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        if subprocess.run(["umount", str(where)], check=False).returncode:
            subprocess.run(["umount", "-l", str(where)], check=False)


def _fill(where: Path, leave_pages: int) -> None:
    out = subprocess.run(["df", "-B4096", "--output=avail", str(where)], capture_output=True, text=True, check=True)
    (where / "fill").write_bytes(b"\0" * 4096 * (int(out.stdout.split()[-1]) - leave_pages))


def _left(where: Path) -> list[str]:
    return sorted(p.name for p in where.iterdir() if p.name.startswith("change.journal"))


def test_try_that_cannot_journal_its_deadline_rolls_back_at_once_and_says_so(
    netns: str, tmp_path: Path, tiny_runtime: Path
) -> None:
    """The journal fits once, not its rewrite with the deadline: with no deadline journalled
    `linkctl confirm` cannot find the trial, so `try` undoes the change there and then (not its
    guardian a minute later), checks it, and says so; no half-written file is left behind."""
    x, y = write(tmp_path, _pair(1500), "x.yml"), write(tmp_path, _pair(9000), "y.yml")
    assert run(["apply", x, "-n", netns], tiny_runtime).returncode == 0
    _fill(tiny_runtime, 1)
    res = subprocess.run(
        [SCRIPT, "try", y, "-n", netns, "--timeout", "60"],
        capture_output=True, text=True, env={**env(tiny_runtime), "LINKCTL_RECEIPTS": "off"}, timeout=120,
        stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    assert res.returncode == 1, res.stdout + res.stderr
    assert links(netns)["rv0"]["mtu"] == 1500  # undone before `try` returned, not at the deadline
    assert f"{tiny_runtime}/change.journal: No space left on device" in res.stderr, res.stderr
    assert "rolled back: 2 change(s) undone; checked" in res.stderr, res.stderr
    assert "internal error" not in res.stderr and "confirm within" not in res.stdout
    assert _left(tiny_runtime) == []  # neither the journal (rolled back) nor its temporary copy


def test_a_full_runtime_directory_leaves_no_half_written_journal(
    netns: str, tmp_path: Path, tiny_runtime: Path
) -> None:
    """Refused before the change, without the empty temporary file that kept the directory full."""
    x, y = write(tmp_path, _pair(1500), "x.yml"), write(tmp_path, _pair(9000), "y.yml")
    _fill(tiny_runtime, 0)  # before linkctl ever ran there: its lock file cannot say who holds it
    assert run(["apply", x, "-n", netns], tiny_runtime).returncode == 1
    assert "rv0" not in links(netns) and _left(tiny_runtime) == []
    (tiny_runtime / "fill").unlink()
    assert run(["apply", x, "-n", netns], tiny_runtime).returncode == 0
    _fill(tiny_runtime, 0)
    res = run(["apply", x, "-n", netns], tiny_runtime)
    assert res.returncode == 0 and "no changes" in res.stdout, res.stdout + res.stderr  # nothing to journal
    res = run(["apply", y, "-n", netns], tiny_runtime)
    assert res.returncode == 1 and "nothing was changed" in res.stderr, res.stderr
    assert links(netns)["rv0"]["mtu"] == 1500 and _left(tiny_runtime) == []

"""The runtime directory holds the change lock, the journal and receipts: only its owner may touch it.

Real files, real symlinks, a real unprivileged user (nobody, through setpriv): each case is refused
with its reason before anything is read, or the planted file is left alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.engine.faults import run

pytestmark = pytest.mark.kernel

DECL = "interfaces: [{name: lo, state: up}]\n"


@pytest.fixture
def decl(tmp_path: Path) -> Path:
    path = tmp_path / "d.yml"
    path.write_text(DECL)
    return path


def test_an_unusable_runtime_directory_refuses_the_change_before_reading(decl: Path, tmp_path: Path) -> None:
    missing_parent = tmp_path / "no" / "such" / "dir"
    res = run(["apply", str(decl)], missing_parent)
    assert res.returncode == 1
    assert f"cannot create the runtime directory {missing_parent}" in res.stderr
    assert "nothing was read or changed" in res.stderr


def test_a_directory_open_to_others_is_refused_with_the_fix(decl: Path, tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o755)
    runtime.chmod(0o755)
    res = run(["apply", str(decl)], runtime)
    assert res.returncode == 1
    assert f"is mode 0755: other users could hold or replace linkctl's lock and journal; `chmod 700 {runtime}`" in (
        res.stderr
    )
    assert not (runtime / "changes.lock").exists()


def test_a_directory_of_another_user_is_refused(decl: Path, tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    os.chown(runtime, 65534, 65534)
    res = run(["apply", str(decl)], runtime)
    assert res.returncode == 1 and "belongs to uid 65534, not to uid 0" in res.stderr


def test_a_symlinked_runtime_directory_is_refused(decl: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    runtime = tmp_path / "run"
    runtime.symlink_to(elsewhere)
    res = run(["apply", str(decl)], runtime)
    assert res.returncode == 1 and "is a symbolic link" in res.stderr
    assert list(elsewhere.iterdir()) == []


def test_a_symlinked_lock_does_not_make_root_truncate_its_target(decl: Path, tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    victim = tmp_path / "precious"
    victim.write_text("keep me\n")
    (runtime / "changes.lock").symlink_to(victim)
    res = run(["apply", str(decl)], runtime)
    assert res.returncode == 1 and "cannot open the change lock" in res.stderr
    assert victim.read_text() == "keep me\n"


def test_a_symlinked_receipts_directory_is_never_written_or_pruned(decl: Path, tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    target = tmp_path / "target"
    target.mkdir()
    files = [target / f"f{i}" for i in range(80)]  # more than the receipts kept: pruning would delete
    for f in files:
        f.write_text("x")
    (runtime / "receipts").symlink_to(target)
    for command in ("plan", "apply"):
        res = run([command, str(decl)], runtime)
        assert res.returncode == 0, res.stderr
    assert sorted(target.iterdir()) == sorted(files)


def test_the_lock_is_closed_to_other_users(decl: Path, tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    assert run(["apply", str(decl)], runtime).returncode == 0
    lock = runtime / "changes.lock"
    assert oct(lock.stat().st_mode & 0o777) == "0o600" and oct(runtime.stat().st_mode & 0o777) == "0o700"
    tmp_path.chmod(0o755)
    # nobody cannot open it to flock it, so cannot block root's changes.
    probe = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
         f"open({str(lock)!r}, 'rb')"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert probe.returncode != 0 and "Permission denied" in probe.stderr


def test_an_earlier_open_lock_is_tightened(decl: Path, tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    lock = runtime / "changes.lock"
    lock.write_text("")
    lock.chmod(0o644)  # as linkctl made it before
    assert run(["apply", str(decl)], runtime).returncode == 0
    assert oct(lock.stat().st_mode & 0o777) == "0o600"

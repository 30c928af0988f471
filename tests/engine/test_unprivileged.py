"""linkctl run by an unprivileged user: reading works, changing says what is missing, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def public_file(text: str) -> str:
    """A file an unprivileged user can read (pytest's tmp_path parents are private)."""
    import tempfile

    fd, path = tempfile.mkstemp(suffix=".yml", dir="/tmp")
    with open(fd, "w") as fh:
        fh.write(text)
    Path(path).chmod(0o644)
    return path


def test_no_traceback_without_privileges(tmp_path: Path) -> None:
    path = public_file("interfaces: [{name: zz0, type: linux-bridge}]")
    res = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m", "linkctl", "apply", path],
        capture_output=True, text=True, check=False, cwd="/",
    )  # fmt: skip
    Path(path).unlink()
    assert res.returncode == 1
    assert "Traceback" not in res.stderr and "needs CAP_NET_ADMIN" in res.stderr and "nothing was changed" in res.stderr


def test_plan_and_show_work_unprivileged(tmp_path: Path) -> None:
    path = public_file("interfaces: [{name: lo}, {name: zz1, type: linux-bridge}]")
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m", "linkctl"]
    plan = subprocess.run([*nobody, "plan", path], capture_output=True, text=True, check=False, cwd="/")
    assert plan.returncode == 2 and "create zz1" in plan.stdout, plan.stderr
    show = subprocess.run([*nobody, "show", "lo", "-f", "json"], capture_output=True, text=True, check=False, cwd="/")
    Path(path).unlink()
    assert show.returncode == 0 and json.loads(show.stdout)[0]["name"] == "lo"


def test_plan_of_a_namespace_unprivileged_says_what_is_missing(netns: str) -> None:
    path = public_file("interfaces: [{name: zz2, type: linux-bridge}]")
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m", "linkctl"]
    plan = subprocess.run([*nobody, "plan", path, "-n", netns], capture_output=True, text=True, check=False, cwd="/")
    Path(path).unlink()
    assert plan.returncode == 1 and "Traceback" not in plan.stderr
    assert f"cannot enter network namespace {netns!r}" in plan.stderr and "CAP_SYS_ADMIN" in plan.stderr

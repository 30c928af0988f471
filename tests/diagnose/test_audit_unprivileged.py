"""`linkctl audit` by an unprivileged user: it audits what it can read and names what it could not."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import LINKCTL

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def _audit_as_nobody(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [*NOBODY, *LINKCTL, "audit", "--interval", "0", *args],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip


@pytest.fixture
def can_drop() -> None:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run as nobody")


@pytest.mark.usefixtures("can_drop")
def test_audit_reads_the_host_and_names_the_namespace_it_cannot_enter(netns: str) -> None:
    text = _audit_as_nobody()
    as_json = _audit_as_nobody("--format", "json")
    for res in (text, as_json):
        assert "internal error" not in res.stderr and "Traceback" not in res.stderr
        assert f"not read: netns {netns}: " in res.stderr and "CAP_SYS_ADMIN" in res.stderr, res.stderr
        assert res.returncode >= 1  # not read is not clean
    assert "namespace(s) not read" in text.stdout and " link(s)" in text.stdout
    assert isinstance(json.loads(as_json.stdout), list)


@pytest.mark.usefixtures("can_drop")
def test_audit_of_only_a_namespace_it_cannot_enter_says_why(netns: str) -> None:
    res = _audit_as_nobody("--netns", netns)
    assert res.returncode != 0 and "CAP_SYS_ADMIN" in res.stderr and netns in res.stderr, res.stderr

"""`linkctl watch --netns X` run by a user who may not enter X: it says why, instead of waiting."""

from __future__ import annotations

import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import pytest

from tests.watch.test_daemon import DEADLINE, LINKCTL, namespace

pytestmark = pytest.mark.kernel
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.fixture
def open_dir() -> Iterator[str]:
    """A directory the unprivileged user may write its store to."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run as nobody")
    path = tempfile.mkdtemp(prefix="lkt-nobody-")
    os.chmod(path, 0o777)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


def test_a_namespace_that_cannot_be_entered_is_an_error_with_the_reason(open_dir: str) -> None:
    with namespace() as ns:
        args = ["watch", "--netns", ns, "--store", f"sqlite://{open_dir}/events.db", "--listen", ""]
        try:
            res = subprocess.run(
                [*NOBODY, *LINKCTL, *args], capture_output=True, text=True, timeout=DEADLINE, env=_env(), check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"still running, its words: {exc.stdout!r}") from None
    assert res.returncode != 0
    assert f"cannot watch namespace {ns!r}" in res.stderr and "CAP_SYS_ADMIN" in res.stderr, res.stderr
    assert "to appear" not in res.stdout


def test_the_namespaces_it_can_watch_are_watched_and_the_others_named(open_dir: str) -> None:
    with namespace() as ns:
        args = ["watch", "--netns", "", "--netns", ns, "--store", f"sqlite://{open_dir}/events.db", "--listen", ""]
        proc = subprocess.Popen([*NOBODY, *LINKCTL, *args], stdout=subprocess.PIPE, env=_env())
        assert proc.stdout is not None
        try:
            line = _line_with(proc, " watching ")
        finally:
            proc.terminate()
            proc.wait(timeout=DEADLINE)
    assert "watching the host namespace" in line
    assert f"cannot watch namespace {ns!r}" in line and "CAP_SYS_ADMIN" in line
    assert "waiting for" not in line


def _line_with(proc: subprocess.Popen[bytes], text: str) -> str:
    """The first line of the process's output that holds `text`. The pipe's descriptor is read as
    such: a buffered readline() after select() can leave a second line in Python's buffer, where
    select() never sees it (two lines written at once: the test then waited out its deadline)."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    got = b""
    end = time.monotonic() + DEADLINE
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while True:
            for line in got.decode(errors="replace").splitlines():
                if text in line:
                    return line
            assert time.monotonic() < end and proc.poll() is None, f"no start line; got {got!r}"
            if sel.select(timeout=1.0):
                chunk = os.read(fd, 65536)
                assert chunk, f"output ended without it; got {got!r}"
                got += chunk

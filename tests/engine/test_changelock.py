"""The change lock: one linkctl changes links at a time, the second says who holds it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from linkctl.engine.changelock import ChangeInProgress, changing_links
from linkctl.engine.runtime import RuntimeDirUnsafe


def test_a_second_change_is_refused_naming_the_holder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINKCTL_RUNTIME_DIR", str(tmp_path))
    # flock(2) locks belong to the open file: a second open, even in this process, is refused.
    with changing_links("apply"), pytest.raises(ChangeInProgress) as refused, changing_links("boot-apply"):
        pytest.fail("the block must not run while the lock is held")
    assert str(refused.value) == (
        f"`linkctl apply` (pid {os.getpid()}) is changing links: nothing was read or changed; "
        "wait for it to finish, then run this again (or give --wait SECONDS to wait for it)"
    )
    with changing_links("try"):  # released with the block
        pass


def test_without_a_runtime_directory_no_change_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    # Unlocked, two changes at once each planned from the other's half-made state (both said
    # ROLLBACK FAILED, leaving 0 or 2 of 600 links): a change is refused instead.
    monkeypatch.delenv("LINKCTL_RUNTIME_DIR", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    ran = []
    with pytest.raises(RuntimeDirUnsafe, match=r"no runtime directory.*LINKCTL_RUNTIME_DIR.*nothing was read"):  # noqa: SIM117
        with changing_links("apply"):
            ran.append(True)
    assert ran == []


def test_wait_takes_the_lock_when_the_holder_ends_and_says_how_long_it_waited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess
    import sys

    monkeypatch.setenv("LINKCTL_RUNTIME_DIR", str(tmp_path))
    holder = (
        "import sys, time; from linkctl.engine.changelock import changing_links\n"
        "with changing_links('apply'):\n    print('held', flush=True); time.sleep(float(sys.argv[1]))\n"
    )

    def hold(seconds: float) -> subprocess.Popen[str]:
        proc = subprocess.Popen([sys.executable, "-c", holder, str(seconds)], stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline() == "held\n"
        return proc

    proc = hold(30)
    try:
        with pytest.raises(ChangeInProgress) as refused, changing_links("apply", wait=0.3):
            pytest.fail("the block must not run while the lock is held")
        assert f"(pid {proc.pid}) is still changing links after 0.3 s" in str(refused.value)
    finally:
        proc.kill()
        proc.wait()
    proc = hold(0.5)  # held when the wait begins, ends by itself: the waiting change goes ahead then
    ran = []
    with changing_links("apply", wait=20):
        ran.append(True)
    assert proc.wait(timeout=20) == 0 and ran == [True]

"""The change lock: one linkctl changes links at a time, the second says who holds it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from linkctl.engine.changelock import ChangeInProgress, changing_links


def test_a_second_change_is_refused_naming_the_holder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINKCTL_RUNTIME_DIR", str(tmp_path))
    # flock(2) locks belong to the open file: a second open, even in this process, is refused.
    with changing_links("apply"), pytest.raises(ChangeInProgress) as refused, changing_links("boot-apply"):
        pytest.fail("the block must not run while the lock is held")
    assert str(refused.value) == (
        f"`linkctl apply` (pid {os.getpid()}) is changing links: nothing was read or changed; "
        "wait for it to finish, then run this again"
    )
    with changing_links("try"):  # released with the block
        pass


def test_without_a_runtime_directory_the_change_goes_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LINKCTL_RUNTIME_DIR", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    ran = []
    with changing_links("apply"):
        ran.append(True)
    assert ran == [True]

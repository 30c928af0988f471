"""When the receipt may answer at all: no change held (the lock) or pending (the journal)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from linkctl.engine import journal, lockfile
from linkctl.engine.changelock import ChangeInProgress, changing_links
from linkctl.engine.lockfile import Quiet
from linkctl.engine.runtime import DIR_ENV
from linkctl.fastpath import receipt


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(DIR_ENV, str(tmp_path))
    monkeypatch.delenv(receipt.DISABLE_ENV, raising=False)
    return tmp_path


def test_the_fast_path_looks_for_the_journal_the_engine_writes() -> None:
    assert lockfile.JOURNAL_NAME == journal.NAME


def test_an_applys_quiet_holds_the_change_lock_until_it_is_closed(runtime: Path) -> None:
    quiet = Quiet.enter("apply")
    assert quiet is not None and quiet.still()
    with pytest.raises(ChangeInProgress, match=rf"^`linkctl apply` \(pid {os.getpid()}\) is changing links"):  # noqa: SIM117
        with changing_links("try"):
            pytest.fail("a change started while the fast path's apply held the lock")
    quiet.close()
    with changing_links("try"):  # the full path, on its own descriptor, after the fast path let go
        pass


def test_a_held_lock_sends_an_apply_to_the_full_path(runtime: Path) -> None:
    with changing_links("try"):
        assert Quiet.enter("apply") is None
    quiet = Quiet.enter("apply")
    assert quiet is not None
    quiet.close()


def test_a_journal_sends_both_commands_to_the_full_path(runtime: Path) -> None:
    (runtime / journal.NAME).write_text("{}")
    assert Quiet.enter("apply") is None
    assert Quiet.enter("plan") is None
    with changing_links("try"):  # the apply's refusal let the lock go
        pass


def test_a_plans_quiet_takes_no_lock_and_sees_a_journal_written_after_it(runtime: Path) -> None:
    quiet = Quiet.enter("plan")
    assert quiet is not None and quiet.still()
    with changing_links("apply"):  # a plan never makes an apply refuse
        (runtime / journal.NAME).write_text("{}")  # that apply's change begins during the plan's dump
    assert not quiet.still()
    quiet.close()

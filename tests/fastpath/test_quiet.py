"""When the receipt may answer at all: no change held (the lock) or pending (the journal); and what a
`plan` says of a journal it finds, a live change or one cut off."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from linkctl.engine import journal, lockfile
from linkctl.engine.changelock import ChangeInProgress, changing_links, unfinished_words
from linkctl.engine.lockfile import Quiet
from linkctl.engine.runtime import DIR_ENV
from linkctl.fastpath import receipt
from linkctl.kernel.host import process_start


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


def test_no_receipt_is_kept_while_a_journal_is_there(runtime: Path) -> None:
    held = receipt.Receipt([None], "ab" * 16, 3)
    (runtime / journal.NAME).write_text("{}")
    receipt.record(b"interfaces: []\n", None, held)
    assert not (runtime / "receipts").exists() or not list((runtime / "receipts").iterdir())
    (runtime / journal.NAME).unlink()
    receipt.record(b"interfaces: []\n", None, held)
    assert receipt.load(b"interfaces: []\n", None) is not None


def _intent(command: str, pid: int, started_at: int, guardian: int | None = None) -> journal.Intent:
    return journal.Intent(
        command, "ns1", ["ns1"], [], {}, pid=pid, started_at=started_at,
        guardian=guardian, guardian_started_at=process_start(guardian) if guardian else None,
    )  # fmt: skip


def _gone() -> tuple[int, int]:
    """The pid and start time of a process that has ended."""
    child = subprocess.Popen(["sleep", "0"])
    started = process_start(child.pid)
    child.wait()
    return child.pid, started or 1


def _zombie() -> tuple[int, int, subprocess.Popen[bytes]]:
    """A process that has ended and is not reaped yet (its files closed, its /proc entry there)."""
    child = subprocess.Popen(["sleep", "0.2"])
    started = process_start(child.pid)
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
    return child.pid, started, child


def test_a_zombie_guardian_holds_nothing() -> None:
    """A guardian killed and not yet reaped (a slow init) has closed the lock: its change is cut off."""
    dead, dead_started = _gone()
    zombie, started, child = _zombie()
    try:
        assert process_start(zombie) == started
        assert "cut off half-way" in unfinished_words(_intent("try", dead, dead_started, guardian=zombie))
    finally:
        child.wait()


def test_a_plan_tells_a_live_try_or_apply_from_a_change_cut_off() -> None:
    me, started = os.getpid(), process_start(os.getpid())
    dead, dead_started = _gone()
    assert "holds its change until it is confirmed" in unfinished_words(_intent("try", me, started))
    # The try was killed; its guardian still holds the change and rolls it back at the deadline.
    assert "holds its change" in unfinished_words(_intent("try", dead, dead_started, guardian=me))
    assert "is changing links now" in unfinished_words(_intent("apply", me, started))
    for cut_off in (_intent("try", dead, dead_started), _intent("apply", dead, dead_started)):
        assert "was cut off half-way (killed?)" in unfinished_words(cut_off)
    # A pid reused by another process since is not the change's.
    assert "cut off" in unfinished_words(_intent("apply", me, started + 1))

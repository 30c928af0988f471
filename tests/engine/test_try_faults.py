"""`try` keeps its promise when its terminal goes: the rollback at the deadline happens anyway.

Real `linkctl try` processes, real signals, a real namespace; the state is read with iproute2.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import ip
from tests.engine.faults import guardian_of, holding, links, run, start, wait_for_line, wait_gone

pytestmark = pytest.mark.kernel


def _mtu(ns: str, name: str) -> object:
    return links(ns)[name]["mtu"]


@pytest.fixture
def held_change(netns: str, tmp_path: Path) -> tuple[str, Path, Path]:
    ip("-n", netns, "link", "add", "ta", "type", "veth", "peer", "name", "tb")
    change = tmp_path / "t.yml"
    change.write_text("interfaces: [{name: ta, mtu: 1400}]\n")
    return netns, change, tmp_path / "run"


def test_kill_9_of_try_is_rolled_back_by_its_guardian_at_the_deadline(held_change: tuple[str, Path, Path]) -> None:
    ns, change, runtime = held_change
    before = links(ns)
    proc, guardian = holding(change, ns, runtime, 3)
    assert _mtu(ns, "ta") == 1400
    proc.kill()
    proc.wait()
    assert _mtu(ns, "ta") == 1400  # killed, not rolled back: the deadline has not come
    # While the guardian holds the trial, no other change starts, and it is named.
    busy = run(["apply", str(change), "-n", ns], runtime)
    assert busy.returncode == 1 and f"`linkctl try` (pid {guardian}) is changing links" in busy.stderr
    wait_gone(guardian)
    assert links(ns) == before
    assert not (runtime / "change.journal").exists()
    outcome = (runtime / "try-outcome.json").read_text()
    assert "no confirmation within 3 s" in outcome and "rolled back" in outcome and "as they were before" in outcome


@pytest.mark.parametrize("how", ["sighup", "stdin-closed"])
def test_a_lost_terminal_does_not_cancel_the_deadline(held_change: tuple[str, Path, Path], how: str) -> None:
    ns, change, runtime = held_change
    before = links(ns)
    proc = start(["try", str(change), "-n", ns, "--timeout", "3"], runtime, stdin=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdin is not None
    wait_for_line(proc.stdout, "confirm within")
    if how == "sighup":
        proc.send_signal(signal.SIGHUP)
    else:
        proc.stdin.close()  # the end of input is no Enter: it must not confirm
    out = proc.stdout.read()  # until the end: it closes its output when it is done
    assert proc.wait(timeout=60) == 3, out
    assert "confirmed" not in out
    if how == "stdin-closed":  # the terminal's output still works: it is told there
        assert "no confirmation within 3 s: rolling back" in out
    else:  # SIGHUP: the terminal is gone; nothing more is written to it, the record says it
        assert "rolling back" not in out
    outcome = (runtime / "try-outcome.json").read_text()
    assert "rolled back" in outcome and "as they were before" in outcome
    assert links(ns) == before


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_and_sigterm_reject_the_change_at_once(held_change: tuple[str, Path, Path], sig: int) -> None:
    ns, change, runtime = held_change
    before = links(ns)
    proc, guardian = holding(change, ns, runtime, 600)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, out + err
    assert "rolled back" in out and "as they were before" in out
    assert links(ns) == before
    wait_gone(guardian, 30)  # told the trial is over: it does not wait for its 600 s
    assert not (runtime / "change.journal").exists()


def test_confirm_reaches_the_guardian_when_try_is_gone(held_change: tuple[str, Path, Path]) -> None:
    ns, change, runtime = held_change
    proc, guardian = holding(change, ns, runtime, 600)
    proc.kill()
    proc.wait()
    confirm = run(["confirm"], runtime)
    assert confirm.returncode == 0, confirm.stderr
    assert f"confirmed the change held by `linkctl try` (pid {proc.pid})" in confirm.stdout
    wait_gone(guardian, 30)
    assert _mtu(ns, "ta") == 1400
    assert not (runtime / "change.journal").exists()
    # The lock went with the guardian.
    again = run(["apply", str(change), "-n", ns], runtime)
    assert again.returncode == 0 and "no changes" in again.stdout


def test_try_killed_during_the_change_is_rolled_back_at_once(netns: str, tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    many = tmp_path / "many.yml"
    many.write_text(
        "interfaces:\n"
        + "".join(f"- {{name: v{i}, type: veth, state: up, veth: {{peer: p{i}}}}}\n" for i in range(200))
    )
    before = links(netns)
    proc = start(["try", str(many), "-n", netns, "--timeout", "600"], runtime)
    assert proc.stdout is not None
    wait_for_line(proc.stdout, "200 change(s):")  # the plan is shown just before the first change
    guardian = guardian_of_when_written(runtime)
    proc.kill()
    proc.wait()
    wait_gone(guardian, 120)  # before its 600 s: the holder died before the change was made
    assert links(netns) == before


def guardian_of_when_written(runtime: Path) -> int:

    for _ in range(600):
        if (runtime / "change.journal").exists():
            return guardian_of(runtime)
        time.sleep(0.01)
    raise AssertionError("no journal was written")


def test_a_stray_sigusr1_before_the_hold_neither_kills_nor_confirms(held_change: tuple[str, Path, Path]) -> None:
    ns, change, runtime = held_change
    before = links(ns)
    runtime.mkdir(mode=0o700)
    # Another holder of the change lock keeps `try --wait` blocked before it reads anything.
    holder = subprocess.Popen(
        ["flock", "--close", str(runtime / "changes.lock"), "sleep", "600"], start_new_session=True
    )
    try:
        proc = start(["try", str(change), "-n", ns, "--timeout", "2", "--wait", "60"], runtime)
        _blocked_in_flock(proc.pid)
        proc.send_signal(signal.SIGUSR1)  # a confirm that did not wait for "confirm within" would
    finally:
        os.killpg(holder.pid, signal.SIGKILL)  # flock and its sleep
        holder.wait()
    out, _err = proc.communicate(timeout=60)
    assert proc.returncode == 3, out  # not ended by SIGUSR1's default action, not confirmed by it
    assert "no confirmation within 2 s: rolling back" in out
    assert links(ns) == before


def _blocked_in_flock(pid: int) -> None:
    """Until the process sleeps in flock(2) (its kernel stack says so): a state, not a guess of time."""
    for _ in range(6000):
        try:
            stack = Path(f"/proc/{pid}/stack").read_text()
        except OSError:
            stack = ""
        if "flock" in stack or "locks_lock" in stack:
            return
        time.sleep(0.01)
    raise AssertionError(f"pid {pid} never blocked on the change lock")


def _killed_unreaped(proc: subprocess.Popen[str]) -> None:
    """kill -9, and left a zombie: its parent (an SSH session's shell, say) has not reaped it yet."""
    proc.kill()
    os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)  # dead, not reaped


def test_confirm_reaches_the_guardian_while_the_killed_try_is_unreaped(held_change: tuple[str, Path, Path]) -> None:
    """A zombie has a pid and a start time, and takes a signal without a word: confirm signalled it,
    saw it ended, and said "ended without saying how" while the guardian held the change."""
    ns, change, runtime = held_change
    proc, guardian = holding(change, ns, runtime, 600)
    _killed_unreaped(proc)
    confirm = run(["confirm"], runtime)
    proc.wait()
    assert confirm.returncode == 0, confirm.stderr
    assert f"confirmed the change held by `linkctl try` (pid {proc.pid})" in confirm.stdout
    wait_gone(guardian, 30)
    assert _mtu(ns, "ta") == 1400
    assert not (runtime / "change.journal").exists()


def test_confirm_with_try_and_its_guardian_killed_says_recover(held_change: tuple[str, Path, Path]) -> None:
    ns, change, runtime = held_change
    proc, guardian = holding(change, ns, runtime, 600)
    os.kill(guardian, signal.SIGKILL)
    wait_gone(guardian, 30)
    _killed_unreaped(proc)
    confirm = run(["confirm"], runtime)
    proc.wait()
    assert confirm.returncode == 1
    assert f"the `linkctl try` (pid {proc.pid}) waiting for confirmation is gone, and so is its guardian" in (
        confirm.stderr
    )
    assert "`linkctl recover` rolls its change back" in confirm.stderr
    assert _mtu(ns, "ta") == 1400  # still as the trial left it: nothing confirmed it, nothing rolled it back
    recover = run(["recover"], runtime)
    assert recover.returncode == 0 and "as they were before" in recover.stdout, recover.stderr
    assert _mtu(ns, "ta") != 1400

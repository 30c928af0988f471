"""The change journal: a change cut off half-way is said first, refused over, and recovered.

The half-way state is made for real: a `linkctl apply` of 300 pairs killed with SIGKILL once its
journal is on disk (the kernel has some of the pairs by then, or all).
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.engine.faults import Spawned, links, run

pytestmark = pytest.mark.kernel

PAIRS = "interfaces:\n" + "".join(f"- {{name: v{i}, type: veth, veth: {{peer: p{i}}}}}\n" for i in range(300))


def _killed_mid_change(ns: str, tmp_path: Path) -> tuple[Path, Path]:
    runtime, decl = tmp_path / "run", tmp_path / "pairs.yml"
    decl.write_text(PAIRS)
    spawned = Spawned(["apply", str(decl), "-n", ns], runtime)
    journal = runtime / "change.journal"
    for _ in range(3000):
        if journal.exists() or spawned.proc.poll() is not None:
            break
        time.sleep(0.001)
    spawned.proc.send_signal(signal.SIGKILL)
    spawned.finish()
    assert journal.exists(), "killed before its journal was written: nothing to test"
    return runtime, decl


def test_a_change_cut_off_is_refused_over_warned_by_plan_and_recovered(
    netns_factory: Callable[[], str], tmp_path: Path
) -> None:
    netns, elsewhere_ns = netns_factory(), netns_factory()
    before = links(netns)
    runtime, decl = _killed_mid_change(netns, tmp_path)
    # Not even in another namespace: its journal would replace the one that is all recover has.
    other = run(["apply", str(decl), "-n", elsewhere_ns], runtime)
    assert other.returncode == 1 and "was cut off before it was verified" in other.stderr
    assert links(elsewhere_ns).keys() == {"lo"}
    pid = json.loads((runtime / "change.journal").read_text())["pid"]
    applied = run(["apply", str(decl), "-n", netns], runtime)
    assert applied.returncode == 1
    assert f"`linkctl apply` (pid {pid}" in applied.stderr and "was cut off before it was verified" in applied.stderr
    assert "Run `linkctl recover`" in applied.stderr and "nothing was read or changed" in applied.stderr
    planned = run(["plan", str(decl), "-n", netns], runtime)
    assert (
        planned.returncode == 2 and "warning:" in planned.stderr and "`linkctl recover` rolls it back" in planned.stderr
    )
    elsewhere = run(["recover", "-n", "some-other-ns"], runtime)
    assert elsewhere.returncode == 0 and "nothing to recover in netns some-other-ns" in elsewhere.stdout
    recovered = run(["recover"], runtime)
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    assert "rolling back `linkctl apply`" in recovered.stdout and "as they were before" in recovered.stdout
    assert links(netns) == before
    assert not (runtime / "change.journal").exists()
    again = run(["recover"], runtime)
    assert again.returncode == 0 and "nothing to recover: no change was cut off" in again.stdout
    assert run(["apply", str(decl), "-n", netns], runtime).returncode == 0


def test_a_journal_of_an_earlier_boot_is_dropped_with_a_note(netns: str, tmp_path: Path) -> None:
    runtime, decl = _killed_mid_change(netns, tmp_path)
    journal = runtime / "change.journal"
    data = json.loads(journal.read_text())
    data["boot"] = "00000000-0000-0000-0000-000000000000"  # as after a reboot with the runtime kept
    journal.write_text(json.dumps(data))
    res = run(["apply", str(decl), "-n", netns], runtime)
    assert res.returncode == 0, res.stderr
    assert "was cut off before the last reboot; its links went with that boot" in res.stdout
    assert not journal.exists()


def test_a_namespace_removed_since_the_cut_off_is_not_made_again(
    netns_factory: Callable[[], str], tmp_path: Path
) -> None:
    """`ip netns del` after the kill: recover names the namespace as gone and puts nothing back there
    (it used to create it again, with the links it had, for a user who had just removed it)."""
    netns = netns_factory()
    runtime, _decl = _killed_mid_change(netns, tmp_path)
    subprocess.run(["ip", "netns", "del", netns], check=True)
    recovered = run(["recover"], runtime)
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    assert f"netns {netns} no longer exists (removed since the change): nothing was put back there" in recovered.stdout
    # Nothing is left to check: no "checked: the 0 link(s) of  are as they were before".
    assert "checked:" not in recovered.stdout and "as they were before" not in recovered.stdout, recovered.stdout
    assert subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.count(netns) == 0
    assert not (runtime / "change.journal").exists()

"""The journal's record of the links a change made (engine/made.py): after a kill -9, `recover` deletes
the links the record shows the change made, and leaves alone, named, a link with a planned name that
someone else made or made again.

Kernel tests: a real `linkctl apply` of 600 pairs (three chunks of requests or more), killed with
SIGKILL at a point the journal shows; then `linkctl recover`. Judge tests: the record against a state.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from linkctl.engine.journal import Intent
from linkctl.engine.made import judge
from linkctl.model.state import HostState, Link, NetnsState
from tests.engine.faults import Spawned, links, run

PAIRS = "interfaces:\n" + "".join(f"- {{name: v{i}, type: veth, veth: {{peer: p{i}}}}}\n" for i in range(600))


def _killed_when(ns: str, tmp_path: Path, seen: Callable[[dict[str, object]], bool]) -> dict[str, object]:
    """An apply of the pairs killed once its journal shows `seen`; that journal."""
    runtime, decl = tmp_path / "run", tmp_path / "pairs.yml"
    decl.write_text(PAIRS)
    spawned = Spawned(["apply", str(decl), "-n", ns], runtime)
    journal, record = runtime / "change.journal", None
    deadline = time.monotonic() + 60
    while spawned.proc.poll() is None and time.monotonic() < deadline:
        try:
            record = json.loads(journal.read_text())
        except (FileNotFoundError, ValueError):  # not yet written
            continue
        if seen(record):
            break
    spawned.proc.send_signal(signal.SIGKILL)
    spawned.finish()
    if record is None or not seen(record) or not journal.exists():
        pytest.skip("the apply ended before the point the test kills it at")
    return record


def _sending_after_some_made(record: dict[str, object]) -> bool:
    return bool(record.get("made")) and bool(record.get("sending"))


@pytest.mark.kernel
def test_a_kill_while_a_chunk_is_with_the_kernel_leaves_nothing_of_the_change(netns: str, tmp_path: Path) -> None:
    """Killed with links recorded made and a chunk of creations handed to the kernel: recover deletes
    both (the chunk cut off is judged whole), and names nothing as left alone."""
    before = links(netns)
    record = _killed_when(netns, tmp_path, _sending_after_some_made)
    assert all(len(entry) == 3 and isinstance(entry[2], int) for entry in record["made"])  # type: ignore[union-attr]
    res = run(["recover"], tmp_path / "run")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "as they were before" in res.stdout and "left as it is" not in res.stdout, res.stdout
    assert links(netns) == before


@pytest.mark.kernel
def test_a_link_the_change_made_then_made_again_by_hand_is_left_alone(netns: str, tmp_path: Path) -> None:
    """v0 was made by the change (recorded with its ifindex); after the kill it is deleted and made
    again by hand: recover leaves that one, names it, and deletes the change's others."""
    record = _killed_when(netns, tmp_path, lambda r: bool(r.get("made")))
    name = str(record["made"][0][1])  # type: ignore[index]
    subprocess.run(["ip", "-n", netns, "link", "del", name], check=True)
    subprocess.run(["ip", "-n", netns, "link", "add", name, "type", "veth", "peer", "name", "byhand"], check=True)
    res = run(["recover"], tmp_path / "run")
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"{name} (netns {netns}) is not the link the change made" in res.stdout, res.stdout
    assert f"checked: the 1 link(s) of netns {netns} are as they were before" in res.stdout  # lo: not the others
    assert set(links(netns)) == {"lo", name, "byhand"}, res.stdout


def _state(*names: tuple[str, int]) -> HostState:
    return HostState({None: NetnsState.of(None, [Link(index, name) for name, index in names])})


def _intent(made: list[tuple[str | None, str, int]] | None, sending: list[list[tuple[str | None, str]]]) -> Intent:
    created = [(None, n) for n in ("v0", "p0", "v1", "p1", "v2", "p2")]
    return Intent("apply", None, [None], [(None, "lo")], {}, created, made=made, sending=sending)


def test_a_journal_without_a_record_deletes_every_planned_name_there() -> None:
    """An earlier linkctl's journal: names are all there is."""
    assert judge(_intent(None, []), _state(("lo", 1), ("v0", 3))).created == {(None, "v0")}


def test_a_link_recorded_made_is_the_change_s_only_with_its_ifindex() -> None:
    judged = judge(_intent([(None, "v0", 3), (None, "p0", 2)], []), _state(("lo", 1), ("v0", 3), ("p0", 9)))
    assert judged.created == {(None, "v0")}
    assert judged.notes == ["p0 is not the link the change made (ifindex 9, not 2)"]


def test_a_planned_name_never_sent_is_not_the_change_s() -> None:
    judged = judge(_intent([], []), _state(("lo", 1), ("v2", 5)))
    assert judged.created == set() and judged.notes == ["v2 was not made by the change"]


def test_a_chunk_cut_off_is_the_change_s_only_whole_and_in_the_order_sent() -> None:
    sending = [[(None, "v1"), (None, "p1")], [(None, "v2"), (None, "p2")]]
    made = [(None, "v0", 3), (None, "p0", 2)]
    whole = _state(("lo", 1), ("v0", 3), ("p0", 2), ("p1", 4), ("v1", 5), ("p2", 6), ("v2", 7))
    assert judge(_intent(made, sending), whole).created == {(None, n) for n in ("v0", "p0", "v1", "p1", "v2", "p2")}
    part = _state(("lo", 1), ("v0", 3), ("p0", 2), ("v2", 4), ("p2", 5))  # v1, p1 missing: not carried out
    judged = judge(_intent(made, sending), part)
    assert judged.created == {(None, "v0"), (None, "p0")} and judged.left == {(None, "v2"), (None, "p2")}
    assert "v2 may be the change's" in judged.notes[0]
    disorder = _state(("lo", 1), ("v0", 3), ("p0", 2), ("p1", 6), ("v1", 7), ("p2", 4), ("v2", 5))
    assert judge(_intent(made, sending), disorder).left == {(None, n) for n in ("v1", "p1", "v2", "p2")}


def test_a_single_creation_cut_off_cannot_show_it_was_the_change_s() -> None:
    judged = judge(_intent([], [[(None, "v0"), (None, "p0")]]), _state(("lo", 1), ("p0", 2), ("v0", 3)))
    assert judged.created == set() and judged.left == {(None, "v0"), (None, "p0")}

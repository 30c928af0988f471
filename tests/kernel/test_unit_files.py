"""systemd.write_file: a unit or a kept declaration is replaced whole, by two writers at once too."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from linkctl.kernel import systemd

ROUNDS = 200


def _writer(path: str, fill: str) -> int:
    """How many of its writes failed."""
    failed = 0
    for round_ in range(ROUNDS):
        try:
            systemd.write_file(Path(path), fill * 100_000 + str(round_))
        except OSError:
            failed += 1
    return failed


def test_two_writers_at_once_each_replace_the_file_whole(tmp_path: Path) -> None:
    """Two `persist` at once: with one temporary name for both, one moved the other's into place
    (half-written) and the other failed to find its own (about 1 write in 5 failed)."""
    path = tmp_path / "linkctl-apply.service"
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        failed = pool.starmap(_writer, [(str(path), "x"), (str(path), "y")])
    assert failed == [0, 0]
    text = path.read_text()
    body = text.rstrip("0123456789")
    assert len(body) == 100_000 and len(set(body)) == 1  # one writer's text, whole
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left behind

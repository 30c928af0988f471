"""A file a command writes (`diagnose --write-fix`): whole or not at all, an error naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from linkctl.cli.output import write_file
from linkctl.errors import LinkctlError


def test_a_file_is_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "fix.yml"
    path.write_text("old\n")
    write_file(path, "interfaces: []\n")
    assert path.read_text() == "interfaces: []\n"
    assert [p.name for p in tmp_path.iterdir()] == ["fix.yml"]


def test_a_file_that_cannot_be_written_is_named_and_leaves_nothing(tmp_path: Path) -> None:
    where = tmp_path / "fix.yml"
    where.mkdir()  # a directory in the way: the rename fails after the temporary was written
    with pytest.raises(LinkctlError, match=r"fix\.yml: cannot write: Is a directory"):
        write_file(where, "interfaces: []\n")
    assert [p.name for p in tmp_path.iterdir()] == ["fix.yml"]
    with pytest.raises(LinkctlError, match=r"nowhere/fix\.yml: cannot write: No such file or directory"):
        write_file(tmp_path / "nowhere" / "fix.yml", "")

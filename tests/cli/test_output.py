"""A file a command writes (`diagnose --write-fix`, a report's -o): whole or not at all, an error naming it."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest

from linkctl.cli.output import emit, write_file
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


def _tmpfs(where: Path, size: str) -> None:
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")


def test_a_report_that_does_not_fit_leaves_the_last_one_whole(tmp_path: Path) -> None:
    # `logs analyze -o` / `report -o` on a full disk: the previous report stays as it was,
    # no cut-short page and no temporary beside it.
    disk = tmp_path / "small"
    _tmpfs(disk, "64k")
    try:
        report = disk / "report.html"
        report.write_text("<html>the last good report</html>\n")
        with pytest.raises(LinkctlError, match=r"report\.html: cannot write: No space left on device"):
            emit("x" * (256 << 10), report)
        assert report.read_text() == "<html>the last good report</html>\n"
        assert [p.name for p in disk.iterdir()] == ["report.html"]
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_a_report_is_replaced_not_rewritten_in_place(tmp_path: Path) -> None:
    # A browser (any reader) that opened the page before gets the old one whole; the new one
    # keeps the old one's permissions, and a link to the report still points at it.
    report = tmp_path / "report.html"
    report.write_text("old page\n")
    report.chmod(0o640)
    link = tmp_path / "latest.html"
    link.symlink_to(report.name)
    with report.open() as reading:
        emit("new page\n", link)
        assert reading.read() == "old page\n"
    assert report.read_text() == "new page\n"
    assert stat.S_IMODE(report.stat().st_mode) == 0o640
    assert link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.html", "report.html"]


def test_a_report_to_a_device_is_written_to_it(tmp_path: Path) -> None:
    # What cannot be replaced (a device, a FIFO) is written to, as before: /dev/full says so.
    with pytest.raises(LinkctlError, match=r"/dev/full: cannot write: No space left on device"):
        emit("report\n", Path("/dev/full"))
    assert Path("/dev/full").is_char_device()

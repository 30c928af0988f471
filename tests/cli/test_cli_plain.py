"""`plan FILE [-n NS]` and `apply FILE [-n NS]` run without typer, and say exactly what the typer path says.

The typer path is forced with an option the plain form does not take
(`--format text`, plan's default). Reads the host's own namespace only: no root needed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def linkctl(*args: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run linkctl; its result and the modules it imported."""
    res = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "linkctl", *args],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "LINKCTL_RECEIPTS": "off"},
    )  # fmt: skip
    imported = [line.rsplit("|", 1)[-1].strip() for line in res.stderr.splitlines() if line.startswith("import time:")]
    res.stderr = "".join(line + "\n" for line in res.stderr.splitlines() if not line.startswith("import time:"))
    return res, imported


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("interfaces: [{name: lo, state: up}]\n", 0),  # as it is
        ("interfaces: [{name: lo, mtu: 1500}]\n", 2),  # pending (plan changes nothing)
        ("interfaces: [{name: lo, mtuu: 1500}]\n", 1),  # refused by validation
        ("interfaces: [{name: lo\n", 1),  # not YAML
    ],
)
def test_plain_plan_says_what_the_typer_plan_says(tmp_path: Path, text: str, code: int) -> None:
    path = tmp_path / "d.yml"
    path.write_text(text)
    plain, plain_imports = linkctl("plan", str(path))
    full, full_imports = linkctl("plan", "--format", "text", str(path))
    assert "typer" not in plain_imports and "typer" in full_imports
    assert (plain.returncode, plain.stdout, plain.stderr) == (full.returncode, full.stdout, full.stderr)
    assert plain.returncode == code
    assert "Traceback" not in plain.stderr


def test_a_missing_file_is_named_by_both_paths(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.yml")
    plain, _ = linkctl("apply", missing)
    full, _ = linkctl("apply", missing, "--netns=")  # an empty --netns is not the plain form
    assert plain.returncode == 1 and "nope.yml" in plain.stderr and "No such file" in plain.stderr
    assert full.returncode != 0


def test_options_the_plain_form_does_not_know_go_to_typer(tmp_path: Path) -> None:
    path = tmp_path / "d.yml"
    path.write_text("interfaces: [{name: lo, state: up}]\n")
    res, imported = linkctl("plan", str(path), "--bogus")
    assert res.returncode == 64 and "No such option" in res.stderr and "typer" in imported  # EX_USAGE, not plan's 2

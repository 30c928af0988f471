"""`linkctl --version`, the shell completion scripts driven by a real bash, the manual pages rendered by man."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer._click import Command

from linkctl import __version__
from linkctl.cli.main import app, register_all
from linkctl.cli.manpages import render_pages, write_pages
from tests.conftest import LINKCTL

BIN = Path(sys.executable).parent  # the venv's bin/, where the `linkctl` script is


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def test_version_is_the_package_metadata() -> None:
    out = subprocess.run([*LINKCTL, "--version"], capture_output=True, text=True, check=True)
    assert out.stdout == f"linkctl {__version__}\n"
    assert importlib.metadata.version("linkctl") == __version__
    short = subprocess.run([*LINKCTL, "-V"], capture_output=True, text=True, check=True)
    assert short.stdout == out.stdout


def _completion_script(shell: str) -> str:
    out = subprocess.run([*LINKCTL, "completion", shell], capture_output=True, text=True, check=True)
    return out.stdout


@pytest.mark.skipif(not (BIN / "linkctl").exists(), reason="the linkctl script is not installed in this venv")
def test_bash_completes_a_command_name(tmp_path: Path) -> None:
    script = tmp_path / "linkctl.bash"
    script.write_text(_completion_script("bash"))
    # A real bash: the script registers its function, which runs `linkctl` for the words so far.
    drive = (
        f"source {script}\n"
        "complete -p linkctl\n"
        "COMP_WORDS=(linkctl ap); COMP_CWORD=1; COMPREPLY=()\n"
        "_linkctl_completion linkctl ap linkctl\n"
        'echo "reply: ${COMPREPLY[*]}"\n'
        "COMP_WORDS=(linkctl apply --ne); COMP_CWORD=2; COMPREPLY=()\n"
        "_linkctl_completion linkctl --ne apply\n"
        'echo "reply: ${COMPREPLY[*]}"\n'
        "COMP_WORDS=(linkctl completion ''); COMP_CWORD=2; COMPREPLY=()\n"
        "_linkctl_completion linkctl '' completion\n"
        'echo "reply: ${COMPREPLY[*]}"\n'
    )
    out = subprocess.run(["bash", "--norc", "-c", drive], capture_output=True, text=True, env=_env(), timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "complete -o default -F _linkctl_completion linkctl"
    assert lines[1:] == ["reply: apply", "reply: --netns", "reply: bash zsh fish"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_ask_linkctl_for_the_words(shell: str) -> None:
    script = _completion_script(shell)
    assert "_LINKCTL_COMPLETE=complete_" + shell in script
    # What the script runs at each TAB, as the shell would run it.
    env = {**os.environ, "_LINKCTL_COMPLETE": f"complete_{shell}", "_TYPER_COMPLETE_ARGS": "linkctl ap"}
    if shell == "fish":
        env["_TYPER_COMPLETE_FISH_ACTION"] = "get-args"
    out = subprocess.run(LINKCTL, capture_output=True, text=True, env=env, check=True)
    assert "apply" in out.stdout and "show" not in out.stdout
    checker = shutil.which(shell)
    if checker is not None:  # the script is valid for the shell itself
        syntax = subprocess.run([checker, "-n"], input=script, capture_output=True, text=True)
        assert syntax.returncode == 0, syntax.stderr


def _program() -> Command:
    target = typer.Typer(name="linkctl", help=app.info.help)
    register_all(target)
    return typer.main.get_command(target)


def test_a_man_page_for_the_program_and_each_command(tmp_path: Path) -> None:
    pages = render_pages(_program())
    for name in ("linkctl", "linkctl-apply", "linkctl-persist", "linkctl-boot-apply", "linkctl-logs-parse"):
        assert name in pages
    assert "boot-apply" not in [n for n in pages if n.startswith("linkctl-linkctl")]
    apply = pages["linkctl-apply"]
    assert apply.startswith('.TH "LINKCTL-APPLY" "1"')
    assert "\\fB\\-\\-netns\\fR, \\fB\\-n\\fR \\fITEXT\\fR" in apply
    assert ".nf\nExit: 0 applied and verified" in apply
    written = write_pages(_program(), tmp_path / "man1")
    assert {p.name for p in written} == {f"{n}.1" for n in pages}


@pytest.mark.skipif(shutil.which("man") is None, reason="man is not installed")
def test_man_renders_every_page_without_a_warning(tmp_path: Path) -> None:
    out = subprocess.run([*LINKCTL, "man", str(tmp_path)], capture_output=True, text=True, check=True)
    pages = sorted(tmp_path.glob("*.1"))
    assert len(out.stdout.splitlines()) == len(pages) > 10
    env = {**os.environ, "MANWIDTH": "100", "LC_ALL": "C.UTF-8"}
    for page in pages:
        shown = subprocess.run(["man", "--warnings", "-l", str(page)], capture_output=True, text=True, env=env)
        assert shown.returncode == 0 and shown.stderr == "", (page.name, shown.stderr)
        assert "SYNOPSIS" in shown.stdout
    text = subprocess.run(["man", "-l", str(tmp_path / "linkctl-persist.1")], capture_output=True, text=True, env=env)
    assert "--netns, -n TEXT" in text.stdout and "ARGUMENTS" in text.stdout

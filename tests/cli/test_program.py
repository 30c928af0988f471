"""`linkctl --version`, the shell completion scripts driven by a real bash, the manual pages rendered by man."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import time
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
    checker = shutil.which(shell)
    if checker is None:
        pytest.skip(f"{shell} is not installed (apt-get install {shell}; scripts/setup.sh --test does it)")
    syntax = subprocess.run([checker, "-n"], input=script, capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr


# What a user types, and the line (zsh) or the candidates (fish) a TAB gives.
TYPED = [("linkctl ap", "linkctl apply"), ("linkctl apply --ne", "linkctl apply --netns")]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed (apt-get install fish)")
@pytest.mark.skipif(not (BIN / "linkctl").exists(), reason="the linkctl script is not installed in this venv")
def test_fish_completes_from_the_documented_place(tmp_path: Path) -> None:
    # `linkctl completion fish > ~/.config/fish/completions/linkctl.fish`, then fish's own completer.
    (tmp_path / "fish" / "completions").mkdir(parents=True)
    (tmp_path / "fish" / "completions" / "linkctl.fish").write_text(_completion_script("fish"))
    env = {**_env(), "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    for typed, want in [*TYPED, ("linkctl completion ", "linkctl completion bash fish zsh")]:
        out = subprocess.run(
            ["fish", "-c", f"complete --do-complete '{typed}'"], capture_output=True, text=True, env=env, timeout=60
        )
        assert out.returncode == 0, out.stderr
        # One candidate a line, its description after a TAB: the words the line would end in.
        words = [line.split("\t")[0] for line in out.stdout.splitlines()]
        assert words == want.split(" ")[len(typed.split()) - 1 + typed.endswith(" ") :], out.stdout


class Tmux:
    """An interactive shell in a tmux server of its own (a socket named for this test)."""

    def __init__(self, command: str, env: dict[str, str]) -> None:
        self.socket = f"linkctl-test-{os.getpid()}-{id(self)}"
        self.env = env
        self.run("new-session", "-d", "-x", "200", "-y", "40", command)

    def run(self, *args: str) -> str:
        out = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, env=self.env)
        assert out.returncode == 0, out.stderr
        return out.stdout

    def keys(self, *keys: str) -> None:
        self.run("send-keys", *keys)

    def wait_line(self, want: str) -> str:
        """The pane's last line, once it is `want` (or at the deadline, whatever it is)."""
        end = time.monotonic() + 30
        while True:
            lines = [line.rstrip() for line in self.run("capture-pane", "-p").splitlines() if line.strip()]
            last = lines[-1] if lines else ""
            if last == want or time.monotonic() > end:
                return last
            time.sleep(0.2)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed (apt-get install zsh)")
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)")
@pytest.mark.skipif(not (BIN / "linkctl").exists(), reason="the linkctl script is not installed in this venv")
@pytest.mark.parametrize("install", ["fpath", "source"])
def test_zsh_completes_at_the_first_tab(tmp_path: Path, install: str) -> None:
    # The two ways the script is installed: autoloaded from $fpath (the help's
    # `> "${fpath[1]}/_linkctl"`) or sourced after compinit. A real zsh, keys typed in tmux.
    (tmp_path / "_linkctl").write_text(_completion_script("zsh"))
    setup = {
        "fpath": f"fpath=({tmp_path} $fpath); autoload -U compinit; compinit -u -D",
        "source": f"autoload -U compinit; compinit -u -D; source {tmp_path / '_linkctl'}",
    }[install]
    shell = Tmux("zsh -f -i", {**_env(), "HOME": str(tmp_path)})
    try:
        shell.keys(f"{setup}; PS1='> '; clear", "Enter")
        assert shell.wait_line(">") == ">"
        for typed, want in TYPED:
            shell.keys("C-u", typed, "Tab")
            assert shell.wait_line(f"> {want}") == f"> {want}", typed
    finally:
        shell.close()


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

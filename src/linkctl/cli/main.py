"""The `linkctl` command: sub-commands are registered from their own modules."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from linkctl.cli.guard import guarded

# The variable the shell completion scripts set (click's `_{PROG}_COMPLETE`).
COMPLETE_VAR = "_LINKCTL_COMPLETE"

app = typer.Typer(
    name="linkctl",
    help=(
        "Declare, apply, watch and diagnose Linux network links.\n\n"
        "Exit codes common to every command: 1 error, 64 usage error, 128+N stopped by signal N "
        "(130 Ctrl-C, 143 SIGTERM, 129 SIGHUP); each command's --help lists its own."
    ),
    no_args_is_help=True,
    # typer's own --install-completion/--show-completion guess the shell at every run (shellingham):
    # `linkctl completion SHELL` prints the script instead.
    add_completion=False,
    pretty_exceptions_enable=False,
)


class Shell(StrEnum):
    BASH = "bash"
    ZSH = "zsh"
    FISH = "fish"


def _version(value: bool) -> None:
    if value:
        from linkctl import __version__

        typer.echo(f"linkctl {__version__}")
        raise typer.Exit(0)


def program(
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="Print linkctl's version and exit."),
    ] = False,
) -> None:
    """Declare, apply, watch and diagnose Linux network links."""


def completion(shell: Annotated[Shell, typer.Argument(help="bash, zsh or fish")]) -> None:
    """Print the shell completion script.

    bash: `linkctl completion bash > /etc/bash_completion.d/linkctl` (or `source <(linkctl completion bash)`)
    zsh:  `linkctl completion zsh > "${fpath[1]}/_linkctl"`
    fish: `linkctl completion fish > ~/.config/fish/completions/linkctl.fish`
    """
    from typer._completion_shared import get_completion_script

    script = get_completion_script(prog_name="linkctl", complete_var=COMPLETE_VAR, shell=shell.value)
    if shell is Shell.ZSH:
        # Autoloaded from $fpath, the file's body runs at the first TAB: typer's script only
        # defines its function there, so that TAB completed nothing. Complete it then too.
        script += '\nif [ "$funcstack[1]" = "_linkctl" ]; then\n  _linkctl_completion "$@"\nfi\n'
    typer.echo(script)


def man(
    directory: Annotated[Path, typer.Argument(help="Write linkctl.1 and linkctl-COMMAND.1 here.")],
) -> None:
    """Write the manual pages, generated from the commands' own help (groff, section 1).

    `linkctl man /usr/local/share/man/man1 && mandb -q`, then `man linkctl-apply`.
    """
    from linkctl.cli.manpages import write_pages

    for path in write_pages(typer.main.get_command(app), directory):
        typer.echo(f"wrote {path}")


def register_all(target: typer.Typer) -> None:
    """Every sub-command, onto `target` (the program's app, or a test's)."""
    # Imported here so that `linkctl --help` stays fast and a broken optional
    # front end cannot stop the others from loading.
    from linkctl.cli import diag, links, logs, report, watch

    target.callback()(program)
    links.register(target)
    logs.register(target)
    watch.register(target)
    report.register(target)
    diag.register(target)
    target.command("completion")(completion)
    target.command("man")(man)


def run() -> None:
    """Entry point: no traceback ever reaches the user."""
    register_all(app)
    if os.environ.get(COMPLETE_VAR):
        # A completion request (the scripts of `linkctl completion`): typer registers its
        # bash/zsh/fish handlers only when its completion module is loaded.
        from typer._completion_classes import completion_init

        completion_init()
    guarded(lambda: app(standalone_mode=False, complete_var=COMPLETE_VAR))

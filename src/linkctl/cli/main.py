"""The `linkctl` command: sub-commands are registered from their own modules."""

from __future__ import annotations

import typer

from linkctl.cli.guard import guarded

app = typer.Typer(
    name="linkctl",
    help=(
        "Declare, apply, watch and diagnose Linux network links.\n\n"
        "Exit codes common to every command: 1 error, 64 usage error, 128+N stopped by signal N "
        "(130 Ctrl-C, 143 SIGTERM, 129 SIGHUP); each command's --help lists its own."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def register_all(target: typer.Typer) -> None:
    """Every sub-command, onto `target` (the program's app, or a test's)."""
    # Imported here so that `linkctl --help` stays fast and a broken optional
    # front end cannot stop the others from loading.
    from linkctl.cli import diag, links, logs, watch

    links.register(target)
    logs.register(target)
    watch.register(target)
    diag.register(target)


def run() -> None:
    """Entry point: no traceback ever reaches the user."""
    register_all(app)
    guarded(lambda: app(standalone_mode=False))

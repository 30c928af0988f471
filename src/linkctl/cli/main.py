"""The `linkctl` command: sub-commands are registered from their own modules."""

from __future__ import annotations

import os
import sys

import typer

from linkctl.errors import LinkctlError

app = typer.Typer(
    name="linkctl",
    help="Declare, apply, watch and diagnose Linux network links.",
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
    try:
        code = app(standalone_mode=False)
    except LinkctlError as exc:
        typer.echo(f"linkctl: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("linkctl: interrupted", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:
        _last_guard(exc)
    _leave(code if isinstance(code, int) else 0)


# Commands that hold no resource past their return (sockets and files are closed
# by then): they skip the interpreter's teardown, which frees the thousands of
# objects of a large plan one by one (60-90 ms for 2000 links).
_QUICK_EXIT = ("apply", "plan", "show")


def _leave(code: int) -> None:
    if sys.argv[1:2] and sys.argv[1] in _QUICK_EXIT:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BrokenPipeError:  # `linkctl show | head`: the reader left, as with `ip link | head`
            pass
        os._exit(code)
    sys.exit(code)


def _last_guard(exc: Exception) -> None:
    """Usage errors print as the CLI library words them; anything else without a traceback."""
    show = getattr(exc, "show", None)
    code = getattr(exc, "exit_code", None)
    if callable(show):
        show()
        sys.exit(code if isinstance(code, int) else 2)
    if isinstance(code, int):  # Exit / Abort
        sys.exit(code)
    typer.echo(f"linkctl: internal error: {type(exc).__name__}: {exc}", err=True)
    typer.echo("linkctl: please report this with the command that caused it", err=True)
    sys.exit(1)

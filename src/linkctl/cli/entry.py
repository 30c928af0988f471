"""The `linkctl` program's entry point.

`linkctl apply FILE` (or `plan FILE`) of a file already applied, on links
nobody has changed since, is answered from its receipt before the CLI library
and the schema are imported: the receipt fast path (linkctl/fastpath/). The
other plain `apply|plan FILE [-n NS]` runs skip typer (cli/engine_cmds.py says
why). Everything else goes to the typer application.
"""

from __future__ import annotations

import gc
import os
import sys

# One-shot commands whose objects all live until the process ends. Python's
# collector finds nothing to free in them, but each full pass walks every object
# of pydantic's schemas and of the plan: 0.05-0.09 s of a 2000-link apply, one
# pass landing in the middle of the verification read (measured, collected: 0).
_NO_COLLECTOR = ("apply", "plan", "show")


def run() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    try:
        from linkctl import interrupts

        interrupts.install()
    except KeyboardInterrupt:  # Python's own SIGINT handler, before linkctl's is in place
        sys.stderr.write("linkctl: interrupted: nothing was changed\n")
        os._exit(130)
    try:
        _run(command)
    except SystemExit:
        raise  # the command ended and said how (the guard): nothing to add
    except BaseException as exc:  # a signal during start-up, before the guard: never a traceback
        cause = exc if isinstance(exc, KeyboardInterrupt) else interrupts.within(exc)
        if cause is None:
            raise
        from linkctl.cli.guard import interrupted

        interrupted(cause)


def _run(command: str) -> None:
    if command in _NO_COLLECTOR:
        gc.disable()
    args = sys.argv[2:]
    if command == "logs":
        _plain_logs(args)  # returns only for a form the typer command must read
    # --strict keeps the plain path, never the receipt's answer: a receipt says the links are as the
    # file says, not that the file holds nothing linkctl leaves alone (model/unmanaged.py).
    strict = "--strict" in args
    plain = plain_args([a for a in args if a != "--strict"]) if command in ("apply", "plan") else None
    if plain is not None and not strict:
        from linkctl import fastpath

        fastpath.reply(command, *plain)  # ends the process when a receipt still holds
    # pydantic-core imports `datetime` from Rust, where a signal's exception became a panic printed by
    # Rust ("failed to import `datetime` C API", a traceback; the start-up signal test, once in a full run).
    # Imported here first, a signal lands in Python code and ends the command cleanly.
    import datetime  # noqa: F401

    from linkctl.cli import prefetch

    prefetch.start(sys.argv[1:])  # a large file is parsed on another core while the CLI loads
    if plain is not None:
        from linkctl.cli import engine_cmds
        from linkctl.cli.guard import guarded

        guarded(lambda: engine_cmds.run_plain(command, *plain, strict=strict))
    from linkctl.cli.main import run as main

    main()


def _plain_logs(args: list[str]) -> None:
    """`logs parse FILE... [-f jsonl] [-q]` without typer (cli/logs_plain.py says why)."""
    from linkctl.cli import logs_plain

    plain = logs_plain.plain_args(args)
    if plain is not None:
        from linkctl.cli.guard import guarded

        guarded(lambda: logs_plain.run(*plain))


def plain_args(args: list[str]) -> tuple[str, str | None] | None:
    """(FILE, NS) of the plain `FILE [--netns NS]` form, or None for anything else.

    Only that form is run without the CLI library; any other option (--debug,
    --rehearse, --format, --help ...) and any doubt leave the parsing to typer,
    which also words the usage errors.
    """
    files: list[str] = []
    netns: str | None = None
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg in ("--netns", "-n") and rest:
            netns = rest.pop(0)
        elif arg.startswith("--netns="):
            netns = arg.partition("=")[2]
        elif arg.startswith("-"):
            return None
        else:
            files.append(arg)
    if len(files) != 1 or netns == "":
        return None
    if netns is not None and ("/" in netns or "\0" in netns or netns.startswith(".") or len(netns) > 63):
        return None  # perhaps no name `ip netns` can have: typer's --netns check (cli/netns_opt.py) says
    return files[0], netns

"""`linkctl logs parse FILE... [-f jsonl] [-q]` without the CLI library, and what it shares
with the typer command (cli/logs.py): the progress bar's terms and the JSONL writer.

Importing typer and building the application costs `logs parse` 0.1 s of a second's scan of a
GiB; the plain form above needs none of it (cli/entry.py sends it here). Anything else (other
options, stdin, a file that is not there, --help) goes to the typer command, which also says
every error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from linkctl.domain.events import KernelLogLine
    from linkctl.logs.progress import Progress

_FORMAT = ("-f", "--format")
_QUIET = ("-q", "--quiet")


def plain_args(args: list[str]) -> tuple[list[str], bool] | None:
    """(FILES, quiet) of `parse FILE... [-f|--format jsonl] [-q|--quiet]` naming regular files
    only; None for any other form."""
    if args[:1] != ["parse"]:
        return None
    files: list[str] = []
    quiet = False
    rest = iter(args[1:])
    for arg in rest:
        if arg in _QUIET:
            quiet = True
        elif arg in _FORMAT:
            if next(rest, None) != "jsonl":
                return None
        elif arg == "--format=jsonl":
            continue
        elif arg.startswith("-") or not os.path.isfile(arg):
            return None
        else:
            files.append(arg)
    return (files, quiet) if files else None


def run(files: list[str], quiet: bool) -> int:
    """What `logs parse --format jsonl FILES` prints."""
    events = read(files, quiet or sys.stdout.isatty())
    write_jsonl(events)  # a reader that left, a full disk: the guard's (cli/guard.py)
    sys.stdout.flush()
    from linkctl import interrupts

    if interrupts.noted() is None:
        # Nothing is left to clean up (the files are closed, the scan's processes reaped): skip
        # the interpreter's teardown, which frees the rules' and the modules' objects one by one
        # (~30 ms of CPU after the last line). A signal noted is for the guard to report.
        sys.stderr.flush()
        os._exit(0)
    return 0


def read(
    files: list[str], quiet: bool, year: int | None = None, unread: list[str] | None = None
) -> Iterator[KernelLogLine]:
    """The events of the files, with a progress bar on stderr when a person can see it;
    `unread` is told what of them could not be read."""
    from linkctl.logs import sources

    progress = None if quiet or not terminal() else bar(sources.plain_size(files))
    if progress is None:
        return sources.read_files(files, year, unread=unread)
    return erasing(sources.read_files(files, year, progress, unread), progress)


def terminal() -> bool:
    """Whether a progress bar has a person to show to: stderr a terminal, and not a CI job
    (CI=true, as CI services set it, whose logs keep every redraw)."""
    return sys.stderr.isatty() and os.environ.get("CI", "").lower() not in ("true", "1", "yes")


def bar(total: int | None) -> Progress:
    from linkctl.logs.progress import Progress

    def write(text: str) -> None:
        sys.stderr.write(text)
        sys.stderr.flush()

    return Progress(total, write)


def erasing(events: Iterator[KernelLogLine], progress: Progress) -> Iterator[KernelLogLine]:
    """The events; the bar is erased when they end (or the reader stops taking them)."""
    try:
        yield from events
    finally:
        progress.close()


def write_jsonl(events: Iterator[KernelLogLine]) -> None:
    import json

    write = sys.stdout.write
    for event in events:
        write(json.dumps(event.to_json(), ensure_ascii=False) + "\n")

"""Where a report goes (`logs analyze`, `report`): stdout, or the file -o names; and a file
a command proposes (`diagnose --write-fix`)."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import typer

from linkctl.errors import LinkctlError


def emit(text: str, output: Path | None) -> None:
    """Write the report to `output` ("-" or none: stdout), saying on stderr where it went."""
    if output is None or str(output) == "-":
        sys.stdout.write(text)
        return
    try:
        regular = stat.S_ISREG(output.stat().st_mode)
    except FileNotFoundError:
        regular = True
    except OSError as exc:
        raise LinkctlError(f"{output}: cannot write: {exc.strerror}") from None
    if regular:
        target = Path(os.path.realpath(output))  # a link's target is replaced, not the link
        # Whole or not at all: a full disk left a report cut short over the last good one, and
        # a browser reloading the page while it was written read half of it.
        write_file(target, text, mode=_mode(target), shown=output)
    else:  # /dev/stdout, a FIFO, a terminal: what is there cannot be replaced, only written to
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise LinkctlError(f"{output}: cannot write: {exc.strerror}") from None
    typer.echo(f"wrote {output}", err=True)


def _mode(path: Path) -> int | None:
    """The permissions of the file a report replaces, which the new one keeps."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None


def write_file(path: Path, text: str, mode: int | None = None, shown: Path | None = None) -> None:
    """`text` into `path`, whole or not at all: written beside it, then renamed over it
    (with `mode`, the permissions of the file it replaces; `shown`: the name an error gives)."""
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise LinkctlError(f"{shown or path}: cannot write: {exc.strerror}") from None

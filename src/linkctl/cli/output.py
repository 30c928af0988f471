"""Where a report goes (`logs analyze`, `report`): stdout, or the file -o names; and a file
a command proposes (`diagnose --write-fix`)."""

from __future__ import annotations

import os
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
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise LinkctlError(f"{output}: cannot write: {exc.strerror}") from None
    typer.echo(f"wrote {output}", err=True)


def write_file(path: Path, text: str) -> None:
    """`text` into `path`, whole or not at all: written beside it, then renamed over it."""
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise LinkctlError(f"{path}: cannot write: {exc.strerror}") from None

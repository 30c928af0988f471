"""Where a report goes (`logs analyze`, `report`): stdout, or the file -o names."""

from __future__ import annotations

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

"""`linkctl show|plan|apply|try|confirm`: the declarative link engine's front end."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    pass

"""`linkctl logs ...`: kernel log parsing and analysis (front end only)."""

from __future__ import annotations

import typer

logs_app = typer.Typer(help="Read kernel logs into link events and flap reports.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(logs_app, name="logs")

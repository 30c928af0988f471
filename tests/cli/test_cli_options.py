"""Options that mean the same thing are spelled the same way in every command (like iproute2's -n)."""

from __future__ import annotations

import typer
import typer.main

from linkctl.cli.main import register_all


def _options() -> dict[str, dict[str, list[str]]]:
    app = typer.Typer()
    register_all(app)
    group = typer.main.get_command(app)
    assert hasattr(group, "commands")
    out: dict[str, dict[str, list[str]]] = {}
    for name, command in group.commands.items():
        out[name] = {p.name or "": list(p.opts) for p in command.params}
    return out


def test_every_netns_option_has_the_short_form() -> None:
    with_netns = {name: opts["netns"] for name, opts in _options().items() if "netns" in opts}
    assert {"show", "plan", "apply", "try", "audit", "diagnose", "watch", "history"} <= set(with_netns)
    for name, opts in with_netns.items():
        assert opts == ["--netns", "-n"], name

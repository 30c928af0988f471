"""Options that mean the same thing are spelled the same way in every command (like iproute2's -n)."""

from __future__ import annotations

import pytest
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


def _seconds_options() -> list[tuple[str, typer.CallbackParam, typer.main.TyperCommand]]:
    app = typer.Typer()
    register_all(app)
    group = typer.main.get_command(app)
    assert hasattr(group, "commands")
    return [
        (f"{name} {param.opts[0]}", param, command)
        for name, command in group.commands.items()
        for param in command.params
        if param.type.name == "float"
    ]


def test_every_seconds_option_refuses_what_it_cannot_wait_for() -> None:
    """`try --timeout inf` once made its change, then died of an OverflowError with its guardian:
    every option in seconds refuses inf, nan, 1e300 and negatives while the command line is read."""
    options = _seconds_options()
    assert {"try --timeout", "try --stable-for", "apply --wait", "recover --wait", "audit --interval"} <= {
        name for name, _, _ in options
    }
    for name, param, command in options:
        for bad in ("inf", "nan", "1e300", "-1"):
            with pytest.raises(typer.BadParameter, match=r"give .* and at most|give from"):
                param.process_value(typer.Context(command), bad)
        assert param.process_value(typer.Context(command), "1") == 1.0, name

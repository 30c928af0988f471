"""`linkctl show|plan|apply|try|confirm`: the declarative link engine's front end."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from linkctl.cli import durations, engine_cmds, netns_opt
from linkctl.errors import LinkctlError

if TYPE_CHECKING:  # imported where used: `linkctl logs ...` must not pay for the engine
    from linkctl.engine.apply import Context

NetnsOpt = Annotated[
    str | None,
    typer.Option("--netns", "-n", callback=netns_opt.checked, help="work inside this `ip netns` namespace"),
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="print each netlink request and the kernel's answer")]
RehearseOpt = Annotated[
    bool, typer.Option("--rehearse", help="carry it out in a throwaway namespace copy, never on the host")
]
StrictOpt = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="refuse a file with nmstate sections linkctl does not manage (dns-resolver, lldp, ...) "
        "instead of naming them and leaving them as the system has them",
    ),
]
WaitOpt = Annotated[
    float,
    typer.Option(
        "--wait",
        callback=durations.WAIT,
        help="wait up to N seconds for another linkctl's change to end (default: refuse)",
    ),
]


class ShowFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    YAML = "yaml"


class PlanFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def show(
    ifaces: Annotated[list[str] | None, typer.Argument(help="only these links")] = None,
    netns: NetnsOpt = None,
    fmt: Annotated[ShowFormat, typer.Option("--format", "-f")] = ShowFormat.TABLE,
    stats: Annotated[bool, typer.Option("--stats", "-s", help="rx/tx counters")] = False,
) -> None:
    """List links with what `ip -details -statistics link show` tells."""
    from linkctl.cli import render
    from linkctl.kernel.state import read_with_peers

    host = read_with_peers(netns, stats=stats, layer3=fmt is ShowFormat.YAML)
    if netns not in host.namespaces:
        raise LinkctlError(f"network namespace {netns!r} does not exist (see `ip netns list`)")
    links = sorted(host.ns(netns).links.values(), key=lambda lk: lk.ifindex)
    if ifaces:
        missing = sorted(set(ifaces) - {lk.name for lk in links})
        if missing:
            from linkctl.kernel.state import missing_link_hint

            where = f" in netns {netns}" if netns else ""
            hints = "".join(missing_link_hint(name, netns, (lk.name for lk in links)) for name in missing)
            raise LinkctlError(f"no such link{where}: {', '.join(missing)} (Device does not exist){hints}")
        links = [lk for lk in links if lk.name in ifaces]
    if fmt is ShowFormat.JSON:
        typer.echo(render.links_json(links, host, stats))
    elif fmt is ShowFormat.YAML:
        typer.echo(render.links_yaml(links, host), nl=False)
    else:
        from linkctl.cli.table import print_links

        print_links(links, host, stats)


def plan(
    file: Annotated[str, typer.Argument(help="declaration (YAML), or - for stdin")],
    netns: NetnsOpt = None,
    fmt: Annotated[PlanFormat, typer.Option("--format", "-f")] = PlanFormat.TEXT,
    rehearse: RehearseOpt = False,
    debug: DebugOpt = False,
    strict: StrictOpt = False,
) -> None:
    """Print what `apply` would change.

    Exit: 0 nothing differs
          2 changes pending
          1 error
          64 usage error
    """
    ctx = engine_cmds.context(file, netns, debug, strict)
    if rehearse:
        _rehearse(ctx, fmt, as_plan=True)
    raise typer.Exit(engine_cmds.plan(ctx, typer.echo, as_json=fmt is PlanFormat.JSON))


def apply_cmd(
    file: Annotated[str, typer.Argument(help="declaration (YAML), or - for stdin")],
    netns: NetnsOpt = None,
    rehearse: RehearseOpt = False,
    debug: DebugOpt = False,
    wait: WaitOpt = 0,
    strict: StrictOpt = False,
) -> None:
    """Make the links as declared: validated first, verified after, rolled back on failure.

    Exit: 0 applied and verified (or nothing to do)
          1 refused before any change or failed and rolled back (checked)
          4 failed and the rollback could not be checked (run `linkctl recover`)
          128+N stopped by signal N (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP; rolled back, checked)
          64 usage
    """
    ctx = engine_cmds.context(file, netns, debug, strict)
    if rehearse:
        _rehearse(ctx, PlanFormat.TEXT)
    engine_cmds.apply(ctx, typer.echo, wait)


def try_cmd(
    file: Annotated[str, typer.Argument(help="declaration (YAML)")],
    netns: NetnsOpt = None,
    timeout: Annotated[
        float, typer.Option(callback=durations.TIMEOUT, help="seconds to wait for confirmation (at most a day)")
    ] = 120,
    stable_for: Annotated[
        float,
        typer.Option(
            "--stable-for", callback=durations.STABLE_FOR, help="roll back if a declared link loses carrier within N s"
        ),
    ] = 0,
    debug: DebugOpt = False,
    wait: WaitOpt = 0,
    strict: StrictOpt = False,
) -> None:
    """Apply, then roll back unless confirmed (Enter, or `linkctl confirm`) within the timeout.

    Losing the terminal (SIGHUP, closed stdin) or kill -9 does not cancel the rollback at the deadline.
    Ctrl-C and SIGTERM reject the change at once.

    Exit: 0 confirmed (or nothing to change)
          3 rolled back (timeout, lost carrier)
          128+N rejected by signal N and rolled back
          4 the rollback could not be checked
          1 error
          64 usage
    """
    from linkctl.cli.render import plan_text
    from linkctl.engine.trial import run_trial

    ctx = engine_cmds.context(file, netns, debug, strict)
    code = run_trial(ctx, timeout, stable_for, echo=engine_cmds.escaped(typer.echo), describe=plan_text, wait=wait)
    raise typer.Exit(code)


def confirm() -> None:
    """Confirm a change that `linkctl try` is holding, from another shell (or after it was cut off).

    Exit: 0 confirmed
          1 nothing waiting, or too late (it says what became of the change)
    """
    from linkctl.engine.trial import confirm_pending

    engine_cmds.escaped(typer.echo)(confirm_pending())


def recover(
    netns: Annotated[
        str | None,
        typer.Option("--netns", "-n", callback=netns_opt.checked, help="only a change that involved this namespace"),
    ] = None,
    debug: DebugOpt = False,
    wait: WaitOpt = 0,
) -> None:
    """Roll back a change cut off half-way (kill -9, a crash): checked, from the change journal.

    Exit: 0 rolled back and checked, or nothing to recover
          4 the rollback could not be checked (the journal is kept)
          1 error
    """
    from linkctl.engine.recover import recover as roll_back

    raise typer.Exit(
        roll_back(netns, netns is not None, engine_cmds.escaped(typer.echo), wait, engine_cmds.debug_hook(debug))
    )


def _rehearse(ctx: Context, fmt: PlanFormat, as_plan: bool = False) -> NoReturn:
    """Exit 1 when the kernel refused; `plan --rehearse` exits 2 when changes are pending, as `plan` does."""
    from linkctl.engine.rehearse import rehearse

    report = rehearse(ctx)
    engine_cmds.escaped(typer.echo)(report.to_json() if fmt is PlanFormat.JSON else report.to_text())
    if not report.ok:
        raise typer.Exit(1)
    pending = as_plan and not report.plan.empty
    raise typer.Exit(engine_cmds.PLAN_PENDING if pending else engine_cmds.PLAN_SAME)


def register(app: typer.Typer) -> None:
    app.command("show")(show)
    app.command("plan")(plan)
    app.command("apply")(apply_cmd)
    app.command("try")(try_cmd)
    app.command("confirm")(confirm)
    app.command("recover")(recover)

"""`linkctl show|plan|apply|try|confirm`: the declarative link engine's front end."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from linkctl.errors import LinkctlError

if TYPE_CHECKING:  # imported where used: `linkctl logs ...` must not pay for the engine
    from linkctl.engine.apply import Context
    from linkctl.kernel.netlink import DebugHook

NetnsOpt = Annotated[str | None, typer.Option("--netns", "-n", help="work inside this `ip netns` namespace")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="print each netlink request and the kernel's answer")]
RehearseOpt = Annotated[
    bool, typer.Option("--rehearse", help="carry it out in a throwaway namespace copy, never on the host")
]


class ShowFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    YAML = "yaml"


class PlanFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def _debug(enabled: bool) -> DebugHook | None:
    if not enabled:
        return None
    from linkctl.kernel.debug import printer

    return printer()


def _context(file: str, netns: str | None, debug: bool) -> Context:
    from linkctl.cli import prefetch
    from linkctl.engine.apply import Context
    from linkctl.model.load import from_loaded, parse_bytes, parse_text, read_file

    if file == "-":
        return Context(parse_text(sys.stdin.read(), "<stdin>"), file, netns, _debug(debug))
    data = read_file(file)  # the very bytes parsed are the ones a receipt names
    parsed, loaded = prefetch.collect(file, data)
    decl = from_loaded(loaded, file) if parsed else parse_bytes(data, file)
    return Context(decl, file, netns, _debug(debug), data=data)


def show(
    ifaces: Annotated[list[str] | None, typer.Argument(help="only these links")] = None,
    netns: NetnsOpt = None,
    fmt: Annotated[ShowFormat, typer.Option("--format", "-f")] = ShowFormat.TABLE,
    stats: Annotated[bool, typer.Option("--stats", "-s", help="rx/tx counters")] = False,
) -> None:
    """List links with what `ip -details -statistics link show` tells."""
    from linkctl.cli import render
    from linkctl.kernel.state import read_with_peers

    host = read_with_peers(netns, stats=stats)
    if netns not in host.namespaces:
        raise LinkctlError(f"network namespace {netns!r} does not exist (see `ip netns list`)")
    links = sorted(host.ns(netns).links.values(), key=lambda lk: lk.ifindex)
    if ifaces:
        missing = sorted(set(ifaces) - {lk.name for lk in links})
        if missing:
            raise LinkctlError(f"no such link: {', '.join(missing)} (Device does not exist)")
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
) -> None:
    """Print what `apply` would change; exit 0 when nothing differs, 2 when changes are pending."""
    from linkctl.cli import render
    from linkctl.engine.apply import may_keep_receipt, prepare

    ctx = _context(file, netns, debug)
    if rehearse:
        _rehearse(ctx, fmt)
        return
    ctx.fingerprint = may_keep_receipt(ctx)
    host, the_plan = prepare(ctx)
    if the_plan.empty:
        _keep_receipt(ctx, host.digest, len(the_plan.unchanged))
    typer.echo(render.plan_json(the_plan) if fmt is PlanFormat.JSON else render.plan_text(the_plan))
    raise typer.Exit(0 if the_plan.empty else 2)


def apply_cmd(
    file: Annotated[str, typer.Argument(help="declaration (YAML), or - for stdin")],
    netns: NetnsOpt = None,
    rehearse: RehearseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Make the links as declared: validated first, verified after, rolled back on failure."""
    from linkctl.cli import render
    from linkctl.engine.apply import apply, may_keep_receipt, prepare

    ctx = _context(file, netns, debug)
    if rehearse:
        _rehearse(ctx, PlanFormat.TEXT)
        return
    ctx.fingerprint = may_keep_receipt(ctx)
    host, the_plan = prepare(ctx)
    if the_plan.empty:
        _keep_receipt(ctx, host.digest, len(the_plan.unchanged))
        typer.echo(
            f"no changes: {len(the_plan.unchanged)} interface(s) already as declared; nothing was sent to the kernel"
        )
        return
    typer.echo(render.plan_text(the_plan))
    result = apply(ctx, host, the_plan)
    _keep_receipt(ctx, result.digest, result.unchanged)
    typer.echo(f"applied and verified: {the_plan.size} change(s) in {result.requests} netlink request(s)")


def _keep_receipt(ctx: Context, digest: str | None, interfaces: int) -> None:
    """Let the next `apply` of these bytes end at the dump when nothing changed (engine/receipt.py)."""
    if not ctx.fingerprint or digest is None or ctx.data is None:
        return
    from linkctl.engine import receipt

    receipt.record(ctx.data, ctx.default_netns, receipt.Receipt(ctx.namespaces(), digest, interfaces))


def try_cmd(
    file: Annotated[str, typer.Argument(help="declaration (YAML)")],
    netns: NetnsOpt = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait for confirmation")] = 120,
    stable_for: Annotated[
        float, typer.Option("--stable-for", help="roll back if a declared link loses carrier within N s")
    ] = 0,
    debug: DebugOpt = False,
) -> None:
    """Apply, then roll back unless confirmed (Enter, or `linkctl confirm`) within the timeout."""
    from linkctl.engine.trial import run_trial

    ctx = _context(file, netns, debug)
    code = run_trial(ctx, timeout, stable_for, echo=typer.echo)
    raise typer.Exit(code)


def confirm() -> None:
    """Confirm a change that `linkctl try` is holding, from another shell."""
    from linkctl.engine.trial import confirm_pending

    typer.echo(confirm_pending())


def _rehearse(ctx: Context, fmt: PlanFormat) -> None:
    from linkctl.engine.rehearse import rehearse

    report = rehearse(ctx)
    typer.echo(report.to_json() if fmt is PlanFormat.JSON else report.to_text())
    raise typer.Exit(0 if report.ok else 1)


def register(app: typer.Typer) -> None:
    app.command("show")(show)
    app.command("plan")(plan)
    app.command("apply")(apply_cmd)
    app.command("try")(try_cmd)
    app.command("confirm")(confirm)

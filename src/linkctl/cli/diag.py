"""`linkctl audit|diagnose|doctor|persist|boot-apply`.

Exit codes of audit, diagnose and doctor: 0 nothing found, 1 warnings, 2 problems.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from linkctl.cli import durations, netns_opt
from linkctl.errors import LinkctlError, printable


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"


NetnsOpt = Annotated[
    str | None,
    typer.Option("--netns", "-n", callback=netns_opt.checked, help="work inside this `ip netns` namespace"),
]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="text or json.")]


def _json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def audit(
    netns: NetnsOpt = None,
    declaration: Annotated[
        Path | None, typer.Option("--declaration", "-d", help="Check links against this file's namespaces.")
    ] = None,
    interval: Annotated[
        float, typer.Option(callback=durations.INTERVAL, help="Seconds between the two counter samples.")
    ] = 1.0,
    fmt: FormatOpt = Format.TEXT,
) -> None:
    """Configuration problems of every link (the whole host, or one namespace).

    Exit: 0 no findings
          1 warnings (or a namespace not read)
          2 problems
          3 could not audit
    """
    from linkctl.diagnose.audit import audit_namespaces, run_audit
    from linkctl.diagnose.findings import exit_code
    from linkctl.model.load import load_file

    decl = load_file(str(declaration)) if declaration else None
    spaces = audit_namespaces(netns, all_netns=netns is None)
    findings, ctx = run_audit(spaces, decl, interval, default_netns=netns)
    unread = sum(where.startswith("netns ") for where in ctx.unreadable)
    if fmt is Format.JSON:
        _json([f.to_json() for f in findings])
    else:
        for f in findings:
            typer.echo(printable("\n".join(f.text())))
        count = sum(len(ctx.host.ns(ns).links) for ns in spaces if ns in ctx.host.namespaces)
        line = f"{len(findings)} finding(s) on {count} link(s)" if findings else f"no findings on {count} link(s)"
        typer.echo(line + (f"; {unread} namespace(s) not read" if unread else ""))
    for where, why in ctx.unreadable.items():
        typer.echo(printable(f"not read: {where}: {why}"), err=True)
    # A namespace not read is not a clean one: at least a warning's code.
    raise typer.Exit(max(exit_code(f.severity for f in findings), 1 if unread else 0))


def diagnose(
    iface: Annotated[str, typer.Argument(help="The link to diagnose.")],
    netns: NetnsOpt = None,
    logs: Annotated[
        list[Path] | None, typer.Option("--logs", help="Kernel log files (default: journald or /dev/kmsg).")
    ] = None,
    since: Annotated[str, typer.Option(help="How far back: 7d, 24h, or an ISO time.")] = "7d",
    store: Annotated[str | None, typer.Option(help="The watch store URL, for flap history.")] = None,
    store_timeout: durations.StoreTimeout = None,
    kernel_debug: Annotated[
        float | None,
        typer.Option(
            "--kernel-debug",
            metavar="SECONDS",
            callback=durations.KERNEL_DEBUG,
            help="Driver dynamic debug for this long.",
        ),
    ] = None,
    write_fix: Annotated[
        Path | None, typer.Option("--write-fix", metavar="FILE", help="Write the proposed declarations here.")
    ] = None,
    fmt: FormatOpt = Format.TEXT,
) -> None:
    """Gather the evidence about one unstable link and rank the likely causes.

    Exit: 0 nothing wrong found
          1 warnings
          2 problems
          3 could not diagnose
    """
    from linkctl.cli.output import write_file
    from linkctl.diagnose.evidence import Sources
    from linkctl.diagnose.report import diagnose as run
    from linkctl.diagnose.report import fix_file, proposes, text
    from linkctl.store.records import parse_since

    if store is not None:
        from linkctl.store.backends import scheme_problem

        # A store that names no store is a typo, not missing history: refused, or the verdict
        # ("nothing wrong", exit 0) would be read as made with the flap history asked for.
        problem = scheme_problem(store)
        if problem is not None:
            raise typer.BadParameter(problem, param_hint="--store")
    given = [str(p) for p in logs] if logs else None
    sources = Sources(logs=given, since=parse_since(since), store_url=store, store_timeout=store_timeout)
    d = run(iface, netns, sources, kernel_debug=kernel_debug)
    written = write_fix is not None and proposes(d)
    if write_fix is not None and written:
        write_file(write_fix, fix_file(d))
    if fmt is Format.JSON:
        _json(d.to_json())
    else:
        typer.echo(printable(text(d)))  # the link's name, as the kernel took it, is in it
        if write_fix is not None and written:
            typer.echo(f"\nproposed declarations written to {write_fix}: review, then `linkctl plan {write_fix}`")
    if write_fix is not None and not written:  # a file naming the link alone would apply as "nothing to change"
        typer.echo(f"linkctl: no declaration to propose: nothing written to {write_fix}", err=True)
    raise typer.Exit(d.severity.rank)


def doctor(fmt: FormatOpt = Format.TEXT) -> None:
    """Can linkctl do its job here? Each check with its fix.

    Exit: 0 all checks pass
          1 warnings
          2 something linkctl needs is missing
          3 could not check
    """
    from linkctl.diagnose.doctor import run_doctor
    from linkctl.diagnose.findings import exit_code

    checks = run_doctor()
    if fmt is Format.JSON:
        _json([c.to_json() for c in checks])
    else:
        for c in checks:
            typer.echo(c.text())
    raise typer.Exit(exit_code(c.severity for c in checks))


def persist(
    files: Annotated[
        list[Path] | None, typer.Argument(help="Declarations to keep for boot (checked first), as applied.")
    ] = None,
    netns: Annotated[
        str | None,
        typer.Option("--netns", "-n", help="The namespace FILEs were applied into (`apply --netns NS`)."),
    ] = None,
    root: Annotated[Path, typer.Option(help="Install under this root (for images and tests).")] = Path("/"),
    linkctl: Annotated[
        str | None, typer.Option("--linkctl", help="Absolute path of the linkctl program (default: this one).")
    ] = None,
    enable: Annotated[bool, typer.Option(help="Enable the unit (WantedBy=multi-user.target).")] = True,
    remove: Annotated[bool, typer.Option("--remove", help="Uninstall the unit (declarations are kept).")] = False,
) -> None:
    """Install linkctl-apply.service and keep FILEs for it: applied at every boot, before the network.

    FILE goes to /etc/linkctl/FILE, or with --netns NS to /etc/linkctl/netns/NS/FILE:
    boot-apply applies each into the namespace it was kept for.
    """
    from linkctl.diagnose import persist as unit

    if remove and (files or netns):
        raise typer.BadParameter("--remove takes no FILE or --netns: it uninstalls the unit only")
    result = unit.remove(root) if remove else unit.install(root, linkctl, enable, files or [], netns)
    for line in result.lines(removed=remove):
        typer.echo(line)


def boot_apply(
    directory: Annotated[Path, typer.Option("--dir", help="Where the declarations are.")] = Path("/etc/linkctl"),
    wait: Annotated[
        float,
        typer.Option("--wait", callback=durations.WAIT, help="wait up to N seconds for another linkctl's change"),
    ] = 0,
) -> None:
    """Apply the kept declarations (what linkctl-apply.service runs at boot).

    DIR/*.yml into the host's namespace, in name order; then DIR/netns/NS/*.yml into
    namespace NS (made if missing), by namespace name.

    Exit: 0 every file applied (or nothing to do)
          1 a file was refused, or failed and was rolled back (checked), or is under a directory
            of netns/ whose name is no namespace's; the other files are applied
          4 a rollback could not be checked (the files after it are not applied)
          128+N stopped by signal N (rolled back, checked; the files after it are not applied)
    """
    from linkctl.cli.engine_cmds import Output
    from linkctl.diagnose.persist import boot_files, boot_passed_over

    # A full or closed stdout (a log file on a full disk) must not stop the files after it: as `apply`.
    out = Output(typer.echo)
    files = boot_files(directory)
    passed_over = boot_passed_over(directory)
    for why in passed_over:
        typer.echo(why, err=True)
    worst = 1 if passed_over else 0
    for path, netns in files:
        try:
            for line in apply_file(str(path), wait, netns):
                out(f"{path}: {line}")
        except LinkctlError as exc:
            typer.echo(f"{path}: {exc}", err=True)
            worst = max(worst, exc.exit_code)
            if exc.exit_code != 1:  # a signal, or links left half-changed: going on would plan over them
                break
    if not files and not passed_over:
        out(f"{directory}: no *.yml files")
    out.report()
    raise typer.Exit(worst)


def apply_file(path: str, wait: float = 0, netns: str | None = None) -> list[str]:
    """One file through the engine, into `netns` (None: the host's): links, then its ethtool and module sections."""
    from linkctl.engine.apply import Context, apply, prepare
    from linkctl.engine.changelock import change_session
    from linkctl.model.load import load_file

    ctx = Context(load_file(path), path, netns)
    said: list[str] = []
    with change_session("boot-apply", wait, said.append) as held:
        host, plan = prepare(ctx)
        if plan.empty:
            return [*said, "nothing to change"]
        result = apply(ctx, host, plan, rt=held.rt if held else None, command="boot-apply")
    lines = [*said, f"{len(plan.ops)} link change(s)", *plan.extra]
    if result.remediation is not None:
        lines += [f"note: {n}" for n in result.remediation.notes]
    return lines


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)
    app.command("diagnose")(diagnose)
    app.command("doctor")(doctor)
    app.command("persist")(persist)
    app.command("boot-apply", hidden=False)(boot_apply)


if __name__ == "__main__":  # pragma: no cover - `python -m linkctl.cli.diag` for trying it alone
    _app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False)
    register(_app)
    try:
        _app()
    except LinkctlError as exc:
        typer.echo(f"linkctl: {exc}", err=True)
        sys.exit(exc.exit_code)

"""What `plan` and `apply` do, without the CLI library.

The typer commands in cli/links.py parse the options and call these. The
plain forms, `linkctl apply FILE [-n NS]` and `linkctl plan FILE [-n NS]`,
are also run straight from cli/entry.py, before typer is imported: on this
machine that import and its dispatch are 0.1 s of a 2000-link apply (0.5 s
before the first change), and nothing typer does is needed for those two forms.
Every other option or shape goes through typer, which words its own usage errors.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: the engine's import is the cost this module is about
    from linkctl.engine.apply import Context
    from linkctl.engine.runtime import RuntimeDir
    from linkctl.errors import ValidationFailed
    from linkctl.kernel.netlink import DebugHook
    from linkctl.model.load import SchemaFailed

Echo = Callable[[str], None]

# Exit codes of `plan`, as `terraform plan -detailed-exitcode`.
PLAN_SAME, PLAN_PENDING = 0, 2


def escaped(echo: Echo) -> Echo:
    """`echo` with what a terminal would act on escaped: a link's name may hold an ESC (the kernel
    allows it), and a plan names links as the kernel has them."""
    from linkctl.errors import printable

    return lambda text: echo(printable(text))


def debug_hook(enabled: bool) -> DebugHook | None:
    if not enabled:
        return None
    from linkctl.kernel.debug import printer

    return printer()


def context(file: str, netns: str | None, debug: bool, strict: bool = False) -> Context:
    """The file read and checked against the format. `strict`: refuse nmstate's sections linkctl
    does not manage, rather than name them and leave them (model/unmanaged.py)."""
    from linkctl.cli import prefetch
    from linkctl.engine.apply import Context
    from linkctl.model.load import SchemaFailed, from_loaded, parse_bytes, read_file, read_stdin

    notes: list[str] = []
    source = "<stdin>" if file == "-" else file
    data = read_stdin() if file == "-" else read_file(file)  # the very bytes parsed are the ones a receipt names
    try:
        parsed, loaded = prefetch.collect(file, data) if file != "-" else (False, None)
        decl = from_loaded(loaded, file, strict, notes) if parsed else parse_bytes(data, source, strict, notes)
    except SchemaFailed as exc:
        _notes(notes)
        if exc.partial is None:
            raise
        raise _with_state_problems(exc, Context(exc.partial, source, netns)) from None
    _notes(notes)
    if file == "-":
        return Context(decl, source, netns, debug_hook(debug), notes=notes)
    return Context(decl, file, netns, debug_hook(debug), data=data, notes=notes)


def _with_state_problems(failed: SchemaFailed, partial: Context) -> ValidationFailed:
    """The format's problems and, in the same pass, what validation against the kernel's state finds
    in the entries that parsed: a person fixes the file once, not once per kind of problem.

    A check on a key the format refused is not repeated (its entry was validated without it)."""
    from linkctl.engine.apply import prepare
    from linkctl.errors import LinkctlError, ValidationFailed

    try:
        prepare(partial)
    except ValidationFailed as more:
        told = {(p.where, p.field.split(".")[0]) for p in failed.problems}
        extra = [p for p in more.problems if (p.where, p.field.split(".")[0]) not in told]
        return ValidationFailed(failed.problems + extra)
    except (LinkctlError, OSError):
        pass  # the state cannot be read (no such netns, no privilege): the format's problems alone
    return ValidationFailed(failed.problems)


def plan(ctx: Context, echo: Echo, as_json: bool = False) -> int:
    """Print what `apply` would change; PLAN_SAME or PLAN_PENDING."""
    echo = escaped(echo)
    from linkctl.cli import render
    from linkctl.engine.apply import prepare
    from linkctl.engine.changelock import unfinished_words
    from linkctl.engine.journal import unfinished
    from linkctl.fastpath import receipt

    pending = unfinished(ctx.namespaces())
    if pending is not None:
        _warn(unfinished_words(pending))
    ctx.fingerprint = receipt.may_keep(ctx)
    host, the_plan = prepare(ctx)
    if the_plan.empty:
        receipt.keep(ctx, host.digest, len(the_plan.unchanged))
    if as_json:  # on stderr already; a program reading the JSON gets them there too
        the_plan.notes[:0] = ctx.notes
    echo(render.plan_json(the_plan) if as_json else render.plan_text(the_plan))
    return PLAN_SAME if the_plan.empty else PLAN_PENDING


def apply(ctx: Context, echo: Echo, wait: float = 0) -> int:
    """Make the links as declared; 0, or a LinkctlError (ApplyFailed after a rollback)."""
    echo = escaped(echo)
    from linkctl.engine.changelock import change_session

    out = Output(echo)
    # Read, plan and change with no other linkctl changing links.
    with change_session("apply", wait, out) as held:
        code = _apply(ctx, out, held.rt if held else None)
    out.report()
    return code


class Output:
    """stdout for what a change says. A reader gone (`apply FILE | head -1`), a closed or full stdout
    neither undoes the change (the plan is printed while the kernel works) nor turns one made and
    verified into an error: the exit code stays the change's, as `ip` and git keep theirs."""

    def __init__(self, echo: Echo) -> None:
        self.echo, self.last = echo, ""
        self.lost: OSError | None = None

    def __call__(self, text: str) -> None:
        self.last = text
        if self.lost is not None:
            return
        try:
            self.echo(text)
        except (OSError, ValueError) as exc:  # ValueError: a closed file
            self.lost = exc if isinstance(exc, OSError) else OSError(errno.EBADF, os.strerror(errno.EBADF))

    def report(self) -> None:
        """Say on stderr how it ended when stdout failed, but for a reader that left (EPIPE), as `| head` does."""
        if self.lost is not None and self.lost.errno != errno.EPIPE:
            with contextlib.suppress(OSError, ValueError, AttributeError):  # no stderr either: the exit code says
                sys.stderr.write(f"linkctl: cannot write to stdout ({self.lost.strerror}): {self.last}\n")


def _apply(ctx: Context, echo: Echo, rt: RuntimeDir | None) -> int:
    from linkctl.cli import render
    from linkctl.engine.apply import apply as carry_out
    from linkctl.engine.apply import prepare
    from linkctl.fastpath import receipt

    ctx.fingerprint = receipt.may_keep(ctx)
    host, the_plan = prepare(ctx)
    if the_plan.empty:
        receipt.keep(ctx, host.digest, len(the_plan.unchanged))
        echo(f"no changes: {len(the_plan.unchanged)} interface(s) already as declared; nothing was sent to the kernel")
        return 0
    shown = False

    def show_plan() -> None:  # once: while the kernel works, or before a failure is reported
        nonlocal shown
        if not shown:
            shown = True
            echo(render.plan_text(the_plan))

    try:
        result = carry_out(ctx, host, the_plan, meanwhile=show_plan, rt=rt)
    finally:
        show_plan()
    receipt.keep(ctx, result.digest, result.unchanged)
    echo(f"applied and verified: {the_plan.size} change(s) in {result.requests} netlink request(s)")
    return 0


def run_plain(command: str, file: str, netns: str | None, strict: bool = False) -> int:
    """`apply FILE [-n NS] [--strict]` or `plan FILE [-n NS] [--strict]` as the typer command would run it."""
    ctx = context(file, netns, debug=False, strict=strict)
    if command == "apply":
        return apply(ctx, _print)
    return plan(ctx, _print)


def _print(text: str) -> None:
    if sys.stdout is None:  # started with stdout closed (`>&-`)
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))
    sys.stdout.write(text + "\n")
    sys.stdout.flush()  # a failing stdout is found here, where the words are known, not at exit


def _notes(notes: list[str]) -> None:
    from linkctl.errors import printable

    for note in notes:
        sys.stderr.write(f"linkctl: note: {printable(note)}\n")


def _warn(text: str) -> None:
    from linkctl.errors import printable

    sys.stderr.write(f"linkctl: warning: {printable(text)}\n")

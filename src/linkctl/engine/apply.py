"""plan / apply / rollback: validated before the first change, verified after.

Rollback re-applies the state read before the change (as a declaration, the
same one `show --format yaml` prints) through the same planner and executor,
then verifies it like any other apply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING

from linkctl.engine.errors import RemediationFailed
from linkctl.engine.executor import Executor, StepFailed
from linkctl.errors import LinkctlError
from linkctl.kernel import caps, netns
from linkctl.kernel.netlink import DebugHook
from linkctl.kernel.state import read_state
from linkctl.kinds import BY_TYPE, kind_of
from linkctl.model.convert import declaration_of
from linkctl.model.ops import CreateLink, DeleteLink, MoveLink, Op, Plan, SetMaster
from linkctl.model.plan import Key, make_plan
from linkctl.model.spec import Declaration, InterfaceSpec, LinkStateName
from linkctl.model.state import HostState, NetnsName
from linkctl.model.validate import validate

if TYPE_CHECKING:  # ethtool and /sys work is imported only by declarations that have it
    from linkctl.engine.remediate import RemediationPlan


@dataclass
class Context:
    """What one command works on: the declaration and where its links live."""

    decl: Declaration
    source: str
    default_netns: NetnsName = None
    debug: DebugHook | None = None
    data: bytes | None = None  # the file's bytes, when it came from a file
    fingerprint: bool = False  # reads also fingerprint the dumps (engine/receipt.py)
    _namespaces: list[NetnsName] | None = field(default=None, init=False, repr=False)

    def namespaces(self) -> list[NetnsName]:
        # Asked by each read, the snapshot and the receipt: one walk of the declaration serves all.
        if self._namespaces is None:
            names: list[NetnsName] = [self.default_netns]
            for spec in self.decl.interfaces:
                names.append(spec.netns if spec.netns is not None else self.default_netns)
                if spec.veth is not None and spec.veth.peer_netns is not None:
                    names.append(spec.veth.peer_netns)
            self._namespaces = list(dict.fromkeys(names))
        return list(self._namespaces)

    def read(self) -> HostState:
        return read_state(self.namespaces(), debug=None, digest=self.fingerprint)


def may_keep_receipt(ctx: Context) -> bool:
    """Whether this apply or plan may leave a receipt: read from a file, only link settings declared."""
    from linkctl.engine import receipt

    return ctx.data is not None and receipt.enabled() and not has_remediation(ctx.decl)


def needed_kinds(decl: Declaration, host: HostState) -> set[str]:
    """Kernel kinds the declaration creates that no existing link proves available."""
    present = {lk.kind for lk in host if lk.kind}
    wanted = set()
    for spec in decl.interfaces:
        kkind = BY_TYPE[spec.type].kernel_kind if spec.type else None
        if kkind and not spec.absent and kkind not in present:
            wanted.add(kkind)
    return wanted


def prepare(ctx: Context, probe: bool = True) -> tuple[HostState, Plan]:
    """Read, validate, plan: nothing is changed."""
    host = ctx.read()
    creatable = None
    kinds = needed_kinds(ctx.decl, host)
    if probe and kinds:
        from linkctl.kernel.probe import ProbeUnavailable, creatable_kinds

        try:
            creatable = creatable_kinds(kinds) | {lk.kind for lk in host if lk.kind}
        except ProbeUnavailable:
            creatable = None  # unprivileged `plan`: the kernel's answer at apply time decides
    missing = kinds - creatable if creatable is not None else set()
    validate(ctx.decl, host, ctx.source, ctx.default_netns, creatable, _module_advice(missing))
    plan = make_plan(ctx.decl, host, ctx.default_netns)
    plan.ops = _name_lost_addresses(plan.ops, host)
    if has_remediation(ctx.decl):
        plan.extra = _remediation(ctx, host).lines()
    return host, plan


def _module_advice(kinds: set[str]) -> dict[str, str]:
    """What to do about each kind this kernel cannot create, as `linkctl doctor` words it."""
    if not kinds:
        return {}
    from linkctl.kernel import sysinfo  # reads /proc and /lib/modules: only when a kind is missing

    modules = {k.kernel_kind: k.module for k in BY_TYPE.values() if k.kernel_kind and k.module}
    return {kind: sysinfo.module_advice(modules[kind]) for kind in kinds if kind in modules}


def _loses_addresses(op: Op, host: HostState) -> bool:
    """A move or a deletion drops a link's addresses; a link made a port keeps them but no longer
    answers on them (but for a VRF's ports: answering on them is what a VRF is for)."""
    if isinstance(op, (MoveLink, DeleteLink)):
        return True
    if not isinstance(op, SetMaster) or op.master is None:
        return False
    master = host.find(op.master, op.netns)
    return master is None or master.kind != "vrf"


def _name_lost_addresses(ops: list[Op], host: HostState) -> list[Op]:
    """Each move, deletion or enslavement names the addresses it makes useless (read only then)."""
    # Only links that exist now carry anything (an enslavement may be in a namespace the plan creates).
    losing = [op for op in ops if op.netns in host.namespaces and _loses_addresses(op, host)]
    if not losing:
        return ops
    from linkctl.kernel.addresses import addresses

    try:
        by_ns = {op.netns: addresses(op.netns) for op in losing}
    except (OSError, LinkctlError):
        return ops  # the moves keep their general warning
    losing_ids = {id(op) for op in losing}  # by identity: equal ops compare field by field
    out: list[Op] = []
    for op in ops:
        link = host.find(op.name, op.netns) if id(op) in losing_ids else None
        if link is not None and isinstance(op, (MoveLink, SetMaster, DeleteLink)):
            op = replace(op, addresses=tuple(by_ns[op.netns].get(link.ifindex, ())))
        out.append(op)
    return out


def has_remediation(decl: Declaration) -> bool:
    """ethtool, ethernet or kernel-modules sections: carried out by ethtool and /sys, not netlink."""
    return bool(decl.kernel_modules) or any(s.ethtool or s.ethernet for s in decl.interfaces)


def _remediation(ctx: Context, host: HostState) -> RemediationPlan:
    from linkctl.engine.remediate import plan_remediation

    return plan_remediation(ctx.decl, host, ctx.default_netns, source=ctx.source)


@dataclass
class ApplyResult:
    plan: Plan
    requests: int = 0
    snapshot: Snapshot | None = None
    executor: Executor | None = None
    remediation: RemediationPlan | None = None
    digest: str | None = None  # fingerprint of the links as verified, when the context asked for one
    unchanged: int = 0  # interfaces found as declared by the verification

    def rollback(self, ctx: Context) -> str:
        """Undo a successful apply (`try` without confirmation): ethtool first, then links."""
        notes = []
        if self.remediation is not None and not self.remediation.empty:
            from linkctl.engine.remediate import undo_remediation

            notes.append(undo_remediation(self.remediation))
        if self.snapshot is not None and self.executor is not None:
            notes.append(self.snapshot.restore(ctx, self.executor))
        return "\n".join(notes) or "nothing to roll back: nothing was changed"


class ApplyFailed(LinkctlError):
    def __init__(self, cause: str, rollback_note: str) -> None:
        super().__init__(f"{cause}\n{rollback_note}")


class VerifyFailed(LinkctlError):
    def __init__(self, residual: Plan) -> None:
        lines = "\n".join(f"  - {op.describe()}" for op in residual.ops)
        super().__init__(f"verification failed: after apply the kernel still differs:\n{lines}")


def apply(ctx: Context, host: HostState, plan: Plan, meanwhile: Callable[[], None] | None = None) -> ApplyResult:
    """Carry the plan out; on any failure put every touched link back as it was.

    `meanwhile` runs once the last request is handed to the kernel, while it
    works through them (the executor's wait): output that need not precede the
    first change goes there.
    """
    result = ApplyResult(plan)
    if plan.empty:
        return result
    if not caps.has(caps.CAP_NET_ADMIN):
        raise LinkctlError(
            f"{plan.size} change(s) pending, but changing links needs CAP_NET_ADMIN: "
            "run as root (sudo linkctl apply ...); nothing was changed"
        )
    snapshot = Snapshot.take(host, ctx)
    executor = Executor(host, ctx.debug)
    try:
        executor.run(plan.ops, meanwhile)
        result.requests = executor.requests_sent
        after = ctx.read()
        residual = make_plan(ctx.decl, after, ctx.default_netns)
        if not residual.empty:
            raise VerifyFailed(residual)
        result.digest, result.unchanged = after.digest, len(residual.unchanged)
        if has_remediation(ctx.decl):
            # Planned again: links created just now can only be read once they exist.
            from linkctl.engine.remediate import apply_remediation

            result.remediation = _remediation(ctx, ctx.read())
            apply_remediation(result.remediation)  # undoes its own changes on failure
    except (StepFailed, VerifyFailed, RemediationFailed) as exc:
        note = snapshot.restore(ctx, executor)
        raise ApplyFailed(str(exc), note) from None
    except (Exception, KeyboardInterrupt) as exc:
        # linkctl's own fault, or Ctrl-C, half-way through: the links go back all the same.
        note = snapshot.restore(ctx, executor)
        raise ApplyFailed(_unexpected(exc), note) from exc
    result.snapshot, result.executor = snapshot, executor
    return result


def _unexpected(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, LinkctlError):
        return str(exc)
    return f"internal error: {type(exc).__name__}: {exc} (please report this with the command that caused it)"


@dataclass
class Snapshot:
    """The links as they were before a change, re-applied as a declaration to roll back."""

    before: HostState
    namespaces: list[NetnsName]

    @classmethod
    def take(cls, host: HostState, ctx: Context) -> Snapshot:
        return cls(host, [n for n in ctx.namespaces() if n in host.namespaces])

    @cached_property
    def decl(self) -> Declaration:
        # Only a rollback needs it: not built before the first change of every apply.
        return declaration_of(self.before, netns=self.namespaces)

    def restore(self, ctx: Context, failed: Executor) -> str:
        """Roll back; return a sentence saying how that went."""
        located: dict[Key, NetnsName] = {
            (op.netns, op.name): op.to_netns for op in failed.done if isinstance(op, MoveLink)
        }
        try:
            all_ns = list(dict.fromkeys([*self.namespaces, *ctx.namespaces()]))
            now = read_state(all_ns)
            decl = self._with_absent(now, _created_by(failed))
            plan = make_plan(decl, now, ctx.default_netns, located)
            executor = Executor(now, ctx.debug)
            executor.run(plan.ops)
            residual = make_plan(self.decl, read_state(self.namespaces), ctx.default_netns)
            for name in failed.created_netns:
                netns.remove(name)
        except LinkctlError as exc:
            return (
                f"ROLLBACK FAILED: {exc}\nThe links may be half-changed: compare `linkctl show` with your last state."
            )
        if not residual.empty:
            left = "; ".join(op.describe() for op in residual.ops)
            return f"ROLLBACK INCOMPLETE: still differs: {left}"
        return f"rolled back: {len(plan.ops)} change(s) undone, the links are as they were before."

    def _with_absent(self, now: HostState, created: set[Key]) -> Declaration:
        """Links this run created are declared absent; a link someone else made is left alone."""
        before = {(lk.netns, lk.name) for lk in self.before}
        extra = [
            InterfaceSpec(name=lk.name, netns=lk.netns, state=LinkStateName.ABSENT, type=kind_of(lk).type)
            for lk in now
            if (lk.netns, lk.name) in created - before and kind_of(lk).creatable
        ]
        return Declaration(interfaces=[*self.decl.interfaces, *extra])


def _created_by(executor: Executor) -> set[Key]:
    created: set[Key] = set()
    for op in executor.done:
        if isinstance(op, CreateLink):
            created.add((op.netns, op.name))
            if op.peer is not None:
                created.add((op.peer.netns, op.peer.name))
    return created

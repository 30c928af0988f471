"""plan / apply / rollback: validated before the first change, verified after.

Rollback re-applies the state read before the change (as a declaration, the
same one `show --format yaml` prints) through the same planner and executor,
then verifies it like any other apply.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING

from linkctl import interrupts
from linkctl.engine import journal
from linkctl.engine.errors import RemediationFailed
from linkctl.engine.executor import Executor, StepFailed
from linkctl.engine.journal import Intent, Key
from linkctl.engine.made import Recorder
from linkctl.engine.rollback import Outcome, settle
from linkctl.engine.runtime import RuntimeDir
from linkctl.errors import LinkctlError
from linkctl.kernel import caps
from linkctl.kernel.host import process_start
from linkctl.kernel.netlink import DebugHook
from linkctl.kernel.state import link_homes, read_state
from linkctl.kinds import BY_TYPE
from linkctl.model.bridge_sections import INTERNAL
from linkctl.model.spec import Declaration
from linkctl.model.state import HostState, Link, NetnsName
from linkctl.plan.check_l3 import check_layer3, remakes_links
from linkctl.plan.check_mtu import misfit_notes, underlay_queries
from linkctl.plan.convert import declaration_of
from linkctl.plan.l3_model import has_l3, l3_namespaces
from linkctl.plan.l3_undo import undo_entries
from linkctl.plan.ops import CreateLink, CreateNetns, DeleteLink, MoveLink, Op, Plan, SetMaster
from linkctl.plan.planner import make_plan
from linkctl.plan.validate import validate
from linkctl.plan.vlans import has_port_vlans

if TYPE_CHECKING:  # ethtool and /sys work is imported only by declarations that have it
    from linkctl.plan.settings import SettingsPlan


@dataclass
class Context:
    """What one command works on: the declaration and where its links live."""

    decl: Declaration
    source: str
    default_netns: NetnsName = None
    debug: DebugHook | None = None
    data: bytes | None = None  # the file's bytes, when it came from a file
    fingerprint: bool = False  # reads also fingerprint the dumps, for a receipt (fastpath/receipt.py)
    # Reads take addresses, routes and rules too: the file declares some, or the plan re-makes a link.
    layer3: bool = False
    notes: list[str] = field(default_factory=list)  # what reading the file found to say (model/unmanaged.py)
    # Reads take every bridge port's VLANs: the file declares some (else only where a bridge filters).
    vlans: bool = field(default=False, init=False)
    _namespaces: list[NetnsName] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.layer3 = self.layer3 or has_l3(self.decl)
        self.vlans = has_port_vlans(self.decl)

    def namespaces(self) -> list[NetnsName]:
        # Asked by each read, the snapshot and the receipt: one walk of the declaration serves all.
        if self._namespaces is None:
            names: list[NetnsName] = [self.default_netns]
            for spec in self.decl.interfaces:
                names.append(spec.netns if spec.netns is not None else self.default_netns)
                if spec.veth is not None and spec.veth.peer_netns is not None:
                    names.append(spec.veth.peer_netns)
            names += l3_namespaces(self.decl)
            self._namespaces = list(dict.fromkeys(names))
        return list(self._namespaces)

    def layer3_read(self) -> list[NetnsName] | None:
        """The namespaces whose layer 3 each read takes (None: links only)."""
        return self.namespaces() if self.layer3 else None

    def vlan_read(self) -> list[NetnsName] | None:
        """The namespaces whose port VLANs the digest holds (None: none)."""
        return self.namespaces() if self.vlans else None

    def read(self) -> HostState:
        l3 = self.layer3_read()
        return read_state(self.namespaces(), debug=None, digest=self.fingerprint, l3=l3, vlans=self.vlans)


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
    underlays = {}
    if queries := underlay_queries(ctx.decl, host, ctx.default_netns):
        from linkctl.kernel.routes import read_underlays

        try:
            underlays = read_underlays(queries)
        except (OSError, LinkctlError):
            underlays = {}  # unreadable (an unprivileged `plan`): audit judges them once they exist
    validate(ctx.decl, host, ctx.source, ctx.default_netns, creatable, _module_advice(missing), underlays)
    if probe:
        from linkctl.kernel.probe import refuse_missing_features  # bridge VLANs: asked only when a file has them

        refuse_missing_features(ctx.decl, ctx.source)
    plan = make_plan(ctx.decl, host, ctx.default_netns)
    if not ctx.layer3 and remakes_links(plan.ops, host):
        # A link made again loses its addresses and routes: read them, and plan them back.
        ctx.layer3 = True
        host = ctx.read()
        plan = make_plan(ctx.decl, host, ctx.default_netns)
    if ctx.layer3:
        check_layer3(ctx.decl, host, plan, ctx.source, ctx.default_netns)
    plan.notes += misfit_notes(ctx.decl, host, ctx.default_netns, underlays)
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
    from linkctl.kernel.l3 import addresses_by_link

    try:
        by_ns = {ns: addresses_by_link(ns) for ns in {op.netns for op in losing}}  # once per namespace, not per op
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


def _remediation(ctx: Context, host: HostState) -> SettingsPlan:
    from linkctl.engine.remediate import plan_remediation

    return plan_remediation(ctx.decl, host, ctx.default_netns, source=ctx.source)


@dataclass
class ApplyResult:
    plan: Plan
    requests: int = 0
    snapshot: Snapshot | None = None
    remediation: SettingsPlan | None = None
    digest: str | None = None  # fingerprint of the links as verified, when the context asked for one
    unchanged: int = 0  # interfaces found as declared by the verification

    def rollback(self, ctx: Context, rt: RuntimeDir | None = None) -> Outcome:
        """Undo a successful apply (`try` without confirmation): ethtool and module settings, then links."""
        if self.snapshot is None:
            return Outcome(True, 0, "nothing to roll back: nothing was changed")
        return self.snapshot.restore(ctx, rt)


ROLLBACK_UNCHECKED = 4  # the links may be half-changed: the journal is kept for `linkctl recover`


class ApplyFailed(LinkctlError):
    def __init__(self, cause: str, rollback_note: str, exit_code: int = 1) -> None:
        super().__init__(f"{cause}\n{rollback_note}")
        self.exit_code = exit_code


class VerifyFailed(LinkctlError):
    def __init__(self, residual: Plan) -> None:
        lines = "\n".join(f"  - {op.describe()}" for op in residual.ops)
        super().__init__(f"verification failed: after apply the kernel still differs:\n{lines}")


def apply(
    ctx: Context,
    host: HostState,
    plan: Plan,
    meanwhile: Callable[[], None] | None = None,
    rt: RuntimeDir | None = None,
    command: str = "apply",
    hold: bool = False,
    guardian: int | None = None,
) -> ApplyResult:
    """Carry the plan out; on any failure or signal put every link back as it was, and check that.

    `rt`: the runtime directory where the change journal is written before the first request (the
    caller holds the change lock there); none for throwaway namespaces (`--rehearse`). `hold`: the
    change stays journalled after it is verified (`try` holds it until confirmed).
    `meanwhile` runs once the last request is handed to the kernel, while it works through
    them (the executor's wait): output that need not precede the first change goes there.
    """
    result = ApplyResult(plan)
    if plan.empty:
        return result
    if not caps.has(caps.CAP_NET_ADMIN):
        raise LinkctlError(
            f"{plan.size} change(s) pending, but changing links needs CAP_NET_ADMIN: "
            "run as root (sudo linkctl apply ...); nothing was changed"
        )
    snapshot = Snapshot.take(host, ctx, plan, command)
    recorder = Recorder(rt, snapshot.intent) if rt is not None else None  # which links it made: only those go
    executor = Executor(host, ctx.debug, hooks=recorder.hooks if recorder is not None else None)
    if rt is not None:
        if guardian is not None:
            snapshot.intent.guardian = guardian
            snapshot.intent.guardian_started_at = process_start(guardian)
        with interrupts.held():  # a signal now is acted on by changing() below, with the journal on disk
            journal.write(rt, snapshot.intent)
    try:
        with interrupts.changing():  # raises at once for a signal noted before: rolled back (nothing yet)
            try:
                after = _carry_out(ctx, plan, executor, result, meanwhile)
            finally:
                if recorder is not None:
                    recorder.close()
            if has_remediation(ctx.decl):
                _settings(ctx, after, result, snapshot, rt)
            if hold:  # `try` holds the change: its wait acts on the signals noted from now on
                interrupts.hold()
            else:
                interrupts.mark_done()
                if rt is not None:
                    journal.finish(rt)
    except (StepFailed, VerifyFailed, RemediationFailed) as exc:
        if isinstance(exc, StepFailed):
            snapshot.not_made(exc)
        outcome = snapshot.restore(ctx, rt)
        raise ApplyFailed(str(exc), outcome.message, 1 if outcome.ok else ROLLBACK_UNCHECKED) from None
    except (Exception, KeyboardInterrupt, interrupts.Interrupted) as exc:
        # linkctl's own fault, or a signal, half-way through: the links go back all the same.
        outcome = snapshot.restore(ctx, rt)
        code = interrupts.exit_code(interrupts.within(exc) or exc) if outcome.ok else ROLLBACK_UNCHECKED
        raise ApplyFailed(_unexpected(exc), outcome.message, code) from exc
    result.snapshot = snapshot
    return result


def _carry_out(
    ctx: Context, plan: Plan, executor: Executor, result: ApplyResult, meanwhile: Callable[[], None] | None
) -> HostState:
    """The links: carried out, verified; the links as verified."""
    executor.run(plan.ops, meanwhile)
    result.requests = executor.requests_sent
    after = ctx.read()
    residual = make_plan(ctx.decl, after, ctx.default_netns)
    if not residual.empty:
        raise VerifyFailed(residual)
    result.digest, result.unchanged = after.digest, len(residual.unchanged)
    return after


def _settings(ctx: Context, after: HostState, result: ApplyResult, snapshot: Snapshot, rt: RuntimeDir | None) -> None:
    """The ethtool and module settings, once the links are verified: planned again (links created just
    now can only be read once they exist), the values they find journalled before the first of them
    (every rollback puts those back), carried out by the executor, verified by planning again."""
    settings = result.remediation = _remediation(ctx, after)
    if settings.empty:
        return
    snapshot.intent.settings = [op.to_json() for op in settings.undo()]
    if rt is not None:
        with interrupts.held():  # on disk whole, or not at all, before the first setting changes
            journal.update(rt, settings=snapshot.intent.settings)
    Executor(after, ctx.debug).run(list(settings.ops))
    residual = _remediation(ctx, after)
    if not residual.empty:
        raise VerifyFailed(Plan(ops=list(residual.ops)))


def _unexpected(exc: BaseException) -> str:
    cause = interrupts.within(exc)
    if cause is not None or isinstance(exc, KeyboardInterrupt):
        return interrupts.describe(cause or exc)
    if isinstance(exc, LinkctlError):
        return str(exc)
    return f"internal error: {type(exc).__name__}: {exc} (please report this with the command that caused it)"


def _refuse_unnamed(host: HostState, deleted: list[Link]) -> None:
    """Before the first change: a link to delete, or its veth peer, whose name linkctl read with U+FFFD for
    bytes that are not UTF-8. A rollback would make it again under other bytes that read the same, and say
    "as before"; a name truly holding U+FFFD is refused too, as the two cannot be told apart once read."""
    for link in [*deleted, *(p for lk in deleted if (p := host.peer_of(lk)) is not None)]:
        if "\ufffd" in link.name:
            where = f" in netns {link.netns}" if link.netns else ""
            raise LinkctlError(
                f"interfaces: name {link.name!a}{where}: the kernel's name for this link is not UTF-8 (linkctl "
                "reads U+FFFD in its place), and a rollback could not make it again under the same bytes; rename it "
                "to a UTF-8 name first (`ip link set dev OLD name NEW`). Nothing was changed."
            )


@dataclass
class Snapshot:
    """The links as they were before a change, and what the change makes and moves."""

    before: HostState
    namespaces: list[NetnsName]
    plan: Plan
    command: str
    default_netns: NetnsName

    @classmethod
    def take(cls, host: HostState, ctx: Context, plan: Plan, command: str = "apply") -> Snapshot:
        namespaces = [n for n in ctx.namespaces() if n in host.namespaces]
        # A link the plan deletes takes its veth peer with it, wherever that lives, and a rollback makes
        # it again only knowing its peer's (or its base's) namespace: those are read, kept and checked too.
        deleted = [lk for op in plan.ops if isinstance(op, DeleteLink) and (lk := host.find(op.name, op.netns))]
        _refuse_unnamed(host, deleted)
        homes = link_homes(host, deleted) if deleted else []
        if homes:
            namespaces += homes
            host = read_state(namespaces, l3=namespaces if ctx.layer3 else None, vlans=ctx.vlans)
        return cls(host, namespaces, plan, command, ctx.default_netns)

    @cached_property
    def decl(self) -> Declaration:
        # Routes and rules are declared additively: those the plan adds are declared absent too.
        return undo_entries(declaration_of(self.before, netns=self.namespaces, restore=True), self.plan.ops)

    @cached_property
    def intent(self) -> Intent:
        """What the journal keeps, and what a rollback works from."""
        created: list[Key] = []
        moves: list[tuple[NetnsName, str, NetnsName]] = []
        made_ns: list[str] = []
        groups: list[tuple[NetnsName, str, int]] = []
        for op in self.plan.ops:
            if isinstance(op, DeleteLink) and (link := self.before.find(op.name, op.netns)) is not None:
                groups.append((op.netns, op.name, link.group))  # put back if a batch deletion is cut off
            elif isinstance(op, CreateLink):
                created.append((op.netns, op.name))
                if op.peer is not None:
                    created.append((op.peer.netns, op.peer.name))
            elif isinstance(op, MoveLink):
                moves.append((op.netns, op.name, op.to_netns))
            elif isinstance(op, CreateNetns) and op.name not in self.before.namespaces:
                made_ns.append(op.name)
        return Intent(
            command=self.command,
            default_netns=self.default_netns,
            namespaces=list(self.namespaces),
            before=[(lk.netns, lk.name) for ns in self.namespaces for lk in self.before.ns(ns).links.values()],
            restore=self.decl.model_dump(mode="json", by_alias=True, exclude_none=True, context=INTERNAL),
            created=created,
            created_netns=made_ns,
            moves=moves,
            groups=groups,
        )

    def not_made(self, failed: StepFailed) -> None:
        """The kernel refused to create a link because one of its name exists ("File exists"): made
        behind the change's back, not by it, and the rollback must leave it alone. (A later request
        of the same step, bringing a new peer up, refused for another reason, changes nothing here.)"""
        op = failed.op
        if isinstance(op, CreateLink) and failed.ack.errno == errno.EEXIST:
            refused = {(op.netns, op.name)} | ({(op.peer.netns, op.peer.name)} if op.peer else set())
            self.intent.created = [key for key in self.intent.created if key not in refused]

    def restore(self, ctx: Context, rt: RuntimeDir | None = None) -> Outcome:
        """Roll back (signals held, the journal gone only once the rollback is checked)."""
        return settle(rt, self.intent, self.decl, ctx.debug)

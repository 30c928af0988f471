"""Rollback: put the links back as they were before a change, then check the whole namespace.

One mechanism for every way a change can end badly: a refusal or a fault in
`apply` (in process), Ctrl-C, SIGTERM or SIGHUP (in process, signals held meanwhile),
`linkctl recover` after kill -9, and a `try` guardian whose holder is gone. All of
them work from an Intent (engine/journal.py): the state before as a declaration,
and what the plan creates and moves. What is undone is found by reading the kernel
again: an interrupt can land between a request's acknowledgement and its record. The
record decides only which links with a name the plan creates are the change's to
delete (engine/made.py): one it does not show made by the change is named and left alone.

The result is checked, not assumed: after the rollback the namespaces are read once
more, planned against the state before (links the change created declared absent),
and every link present that was not there before is named. Only an empty residual
lets the message say "as they were before".

ethtool and module settings the change made are put back first, while the links they are on
are still there: the journal keeps the ops that put back what they found (plan/settings_ops.py);
those that still differ from what is there now are carried out by the same executor, and a
second read finds none left, or names them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from linkctl import interrupts
from linkctl.engine import journal
from linkctl.engine.errors import RemediationFailed
from linkctl.engine.executor import DELETE_GROUP, Executor
from linkctl.engine.journal import Intent, Key
from linkctl.engine.made import Judged, judge
from linkctl.engine.runtime import RuntimeDir
from linkctl.errors import LinkctlError
from linkctl.kernel import netns, rtnl
from linkctl.kernel.netlink import DebugHook, RtnlSocket
from linkctl.kernel.rtnl import LinkAttrs
from linkctl.kernel.state import read_state
from linkctl.kinds import BY_TYPE, kind_of
from linkctl.kinds.base import OnBase
from linkctl.model.bridge_sections import INTERNAL
from linkctl.model.spec import Declaration, InterfaceSpec, InterfaceType, LinkStateName
from linkctl.model.state import HostState, NetnsName
from linkctl.plan.l3_model import has_l3
from linkctl.plan.planner import make_plan
from linkctl.plan.vlans import has_port_vlans

JOURNAL_KEPT = "\nThe change journal is kept: `linkctl recover` tries the rollback again."


@dataclass
class Outcome:
    ok: bool  # verified: every link as before, nothing of the change's left
    undone: int  # changes the rollback made
    message: str


def settle(
    rt: RuntimeDir | None,
    intent: Intent,
    decl: Declaration | None = None,
    debug: DebugHook | None = None,
    from_journal: bool = False,
) -> Outcome:
    """The one way a change is rolled back (apply's failure, `try`, its guardian, `recover`): no signal
    cuts it short, and the journal goes only once the rollback is checked. `from_journal`: by another
    process than the one that made the change (a journal of an earlier linkctl names the ethtool and
    module settings it cannot undo)."""
    with interrupts.held():
        outcome = roll_back(intent, decl, debug)
        if rt is not None:
            if outcome.ok:
                journal.finish(rt)
            else:
                outcome.message += JOURNAL_KEPT
        if outcome.ok:
            interrupts.mark_done()  # a signal from now on ends the command after it has reported
    if from_journal and intent.outside:
        outcome.message += "\nNot undone (ethtool and module settings, not in the journal): " + "; ".join(
            intent.outside
        )
    return outcome


def roll_back(intent: Intent, decl: Declaration | None = None, debug: DebugHook | None = None) -> Outcome:
    """Undo the change the intent describes, its ethtool and module settings first; say how that went,
    from a fresh read of the kernel."""
    if not intent.settings:
        return _links_back(intent, decl, debug)
    created = set(intent.created) - set(intent.before)
    back = restore_settings(intent.settings, created, debug)
    links = _links_back(intent, decl, debug)
    undone = links.undone + back.undone
    if back.left:
        text = f"ROLLBACK INCOMPLETE: ethtool and module settings still differ: {'; '.join(back.left)}"
        return Outcome(False, undone, f"{text}\n{links.message}")
    if not back.undone and not back.gone:  # none changed yet: the links' sentence says it all, once
        return Outcome(links.ok, undone, links.message)
    text = f"ethtool and module settings: {back.undone} put back, checked as they were before."
    if back.gone:  # as for a namespace removed since: named, and the rollback goes on
        text = f"ethtool and module settings: {back.undone} put back; not put back: {'; '.join(back.gone)}."
    return Outcome(links.ok, undone, f"{links.message}\n{text}")


@dataclass
class SettingsBack:
    undone: int  # settings the rollback changed
    left: list[str]  # what still differs, or cannot be read
    gone: list[str]  # settings of links that no longer exist


def restore_settings(
    saved: list[dict[str, object]], created: set[Key] | None = None, debug: DebugHook | None = None
) -> SettingsBack:
    """The settings as the journal found them (`Intent.settings`), put back and checked. Not on links gone
    since (their settings went with them, and a journal naming them must not keep `recover` failing for
    ever): named, but for those of links the change `created`, which the rollback deletes anyway."""
    from linkctl.engine.remediate import differing  # ethtool and /sys: only for changes that had them
    from linkctl.plan.settings_ops import SetEthtool, from_json

    targets = [from_json(entry) for entry in saved]
    try:
        here = read_state({op.netns for op in targets if isinstance(op, SetEthtool)})
    except LinkctlError as exc:
        return SettingsBack(0, [str(exc)], [])
    missing = [op for op in targets if isinstance(op, SetEthtool) and here.find(op.name, op.netns) is None]
    targets = [op for op in targets if op not in missing]
    try:
        ops, _unreadable = differing(targets)
        failed: dict[tuple[object, ...], str] = {}
        for op in ops:  # each on its own: one refused leaves the others to put back
            try:
                Executor(HostState(), debug).run([op])
            except RemediationFailed as exc:
                failed[op.key()] = str(exc)
        residual, unreadable = differing(targets)
    except (LinkctlError, OSError) as exc:  # ethtool gone, say, or a modprobe.d file unreadable
        return SettingsBack(0, [str(exc)], [])
    left = unreadable + [failed.get(op.key(), op.describe()) for op in residual]
    gone = [
        f"ethtool {op.section} of {op.where()}, which no longer exists"
        for op in missing
        if isinstance(op, SetEthtool) and (op.netns, op.name) not in (created or set())
    ]
    return SettingsBack(len(ops) - len(failed), left, gone)


def _links_back(intent: Intent, decl: Declaration | None, debug: DebugHook | None) -> Outcome:
    """The links put back as the restore declaration has them, and checked."""
    restore = decl if decl is not None else Declaration.model_validate(intent.restore, context=INTERNAL)
    vanished = [ns for ns in intent.namespaces if ns not in intent.created_netns and not netns.exists(ns)]
    if vanished:  # removed by someone since the change was cut off: not made again to be filled
        restore, intent = _without(restore, vanished), replace(intent, namespaces=_kept(intent.namespaces, vanished))
    where = _namespaces(intent)
    l3 = None
    if has_l3(restore):  # addresses, routes and rules are read, put back and checked too
        l3 = where
    vlans = has_port_vlans(restore)  # ports' VLANs too, also where the change turned filtering off
    try:
        now = read_state(where, l3=l3, vlans=vlans)
        if _ungroup(now, intent, debug):
            now = read_state(where, l3=l3, vlans=vlans)
        judged = judge(intent, now)  # only the links the journal shows the change made are deleted
        created = judged.created
        located = {
            (ns, name): to
            for ns, name, to in intent.moves
            if now.find(name, to) is not None and now.find(name, ns) is None
        }
        restore, stranded = _less_stranded(restore, now, vanished, set(located))
        plan = make_plan(_with_absent(restore, now, created), now, intent.default_netns, located)
        Executor(now, debug).run(plan.ops)
        gone = [name for name in intent.created_netns if name not in intent.namespaces and _remove_netns(name)]
        after = read_state(where, l3=l3, vlans=vlans)
        residual = make_plan(_with_absent(restore, after, created), after, intent.default_netns)
    except LinkctlError as exc:
        return Outcome(
            False,
            0,
            f"ROLLBACK FAILED: {exc}\nThe links may be half-changed: compare `linkctl show` with your last state.",
        )
    left = [op.describe() for op in residual.ops]
    left += [
        f"{lk.name} is still in linkctl's deletion group {DELETE_GROUP}" for lk in after if lk.group == DELETE_GROUP
    ]
    left += [f"netns {name} (made by the change) still exists" for name in intent.created_netns if name not in gone]
    if left:
        return Outcome(False, len(plan.ops), f"ROLLBACK INCOMPLETE: still differs: {'; '.join(left)}")
    if vanished and not intent.where():  # "checked: the 0 link(s) of  are as they were before" said nothing true
        return Outcome(True, len(plan.ops), _nothing_left(vanished))
    words = _verified_words(intent, after, len(plan.ops), judged, stranded)
    for ns in vanished:
        words += f" netns {ns} no longer exists (removed since the change): nothing was put back there."
    return Outcome(True, len(plan.ops), words)


def _nothing_left(vanished: list[NetnsName]) -> str:
    """Every namespace of the change was removed since: nothing to put back, nothing to check."""
    names = ", ".join(f"netns {ns}" for ns in vanished)
    gone = "no longer exists" if len(vanished) == 1 else "no longer exist"
    return f"nothing rolled back: {names} {gone} (removed since the change): nothing was put back there, nor checked."


def _kept(names: list[NetnsName], vanished: list[NetnsName]) -> list[NetnsName]:
    return [ns for ns in names if ns not in vanished]


def _without(decl: Declaration, vanished: list[NetnsName]) -> Declaration:
    """The declaration less what lives in the namespaces that are gone."""
    update: dict[str, object] = {"interfaces": [s for s in decl.interfaces if s.netns not in vanished]}
    for key in ("routes", "route_rules"):
        section = getattr(decl, key)
        if section is not None and section.config:
            update[key] = section.model_copy(update={"config": [e for e in section.config if e.netns not in vanished]})
    return decl.model_copy(update=update)


def _ungroup(now: HostState, intent: Intent, debug: DebugHook | None) -> bool:
    """Links a batch deletion had put in its group when it was cut off go back to the group they
    had (only the change's own: a link in that group before was never batched)."""
    had = {(ns, name): group for ns, name, group in intent.groups}
    grouped = [lk for lk in now if lk.group == DELETE_GROUP and (lk.netns, lk.name) in had]
    for ns in dict.fromkeys(lk.netns for lk in grouped):
        with RtnlSocket(ns, debug) as sock:
            reqs = [
                rtnl.set_link(sock.next_seq(), lk.ifindex, LinkAttrs(group=had[(lk.netns, lk.name)]))
                for lk in grouped
                if lk.netns == ns
            ]
            refused = [ack.describe() for ack in sock.batch(reqs) if not ack.ok]
        if refused:
            raise LinkctlError(f"cannot take links out of the deletion group: {refused[0]}")
    return bool(grouped)


def _namespaces(intent: Intent) -> list[NetnsName]:
    return list(dict.fromkeys([*intent.namespaces, intent.default_netns, *intent.created_netns]))


def _with_absent(decl: Declaration, now: HostState, created: set[Key]) -> Declaration:
    """The state before, and each link the change created declared absent (another's is left alone)."""
    extra = [
        InterfaceSpec(name=lk.name, netns=lk.netns, state=LinkStateName.ABSENT, type=kind_of(lk).type)
        for lk in now
        if (lk.netns, lk.name) in created and kind_of(lk).creatable
    ]
    return decl.model_copy(update={"interfaces": [*decl.interfaces, *extra]}) if extra else decl


def _remove_netns(name: str) -> bool:
    """A namespace the change made goes with the rollback; one that no longer exists is gone already."""
    if netns.exists(name):
        netns.remove(name)
    return not netns.exists(name)


def _less_stranded(
    restore: Declaration, now: HostState, vanished: list[NetnsName], moved: set[Key]
) -> tuple[Declaration, dict[Key, str]]:
    """The restore declaration less the links of the state before, gone now (not moved), that cannot be
    made again as they were, and why, by key: planned, they would be made wrong, or not at all."""
    stranded = {
        key: why
        for spec in restore.interfaces
        if (key := (spec.netns, spec.name)) not in moved
        and not spec.absent
        and now.find(spec.name, spec.netns) is None
        and (why := _unmakeable(spec, vanished))
    }
    if not stranded:
        return restore, {}
    kept = [s for s in restore.interfaces if (s.netns, s.name) not in stranded]
    return restore.model_copy(update={"interfaces": kept}), stranded


def _unmakeable(spec: InterfaceSpec, vanished: list[NetnsName]) -> str | None:
    """Why a link cannot be made again as it was: its peer's or base's namespace removed since; or one
    the restore declaration could not name (the host's, seen from a named one)."""
    peer_ns = spec.veth.peer_netns if spec.veth is not None else None
    base_ns = spec.base_netns[0] if spec.base_netns is not None else None
    if peer_ns is not None and peer_ns in vanished:
        return f"its peer's namespace {peer_ns} is gone"
    if base_ns is not None and base_ns in vanished:
        return f"its base's namespace {base_ns} is gone"
    if spec.type is InterfaceType.VETH and spec.veth is None:
        return "its peer was in a namespace linkctl could not name from here"
    if spec.type is not None and isinstance(kind := BY_TYPE[spec.type], OnBase) and not kind.declared_base(spec):
        return "its base was in a namespace linkctl could not name from here"
    return None


def _verified_words(intent: Intent, after: HostState, undone: int, judged: Judged, stranded: dict[Key, str]) -> str:
    had = set(intent.before)
    before = had | judged.left  # those left are named with the reason below
    # Only the links there before are "as they were": those made meanwhile are named after.
    count = sum(1 for lk in after if lk.netns in intent.namespaces and (lk.netns, lk.name) in had)
    others = sorted(
        (lk.name, lk.netns) for lk in after if lk.netns in intent.namespaces and (lk.netns, lk.name) not in before
    )
    words = (
        f"rolled back: {undone} change(s) undone; checked: the {count} link(s) of {intent.where()} "
        "are as they were before."
    )
    if stranded:  # what the check cannot cover: said as plainly as the rest
        lost = "; ".join(f"{_named(name, ns)} could not be made again: {why}" for (ns, name), why in stranded.items())
        words = words[:-1] + f", but {lost}."
    if others:  # not the change's (those would be in the residual): someone else made them meanwhile
        names = ", ".join(_named(name, ns) for name, ns in others)
        words += f" Left alone: {names}, made meanwhile by something else."
    for note in judged.notes:
        words += f" {note}: left as it is."
    return words


def _named(name: str, ns: NetnsName) -> str:
    return name if ns is None else f"{name} (netns {ns})"

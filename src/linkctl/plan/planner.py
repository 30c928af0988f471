"""Desired (declaration) + current (kernel state) -> an ordered plan of changes.

Like pyinfra's operations, a change is produced only where a fact differs; links
that already match are listed as unchanged. The order is the one the kernel
needs: namespaces first, deletions (dependents before their base), moves, then
creations and in-place changes with base links before the links stacked on them
and masters before ports, enslaving, and admin state last.

The passes, a module each, all over one Matcher (the matched targets and the lookups): match
(plan/match.py), reshape (plan/reshape.py), build (plan/build.py), ports (plan/ports.py), admin
state (here), the MTU notes (plan/mtu_notes.py), then layer 3 (plan/l3.py).
"""

from __future__ import annotations

from linkctl.kinds.base import FieldDiff
from linkctl.model.spec import Declaration
from linkctl.model.state import HostState, NetnsName
from linkctl.plan.build import Build
from linkctl.plan.l3 import plan_layer3
from linkctl.plan.l3_model import has_l3
from linkctl.plan.match import _DOWN, Key, Matcher, Target
from linkctl.plan.mtu_notes import MtuNotes
from linkctl.plan.ops import CreateLink, Op, Plan, Props, SetLink
from linkctl.plan.ports import Ports
from linkctl.plan.reshape import Reshape
from linkctl.plan.veth_match import renamed_peers, renamed_view
from linkctl.plan.vlans import plan_port_vlans


class Planner:
    def __init__(
        self,
        decl: Declaration,
        host: HostState,
        default_netns: NetnsName = None,
        located: dict[Key, NetnsName] | None = None,
    ) -> None:
        self.m = Matcher(decl, host, default_netns, located or {})

    def run(self) -> Plan:
        m = self.m
        m.match()
        m.find_recreations()
        m.cascade_deletions()
        Reshape(m).run()
        build = Build(m)
        for target in m.ordered():
            build.create_or_configure(target)
        Ports(m).run()
        plan_port_vlans(m)
        build.bridge_mtus()
        build.late_mtus()
        self._states()
        MtuNotes(m).run()
        return m.plan

    def _states(self) -> None:
        for t in self.m.ordered():
            created = t.creates or t.key in self.m.peers_created
            # The kernel brings a link down when it moves it to another namespace.
            moved = not created and t.current is not None and t.current.netns != t.netns
            if t.absent or (t.spec.state is None and not created and not moved):
                continue
            if created:
                self._up_after_bond(t)
                continue
            assert t.current is not None
            was_up = t.current.admin_up
            # Undeclared, the state is left as it was: a moved link that was up comes up again.
            want_up = t.spec.state is not _DOWN if t.spec.state is not None else was_up
            have_up = was_up and not moved
            if have_up != want_up:
                self.m.plan.ops.append(
                    SetLink(
                        t.spec.name,
                        t.netns,
                        props=Props(up=want_up),
                        diffs=(FieldDiff("state", "up" if have_up else "down", "up" if want_up else "down"),),
                    )
                )

    def _up_after_bond(self, t: Target) -> None:
        """A link created down because a bond takes it comes up after enslaving."""
        master = self.m.desired_master(t.netns, t.spec.name)
        if t.spec.state is not _DOWN and master and not self.m.is_bridge(t.netns, master):
            self.m.plan.ops.append(
                SetLink(t.spec.name, t.netns, props=Props(up=True), diffs=(FieldDiff("state", "down", "up"),))
            )


def make_plan(
    decl: Declaration,
    host: HostState,
    default_netns: NetnsName = None,
    located: dict[Key, NetnsName] | None = None,
) -> Plan:
    renames = renamed_peers(decl, host, default_netns, located or {})  # the planner sees them done
    view, where = renamed_view(host, renames, dict(located or {}))
    planner = Planner(decl, view, default_netns, where)
    plan = planner.run()
    plan.ops[:0] = [r.op() for r in renames]
    if has_l3(decl) or any(ns.l3 is not None for ns in view.namespaces.values()):
        plan.ops += plan_layer3(decl, view, default_netns, plan.ops, planner.m.gone, plan.notes)
    touched = {op.name for op in plan.ops}
    touched |= {op.peer.name for op in plan.ops if isinstance(op, CreateLink) and op.peer is not None}
    plan.unchanged = sorted(
        t.spec.name
        for t in planner.m.targets.values()
        if t.spec.name not in touched and not (t.absent and t.current is None) and not _goes(t, planner.m.gone)
    )
    plan.unchanged += sorted(t.spec.name for t in planner.m.targets.values() if t.absent and t.current is None)
    return plan


def _goes(t: Target, gone: set[Key]) -> bool:
    """Deleted with another link (a veth's peer, a stacked link's base): not unchanged."""
    return t.current is not None and (t.current.netns, t.current.name) in gone


__all__ = ["Op", "Plan", "make_plan"]

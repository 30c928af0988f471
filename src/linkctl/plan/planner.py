"""Desired (declaration) + current (kernel state) -> an ordered plan of changes.

Like pyinfra's operations, a change is produced only where a fact differs; links
that already match are listed as unchanged. The order is the one the kernel
needs: namespaces first, deletions (dependents before their base), moves, then
creations and in-place changes with base links before the links stacked on them
and masters before ports, enslaving, and admin state last.

The passes: plan/match.py, plan/reshape.py, plan/build.py, then the masters, port settings,
admin state and notes here.
"""

from __future__ import annotations

from linkctl.kinds.base import ETH_DATA_LEN, FieldDiff, LinkKind
from linkctl.kinds.bridge import PortMtu, port_data, port_diffs, port_ip_args
from linkctl.kinds.veth import PairMtu
from linkctl.model.spec import BridgePort, Declaration
from linkctl.model.state import BridgePortInfo, HostState, Link, NetnsName
from linkctl.plan.build import Builder, _has_port_list
from linkctl.plan.l3 import plan_layer3
from linkctl.plan.l3_model import has_l3
from linkctl.plan.match import _BRIDGE, _DOWN, Key, Target, _ports
from linkctl.plan.ops import CreateLink, Op, Plan, Props, SetLink, SetMaster, SetPort
from linkctl.plan.veth_match import renamed_peers, renamed_view
from linkctl.plan.vlans import plan_port_vlans


class Planner(Builder):
    def run(self) -> Plan:
        self._match()
        self._find_recreations()
        self._cascade_deletions()
        self._netns_ops()
        self._deletions()
        self._moves()
        for target in self._ordered():
            self._create_or_configure(target)
        self._masters()
        self._port_settings()
        plan_port_vlans(self)
        self._bridge_mtus()
        self._states()
        self._veth_mtu_notes()
        self._bridge_port_mtu_notes(self._port_mtu_notes())
        return self.plan

    def _masters(self) -> None:
        wanted: dict[Key, str | None] = {}
        for t in self.targets.values():
            if t.absent or not _has_port_list(t.spec):
                continue
            for port in _ports(t.spec):
                wanted[(t.netns, port)] = t.spec.name
            if t.current is not None and not t.recreate:
                for port in self.host.ns(t.current.netns).ports_of(t.current.name):
                    link = self.host.find(port, t.current.netns)
                    if link is not None and self._netns_after(link) != link.netns:
                        continue  # the kernel releases a port it moves to another namespace
                    wanted.setdefault((t.netns, port), None)
        for key, master in sorted(wanted.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
            self._master_op(key, master)

    def _master_op(self, key: Key, master: str | None) -> None:
        if key in self.created_with_master or key in self.gone:
            return
        netns, name = key
        t = self.targets.get(key)
        created = (t is not None and t.creates) or key in self.peers_created
        current = None if created else self._current_master(netns, name)
        if current == master:
            return
        is_bond = master is not None and not self._is_bridge(netns, master)
        if master is None:
            self.plan.ops.append(SetMaster(name, netns, "not in its master's port list"))
        else:
            self.plan.ops.append(SetMaster(name, netns, master=master, down_first=is_bond))

    def _port_settings(self) -> None:
        """A bridge's declared port settings (stp-priority ...), set once the port is in it: the
        kernel takes them only from a port, not in the request that makes or enslaves it."""
        for t in self._ordered():
            if t.kind.type is not _BRIDGE or t.absent or t.spec.bridge is None or not t.spec.bridge.port:
                continue
            for port in t.spec.bridge.port:
                key = (t.netns, port.name)
                pt = self.targets.get(key)
                joins = t.creates or key in self.peers_created or (pt is not None and pt.creates)
                link = self.host.find(port.name, t.netns)
                was_here = link is not None and self._current_master(t.netns, port.name) == t.spec.name
                if joins and was_here and link is not None and link.port is not None:
                    port = _port_with(port, link.port)  # re-made: what the file does not say, it had
                self._set_port(t.netns, t.spec.name, port, None if joins or not was_here or link is None else link)
        for t in self._ordered():
            # A re-made port rejoining a bridge the file leaves alone keeps its settings too.
            kept = self._kept_master(t) if t.current is not None and t.recreate and not t.absent else None
            if kept is not None and t.current is not None and t.current.port is not None:
                self._set_port(t.netns, kept, _port_with(BridgePort(name=t.spec.name), t.current.port), None)

    def _set_port(self, netns: NetnsName, master: str, port: BridgePort, now: Link | None) -> None:
        """The step setting a port's declared settings that differ from `now` (None: all of them)."""
        diffs = port_diffs(port, now.port if now is not None else None)
        if diffs:
            fields = frozenset(d.field for d in diffs)
            self.plan.ops.append(
                SetPort(
                    port.name, netns, master=master, data=port_data(port, fields),
                    args=tuple(port_ip_args(port, fields)), diffs=diffs,
                )
            )  # fmt: skip

    def _states(self) -> None:
        for t in self._ordered():
            created = t.creates or t.key in self.peers_created
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
                self.plan.ops.append(
                    SetLink(
                        t.spec.name,
                        t.netns,
                        props=Props(up=want_up),
                        diffs=(FieldDiff("state", "up" if have_up else "down", "up" if want_up else "down"),),
                    )
                )

    def _veth_mtu_notes(self) -> None:
        """An MTU given to one end of an existing pair, the other end left with another, is said:
        the end with the smaller MTU drops every larger frame the other sends."""
        for t in self.targets.values():
            cur, mtu = t.current, t.spec.mtu
            if mtu is None or cur is None or cur.mtu == mtu or t.absent or t.creates:
                continue
            peer = self.host.peer_of(cur)
            if peer is None or (pair := PairMtu(mtu, peer.mtu)).matches or self._target_for(peer) is not None:
                continue
            self.plan.notes.append(
                f"{peer.name}, {t.spec.name}'s veth peer, keeps MTU {peer.mtu}: frames over {pair.dropped_over} "
                f"bytes between them will be dropped; declare {peer.name} with mtu {mtu} too"
            )

    def _port_mtu_notes(self) -> set[Key]:
        """A bridge given an MTU above a port the file leaves alone: the bridge drops every larger
        frame it would forward to that port. Returns the ports it named."""
        said: set[Key] = set()
        for t in self.targets.values():
            cur, mtu = t.current, t.spec.mtu
            if t.kind.type is not _BRIDGE or mtu is None or cur is None or t.absent or t.creates:
                continue
            ns = self.host.ns(cur.netns)
            for name in ns.ports_of(cur.name):
                port = ns.links[name]
                if PortMtu(port.mtu, mtu).port_drops and self._target_for(port) is None:
                    said.add((cur.netns, name))
                    self.plan.notes.append(
                        f"{name}, a port of {t.spec.name}, keeps MTU {port.mtu}: frames over {port.mtu} bytes "
                        f"that {t.spec.name} forwards to it will be dropped; declare {name} with mtu {mtu} too"
                    )
        return said

    def _bridge_port_mtu_notes(self, said: set[Key]) -> None:
        """Each port a bridge's port list names (or a re-made port rejoining its bridge) whose MTU after
        the plan differs from the bridge's after it: said before the apply in the words audit's
        bridge-port-mtu-mismatch will use after it (the ports `said` were named already)."""
        after = self._mtus_after()
        for netns, bridge, t, ports in self._bridges_after():
            bridge_mtu = self._bridge_mtu_after(netns, bridge, t, ports, after)
            if bridge_mtu is None:
                continue
            for name in ports:
                mtu = self._mtu_after(netns, name, after)
                if mtu is None or (netns, name) in said or PortMtu(mtu, bridge_mtu).matches:
                    continue
                self.plan.notes.append(
                    f"{name}: bridge port MTU {mtu} differs from bridge {bridge} MTU {bridge_mtu} after this plan: "
                    f"frames larger than the smallest MTU on the bridge are dropped silently when they cross to a "
                    f"port with a smaller one; declare {name} with mtu {bridge_mtu}, or {bridge} with mtu {mtu} "
                    "and every port of it with the same"
                )

    def _bridges_after(self) -> list[tuple[NetnsName, str, Target | None, list[str]]]:
        """Each bridge with a port the file lists or re-makes: (netns, name, its target, every port after)."""
        out: dict[Key, tuple[Target | None, list[str]]] = {}
        for t in self._ordered():
            if t.kind.type is _BRIDGE and not t.absent and t.spec.bridge is not None and t.spec.bridge.port:
                out[t.key] = (t, _ports(t.spec))
        for t in self._ordered():
            kept = self._kept_master(t) if t.current is not None and not t.absent else None
            if kept is not None and (t.netns, kept) not in out:
                # Declared without a port list, or not at all: its ports stay, less those that go.
                ns = self.host.ns(t.netns)
                stay = [p for p in ns.ports_of(kept) if self._stays(t.netns, p)]
                out[(t.netns, kept)] = (self.targets.get((t.netns, kept)), stay)
        return [(k[0], k[1], bt, ports) for k, (bt, ports) in out.items()]

    def _stays(self, netns: NetnsName, name: str) -> bool:
        """An existing link still there, in the same namespace, once the plan is carried out."""
        link = self.host.find(name, netns)
        t = self.targets.get((netns, name))
        return (
            link is not None
            and (netns, name) not in self.gone
            and self._netns_after(link) == netns
            and not (t is not None and t.absent)
        )

    def _mtus_after(self) -> dict[Key, int | None]:
        """The MTU each link the plan makes or sets an MTU on will have (None: the kernel's choice, unknown)."""
        out: dict[Key, int | None] = {}
        for op in self.plan.ops:
            if isinstance(op, CreateLink):
                out[(op.netns, op.name)] = op.props.mtu if op.props.mtu is not None else _created_mtu(op.kind)
                if op.peer is not None:
                    peer_mtu = op.peer.props.mtu
                    out[(op.peer.netns, op.peer.name)] = peer_mtu if peer_mtu is not None else ETH_DATA_LEN
            elif isinstance(op, SetLink) and op.props.mtu is not None:
                out[(op.netns, op.name)] = op.props.mtu
        return out

    def _mtu_after(self, netns: NetnsName, name: str, after: dict[Key, int | None]) -> int | None:
        if (netns, name) in after:
            return after[(netns, name)]
        t = self.targets.get((netns, name))
        link = t.current if t is not None else self.host.find(name, netns)
        return link.mtu if link is not None else None

    def _bridge_mtu_after(
        self, netns: NetnsName, name: str, t: Target | None, ports: list[str], after: dict[Key, int | None]
    ) -> int | None:
        """A bridge's MTU once the plan is carried out: the declared one (set after its ports join),
        else the kernel's: its smallest port's (1500 without ports) as ports join, leave or change,
        unless its MTU was set by hand (it is not its ports' smallest now): then it keeps it."""
        if t is not None and t.spec.mtu is not None:
            return t.spec.mtu
        mtus = [self._mtu_after(netns, p, after) for p in ports]
        if any(m is None for m in mtus):
            return None
        lowest = min((m for m in mtus if m is not None), default=ETH_DATA_LEN)
        if t is not None and t.creates:
            return lowest
        cur = t.current if t is not None else self.host.find(name, netns)
        if cur is None:
            return None
        ns = self.host.ns(cur.netns)
        now = min((ns.links[p].mtu for p in ns.ports_of(cur.name)), default=ETH_DATA_LEN)
        return lowest if cur.mtu == now else cur.mtu

    def _up_after_bond(self, t: Target) -> None:
        """A link created down because a bond takes it comes up after enslaving."""
        master = self._desired_master(t.netns, t.spec.name)
        if t.spec.state is not _DOWN and master and not self._is_bridge(t.netns, master):
            self.plan.ops.append(
                SetLink(t.spec.name, t.netns, props=Props(up=True), diffs=(FieldDiff("state", "down", "up"),))
            )


def _created_mtu(kind: LinkKind | None) -> int | None:
    return kind.created_mtu if kind is not None else None


def _port_with(port: BridgePort, had: BridgePortInfo) -> BridgePort:
    """The declared port settings, with those it leaves out taken from what the port had."""
    kept = {k: v for k, v in had._asdict().items() if getattr(port, k) is None and v is not None}
    return port.model_copy(update=kept)


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
        plan.ops += plan_layer3(decl, view, default_netns, plan.ops, planner.gone)
    touched = {op.name for op in plan.ops}
    touched |= {op.peer.name for op in plan.ops if isinstance(op, CreateLink) and op.peer is not None}
    plan.unchanged = sorted(
        t.spec.name
        for t in planner.targets.values()
        if t.spec.name not in touched and not (t.absent and t.current is None) and not _goes(t, planner.gone)
    )
    plan.unchanged += sorted(t.spec.name for t in planner.targets.values() if t.absent and t.current is None)
    return plan


def _goes(t: Target, gone: set[Key]) -> bool:
    """Deleted with another link (a veth's peer, a stacked link's base): not unchanged."""
    return t.current is not None and (t.current.netns, t.current.name) in gone


__all__ = ["Op", "Plan", "make_plan"]

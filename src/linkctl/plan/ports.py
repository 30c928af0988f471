"""The planner's fourth pass: ports joined to and released from their controllers, and each
port's own settings under its controller (a bridge port's stp options, a bond port's queue id and
priority: IFLA_INFO_SLAVE_DATA, which the kernel takes from a port once it is in)."""

from __future__ import annotations

from linkctl.kinds.base import FieldDiff
from linkctl.kinds.bond import port_data as bond_port_data
from linkctl.kinds.bond import port_diffs as bond_port_diffs
from linkctl.kinds.bond import port_ip_args as bond_port_ip_args
from linkctl.kinds.bridge import port_data, port_diffs, port_ip_args
from linkctl.model.sections import BondPortConfig
from linkctl.model.spec import BridgePort, InterfaceType
from linkctl.model.state import BondPortInfo, BridgePortInfo, Link, NetnsName
from linkctl.plan.match import _BRIDGE, _DOWN, Key, Matcher, Target, _has_port_list, _ports
from linkctl.plan.ops import Props, SetLink, SetMaster, SetPort


class Ports:
    def __init__(self, m: Matcher) -> None:
        self.m = m

    def run(self) -> None:
        self._masters()
        self._port_settings()
        self._bond_port_settings()

    def _masters(self) -> None:
        wanted: dict[Key, str | None] = {}
        for t in self.m.targets.values():
            if t.absent or not _has_port_list(t.spec):
                continue
            for port in _ports(t.spec):
                wanted[(t.netns, port)] = t.spec.name
            if t.current is not None and not t.recreate:
                for port in self.m.host.ns(t.current.netns).ports_of(t.current.name):
                    link = self.m.host.find(port, t.current.netns)
                    if link is not None and self.m.netns_after(link) != link.netns:
                        continue  # the kernel releases a port it moves to another namespace
                    wanted.setdefault((t.netns, port), None)
        for key, master in sorted(wanted.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
            self._master_op(key, master)

    def _master_op(self, key: Key, master: str | None) -> None:
        if key in self.m.created_with_master or key in self.m.gone:
            return
        netns, name = key
        t = self.m.targets.get(key)
        created = (t is not None and t.creates) or key in self.m.peers_created
        current = None if created else self.m.current_master(netns, name)
        if current == master:
            return
        is_bond = master is not None and not self.m.is_bridge(netns, master)
        if master is None:
            self.m.plan.ops.append(SetMaster(name, netns, "not in its master's port list"))
            return
        self.m.plan.ops.append(SetMaster(name, netns, master=master, down_first=is_bond))
        link = None if created else self.m.host.find(name, netns)
        if t is None and link is not None and not link.admin_up and self._comes_up(netns, master):
            # nmstate's handle_changed_ports and MergedInterface::apply_ctrller_change (its
            # ifaces/inter_ifaces_controller.rs, ifaces/mod.rs): a port the file does not declare, attached
            # by a controller that is up, is included with `state: up` ("Include interface ... to edit as
            # its controller required so"). Only a port that joins: one already in the list is left as it is.
            self.m.plan.ops.append(
                SetLink(
                    name, netns, f"it joins {master}, which is up (nmstate brings a listed port up)",
                    props=Props(up=True), diffs=(FieldDiff("state", "down", "up"),),
                )
            )  # fmt: skip

    def _comes_up(self, netns: NetnsName, master: str) -> bool:
        """Whether the controller is up once the plan is carried out."""
        t = self.m.targets.get((netns, master))
        if t is None or t.spec.state is _DOWN:
            return False
        return t.spec.state is not None or t.creates or (t.current is not None and t.current.admin_up)

    def _port_settings(self) -> None:
        """A bridge's declared port settings (stp-priority ...), set once the port is in it: the
        kernel takes them only from a port, not in the request that makes or enslaves it."""
        for t in self.m.ordered():
            if t.kind.type is not _BRIDGE or t.absent or t.spec.bridge is None or not t.spec.bridge.port:
                continue
            for port in t.spec.bridge.port:
                key = (t.netns, port.name)
                pt = self.m.targets.get(key)
                joins = t.creates or key in self.m.peers_created or (pt is not None and pt.creates)
                link = self.m.host.find(port.name, t.netns)
                was_here = link is not None and self.m.current_master(t.netns, port.name) == t.spec.name
                if joins and was_here and link is not None and link.port is not None:
                    port = _port_with(port, link.port)  # re-made: what the file does not say, it had
                self._set_port(t.netns, t.spec.name, port, None if joins or not was_here or link is None else link)
        for t in self.m.ordered():
            # A re-made port rejoining a bridge the file leaves alone keeps its settings too.
            kept = self.m.kept_master(t) if t.current is not None and t.recreate and not t.absent else None
            if kept is not None and t.current is not None and t.current.port is not None:
                self._set_port(t.netns, kept, _port_with(BridgePort(name=t.spec.name), t.current.port), None)

    def _bond_port_settings(self) -> None:
        """A bond's `ports-config` (queue-id, priority), set once the port is in it, as for a bridge's
        ports: IFLA_INFO_SLAVE_DATA is taken from a port only. A port joining has the kernel's 0 and 0."""
        for t in self.m.ordered():
            want = t.spec.link_aggregation
            if t.kind.type is not InterfaceType.BOND or t.absent or want is None or not want.ports_config:
                continue
            steps = [(conf, self._bond_port_now(t, conf.name)) for conf in want.ports_config]
            steps = self._free_queue_ids(t.netns, t.spec.name, steps)
            for conf, have in steps:
                diffs = bond_port_diffs(conf, have)
                if diffs:
                    self._bond_port_op(t.netns, t.spec.name, conf, diffs)

    def _bond_port_now(self, t: Target, name: str) -> BondPortInfo | None:
        """What the port has under this bond before its step (None: not known, every field is sent)."""
        key = (t.netns, name)
        pt = self.m.targets.get(key)
        link = self.m.host.find(name, t.netns)
        joins = t.creates or key in self.m.peers_created or (pt is not None and pt.creates)
        if joins or link is None or self.m.current_master(t.netns, name) != t.spec.name:
            return BondPortInfo(queue_id=0, priority=0)  # bond_enslave: a new port's
        return link.bond_port

    def _free_queue_ids(
        self, netns: NetnsName, bond: str, steps: list[tuple[BondPortConfig, BondPortInfo | None]]
    ) -> list[tuple[BondPortConfig, BondPortInfo | None]]:
        """A non-zero queue id is one port's at a time (bond_option_queue_id_set answers EPERM): a port
        holding one another port is given (a swap) goes to 0 first."""
        wanted = {conf.queue_id: conf.name for conf, _have in steps if conf.queue_id}
        out = []
        for conf, have in steps:
            held = have.queue_id if have is not None else None
            if held and wanted.get(held, conf.name) != conf.name and conf.queue_id != held:
                free = BondPortConfig(name=conf.name, queue_id=0)
                self._bond_port_op(netns, bond, free, bond_port_diffs(free, have), f"frees queue-id {held}")
                have = have._replace(queue_id=0) if have is not None else None
            out.append((conf, have))
        return out

    def _bond_port_op(
        self, netns: NetnsName, bond: str, conf: BondPortConfig, diffs: tuple[FieldDiff, ...], reason: str = ""
    ) -> None:
        fields = frozenset(d.field for d in diffs)
        self.m.plan.ops.append(
            SetPort(
                conf.name, netns, reason, master=bond, slave_kind="bond", data=bond_port_data(conf, fields),
                args=tuple(bond_port_ip_args(conf, fields)), diffs=diffs,
            )
        )  # fmt: skip

    def _set_port(self, netns: NetnsName, master: str, port: BridgePort, now: Link | None) -> None:
        """The step setting a port's declared settings that differ from `now` (None: all of them)."""
        diffs = port_diffs(port, now.port if now is not None else None)
        if diffs:
            fields = frozenset(d.field for d in diffs)
            self.m.plan.ops.append(
                SetPort(
                    port.name, netns, master=master, data=port_data(port, fields),
                    args=tuple(port_ip_args(port, fields)), diffs=diffs,
                )
            )  # fmt: skip


def _port_with(port: BridgePort, had: BridgePortInfo) -> BridgePort:
    """The declared port settings, with those it leaves out taken from what the port had."""
    kept = {k: v for k, v in had._asdict().items() if getattr(port, k) is None and v is not None}
    return port.model_copy(update=kept)

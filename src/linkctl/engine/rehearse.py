"""`--rehearse`: the seeds' "dry run with dummy interfaces", done for real.

The links the declaration touches (and those they point at) are copied into
throwaway namespaces: virtual links as they are, physical NICs and other links
linkctl cannot create stood in by dummy links, or by veth where the kernel has
no dummy. The declaration is then applied and verified there, and the
namespaces are removed. The host's links are only read.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace

from linkctl.engine.apply import ApplyFailed, Context, apply, has_remediation, prepare
from linkctl.errors import LinkctlError
from linkctl.kernel import netns
from linkctl.kernel.probe import creatable_kinds
from linkctl.kinds import ALL as ALL_KINDS
from linkctl.kinds import kind_of, vxlan
from linkctl.model.l3 import RouteEntry, RouteRuleEntry, RouteRulesSection, RoutesSection
from linkctl.model.spec import Declaration, InterfaceSpec, InterfaceType, VethSection
from linkctl.model.state import HostState, Link, NetnsName, VxlanInfo
from linkctl.plan.convert import spec_of
from linkctl.plan.convert_l3 import routes_of, rules_of
from linkctl.plan.ops import CreateLink, MoveLink, Op, Plan
from linkctl.plan.text import op_record, plan_text


@dataclass
class RehearsalReport:
    plan: Plan
    ok: bool
    applied: int = 0
    stand_ins: list[str] = field(default_factory=list)
    refused: str | None = None

    def to_text(self) -> str:
        lines = ["rehearsal in throwaway namespaces (the host was not touched):", plan_text(self.plan)]
        lines += [f"  stand-in: {s}" for s in self.stand_ins]
        if self.ok:
            lines.append(f"rehearsal passed: {self.applied} change(s) applied and verified")
        else:
            lines.append(f"rehearsal FAILED: the kernel refused:\n{self.refused}")
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(
            {
                "ok": self.ok,
                "changes": [op_record(op) for op in self.plan.ops],
                "stand_ins": self.stand_ins,
                "refused": self.refused,
            },
            indent=2,
            default=str,
        )


def rehearse(ctx: Context) -> RehearsalReport:
    host = ctx.read()
    mapping = {ns: f"lkr{os.getpid() % 100000}-{i}" for i, ns in enumerate(ctx.namespaces())}
    stand_ins: list[str] = []
    if has_remediation(ctx.decl):
        stand_ins.append("ethtool, ethernet and kernel-modules sections are not rehearsed (no real NIC)")
    copy = _copy_of(ctx, host, mapping, stand_ins)
    target = Context(_moved(ctx.decl, mapping), ctx.source, mapping[ctx.default_netns], ctx.debug)
    try:
        for name in mapping.values():
            netns.create(name)
        seed = Context(copy, "(copy of the current links)", mapping[ctx.default_netns])
        seed_host, seed_plan = prepare(seed)
        apply(seed, seed_host, seed_plan)
        rh_host, rh_plan = prepare(target)
        shown = _as_declared(rh_plan, mapping)
        try:
            apply(target, rh_host, rh_plan)
        except ApplyFailed as exc:
            refused = str(exc)
            for real, stand_in in mapping.items():
                refused = refused.replace(stand_in, real or "(the default namespace)")
            return RehearsalReport(shown, False, stand_ins=stand_ins, refused=refused)
        return RehearsalReport(shown, True, len(rh_plan.ops), stand_ins)
    finally:
        for name in mapping.values():
            netns.remove(name)


def _as_declared(plan: Plan, mapping: dict[NetnsName, str]) -> Plan:
    """The rehearsed plan told in the user's namespaces: its steps are what `apply` would run there."""
    back: dict[NetnsName, NetnsName] = {v: k for k, v in mapping.items()}

    def real(op: Op) -> Op:
        changes: dict[str, object] = {"netns": back.get(op.netns, op.netns)}
        if isinstance(op, MoveLink):
            changes["to_netns"] = back.get(op.to_netns, op.to_netns)
        if isinstance(op, CreateLink) and op.peer is not None:
            changes["peer"] = replace(op.peer, netns=back.get(op.peer.netns, op.peer.netns))
        if isinstance(op, CreateLink) and op.made_in is not None:
            changes["made_in"] = (back.get(op.made_in[0], op.made_in[0]),)
        return replace(op, **changes)  # type: ignore[arg-type]

    return replace(plan, ops=[real(op) for op in plan.ops])


def _copy_of(ctx: Context, host: HostState, mapping: dict[NetnsName, str], notes: list[str]) -> Declaration:
    wanted = _relevant(ctx, host)
    has_dummy = "dummy" in creatable_kinds(["dummy"])
    specs: list[InterfaceSpec] = []
    for link in wanted:
        spec = spec_of(link, host).model_copy(update={"netns": mapping[link.netns]})
        if not kind_of(link).creatable:
            spec = _stand_in(spec, link, has_dummy)
            notes.append(
                f"{link.name} ({kind_of(link).type.value}) is played by a {spec.type.value if spec.type else '?'} link"
            )
        elif link.kind == "veth":
            spec = _veth_copy(spec, link, mapping, notes)
        elif isinstance(link.info, VxlanInfo):
            spec = _vxlan_copy(spec, link, host, notes)
        specs.append(spec)
    return Declaration(interfaces=specs, **_layer3_copy(host, {lk.name for lk in wanted}, mapping))


def _layer3_copy(host: HostState, names: set[str], mapping: dict[NetnsName, str]) -> dict[str, object]:
    """The routes through the copied links and the rules of the copied namespaces (when read)."""
    routes: list[RouteEntry] = []
    rules: list[RouteRuleEntry] = []
    for ns, state in host.namespaces.items():
        if ns not in mapping or state.l3 is None:
            continue
        routes += [
            r.model_copy(update={"netns": mapping[ns]})
            for r in routes_of(state)
            if r.next_hop_interface is None or r.next_hop_interface in names
        ]
        rules += [r.model_copy(update={"netns": mapping[ns]}) for r in rules_of(state)]
    return {
        "routes": RoutesSection(config=routes) if routes else None,
        "route_rules": RouteRulesSection(config=rules) if rules else None,
    }


def _veth_copy(spec: InterfaceSpec, link: Link, mapping: dict[NetnsName, str], notes: list[str]) -> InterfaceSpec:
    peer_ns = spec.veth.peer_netns if spec.veth is not None else None
    if spec.veth is not None and (peer_ns is None or peer_ns in mapping):
        return spec.model_copy(update={"veth": VethSection(peer=spec.veth.peer, peer_netns=mapping.get(peer_ns))})
    # The peer lives in a namespace the rehearsal does not copy (or one linkctl cannot name):
    # a stand-in takes its place beside it, never a link in the real namespace.
    stand_in = f"rh{link.ifindex}"
    notes.append(f"{link.name}'s peer lives outside the rehearsal: played by {stand_in} beside it")
    return spec.model_copy(update={"veth": VethSection(peer=stand_in)})


def _vxlan_copy(spec: InterfaceSpec, link: Link, host: HostState, notes: list[str]) -> InterfaceSpec:
    """A VXLAN left too big for its base (by hand) cannot be created so: the copy takes the kernel's MTU."""
    assert isinstance(link.info, VxlanInfo)
    base = host.in_link_net(link, link.info.base_ifindex)
    if base is None:
        return spec
    fit = vxlan.mtu_fit(link.mtu, base.mtu, link.info.local, link.info.remote)
    if fit.fits:
        return spec
    notes.append(f"{link.name}'s MTU {link.mtu} does not fit its base {base.name}: the copy has {fit.room}")
    return spec.model_copy(update={"mtu": None})


def _stand_in(spec: InterfaceSpec, link: Link, has_dummy: bool) -> InterfaceSpec:
    if has_dummy:
        return spec.model_copy(update={"type": InterfaceType.DUMMY, "ethernet": None})
    peer = f"rh{link.ifindex}"
    return spec.model_copy(update={"type": InterfaceType.VETH, "ethernet": None, "veth": VethSection(peer=peer)})


def _relevant(ctx: Context, host: HostState) -> list[Link]:
    """Declared links that exist, and every link they stand on or with, transitively."""
    names = {s.name for s in ctx.decl.interfaces}
    for spec in ctx.decl.interfaces:
        names |= _named_by(spec)
    todo = [lk for lk in host if lk.name in names and not lk.is_loopback]
    out: dict[tuple[NetnsName, int], Link] = {}
    while todo:
        link = todo.pop()
        if (link.netns, link.ifindex) in out:
            continue
        out[(link.netns, link.ifindex)] = link
        todo += _neighbours(link, host)
    return sorted(out.values(), key=lambda lk: (str(lk.netns), lk.ifindex))


def _neighbours(link: Link, host: HostState) -> list[Link]:
    ns = host.ns(link.netns)
    found = [
        host.peer_of(link),
        ns.by_index(kind_of(link).lower_ifindex(link)),
        ns.by_index(link.master_ifindex),
    ]
    found += [ns.links[p] for p in ns.ports_of(link.name)]
    return [lk for lk in found if lk is not None and not lk.is_loopback]


def _named_by(spec: InterfaceSpec) -> set[str]:
    names: set[str] = set()
    # Each kind knows where its section names a base (mac-vlan, mac-vtap, ipvlan, vlan, vxlan).
    names |= {base for kind in ALL_KINDS if (base := kind.declared_base(spec))}
    names |= set(spec.port_names or ())
    if spec.veth:
        names.add(spec.veth.peer)
    return names


def _moved(decl: Declaration, mapping: dict[NetnsName, str]) -> Declaration:
    """The declaration in the rehearsal namespaces, without what stand-ins cannot rehearse."""
    specs = []
    for spec in decl.interfaces:
        # Dummy and veth stand-ins have no PHY: ethtool and ethernet sections are left out.
        update: dict[str, object] = {"ethtool": None, "ethernet": None}
        if spec.netns is not None:
            if spec.netns not in mapping:
                raise LinkctlError(f"netns {spec.netns} is not part of the rehearsal")
            update["netns"] = mapping[spec.netns]
        if spec.veth is not None and spec.veth.peer_netns is not None:
            update["veth"] = VethSection(peer=spec.veth.peer, peer_netns=mapping[spec.veth.peer_netns])
        specs.append(spec.model_copy(update=update))
    return decl.model_copy(update={"interfaces": specs, **_entries_moved(decl, mapping)})


def _entries_moved(decl: Declaration, mapping: dict[NetnsName, str]) -> dict[str, object]:
    """Routes and rules in the rehearsal namespaces: those without `netns` are the default one's."""
    out: dict[str, object] = {}
    for key, section in (("routes", decl.routes), ("route_rules", decl.route_rules)):
        if section is None or not section.config:
            continue
        entries = []
        for entry in section.config:
            if entry.netns is not None and entry.netns not in mapping:
                raise LinkctlError(f"netns {entry.netns} is not part of the rehearsal")
            if entry.netns is not None:
                entries.append(entry.model_copy(update={"netns": mapping[entry.netns]}))
            else:
                entries.append(entry)
        out[key] = section.model_copy(update={"config": entries})
    return out

"""Checks of what is where: addresses on the link that answers for them, links in their declared namespace."""

from __future__ import annotations

import ipaddress
import shlex
from collections.abc import Iterator

from linkctl.diagnose.audit.context import AuditContext, counter
from linkctl.diagnose.findings import Finding, Severity, ip
from linkctl.domain.fix import FileValue, Fix, Fragment, InterfaceChange
from linkctl.model.state import Link, NetnsName, VxlanInfo


def vxlan_local_not_assigned(ctx: AuditContext) -> Iterator[Finding]:
    for link in ctx.host:
        info = link.info
        if not isinstance(info, VxlanInfo) or not info.local or ipaddress.ip_address(info.local).is_unspecified:
            continue
        known, underlay_ns = ctx.host.link_net(link)  # the VXLAN sends from its underlay's namespace
        mine = _namespace_addresses(ctx, underlay_ns) if known else None
        if mine is None or info.local in {a.partition("/")[0] for a in mine}:
            continue
        yield Finding(
            "vxlan-local-not-assigned",
            Severity.PROBLEM,
            link.name,
            link.netns,
            f"local {info.local} is not an address of any link in its underlay's namespace",
            "the kernel cannot send from it: every frame the VXLAN sends is dropped "
            "(counted as a TX carrier error) while the link shows UP",
            {"local": info.local, "addresses": mine, "tx_carrier_errors": counter(link, "tx_carrier_errors")},
            _local_fix(ctx, link, info),
        )


def _namespace_addresses(ctx: AuditContext, netns: NetnsName) -> list[str] | None:
    """Every address configured in the namespace; None when they could not be read."""
    l3 = ctx.layer3(netns)
    return [a.cidr for a in l3.addresses if not a.link_local] if l3 is not None else None


def _local_fix(ctx: AuditContext, link: Link, info: VxlanInfo) -> Fix:
    """Send from the base-iface's own address of the same family, or give the base the address meant."""
    assert info.local is not None
    family = ipaddress.ip_address(info.local).version
    base = ctx.host.in_link_net(link, info.base_ifindex) if info.base_ifindex is not None else _routed_base(ctx, link)
    own = [a for a in ctx.addresses(base) if ipaddress.ip_interface(a).version == family] if base else []
    prefix = own[0].partition("/")[2] if own else ("32" if family == 4 else "128")
    meant = f"{info.local}/{prefix}"
    where = base.name if base is not None else "the underlay link"
    add = " ".join(ip(base.netns if base else link.netns, "addr", "add", meant, "dev", where))
    note = f"or, if {info.local} is the address meant, put it on {where} (`{add}`)"
    if not own or info.vni is None:
        return Fix(None, (), note.removeprefix("or, "))
    local = own[0].partition("/")[0]
    section: dict[str, FileValue] = {"id": info.vni, "local": local}
    return Fix(Fragment.interface(link.name, link.netns, type="vxlan", vxlan=section), (), note)


def _routed_base(ctx: AuditContext, link: Link) -> Link | None:
    """A VXLAN without base-iface: the link the kernel routes its packets out of, as its MTU check reads it."""
    under = ctx.underlay(link)
    return ctx.host.find(under.dev, ctx.host.link_net(link)[1]) if under is not None else None


def address_on_port(ctx: AuditContext) -> Iterator[Finding]:
    for link in ctx.host:
        master = ctx.host.ns(link.netns).by_index(link.master_ifindex)
        # A VRF's ports keep answering on their addresses: that is what a VRF is for.
        if master is None or master.kind == "vrf" or not (found := ctx.addresses(link)):
            continue
        moves = [ip(link.netns, "addr", "del", a, "dev", link.name) for a in found]
        moves += [ip(link.netns, "addr", "add", a, "dev", master.name) for a in found]
        note = f"the declaration lists {master.name}'s addresses whole: its own are kept in it"
        yield Finding(
            "address-on-port",
            Severity.WARNING,
            link.name,
            link.netns,
            f"port of {master.name} carries {', '.join(found)}",
            "a port hands every frame to its master: nothing answers on the port's own addresses "
            f"(the kernel ignores a port's Layer 3 configuration); they belong on {master.name}",
            {"master": master.name, "addresses": found},
            Fix(_move_declared(ctx, link, master, found), tuple(moves), note),
        )


def _move_declared(ctx: AuditContext, port: Link, master: Link, found: list[str]) -> Fragment:
    """The port without addresses and the master with its own and the port's, per family the port has:
    an `address:` list is the link's whole set, so the master's own must be listed again."""
    families = sorted({ipaddress.ip_interface(a).version for a in found})
    on_master = ctx.addresses(master) + [a for a in found if a not in ctx.addresses(master)]
    emptied: dict[str, FileValue] = {f"ipv{v}": {"address": []} for v in families}
    moved: dict[str, FileValue] = {
        f"ipv{v}": {"address": [_entry(a) for a in on_master if ipaddress.ip_interface(a).version == v]}
        for v in families
    }
    changes = (InterfaceChange(port.name, port.netns, emptied), InterfaceChange(master.name, master.netns, moved))
    return Fragment(changes)


def _entry(cidr: str) -> dict[str, FileValue]:
    addr, _, length = cidr.partition("/")
    return {"ip": addr, "prefix-length": int(length)}


def wrong_netns(ctx: AuditContext) -> Iterator[Finding]:
    if ctx.declaration is None:
        return
    for spec in ctx.declaration.interfaces:
        if spec.absent:
            continue
        want = spec.netns if spec.netns is not None else ctx.default_netns
        if ctx.host.find(spec.name, want) is not None:
            continue
        found = [lk for lk in ctx.host if lk.name == spec.name and lk.netns != want]
        if len(found) != 1:
            continue
        link = found[0]
        target = want if want is not None else "1"  # `ip link set netns 1`: PID 1's namespace
        yield Finding(
            "wrong-netns",
            Severity.PROBLEM,
            link.name,
            link.netns,
            f"declared in namespace {want or '(host)'} but lives in {link.netns or '(host)'}",
            "whatever expects the link in its declared namespace cannot see it; moving it "
            "drops its addresses and routes",
            {"declared_netns": want, "actual_netns": link.netns},
            Fix(
                Fragment.interface(spec.name, want),
                (ip(link.netns, "link", "set", "dev", link.name, "netns", target),),
                _move_note(link.netns),
            ),
        )


def _move_note(actual: NetnsName) -> str:
    """How `apply` moves it: the declaration read from where the link is, which the link's name
    finds it by; from elsewhere (the declared file as is, say) apply makes a new link there instead."""
    flag = f" --netns {shlex.quote(actual)}" if actual else ""
    return (
        f"`linkctl apply{flag} FIX` with this declaration moves it (run from another namespace, apply does "
        "not find it and makes a new link instead); addresses and routes must be set again"
    )

"""What a declaration says once the kernel's state is known: the links it ignores, the MACs it copies.

Validation and the planner both judge the settled declaration (validate.py, match.py), so what one
checks is what the other carries out:

* `state: ignore` (nmstate's): the link is left alone entirely, as a port too. model/load.py takes
  the entry out; here a controller's port list is made to say what the ignored link is now: listed
  where it is a port of that controller (not released), left out where it is not (not enslaved).
* `controller: NAME` (nmstate's): merged into NAME's port list, with the ports NAME has now
  (plan/controllers.py).
* `copy-mac-from: NAME`: NAME's MAC address, as it will be once the file is applied: the one the
  file gives NAME, or the one NAME has. A link the file creates without a MAC gets one the kernel
  picks at random: it cannot be copied before it exists, and is refused with that reason.
"""

from __future__ import annotations

from linkctl.errors import Problem
from linkctl.model.spec import BridgePort, Declaration, InterfaceSpec
from linkctl.model.state import HostState, NetnsName
from linkctl.plan.controllers import settle_controllers

Key = tuple[NetnsName, str]


def settle(
    decl: Declaration, host: HostState, default_netns: NetnsName, source: str
) -> tuple[Declaration, list[Problem]]:
    """The declaration with ignored links kept as they are in port lists and copied MACs written out;
    the problems found doing so (a MAC that cannot be known); each `controller:` merged into its
    controller's port list first (plan/controllers.py), so that an ignored port is kept there too."""
    decl, problems = settle_controllers(decl, host, default_netns, source)
    ignored = {(n if n is not None else default_netns, name) for n, name in decl.ignored}
    if not ignored and not any(s.copy_mac_from is not None for s in decl.interfaces):
        return decl, problems
    declared = {(_ns(s, default_netns), s.name): s for s in decl.interfaces}
    out = []
    for spec in decl.interfaces:
        ns = _ns(spec, default_netns)
        if ignored and spec.absent:
            _ignored_peer(spec, ns, ignored, host, source, problems)
        if ignored:
            spec = _ports_kept(spec, ns, ignored, host)
        if spec.copy_mac_from is not None:
            spec = _copied_mac(spec, ns, declared, host, source, problems)
        out.append(spec)
    return decl.model_copy(update={"interfaces": out}), problems


def _ns(spec: InterfaceSpec, default_netns: NetnsName) -> NetnsName:
    return spec.netns if spec.netns is not None else default_netns


def _ports_kept(spec: InterfaceSpec, ns: NetnsName, ignored: set[Key], host: HostState) -> InterfaceSpec:
    """A controller's port list with each ignored link as it is now: in it if it is its port."""
    names = spec.port_names
    if names is None:
        return spec
    now = set(host.ns(ns).ports_of(spec.name)) if ns in host.namespaces else set()
    keep = [n for n in names if (ns, n) not in ignored or n in now]
    keep += sorted(n for n in now if (ns, n) in ignored and n not in names)
    if keep == names:
        return spec
    if spec.bridge is not None and spec.bridge.port is not None:
        given = {p.name: p for p in spec.bridge.port}
        ports = [given.get(n) or BridgePort(name=n) for n in keep]
        return spec.model_copy(update={"bridge": spec.bridge.model_copy(update={"port": ports})})
    assert spec.link_aggregation is not None
    section = spec.link_aggregation.model_copy(update={"port": keep})
    return spec.model_copy(update={"link_aggregation": section})


def _ignored_peer(
    spec: InterfaceSpec, ns: NetnsName, ignored: set[Key], host: HostState, source: str, problems: list[Problem]
) -> None:
    """A veth end declared absent whose peer the file ignores: the kernel deletes the pair whole."""
    link = host.find(spec.name, ns)
    peer = host.peer_of(link) if link is not None else None
    if peer is not None and (peer.netns, peer.name) in ignored:
        problems.append(
            Problem(
                f"{source}: interface {spec.name}",
                "state",
                "absent",
                f"a link whose deletion leaves the ignored alone: {peer.name} is `state: ignore`, and the kernel "
                f"deletes a veth pair whole; declare {peer.name} absent too, or keep {spec.name}",
            )
        )


def _copied_mac(
    spec: InterfaceSpec,
    ns: NetnsName,
    declared: dict[Key, InterfaceSpec],
    host: HostState,
    source: str,
    problems: list[Problem],
) -> InterfaceSpec:
    name = spec.copy_mac_from
    assert name is not None
    where = f"{source}: interface {spec.name}"
    if spec.mac_address is not None:
        problems.append(
            Problem(where, "copy-mac-from", name, "either mac-address or copy-mac-from: the two say different things")
        )
        return spec
    mac, why = _mac_after(name, ns, declared, host, {spec.name})
    if mac is None:
        problems.append(Problem(where, "copy-mac-from", name, why))
        return spec
    return spec.model_copy(update={"mac_address": mac, "copy_mac_from": None})


def _mac_after(
    name: str, ns: NetnsName, declared: dict[Key, InterfaceSpec], host: HostState, seen: set[str]
) -> tuple[str | None, str]:
    """The MAC `name` will have once the file is applied, or None and why it cannot be known."""
    where = f" in netns {ns}" if ns else ""
    if name in seen:
        return None, f"a link that does not copy its MAC back from this one ({name} is in a loop of copy-mac-from)"
    spec = declared.get((ns, name))
    link = host.find(name, ns)
    if spec is not None and spec.absent:
        return None, f"a link that stays: {name} is declared absent"
    if spec is not None and spec.mac_address is not None:
        return spec.mac_address, ""
    if spec is not None and spec.copy_mac_from is not None:
        return _mac_after(spec.copy_mac_from, ns, declared, host, seen | {name})
    if link is not None and link.mac is not None and link.mac != "00:00:00:00:00:00":
        return link.mac, ""
    if link is not None:
        return None, f"a link with a MAC address: {name} has none"
    if spec is not None:
        return None, (
            f"a link whose MAC is known before the change: {name} is made by this file and the kernel picks "
            f"its MAC at random; give {name} a mac-address (and copy that), or copy from a link that exists"
        )
    return None, f"an interface that exists in the file or the kernel, in the same namespace (no {name}{where})"

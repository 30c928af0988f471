"""Read the current links of several namespaces at once: one dump per namespace."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import replace

from linkctl.errors import LinkctlError
from linkctl.kernel import brvlan, linkdump, netns
from linkctl.kernel.netlink import DebugHook, RtnlSocket
from linkctl.model.state import BridgeInfo, HostState, Link, NetnsName, NetnsState


def read_state(
    namespaces: Iterable[NetnsName],
    stats: bool = False,
    debug: DebugHook | None = None,
    digest: bool = False,
    l3: Collection[NetnsName] | None = None,
    vlans: bool = False,
) -> HostState:
    """Namespaces that do not exist are simply absent from the result.

    With `digest`, also fingerprint the very messages decoded, as the receipt's fast path does
    (kernel/fastpath.py). With `l3`, also read the addresses, routes and rules of those namespaces
    (and IPv6 on or off on their links). Bridge ports' VLANs are read where a bridge filters them,
    and with `vlans` (a file that declares some: the digest holds them then) everywhere.
    """
    host = HostState()
    wanted = list(dict.fromkeys(namespaces))
    sockets: dict[NetnsName, RtnlSocket] = {}
    raw: dict[NetnsName, list[bytes]] = {}
    ports: dict[NetnsName, brvlan.Ports | None] = {}
    try:
        for name in wanted:
            opened = _open(name, debug)
            if opened is None:
                ports[name] = None
                continue
            sockets[name] = sock = opened
            raw[name] = []
            links = sock.dump_links(stats, raw[name])
            if vlans or any(_filters(lk) for lk in links):
                ports[name] = here = brvlan.read_vlans(sock, sock.next_seq())
                links = _with_vlans(links, here)
            host.namespaces[name] = NetnsState.of(name, links)
            if l3 is not None and name in l3:
                from linkctl.kernel.l3 import read_l3  # only commands with layer 3 in them

                host.namespaces[name].l3 = read_l3(sock)
        _map_netnsids(host, sockets)
        if digest:
            host.digest = linkdump.digest(_fingerprinted(name, raw, sockets, wanted) for name in wanted)
            if l3 is not None:
                from linkctl.kernel.fastpath import combined_digest, layer3_fingerprint

                parts = [
                    (n, layer3_fingerprint(st.l3) if (st := host.namespaces.get(n)) and st.l3 else b"-") for n in l3
                ]
                host.digest = combined_digest(host.digest, parts)
            if vlans:
                parts = [(n, brvlan.fingerprint(ports[n])) for n in wanted]
                host.digest = linkdump.tagged_digest(host.digest, b"vlans", parts)
    except PermissionError:
        raise LinkctlError("permission denied reading network namespaces: run as root") from None
    finally:
        for sock in sockets.values():
            sock.close()
    return host


def _open(name: NetnsName, debug: DebugHook | None, again: bool = True) -> RtnlSocket | None:
    """A socket in the namespace, None when it is not there: also when it went between the look and
    the open, or is still being made (`ip netns add` mounts it on a file it made first: setns says
    EINVAL meanwhile) while a host's containers come and go (`audit` reads every namespace)."""
    if not netns.exists(name):
        return None
    try:
        return RtnlSocket(name, debug)
    except netns.NetnsError:
        if name is not None and netns.exists(name) and netns.entry_refused(name) is not None:
            raise  # refused for want of privilege: that is the answer
        return _open(name, debug, again=False) if again else None


def read_with_peers(name: NetnsName, stats: bool = False, layer3: bool = False) -> HostState:
    """One namespace, and the named ones its veth peers live in: `ip link`'s "link-netns NAME";
    with `layer3`, that namespace's addresses, routes and rules too (IPv6 on or off on every link)."""
    host = read_with_link_nets([name], stats)
    if layer3 and name in host.namespaces:
        from linkctl.kernel.l3 import read_l3  # `show -f yaml` only

        with RtnlSocket(name) as sock:
            host.namespaces[name].l3 = read_l3(sock)
    return host


def read_with_link_nets(names: list[NetnsName], stats: bool = False, skip: Collection[NetnsName] = ()) -> HostState:
    """These namespaces, and the named ones their links point into (veth peers, underlays left behind);
    never into one in `skip` (a namespace this process may not enter, say)."""
    host = read_state(names, stats=stats)
    others = [o for o in [None, *netns.list_names()] if o not in names and o not in skip]
    homes: list[NetnsName] = []
    for name in names:
        state = host.namespaces.get(name)
        nsids = {lk.link_netnsid for lk in state.links.values() if lk.link_netnsid is not None} if state else set()
        if not nsids:
            continue
        sock = _open(name, None)
        if sock is None:
            continue  # gone since it was read
        with sock:  # one small request per candidate, not a dump of each
            homes += [o for o in others if sock.nsid_of(o) in nsids]
    return read_state([*names, *dict.fromkeys(homes)], stats=stats) if homes else host


def link_homes(host: HostState, links: Iterable[Link]) -> list[str]:
    """The named namespaces, not read in `host`, that these links' veth peers and bases live in
    (`ip link`'s "link-netns NAME"): one small request per candidate, only for links that point away."""
    asks: dict[NetnsName, set[int]] = {}
    for lk in links:
        if lk.link_netnsid is not None and (lk.netns, lk.link_netnsid) not in host.netnsids:
            asks.setdefault(lk.netns, set()).add(lk.link_netnsid)
    if not asks:
        return []
    others = [o for o in netns.list_names() if o not in host.namespaces]
    homes: list[str] = []
    for viewer, nsids in asks.items():
        with RtnlSocket(viewer) as sock:
            homes += [o for o in others if _nsid(sock, o) in nsids]
    return list(dict.fromkeys(homes))


def _nsid(sock: RtnlSocket, other: str) -> int | None:
    try:
        return sock.nsid_of(other)
    except (OSError, LinkctlError):  # removed meanwhile, or one this process may not enter: not a home
        return None


def namespaces_holding(name: str, besides: NetnsName) -> list[NetnsName]:
    """The other namespaces with a link of this name: what a "no such link" is most often about."""
    others = [ns for ns in [None, *netns.list_names()] if ns != besides]
    try:
        host = read_state(others)
    except (OSError, LinkctlError):
        return []
    return [ns for ns in others if host.find(name, ns) is not None]


def missing_link_hint(name: str, netns: NetnsName, names_here: Iterable[str]) -> str:
    """What follows "no such link": `; eth0 is in netns red (--netns red)` when another namespace
    has it, else `; did you mean eth0?` for the closest name here, else ""."""
    found = namespaces_holding(name, netns)
    if found:
        places = ", ".join(f"netns {ns} (--netns {ns})" if ns else "the default namespace (no --netns)" for ns in found)
        return f"; {name} is in {places}"
    from difflib import get_close_matches  # only for a name not found

    close = get_close_matches(name, list(names_here), n=1)
    return f"; did you mean {close[0]}?" if close else ""


def _fingerprinted(
    name: NetnsName, raw: dict[NetnsName, list[bytes]], sockets: dict[NetnsName, RtnlSocket], order: list[NetnsName]
) -> linkdump.NamespaceDump:
    """As the fast path sees a namespace (kernel/fastpath.py): the same messages, the same nsid questions."""
    if name not in raw:
        return linkdump.NamespaceDump(name, None)
    nsids = tuple(sockets[name].nsid_of(other) if other in sockets else None for other in order if other != name)
    return linkdump.NamespaceDump(name, raw[name], nsids)


def _filters(link: Link) -> bool:
    """A bridge with VLAN filtering on (IFLA_BR_VLAN_FILTERING; absent where the kernel has none)."""
    return isinstance(link.info, BridgeInfo) and bool(link.info.data.get("vlan_filtering"))


def _with_vlans(links: list[Link], ports: brvlan.Ports) -> list[Link]:
    return [replace(lk, vlans=ports[lk.ifindex]) if lk.ifindex in ports else lk for lk in links]


def _map_netnsids(host: HostState, sockets: dict[NetnsName, RtnlSocket]) -> None:
    """Name the namespaces that veth peers point at by netnsid, only when some do."""
    for viewer, state in host.namespaces.items():
        if not any(lk.link_netnsid is not None for lk in state.links.values()):
            continue
        for other in host.namespaces:
            if other == viewer:
                continue
            nsid = sockets[viewer].nsid_of(other)
            if nsid is not None:
                host.netnsids[(viewer, nsid)] = other

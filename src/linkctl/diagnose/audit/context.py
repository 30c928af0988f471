"""What audit's checks read: the two dumps, the declaration, and, read once when a check asks, ethtool's
answers, the underlays VXLANs are routed through and each namespace's layer 3."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from linkctl.diagnose.carrier import is_physical
from linkctl.diagnose.findings import Finding
from linkctl.errors import LinkctlError
from linkctl.kernel.ethtool import Ethtool, EthtoolError, Runner, run_program
from linkctl.kernel.ethtool_settings import EeeState, LinkSettings
from linkctl.kinds.vxlan import Underlay
from linkctl.kinds.vxlan import UnderlayQuery as Query
from linkctl.model.l3_state import Address, Route
from linkctl.model.spec import Declaration
from linkctl.model.state import HostState, Link, NetnsName, VxlanInfo

_T = TypeVar("_T")


@dataclass(frozen=True)
class Layer3:
    """What audit reads of a namespace's layer 3 (kernel/l3.py): its addresses, and every default route
    whatever made it (DHCP, router advertisements). Not the other routes: a router's full table
    would cost a dump's decoding for nothing a check reads."""

    addresses: tuple[Address, ...] = ()
    defaults: tuple[Route, ...] = ()

    def addresses_of(self, link: Link) -> list[str]:
        """The addresses a person configured on the link ("10.9.0.1/24"), link-local ones left out,
        in the kernel's order (IPv4 first, primary first)."""
        return [a.cidr for a in self.addresses if a.ifindex == link.ifindex and not a.link_local]


def read_layer3(netns: NetnsName) -> Layer3:
    """One socket in the namespace: the addresses, then the default routes."""
    from linkctl.kernel.l3 import read_addresses, read_default_routes
    from linkctl.kernel.netlink import RtnlSocket

    with RtnlSocket(netns) as sock:
        return Layer3(tuple(read_addresses(sock)), tuple(read_default_routes(sock)))


@dataclass
class AuditContext:
    """What the checks read. `before` is the first dump of two, for counter growth."""

    host: HostState
    before: HostState | None = None
    declaration: Declaration | None = None
    default_netns: NetnsName = None
    runner: Runner = run_program
    interval: float = 0.0
    _settings: dict[tuple[NetnsName, str], LinkSettings | None] = field(default_factory=dict)
    _eee: dict[tuple[NetnsName, str], EeeState | None] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)
    # a namespace -> its layer 3; a stand-in in tests without root
    read_layer3: Callable[[NetnsName], Layer3] | None = None
    _layer3: dict[NetnsName, Layer3 | None] = field(default_factory=dict)
    # (namespace, local, remote) -> the underlay the kernel routes to; a stand-in in tests without root
    read_underlays: Callable[[list[Query]], dict[Query, Underlay | None]] | None = None
    _underlays: dict[Query, Underlay | None] = field(default_factory=dict)

    def underlay(self, link: Link) -> Underlay | None:
        """Where a VXLAN without base-iface sends, looked up in the namespace it was made in (a moved
        VXLAN keeps its socket there); None when unknown or unreadable."""
        info = link.info
        known, netns = self.host.link_net(link)
        if not isinstance(info, VxlanInfo) or not known or (info.local is None and info.remote is None):
            return None
        key = (netns, info.local, info.remote)
        if key not in self._underlays:
            read = self.read_underlays
            if read is None:
                from linkctl.kernel.routes import read_underlays

                read = read_underlays
            try:
                self._underlays.update(read([key]))
            except (OSError, LinkctlError) as exc:
                self.unreadable["routes"] = str(exc)
                self._underlays[key] = None
        return self._underlays.get(key)

    def layer3(self, netns: NetnsName) -> Layer3 | None:
        """The namespace's addresses and routes (read once, when a check asks); None when unreadable,
        which `unreadable` names: no finding is made of what could not be read."""
        if netns not in self._layer3:
            read = self.read_layer3 if self.read_layer3 is not None else read_layer3
            try:
                self._layer3[netns] = read(netns)
            except (OSError, LinkctlError) as exc:
                self.unreadable[f"layer 3 of netns {netns}" if netns else "layer 3"] = str(exc)
                self._layer3[netns] = None
        return self._layer3[netns]

    def addresses(self, link: Link) -> list[str]:
        """The addresses a person configured on the link; none when they could not be read."""
        l3 = self.layer3(link.netns)
        return l3.addresses_of(link) if l3 is not None else []

    def physical(self) -> Iterator[Link]:
        for link in self.host:
            if is_physical(link):
                yield link

    def settings(self, link: Link) -> LinkSettings | None:
        key = (link.netns, link.name)
        if key not in self._settings:
            self._settings[key] = self._ethtool(link, lambda e: e.settings())
        return self._settings[key]

    def eee(self, link: Link) -> EeeState | None:
        key = (link.netns, link.name)
        if key not in self._eee:
            self._eee[key] = self._ethtool(link, lambda e: e.eee())
        return self._eee[key]

    def _ethtool(self, link: Link, read: Callable[[Ethtool], _T]) -> _T | None:
        try:
            return read(Ethtool(link.name, link.netns, self.runner))
        except EthtoolError as exc:
            self.unreadable[f"{link.netns or ''}/{link.name}"] = str(exc)
            return None


Check = Callable[[AuditContext], Iterator[Finding]]


def counter(link: Link, name: str) -> int | None:
    """A stats64 counter for a finding's evidence; None (not 0) when the dump had no stats."""
    return getattr(link.stats, name) if link.stats is not None else None


def flag_names(link: Link) -> str:
    return ",".join(f.name or "" for f in type(link.flags) if f in link.flags)

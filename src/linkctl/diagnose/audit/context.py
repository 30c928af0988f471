"""What audit's checks read: the two dumps, the declaration, ethtool's answers (read once, when a check asks)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from linkctl.diagnose.findings import Finding
from linkctl.errors import LinkctlError
from linkctl.kernel.ethtool import Ethtool, EthtoolError, Runner, run_program
from linkctl.kernel.ethtool_settings import EeeState, LinkSettings
from linkctl.kinds import kind_of
from linkctl.kinds.simple import ETHERNET
from linkctl.kinds.vxlan import Underlay
from linkctl.kinds.vxlan import UnderlayQuery as Query
from linkctl.model.spec import Declaration
from linkctl.model.state import HostState, Link, NetnsName, VxlanInfo

_T = TypeVar("_T")


def is_physical(link: Link) -> bool:
    """A NIC on a bus: what has a cable, a PHY and a driver's power saving to blame."""
    return kind_of(link) is ETHERNET and bool(link.parent_bus)


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
    _addresses: dict[NetnsName, dict[int, list[str]]] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)
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

    def addresses(self, link: Link) -> list[str]:
        """The addresses a person configured on the link (read once per namespace, when a check asks)."""
        if link.netns not in self._addresses:
            from linkctl.kernel.addresses import addresses

            try:
                self._addresses[link.netns] = addresses(link.netns)
            except (OSError, LinkctlError) as exc:
                self.unreadable["addresses"] = str(exc)
                self._addresses[link.netns] = {}
        return self._addresses[link.netns].get(link.ifindex, [])

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

"""Everything diagnose reads about one link, without changing anything.

What cannot be read (a driver without EEE, no kernel log access, no watch store) is
recorded in `unavailable` with the reason, and the ranking treats it as unknown rather
than as evidence either way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from linkctl.diagnose.audit import dependency_cause
from linkctl.diagnose.logscan import LogEvidence, Subject, read_files, read_journal, read_kmsg
from linkctl.domain.fix import Fix
from linkctl.errors import LinkctlError
from linkctl.kernel import sysinfo
from linkctl.kernel.ethtool import (
    DriverInfo,
    EeeState,
    Ethtool,
    EthtoolError,
    Feature,
    LinkSettings,
    PauseState,
    RingState,
    Runner,
    Unsupported,
    run_program,
)
from linkctl.kernel.state import read_state
from linkctl.kinds import kind_of
from linkctl.kinds.simple import ETHERNET
from linkctl.model.state import HostState, Link, NetnsName

_T = TypeVar("_T")


@dataclass
class Evidence:
    ifname: str
    netns: NetnsName
    link: dict[str, Any] = field(default_factory=dict)
    settings: LinkSettings | None = None
    eee: EeeState | None = None
    pause: PauseState | None = None
    coalesce: dict[str, int | bool] | None = None
    rings: RingState | None = None
    driver: DriverInfo | None = None
    features: dict[str, Feature] | None = None
    statistics: dict[str, int] = field(default_factory=dict)
    module_params: dict[str, sysinfo.Param] = field(default_factory=dict)
    interrupts: list[sysinfo.IrqLine] = field(default_factory=list)
    pci_errors: dict[str, int] = field(default_factory=dict)
    aspm: dict[str, str] = field(default_factory=dict)
    log: LogEvidence = field(default_factory=lambda: LogEvidence("not read", available=False))
    store: dict[str, Any] | None = None
    other_nics: list[str] = field(default_factory=list)
    debug_lines: list[str] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)
    # A virtual link's carrier is its peer's, lower link's or ports': what they explain, with its fix.
    dependency: tuple[str, Fix] | None = None

    @property
    def physical(self) -> bool:
        return bool(self.link.get("physical"))

    def stat(self, *names: str) -> int:
        """The sum of the driver statistics (`ethtool -S`) and stats64 counters named."""
        total = 0
        for name in names:
            total += self.statistics.get(name, 0)
            total += int(self.link.get("stats", {}).get(name, 0)) if name not in self.statistics else 0
        return total

    def to_json(self) -> dict[str, Any]:
        def j(x: Any) -> Any:
            return x.to_json() if x is not None and hasattr(x, "to_json") else x

        return {
            "ifname": self.ifname,
            "netns": self.netns,
            "link": self.link,
            "settings": j(self.settings),
            "eee": j(self.eee),
            "pause": j(self.pause),
            "coalesce": self.coalesce,
            "rings": j(self.rings),
            "driver": j(self.driver),
            "features": {k: v.active for k, v in (self.features or {}).items()},
            "statistics": self.statistics,
            "module_params": {k: p.value for k, p in self.module_params.items()},
            "interrupts": [i.to_json() for i in self.interrupts],
            "pci_errors": self.pci_errors,
            "aspm": self.aspm,
            "log": self.log.to_json(),
            "store": self.store if self.store is not None else "not available",
            "other_nics": self.other_nics,
            "debug_lines": self.debug_lines,
            "unavailable": self.unavailable,
            "dependency": {"finding": self.dependency[0], **self.dependency[1].to_json()} if self.dependency else None,
        }


def link_summary(link: Link) -> dict[str, Any]:
    stats = link.stats.__dict__ if link.stats else {}
    return {
        "kind": link.kind or kind_of(link).type.value,
        "physical": kind_of(link) is ETHERNET and bool(link.parent_bus),
        "admin_up": link.admin_up,
        "operstate": link.operstate.label,
        "carrier": link.carrier,
        "no_carrier": link.no_carrier,
        "carrier_changes": link.carrier_changes,
        "carrier_up_count": link.carrier_up_count,
        "carrier_down_count": link.carrier_down_count,
        "mtu": link.mtu,
        "promisc": link.promisc,
        "master_ifindex": link.master_ifindex,
        "stats": dict(stats),
    }


@dataclass
class Sources:
    """Where diagnose reads from; each replaceable so recorded evidence can stand in."""

    runner: Runner = run_program
    roots: sysinfo.Roots = sysinfo.ROOTS
    logs: list[str] | None = None
    since: datetime | None = None
    store_url: str | None = None
    kmsg_path: str = "/dev/kmsg"
    journal: bool = True


def find_link(ifname: str, netns: NetnsName, host: HostState | None) -> tuple[Link, HostState]:
    host = host if host is not None else read_state([netns], stats=True)
    link = host.find(ifname, netns)
    if link is None:
        from linkctl.kernel.state import missing_link_hint

        where = f" in netns {netns}" if netns else ""
        hint = missing_link_hint(ifname, netns, (lk.name for lk in host if lk.netns == netns))
        raise LinkctlError(
            f"diagnose: interface {ifname!r}: no such link{where}{hint}; `linkctl show"
            f"{' --netns ' + netns if netns else ''}` lists them"
        )
    return link, host


def gather(ifname: str, netns: NetnsName, src: Sources | None = None, host: HostState | None = None) -> Evidence:
    src = src or Sources()
    link, host = find_link(ifname, netns, host)
    ev = Evidence(ifname, netns, link_summary(link))
    if not ev.physical and link.no_carrier and (found := dependency_cause(host, link, ev.link)) is not None:
        ev.dependency = found[1], found[2]
    _ethtool_part(ev, Ethtool(ifname, netns, src.runner))
    _system_part(ev, src.roots)
    ev.log = _logs(ev, src)
    ev.store = _store(ev, src)
    ev.other_nics = sorted(
        lk.name
        for lk in host.ns(netns).links.values()
        if lk.name != ifname and kind_of(lk) is ETHERNET and lk.parent_bus
    )
    return ev


def _try(ev: Evidence, what: str, read: Callable[[], _T]) -> _T | None:
    try:
        return read()
    except Unsupported:
        ev.unavailable[what] = "not supported by the driver"
    except EthtoolError as exc:
        ev.unavailable[what] = str(exc)
    return None


def _ethtool_part(ev: Evidence, et: Ethtool) -> None:
    ev.settings = _try(ev, "settings", et.settings)
    ev.eee = _try(ev, "eee", et.eee)
    if ev.eee is not None and not ev.eee.supported:
        ev.unavailable["eee"] = "not supported by the driver"
    ev.pause = _try(ev, "pause", et.pause)
    ev.coalesce = _try(ev, "coalesce", et.coalesce)
    ev.rings = _try(ev, "rings", et.rings)
    ev.driver = _try(ev, "driver", et.driver)
    ev.features = _try(ev, "features", et.features)
    ev.statistics = _try(ev, "statistics", et.statistics) or {}


def _system_part(ev: Evidence, roots: sysinfo.Roots) -> None:
    drv = ev.driver.driver if ev.driver else None
    bus = ev.driver.bus_info if ev.driver else None
    if drv:
        ev.module_params = sysinfo.module_params(drv, roots)
        if not ev.module_params:
            ev.unavailable["module_params"] = f"/sys/module/{drv}/parameters lists none"
    ev.interrupts = sysinfo.interrupts([ev.ifname, bus or ""], roots)
    if bus and bus.count(":") == 2:
        ev.pci_errors = sysinfo.pci_errors(bus, roots)
    ev.aspm = sysinfo.aspm(bus if bus and bus.count(":") == 2 else None, roots)


def _logs(ev: Evidence, src: Sources) -> LogEvidence:
    subject = Subject(ev.ifname, ev.driver.driver if ev.driver else None, ev.driver.bus_info if ev.driver else None)
    if src.logs:
        return read_files(src.logs, subject, src.since)
    if src.journal and sysinfo.journald_available(src.roots)[0]:
        return read_journal(subject, src.since)
    return read_kmsg(subject, src.since, src.kmsg_path)


def _store(ev: Evidence, src: Sources) -> dict[str, Any] | None:
    if not src.store_url:
        ev.unavailable["store"] = (
            "no --store given: the watch store holds flap history when `linkctl watch --store URL` runs"
        )
        return None
    try:
        from linkctl.store.backends import open_store
    except ImportError:
        ev.unavailable["store"] = "the watch store is not installed in this build"
        return None
    try:
        store = open_store(src.store_url, readonly=True)
    except LinkctlError as exc:
        ev.unavailable["store"] = str(exc)
        return None
    try:
        episodes = store.episodes(ev.ifname, src.since)
        history = store.history(ev.ifname, src.since, ev.netns or "")
    finally:
        store.close()
    return {
        "episodes": len(episodes),
        "transitions": sum(e.transitions for e in episodes),
        "down_seconds": round(sum(e.down_seconds for e in episodes), 1),
        "events": len(history),
        "first": history[0].time.isoformat() if history else None,
        "last": history[-1].time.isoformat() if history else None,
    }

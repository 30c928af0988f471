"""Everything diagnose reads about one link, without changing anything.

What cannot be read (a driver without EEE, no kernel log access, no watch store) is
recorded in `unavailable` with the reason, and the ranking treats it as unknown rather
than as evidence either way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import TypeVar

from linkctl.diagnose.carrier import CarrierCause, dependency_cause, is_physical
from linkctl.diagnose.logscan import LogEvidence, Subject, read_files, read_journal, read_kmsg
from linkctl.errors import LinkctlError
from linkctl.kernel import sysinfo
from linkctl.kernel.ethtool import Ethtool, EthtoolError, Runner, Unsupported, run_program
from linkctl.kernel.ethtool_settings import DriverInfo, EeeState, Feature, LinkSettings, PauseState, RingState
from linkctl.kernel.state import link_homes, read_state
from linkctl.kinds import kind_of
from linkctl.model.state import HostState, Link, NetnsName, Stats

_T = TypeVar("_T")


# The stats64 counter names `Evidence.stat` may read off the link (ethtool's names are others).
_STATS64_ORDER = tuple(f.name for f in fields(Stats))
_STATS64 = frozenset(_STATS64_ORDER)


@dataclass(frozen=True)
class StoreHistory:
    """What the watch store recorded of the link over the window: the flap episodes watch's
    detector opened (watch/flap.py) and the carrier events."""

    episodes: int
    transitions: int
    down_seconds: float
    events: int
    first: str | None
    last: str | None

    def to_json(self) -> dict[str, object]:
        return {
            "episodes": self.episodes,
            "transitions": self.transitions,
            "down_seconds": self.down_seconds,
            "events": self.events,
            "first": self.first,
            "last": self.last,
        }


@dataclass
class Evidence:
    ifname: str
    netns: NetnsName
    link: Link
    settings: LinkSettings | None = None
    eee: EeeState | None = None
    pause: PauseState | None = None
    coalesce: dict[str, int | bool] | None = None
    rings: RingState | None = None
    driver: DriverInfo | None = None
    features: dict[str, Feature] | None = None
    statistics: dict[str, int] = field(default_factory=dict)
    module_params: dict[str, sysinfo.Param] = field(default_factory=dict)
    # The driver is built into the kernel (or the kernel loads no modules): modprobe.d never applies to it.
    driver_builtin: bool = False
    interrupts: list[sysinfo.IrqLine] = field(default_factory=list)
    pci_errors: dict[str, int] = field(default_factory=dict)
    aspm: dict[str, str] = field(default_factory=dict)
    log: LogEvidence = field(default_factory=lambda: LogEvidence("not read", available=False))
    store: StoreHistory | None = None
    other_nics: list[str] = field(default_factory=list)
    debug_lines: list[str] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)
    # A virtual link's carrier is its peer's, lower link's or ports': what they explain, with its fix.
    dependency: CarrierCause | None = None

    @property
    def physical(self) -> bool:
        return is_physical(self.link)

    @property
    def has_counters(self) -> bool:
        """Whether any error counter was read: with none, "no CRC errors" is not evidence."""
        return bool(self.statistics) or self.link.stats is not None

    def stat(self, *names: str) -> int:
        """The sum of the driver statistics (`ethtool -S`) and stats64 counters named."""
        total = 0
        stats = self.link.stats
        for name in names:
            if name in self.statistics:
                total += self.statistics[name]
            elif stats is not None and name in _STATS64:
                total += int(getattr(stats, name))
        return total

    def to_json(self) -> dict[str, object]:
        dep = self.dependency
        return {
            "ifname": self.ifname,
            "netns": self.netns,
            # what the dependency check read (the peer, the ports) is told with the link
            "link": {**link_json(self.link), **(dep.read if dep else {})},
            "settings": self.settings.to_json() if self.settings else None,
            "eee": self.eee.to_json() if self.eee else None,
            "pause": self.pause.to_json() if self.pause else None,
            "coalesce": self.coalesce,
            "rings": self.rings.to_json() if self.rings else None,
            "driver": self.driver.to_json() if self.driver else None,
            "features": {k: v.active for k, v in (self.features or {}).items()},
            "statistics": self.statistics,
            "module_params": {k: p.value for k, p in self.module_params.items()},
            "driver_builtin": self.driver_builtin,
            "interrupts": [i.to_json() for i in self.interrupts],
            "pci_errors": self.pci_errors,
            "aspm": self.aspm,
            "log": self.log.to_json(),
            "store": self.store.to_json() if self.store is not None else "not available",
            "other_nics": self.other_nics,
            "debug_lines": self.debug_lines,
            "unavailable": self.unavailable,
            "dependency": {"finding": dep.message, **dep.fix.to_json()} if dep else None,
        }


def link_json(link: Link) -> dict[str, object]:
    """The link as diagnose's JSON tells it. `show --format json` (cli/render.link_record) keys
    it otherwise ("admin_state"): both are kept, scripts read each."""
    return {
        "kind": link.kind or kind_of(link).type.value,
        "physical": is_physical(link),
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
        "stats": {name: getattr(link.stats, name) for name in _STATS64_ORDER} if link.stats else {},
    }


@dataclass
class Sources:
    """Where diagnose reads from; each replaceable so recorded evidence can stand in."""

    runner: Runner = run_program
    roots: sysinfo.Roots = sysinfo.ROOTS
    logs: list[str] | None = None
    since: datetime | None = None
    store_url: str | None = None
    store_timeout: float | None = None  # seconds a read of the store waits (None: its default)
    kmsg_path: str = "/dev/kmsg"
    journal: bool = True


def find_link(ifname: str, netns: NetnsName, host: HostState | None) -> tuple[Link, HostState]:
    given = host is not None
    host = host if host is not None else read_state([netns], stats=True)
    link = host.find(ifname, netns)
    if link is not None and not given and link.link_netnsid is not None:
        # Its veth peer or lower link lives in another namespace: read that one too, or a peer
        # that is down there counts neither way.
        homes = _homes(host, link)
        if homes:
            host = read_state([netns, *homes], stats=True)
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


def _homes(host: HostState, link: Link) -> list[str]:
    try:
        return link_homes(host, [link])
    except (OSError, LinkctlError):  # a namespace this process may not enter: its links stay unknown
        return []


def gather(ifname: str, netns: NetnsName, src: Sources | None = None, host: HostState | None = None) -> Evidence:
    src = src or Sources()
    link, host = find_link(ifname, netns, host)
    ev = Evidence(ifname, netns, link)
    if not ev.physical and link.no_carrier:
        ev.dependency = dependency_cause(host, link)
    _ethtool_part(ev, Ethtool(ifname, netns, src.runner))
    _system_part(ev, src.roots)
    ev.log = _logs(ev, src)
    ev.store = _store(ev, src)
    ev.other_nics = sorted(lk.name for lk in host.ns(netns).links.values() if lk.name != ifname and is_physical(lk))
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
        ev.driver_builtin = not sysinfo.modules_supported(roots) or sysinfo.module_state(drv, roots) == "built-in"
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


def _store(ev: Evidence, src: Sources) -> StoreHistory | None:
    if not src.store_url:
        ev.unavailable["store"] = (
            "no --store given: the watch store holds flap history when `linkctl watch --store URL` runs"
        )
        return None
    try:
        from linkctl.store import read_store
    except ImportError:
        ev.unavailable["store"] = "the watch store is not installed in this build"
        return None
    try:
        with read_store(src.store_url, src.store_timeout) as store:
            episodes = store.episodes(ev.ifname, src.since)
            history = store.history(ev.ifname, src.since, ev.netns or "")
    except LinkctlError as exc:  # a server that does not answer too: the verdict without the history
        ev.unavailable["store"] = str(exc)
        return None
    return StoreHistory(
        episodes=len(episodes),
        transitions=sum(e.transitions for e in episodes),
        down_seconds=round(sum(e.down_seconds for e in episodes), 1),
        events=len(history),
        first=history[0].time.isoformat() if history else None,
        last=history[-1].time.isoformat() if history else None,
    )

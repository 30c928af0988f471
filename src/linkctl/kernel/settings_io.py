"""The settings the second planner manages, read and written: ethtool sections of links through
the `ethtool` program (kernel/ethtool.py), kernel modules through kernel/modules.py.

`read` answers a `SettingsQuery` (model/settings_state.py) with what the system has now; the
executor carries the settings ops out through `set_ethtool` and kernel/modules.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from linkctl.kernel import modules, sysinfo
from linkctl.kernel.ethtool import Ethtool, EthtoolError, Runner, Unsupported, run_program
from linkctl.model.settings_state import SectionReading, SettingsQuery, SettingsState
from linkctl.model.state import NetnsName


def read(query: SettingsQuery, runner: Runner = run_program, roots: sysinfo.Roots = sysinfo.ROOTS) -> SettingsState:
    state = SettingsState()
    for key in query.sections:
        netns, ifname, section = key
        state.sections[key] = read_section(Ethtool(ifname, netns, runner), section)
    for driver, ask_modinfo in query.modules:
        state.modules[driver] = modules.read_module(driver, roots, ask_modinfo)
    for path in query.files:
        state.files[path] = modules.read(Path(path))
    for path in query.params:
        state.params[path] = modules.read_param(Path(path))
    return state


def read_section(et: Ethtool, section: str) -> SectionReading:
    """One section as ethtool reports it now; a refusal is part of the reading."""
    try:
        return _READERS[section](et)
    except Unsupported:
        return SectionReading(unsupported=True)
    except EthtoolError as exc:
        return SectionReading(error=str(exc))


def _eee(e: Ethtool) -> SectionReading:
    return SectionReading({"enabled": e.eee().enabled})  # None: no EEE support (ethtool says so)


def _pause(e: Ethtool) -> SectionReading:
    p = e.pause()
    return SectionReading({"autoneg": p.autoneg, "rx": p.rx, "tx": p.tx})


def _features(e: Ethtool) -> SectionReading:
    feats = e.features()
    return SectionReading({k: f.active for k, f in feats.items()}, frozenset(k for k, f in feats.items() if f.fixed))


def _rings(e: Ethtool) -> SectionReading:
    rings = e.rings()
    return SectionReading(dict(rings.current), maximum=dict(rings.maximum))


def _ethernet(e: Ethtool) -> SectionReading:
    st = e.settings()
    return SectionReading({"speed": st.speed, "duplex": st.duplex, "autoneg": st.autoneg})


_READERS: dict[str, Callable[[Ethtool], SectionReading]] = {
    "eee": _eee,
    "pause": _pause,
    "feature": _features,
    "coalesce": lambda e: SectionReading(dict(e.coalesce())),
    "ring": _rings,
    "ethernet": _ethernet,
}


_SETTERS: dict[str, Callable[[Ethtool, Mapping[str, Any]], list[str]]] = {
    "eee": lambda e, v: e.set_eee(bool(v["enabled"])),
    "pause": lambda e, v: e.set_pause(v),
    "feature": lambda e, v: e.set_features(v),
    "coalesce": lambda e, v: e.set_coalesce(v),
    "ring": lambda e, v: e.set_rings(v),
    "ethernet": lambda e, v: e.set_link(v),
}


def set_ethtool(
    ifname: str, netns: NetnsName, section: str, wanted: Mapping[str, Any], runner: Runner = run_program
) -> None:
    """Set these keys of one section (raises EthtoolError when ethtool refuses)."""
    _SETTERS[section](Ethtool(ifname, netns, runner), wanted)

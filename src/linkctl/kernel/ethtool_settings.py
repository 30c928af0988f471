"""What ethtool reports, typed: link modes and settings, EEE, pause, rings, coalescing,
driver information, offload features and driver statistics, read from the program's text
or `--json` output (kernel/ethtool.py runs it). No I/O here: the parsers are tested on
captures of e1000e, igb, ixgbe and mlx5 under tests/diagnose/data.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

# Feature names as declared and as `ethtool -k` prints them: pure, so the settings planner has them too.
from linkctl.model.settings_state import FEATURE_ALIASES as FEATURE_ALIASES
from linkctl.model.settings_state import feature_key as feature_key

_MODE = re.compile(r"^(\d+)base[A-Za-z0-9_]*?/(Full|Half)$")


def mode_speed(mode: str) -> tuple[int, str] | None:
    """ "1000baseT/Full" -> (1000, "full")."""
    m = _MODE.match(mode)
    return (int(m[1]), m[2].lower()) if m else None


@dataclass(frozen=True)
class LinkSettings:
    """What plain `ethtool IFACE` prints."""

    speed: int | None = None
    duplex: str | None = None
    autoneg: bool | None = None
    port: str | None = None
    supports_autoneg: bool | None = None
    supported_modes: tuple[str, ...] = ()
    advertised_modes: tuple[str, ...] = ()
    partner_modes: tuple[str, ...] = ()
    partner_autoneg: bool | None = None
    advertised_pause: str | None = None
    partner_pause: str | None = None
    link_detected: bool | None = None
    mdix: str | None = None

    def best_common(self) -> tuple[int, str] | None:
        """The fastest mode both ends advertise, as autonegotiation should pick it."""
        if not self.advertised_modes or not self.partner_modes:
            return None
        ours = {mode_speed(m) for m in self.advertised_modes} - {None}
        theirs = {mode_speed(m) for m in self.partner_modes} - {None}
        common = [m for m in ours & theirs if m is not None]
        return max(common, key=lambda m: (m[0], m[1] == "full")) if common else None

    def to_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        for key in ("supported_modes", "advertised_modes", "partner_modes"):
            data[key] = list(data[key])
        return data


@dataclass(frozen=True)
class EeeState:
    supported: bool
    enabled: bool | None = None
    active: bool | None = None
    tx_lpi_us: int | None = None
    advertised_modes: tuple[str, ...] = ()
    partner_modes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["advertised_modes"] = list(self.advertised_modes)
        data["partner_modes"] = list(self.partner_modes)
        return data


@dataclass(frozen=True)
class PauseState:
    autoneg: bool | None = None
    rx: bool | None = None
    tx: bool | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class RingState:
    maximum: dict[str, int] = field(default_factory=dict)
    current: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"maximum": self.maximum, "current": self.current}


@dataclass(frozen=True)
class DriverInfo:
    driver: str
    version: str | None = None
    firmware: str | None = None
    bus_info: str | None = None
    expansion_rom: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Feature:
    active: bool
    fixed: bool = False

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


# -- the parsers ----------------------------------------------------------------------

_KEY_LINE = re.compile(r"^\s*([A-Za-z][^:]*?):\s*(.*)$")


def _blocks(text: str) -> dict[str, str]:
    """ "Key: value" lines, with continuation lines (no key) joined to the last key."""
    values: dict[str, str] = {}
    last: str | None = None
    for raw in text.splitlines()[1:]:
        m = _KEY_LINE.match(raw)
        if m and not _looks_like_modes(m[1]):
            last = m[1].strip()
            values[last] = m[2].strip()
        elif last is not None and raw.strip():
            values[last] = f"{values[last]} {raw.strip()}"
    return values


def _looks_like_modes(key: str) -> bool:
    return bool(_MODE.match(key.strip().split(" ")[0]))


def _modes(value: str | None) -> tuple[str, ...]:
    if not value or value.startswith("Not reported"):
        return ()
    return tuple(w for w in value.split() if "/" in w)


def _yes(value: str | None) -> bool | None:
    if value is None:
        return None
    word = value.strip().lower()
    if word in ("yes", "on", "enabled", "true"):
        return True
    if word in ("no", "off", "disabled", "false"):
        return False
    return None


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    m = re.match(r"^(\d+)", value.strip())
    return int(m[1]) if m else None


def parse_settings(text: str) -> LinkSettings:
    v = _blocks(text)
    duplex = v.get("Duplex", "").lower()
    return LinkSettings(
        speed=_int(v.get("Speed")),
        duplex=duplex if duplex in ("full", "half") else None,
        autoneg=_yes(v.get("Auto-negotiation")),
        port=v.get("Port"),
        supports_autoneg=_yes(v.get("Supports auto-negotiation")),
        supported_modes=_modes(v.get("Supported link modes")),
        advertised_modes=_modes(v.get("Advertised link modes")),
        partner_modes=_modes(v.get("Link partner advertised link modes")),
        partner_autoneg=_yes(v.get("Link partner advertised auto-negotiation")),
        advertised_pause=v.get("Advertised pause frame use"),
        partner_pause=v.get("Link partner advertised pause frame use"),
        link_detected=_yes(v.get("Link detected")),
        mdix=v.get("MDI-X"),
    )


def parse_eee(text: str) -> EeeState:
    v = _blocks(text)
    status = v.get("EEE status", "").lower()
    if not status or "not supported" in status:
        return EeeState(supported=False)
    lpi = v.get("Tx LPI", "")
    return EeeState(
        supported=True,
        enabled=status.startswith("enabled"),
        active=status.endswith("- active"),
        tx_lpi_us=_int(lpi),
        advertised_modes=_modes(v.get("Advertised EEE link modes")),
        partner_modes=_modes(v.get("Link partner advertised EEE link modes")),
    )


def _rows(text: str) -> list[dict[str, Any]]:
    """`ethtool --json`'s rows. Not strict: ethtool (6.1) writes a control character in a link's
    name (an ESC, which the kernel takes) raw in its "ifname", and a strict parse of that made
    `diagnose` of such a link an internal error."""
    rows: list[dict[str, Any]] = json.loads(text, strict=False)
    return rows


def parse_pause(text: str) -> PauseState:
    if text.lstrip().startswith("["):
        rows = _rows(text)
        row: dict[str, Any] = rows[0] if rows else {}
        auto = row.get("autonegotiate", row.get("autoneg"))
        return PauseState(auto, row.get("rx"), row.get("tx"))
    v = _blocks(text)
    return PauseState(_yes(v.get("Autonegotiate")), _yes(v.get("RX")), _yes(v.get("TX")))


def parse_coalesce(text: str) -> dict[str, int | bool]:
    if text.lstrip().startswith("["):
        rows = _rows(text)
        row: dict[str, Any] = rows[0] if rows else {}
        return {k: v for k, v in row.items() if isinstance(v, bool | int) and k != "ifname"}
    out: dict[str, int | bool] = {}
    for raw in text.splitlines()[1:]:
        m = re.match(r"^Adaptive RX:\s*(\w+)\s+TX:\s*(\w+)", raw)
        if m:
            for key, word in (("adaptive-rx", m[1]), ("adaptive-tx", m[2])):
                flag = _yes(word)
                if flag is not None:
                    out[key] = flag
            continue
        m = re.match(r"^([a-z][a-z-]+):\s*(\d+)\s*$", raw)
        if m:
            out[m[1]] = int(m[2])
    return out


_RING_KEYS = {"RX": "rx", "RX Mini": "rx-mini", "RX Jumbo": "rx-jumbo", "TX": "tx"}


def parse_rings(text: str) -> RingState:
    if text.lstrip().startswith("["):
        rows = _rows(text)
        row: dict[str, Any] = rows[0] if rows else {}
        return RingState(
            {k[: -len("-max")]: v for k, v in row.items() if k.endswith("-max")},
            {k: row[k] for k in _RING_KEYS.values() if isinstance(row.get(k), int)},
        )
    maximum: dict[str, int] = {}
    current: dict[str, int] = {}
    target = maximum
    for raw in text.splitlines()[1:]:
        if raw.startswith("Current hardware settings"):
            target = current
            continue
        m = re.match(r"^([A-Za-z ]+?):\s*(\S+)", raw)
        if m and m[1] in _RING_KEYS and m[2].isdigit():
            target[_RING_KEYS[m[1]]] = int(m[2])
    return RingState(maximum, current)


def parse_driver(text: str) -> DriverInfo:
    v: dict[str, str] = {}
    for raw in text.splitlines():
        key, sep, value = raw.partition(":")
        if sep:
            v[key.strip()] = value.strip()
    return DriverInfo(
        driver=v.get("driver", ""),
        version=v.get("version") or None,
        firmware=v.get("firmware-version") or None,
        bus_info=v.get("bus-info") or None,
        expansion_rom=v.get("expansion-rom-version") or None,
    )


def parse_features(text: str) -> dict[str, Feature]:
    if text.lstrip().startswith("["):
        rows = _rows(text)
        row: dict[str, Any] = rows[0] if rows else {}
        return {k: Feature(bool(v.get("active")), bool(v.get("fixed"))) for k, v in row.items() if isinstance(v, dict)}
    out: dict[str, Feature] = {}
    for raw in text.splitlines()[1:]:
        m = re.match(r"^\s*([a-z0-9-]+):\s*(on|off)(\s*\[fixed\])?", raw)
        if m:
            out[m[1]] = Feature(m[2] == "on", bool(m[3]))
    return out


def parse_statistics(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for raw in text.splitlines():
        key, sep, value = raw.rpartition(":")
        value = value.strip()
        if sep and key.strip() and re.fullmatch(r"-?\d+", value):
            out[key.strip()] = int(value)
    return out

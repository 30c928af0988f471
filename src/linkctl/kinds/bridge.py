"""linux-bridge: a software switch; its ports are links whose master it is.

Every bridge option linkctl manages can be changed in place. Ports are not
kind data: the planner enslaves and releases them (IFLA_MASTER on the port).
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from linkctl.kinds.base import NO_DIFF, FieldDiff, KindDiff, LinkKind, Resolver, collect, differ
from linkctl.model.spec import (
    BridgeOptions,
    BridgePort,
    BridgeSection,
    InterfaceSpec,
    InterfaceType,
    StpOptions,
)
from linkctl.model.spec_base import Section
from linkctl.model.state import BridgeInfo, BridgePortInfo, KindInfo, Link, NetnsState
from linkctl.nla import U8, U16, U32, attr, iter_attrs

IFLA_BR_FORWARD_DELAY = 1
IFLA_BR_HELLO_TIME = 2
IFLA_BR_MAX_AGE = 3
IFLA_BR_AGEING_TIME = 4
IFLA_BR_STP_STATE = 5
IFLA_BR_PRIORITY = 6
IFLA_BR_MCAST_SNOOPING = 23
IFLA_BRPORT_PRIORITY = 2
IFLA_BRPORT_COST = 3
IFLA_BRPORT_MODE = 4  # hairpin

USER_HZ = 100  # the bridge's timers travel as clock_t ticks


class _Option(NamedTuple):  # not a dataclass: one costs ~1 ms to make, on every command's path
    """One bridge option: its place in the file, in the kernel's message and on `ip`'s command line."""

    field: str  # the declaration's path, as plans name it
    attr: int  # IFLA_BR_*
    size: struct.Struct
    ip_name: str  # ip link ... type bridge IP_NAME VALUE
    info: str  # the BridgeInfo field that holds what the kernel reports
    ticks: bool = False  # a timer: declared in seconds, kept by the kernel in clock_t ticks
    boolean: bool = False  # on/off, sent and reported as 0/1

    def declared(self, opts: BridgeOptions) -> int | bool | None:
        section: Section | None = opts
        *path, key = self.field.split(".")[2:]
        for part in path:
            section = getattr(section, part.replace("-", "_"), None)
        return getattr(section, key.replace("-", "_"), None) if section is not None else None

    def current(self, info: BridgeInfo) -> int | bool | None:
        value: int | bool | None = getattr(info, self.info)
        return _secs(value) if self.ticks else value

    def raw(self, value: int | bool) -> int:
        return int(value) * USER_HZ if self.ticks else int(value)


_OPTIONS = (
    _Option("bridge.options.stp.enabled", IFLA_BR_STP_STATE, U32, "stp_state", "stp", boolean=True),
    _Option("bridge.options.stp.forward-delay", IFLA_BR_FORWARD_DELAY, U32, "forward_delay", "forward_delay", True),
    _Option("bridge.options.stp.hello-time", IFLA_BR_HELLO_TIME, U32, "hello_time", "hello_time", True),
    _Option("bridge.options.stp.max-age", IFLA_BR_MAX_AGE, U32, "max_age", "max_age", True),
    _Option("bridge.options.stp.priority", IFLA_BR_PRIORITY, U16, "priority", "priority"),
    _Option("bridge.options.mac-ageing-time", IFLA_BR_AGEING_TIME, U32, "ageing_time", "ageing_time", True),
    _Option(
        "bridge.options.multicast-snooping", IFLA_BR_MCAST_SNOOPING, U8, "mcast_snooping", "multicast_snooping",
        boolean=True,
    ),
)  # fmt: skip
_BY_ATTR = {o.attr: o for o in _OPTIONS}
TIMERS = tuple(o.info for o in _OPTIONS if o.ticks)  # BridgeInfo fields the kernel keeps in ticks


def seconds(ticks: int) -> int | float:
    """A bridge timer as a person (and the declaration) reads it: seconds, not clock_t ticks."""
    return ticks // USER_HZ if ticks % USER_HZ == 0 else ticks / USER_HZ


class _PortOption(NamedTuple):
    """One setting of a port (IFLA_INFO_SLAVE_DATA): a BridgePort and BridgePortInfo field."""

    key: str
    attr: int
    size: struct.Struct
    ip_name: str  # ip link set dev PORT type bridge_slave IP_NAME VALUE

    @property
    def field(self) -> str:
        return self.key.replace("_", "-")


_PORT_OPTIONS = (
    _PortOption("stp_priority", IFLA_BRPORT_PRIORITY, U16, "priority"),
    _PortOption("stp_path_cost", IFLA_BRPORT_COST, U32, "cost"),
    _PortOption("stp_hairpin_mode", IFLA_BRPORT_MODE, U8, "hairpin"),
)
_PORT_BY_ATTR = {o.attr: o for o in _PORT_OPTIONS}


class PortMtu(NamedTuple):
    """A port's MTU and its bridge's. A frame forwarded to a port over the port's MTU is dropped,
    so ports and bridge want one MTU; plan notes and audit word a mismatch each their way."""

    port_mtu: int
    bridge_mtu: int

    @property
    def matches(self) -> bool:
        return self.port_mtu == self.bridge_mtu

    @property
    def port_drops(self) -> bool:
        """The port drops the larger frames the bridge forwards to it."""
        return self.port_mtu < self.bridge_mtu


class Bridge(LinkKind):
    type = InterfaceType.LINUX_BRIDGE
    kernel_kind = "bridge"
    module = "bridge"
    section_key = "bridge"

    def decode(self, buf: bytes, off: int, end: int) -> KindInfo:
        values: dict[str, int | bool] = {}
        for atype, s, _e in iter_attrs(buf, off, end):
            if (opt := _BY_ATTR.get(atype)) is not None:
                raw = opt.size.unpack_from(buf, s)[0]
                values[opt.info] = bool(raw) if opt.boolean else raw
        values.setdefault("stp", False)
        return BridgeInfo(**values)  # type: ignore[arg-type]

    def decode_port(self, buf: bytes, off: int, end: int) -> BridgePortInfo:
        values: dict[str, int | bool] = {}
        for atype, s, _e in iter_attrs(buf, off, end):
            if (opt := _PORT_BY_ATTR.get(atype)) is not None:
                raw = opt.size.unpack_from(buf, s)[0]
                values[opt.key] = bool(raw) if opt.key == "stp_hairpin_mode" else raw
        return BridgePortInfo(**values)  # type: ignore[arg-type]

    def compare(self, spec: InterfaceSpec, link: Link, ns: NetnsState, base: str | None) -> KindDiff:
        opts = spec.bridge.options if spec.bridge else None
        if opts is None:
            return NO_DIFF
        info = link.info if isinstance(link.info, BridgeInfo) else BridgeInfo()
        return self.split(*(differ(o.field, o.current(info), o.declared(opts)) for o in _OPTIONS))

    def info_data(self, spec: InterfaceSpec, resolve: Resolver, only: frozenset[str] | None = None) -> bytes:
        return b"".join(attr(o.attr, o.size.pack(o.raw(v))) for o, v in _given(spec, only))

    def ip_args(self, spec: InterfaceSpec, only: frozenset[str] | None = None) -> list[str]:
        args = ["type", "bridge"]
        for o, v in _given(spec, only):
            args += [o.ip_name, str(o.raw(v))]
        return args

    def section_from_link(self, link: Link, ns: NetnsState, base: str | None) -> BridgeSection:
        info = link.info if isinstance(link.info, BridgeInfo) else BridgeInfo()
        now = {o.field.rsplit(".", 1)[1].replace("-", "_"): o.current(info) for o in _OPTIONS}
        stp = {k: now[k] for k in ("forward_delay", "hello_time", "max_age", "priority")}
        return BridgeSection(
            options=BridgeOptions(
                stp=StpOptions(enabled=now["enabled"], **stp),
                mac_ageing_time=now["mac_ageing_time"],
                multicast_snooping=now["multicast_snooping"],
            ),
            port=[_port_from(p, ns.links[p].port) for p in ns.ports_of(link.name)],
        )


def _port_from(name: str, info: BridgePortInfo | None) -> BridgePort:
    return BridgePort(name=name, **info._asdict()) if info is not None else BridgePort(name=name)


def port_diffs(port: BridgePort, have: BridgePortInfo | None) -> tuple[FieldDiff, ...]:
    """What a declared port's settings change on it (`have` None: it joins now, all are set)."""
    return collect(
        *(differ(o.field, getattr(have, o.key) if have else None, getattr(port, o.key)) for o in _PORT_OPTIONS)
    )


def port_data(port: BridgePort, fields: frozenset[str]) -> bytes:
    """IFLA_INFO_SLAVE_DATA setting the named fields of a port."""
    return b"".join(attr(o.attr, o.size.pack(int(getattr(port, o.key)))) for o in _PORT_OPTIONS if o.field in fields)


def port_ip_args(port: BridgePort, fields: frozenset[str]) -> list[str]:
    args = ["type", "bridge_slave"]
    for o in _PORT_OPTIONS:
        if o.field in fields:
            value = getattr(port, o.key)
            args += [o.ip_name, ("on" if value else "off") if isinstance(value, bool) else str(value)]
    return args


def _given(spec: InterfaceSpec, only: frozenset[str] | None) -> list[tuple[_Option, int | bool]]:
    """The options the file sets (those of `only`, when only some change), with their values."""
    opts = spec.bridge.options if spec.bridge else None
    if opts is None:
        return []
    out = []
    for o in _OPTIONS:
        value = o.declared(opts)
        if value is not None and (only is None or o.field in only):
            out.append((o, value))
    return out


def _secs(ticks: int | None) -> int | None:
    return None if ticks is None else ticks // USER_HZ


BRIDGE = Bridge()

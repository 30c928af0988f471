"""linux-bridge: a software switch; its ports are links whose master it is.

Every bridge option linkctl manages can be changed in place. Ports are not
kind data: the planner enslaves and releases them (IFLA_MASTER on the port).
"""

from __future__ import annotations

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
from linkctl.nla.ifla import BRIDGE as TABLE
from linkctl.nla.ifla import BRIDGE_PORT as PORT_TABLE

USER_HZ = 100  # the bridge's timers travel as clock_t ticks
VLAN_PROTOCOLS = {"802.1q": 0x8100, "802.1ad": 0x88A8}


class _Option(NamedTuple):  # not a dataclass: one costs ~1 ms to make, on every command's path
    """One bridge option: its place in the file, its IFLA_BR_* attribute and `ip`'s spelling."""

    field: str  # the declaration's path, as plans name it
    attr: str  # the attribute, as the IFLA_BR_* table names it
    ip_name: str  # ip link ... type bridge IP_NAME VALUE
    info: str | None = None  # the BridgeInfo field that holds it (None: BridgeInfo.data[attr])
    ticks: bool = False  # a timer: declared in seconds, kept by the kernel in clock_t ticks
    boolean: bool = False  # on/off, sent and reported as 0/1
    words: tuple[str, ...] = ()  # the kernel's numbering of the option's values
    codes: tuple[tuple[str, int], ...] = ()  # values sent as numbers that are not 0, 1, 2...

    def declared(self, opts: BridgeOptions) -> object:
        section: Section | None = opts
        *path, key = self.field.split(".")[2:]
        for part in path:
            section = getattr(section, part.replace("-", "_"), None)
        value: object = getattr(section, key.replace("-", "_"), None) if section is not None else None
        return getattr(value, "value", value)  # an enum's word

    def current(self, info: BridgeInfo) -> object:
        raw = getattr(info, self.info) if self.info else info.data.get(self.attr)
        if raw is None or self.info:
            return _secs(raw) if self.ticks else raw  # type: ignore[arg-type]
        if self.boolean:
            return bool(raw)
        if self.words:
            return self.words[raw] if isinstance(raw, int) and raw < len(self.words) else raw
        if self.codes:
            return next((w for w, c in self.codes if c == raw), raw)
        return raw.upper() if isinstance(raw, str) else raw  # group_addr as the section keeps it

    def raw(self, value: object) -> object:
        if self.ticks:
            return int(value) * USER_HZ  # type: ignore[call-overload]
        if self.words:
            return self.words.index(str(value))
        if self.codes:
            return dict(self.codes)[str(value)]
        if isinstance(value, bool):
            return int(value)
        return value

    def ip_value(self, value: object) -> str:
        raw = self.raw(value)
        return str(value).lower() if isinstance(raw, str) or self.codes else str(raw)


_O = _Option
_OPTIONS = (
    _O("bridge.options.stp.enabled", "stp_state", "stp_state", "stp", boolean=True),
    _O("bridge.options.stp.forward-delay", "forward_delay", "forward_delay", "forward_delay", True),
    _O("bridge.options.stp.hello-time", "hello_time", "hello_time", "hello_time", True),
    _O("bridge.options.stp.max-age", "max_age", "max_age", "max_age", True),
    _O("bridge.options.stp.priority", "priority", "priority", "priority"),
    _O("bridge.options.mac-ageing-time", "ageing_time", "ageing_time", "ageing_time", True),
    _O("bridge.options.multicast-snooping", "mcast_snooping", "mcast_snooping", "multicast_snooping", boolean=True),
    _O("bridge.options.group-fwd-mask", "group_fwd_mask", "group_fwd_mask"),
    _O("bridge.options.group-addr", "group_addr", "group_address"),
    _O("bridge.options.hash-max", "mcast_hash_max", "mcast_hash_max"),
    _O("bridge.options.hash-elasticity", "mcast_hash_elasticity", "mcast_hash_elasticity"),
    _O("bridge.options.multicast-router", "mcast_router", "mcast_router", words=("disabled", "auto", "enabled")),
    _O("bridge.options.multicast-querier", "mcast_querier", "mcast_querier", boolean=True),
    _O("bridge.options.multicast-query-use-ifaddr", "mcast_query_use_ifaddr", "mcast_query_use_ifaddr", boolean=True),
    _O("bridge.options.multicast-last-member-count", "mcast_last_member_cnt", "mcast_last_member_count"),
    _O("bridge.options.multicast-startup-query-count", "mcast_startup_query_cnt", "mcast_startup_query_count"),
    _O("bridge.options.multicast-last-member-interval", "mcast_last_member_intvl", "mcast_last_member_interval"),
    _O("bridge.options.multicast-membership-interval", "mcast_membership_intvl", "mcast_membership_interval"),
    _O("bridge.options.multicast-querier-interval", "mcast_querier_intvl", "mcast_querier_interval"),
    _O("bridge.options.multicast-query-interval", "mcast_query_intvl", "mcast_query_interval"),
    _O(
        "bridge.options.multicast-query-response-interval", "mcast_query_response_intvl",
        "mcast_query_response_interval",
    ),
    _O("bridge.options.multicast-startup-query-interval", "mcast_startup_query_intvl", "mcast_startup_query_interval"),
    _O("bridge.options.vlan-protocol", "vlan_protocol", "vlan_protocol", codes=tuple(VLAN_PROTOCOLS.items())),
    _O("bridge.options.vlan-default-pvid", "vlan_default_pvid", "vlan_default_pvid"),
)  # fmt: skip
_INFO_FIELDS = tuple((o.attr, o.info) for o in _OPTIONS if o.info)  # BridgeInfo's own fields
TIMERS = tuple(o.info for o in _OPTIONS if o.ticks and o.info)  # BridgeInfo fields the kernel keeps in ticks
# The options that need bridge VLAN filtering in the kernel (CONFIG_BRIDGE_VLAN_FILTERING).
VLAN_FIELDS = ("bridge.options.vlan-protocol", "bridge.options.vlan-default-pvid")


def seconds(ticks: int) -> int | float:
    """A bridge timer as a person (and the declaration) reads it: seconds, not clock_t ticks."""
    return ticks // USER_HZ if ticks % USER_HZ == 0 else ticks / USER_HZ


class _PortOption(NamedTuple):
    """One setting of a port (IFLA_INFO_SLAVE_DATA): a BridgePort and BridgePortInfo field."""

    key: str
    attr: str  # IFLA_BRPORT_* as the table names it
    ip_name: str  # ip link set dev PORT type bridge_slave IP_NAME VALUE

    @property
    def field(self) -> str:
        return self.key.replace("_", "-")


_PORT_OPTIONS = (
    _PortOption("stp_priority", "priority", "priority"),
    _PortOption("stp_path_cost", "cost", "cost"),
    _PortOption("stp_hairpin_mode", "mode", "hairpin"),
)


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
        data = TABLE.decode(buf, off, end)
        values: dict[str, object] = {info: data[attr] for attr, info in _INFO_FIELDS if attr in data}
        values["stp"] = bool(values.get("stp", False))
        if "multicast_snooping" in values:
            values["multicast_snooping"] = bool(values["multicast_snooping"])
        return BridgeInfo(**values, data=data)  # type: ignore[arg-type]

    def decode_port(self, buf: bytes, off: int, end: int) -> BridgePortInfo:
        data = PORT_TABLE.decode(buf, off, end)
        hairpin = data.get("mode")
        return BridgePortInfo(
            stp_priority=data.get("priority"),  # type: ignore[arg-type]
            stp_path_cost=data.get("cost"),  # type: ignore[arg-type]
            stp_hairpin_mode=None if hairpin is None else bool(hairpin),
        )

    def compare(self, spec: InterfaceSpec, link: Link, ns: NetnsState, base: str | None) -> KindDiff:
        opts = spec.bridge.options if spec.bridge else None
        if opts is None:
            return NO_DIFF
        info = link.info if isinstance(link.info, BridgeInfo) else BridgeInfo()
        return self.split(*(_differ(o, o.current(info), o.declared(opts)) for o in _OPTIONS))

    def info_data(self, spec: InterfaceSpec, resolve: Resolver, only: frozenset[str] | None = None) -> bytes:
        return TABLE.encode((o.attr, o.raw(v)) for o, v in _given(spec, only))

    def ip_args(self, spec: InterfaceSpec, only: frozenset[str] | None = None) -> list[str]:
        args = ["type", "bridge"]
        for o, v in _given(spec, only):
            args += [o.ip_name, o.ip_value(v)]
        return args

    def section_from_link(self, link: Link, ns: NetnsState, base: str | None) -> BridgeSection:
        info = link.info if isinstance(link.info, BridgeInfo) else BridgeInfo()
        now = {o.field.rsplit(".", 1)[1].replace("-", "_"): o.current(info) for o in _OPTIONS}
        stp = {k: now.pop(k) for k in ("enabled", "forward_delay", "hello_time", "max_age", "priority")}
        return BridgeSection(
            options=BridgeOptions(stp=StpOptions(**stp), **{k: v for k, v in now.items() if v is not None}),
            port=[_port_from(p, ns.links[p].port) for p in ns.ports_of(link.name)],
        )


def _port_from(name: str, info: object) -> BridgePort:
    return BridgePort(name=name, **info._asdict()) if isinstance(info, BridgePortInfo) else BridgePort(name=name)


def port_diffs(port: BridgePort, have: BridgePortInfo | None) -> tuple[FieldDiff, ...]:
    """What a declared port's settings change on it (`have` None: it joins now, all are set)."""
    return collect(
        *(differ(o.field, getattr(have, o.key) if have else None, getattr(port, o.key)) for o in _PORT_OPTIONS)
    )


def port_data(port: BridgePort, fields: frozenset[str]) -> bytes:
    """IFLA_INFO_SLAVE_DATA setting the named fields of a port."""
    return PORT_TABLE.encode((o.attr, int(getattr(port, o.key))) for o in _PORT_OPTIONS if o.field in fields)


def port_ip_args(port: BridgePort, fields: frozenset[str]) -> list[str]:
    args = ["type", "bridge_slave"]
    for o in _PORT_OPTIONS:
        if o.field in fields:
            value = getattr(port, o.key)
            args += [o.ip_name, ("on" if value else "off") if isinstance(value, bool) else str(value)]
    return args


def _differ(o: _Option, current: object, declared: object) -> FieldDiff | None:
    """A difference, but for a multicast timer the kernel rounded down to its own tick: it keeps them
    in jiffies, so on a kernel with HZ=250 an odd number of 1/100 s comes back one less (3125 is
    kept as 3124); that is as close as the kernel gets, and reading it as a difference would fail
    every verification."""
    if o.attr.endswith("_intvl") and isinstance(current, int) and isinstance(declared, int):
        if declared - 1 <= current <= declared:
            return None
    return differ(o.field, current, declared)


def _given(spec: InterfaceSpec, only: frozenset[str] | None) -> list[tuple[_Option, object]]:
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

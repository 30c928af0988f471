"""linux-bridge: a software switch; its ports are links whose master it is.

Every bridge option linkctl manages can be changed in place. Ports are not
kind data: the planner enslaves and releases them (IFLA_MASTER on the port).
"""

from __future__ import annotations

from typing import ClassVar

from linkctl.kernel.nla import U16, U32, attr_u16, attr_u32, iter_attrs
from linkctl.kinds.base import NO_DIFF, KindDiff, LinkKind, Resolver, collect, differ
from linkctl.model.spec import (
    BridgeOptions,
    BridgePort,
    BridgeSection,
    InterfaceSpec,
    InterfaceType,
    StpOptions,
)
from linkctl.model.state import BridgeInfo, KindInfo, Link, NetnsState

IFLA_BR_FORWARD_DELAY = 1
IFLA_BR_AGEING_TIME = 4
IFLA_BR_STP_STATE = 5
IFLA_BR_PRIORITY = 6

USER_HZ = 100  # the bridge's timers travel as clock_t ticks


class Bridge(LinkKind):
    type = InterfaceType.LINUX_BRIDGE
    kernel_kind = "bridge"
    module = "bridge"
    section_key = "bridge"
    recreate_fields: ClassVar[tuple[str, ...]] = ()

    def decode(self, buf: bytes, off: int, end: int) -> KindInfo:
        values: dict[int, int] = {}
        for atype, s, _e in iter_attrs(buf, off, end):
            if atype in (IFLA_BR_FORWARD_DELAY, IFLA_BR_STP_STATE, IFLA_BR_AGEING_TIME):
                values[atype] = U32.unpack_from(buf, s)[0]
            elif atype == IFLA_BR_PRIORITY:
                values[atype] = U16.unpack_from(buf, s)[0]
        return BridgeInfo(
            stp=bool(values.get(IFLA_BR_STP_STATE, 0)),
            forward_delay=values.get(IFLA_BR_FORWARD_DELAY),
            priority=values.get(IFLA_BR_PRIORITY),
            ageing_time=values.get(IFLA_BR_AGEING_TIME),
        )

    def compare(self, spec: InterfaceSpec, link: Link, ns: NetnsState) -> KindDiff:
        opts = spec.bridge.options if spec.bridge else None
        info = link.info if isinstance(link.info, BridgeInfo) else BridgeInfo()
        if opts is None:
            return NO_DIFF
        stp = opts.stp or StpOptions()
        return KindDiff(
            in_place=collect(
                differ("bridge.options.stp.enabled", info.stp, stp.enabled),
                differ(
                    "bridge.options.stp.forward-delay",
                    _secs(info.forward_delay),
                    stp.forward_delay,
                ),
                differ("bridge.options.stp.priority", info.priority, stp.priority),
                differ("bridge.options.mac-ageing-time", _secs(info.ageing_time), opts.mac_ageing_time),
            )
        )

    def info_data(self, spec: InterfaceSpec, resolve: Resolver, only: frozenset[str] | None = None) -> bytes:
        opts = spec.bridge.options if spec.bridge else None
        if opts is None:
            return b""
        stp = opts.stp or StpOptions()
        out = []
        if _wanted(only, "bridge.options.stp.enabled") and stp.enabled is not None:
            out.append(attr_u32(IFLA_BR_STP_STATE, int(stp.enabled)))
        if _wanted(only, "bridge.options.stp.forward-delay") and stp.forward_delay is not None:
            out.append(attr_u32(IFLA_BR_FORWARD_DELAY, stp.forward_delay * USER_HZ))
        if _wanted(only, "bridge.options.stp.priority") and stp.priority is not None:
            out.append(attr_u16(IFLA_BR_PRIORITY, stp.priority))
        if _wanted(only, "bridge.options.mac-ageing-time") and opts.mac_ageing_time is not None:
            out.append(attr_u32(IFLA_BR_AGEING_TIME, opts.mac_ageing_time * USER_HZ))
        return b"".join(out)

    def ip_args(self, spec: InterfaceSpec, only: frozenset[str] | None = None) -> list[str]:
        args = ["type", "bridge"]
        opts = spec.bridge.options if spec.bridge else None
        if opts is None:
            return args
        stp = opts.stp or StpOptions()
        if _wanted(only, "bridge.options.stp.enabled") and stp.enabled is not None:
            args += ["stp_state", str(int(stp.enabled))]
        if _wanted(only, "bridge.options.stp.forward-delay") and stp.forward_delay is not None:
            args += ["forward_delay", str(stp.forward_delay * USER_HZ)]
        if _wanted(only, "bridge.options.stp.priority") and stp.priority is not None:
            args += ["priority", str(stp.priority)]
        if _wanted(only, "bridge.options.mac-ageing-time") and opts.mac_ageing_time is not None:
            args += ["ageing_time", str(opts.mac_ageing_time * USER_HZ)]
        return args

    def section_from_link(self, link: Link, ns: NetnsState) -> BridgeSection:
        info = link.info if isinstance(link.info, BridgeInfo) else BridgeInfo()
        return BridgeSection(
            options=BridgeOptions(
                stp=StpOptions(
                    enabled=info.stp,
                    forward_delay=_secs(info.forward_delay),
                    priority=info.priority,
                ),
                mac_ageing_time=_secs(info.ageing_time),
            ),
            port=[BridgePort(name=p) for p in ns.ports_of(link.name)],
        )


def _secs(ticks: int | None) -> int | None:
    return None if ticks is None else ticks // USER_HZ


def _wanted(only: frozenset[str] | None, field: str) -> bool:
    return only is None or field in only


BRIDGE = Bridge()

"""linux-bridge's section: options, ports, and a port's VLANs (bridge VLAN filtering).

Keys and values as nmstate spells them; ranges as the kernel enforces them (its refusal would
come only after other changes of the same plan were made), each range noting where the kernel
has it. Split from model/sections.py, which re-exports every name here.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import InitErrorDetails

from linkctl.model.spec_base import Section, other_name

_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")


# The context under which linkctl's own fields (below) are dumped and taken back: the journal's
# declaration of the state before (engine/apply.py, engine/rollback.py). Anywhere else, a file
# giving one is refused as an unknown key, and a dump (show -f yaml) leaves them out.
INTERNAL = {"linkctl-internal": True}


def _internal(info: ValidationInfo | SerializationInfo) -> bool:
    return isinstance(info.context, dict) and bool(info.context.get("linkctl-internal"))


def _refuse_internal(cls: type, data: object, info: ValidationInfo, names: tuple[str, ...]) -> object:
    """A file's key naming one of linkctl's own fields: refused as any unknown key is."""
    if not isinstance(data, dict) or _internal(info):
        return data
    keys = [k for k in data for n in names if k in (n, n.replace("_", "-"))]
    if keys:
        errors = [InitErrorDetails(type="extra_forbidden", loc=(k,), input=data[k]) for k in keys]
        raise ValidationError.from_exception_data(cls.__name__, errors)
    return data


def _without_internal(data: dict[str, Any], info: SerializationInfo, names: tuple[str, ...]) -> dict[str, Any]:
    if not _internal(info):
        for name in names:
            data.pop(name, None)
            data.pop(name.replace("_", "-"), None)
    return data


def _ifname(value: str, info: ValidationInfo | None = None) -> str:
    from linkctl.model.spec import check_ifname  # spec.py imports this module: named at call time

    return check_ifname(value, info)


class StpOptions(Section):
    # The kernel's own ranges (br_stp_if.c), in seconds as nmstate writes them.
    enabled: bool | None = None
    forward_delay: int | None = Field(default=None, ge=2, le=30)
    hello_time: int | None = Field(default=None, ge=1, le=10)
    max_age: int | None = Field(default=None, ge=6, le=40)
    priority: int | None = Field(default=None, ge=0, le=65535)


class MulticastRouter(StrEnum):
    """IFLA_BR_MCAST_ROUTER: 0 never a router port, 1 learnt from queries (the default), 2 always."""

    DISABLED = "disabled"
    AUTO = "auto"
    ENABLED = "enabled"


class BridgeVlanProtocol(StrEnum):
    Q = "802.1q"
    AD = "802.1ad"


U32 = Annotated[int, Field(ge=0, le=2**32 - 1)]
Centisecs = Annotated[int, Field(ge=0, le=2**63 - 1)]  # clock_t ticks (1/100 s), as nmstate and the kernel keep them


class BridgeOptions(Section):
    stp: StpOptions | None = None
    mac_ageing_time: int | None = Field(default=None, ge=0, le=1_000_000)
    multicast_snooping: bool | None = None
    # Bits 0-2 (01:80:c2:00:00:00 to :02: STP, pause, LACP) are never forwarded: the kernel refuses
    # them (BR_GROUPFWD_RESTRICTED, br_netlink.c).
    group_fwd_mask: int | None = Field(default=None, ge=0, le=0xFFFF)
    group_forward_mask: int | None = Field(default=None, ge=0, le=0xFFFF)  # nmstate's other name for it
    group_addr: str | None = None
    hash_max: U32 | None = None
    # The kernel keeps 16 whatever it is sent (deprecated since Linux 5.0): another value could never
    # be made true, so only 16 is taken.
    hash_elasticity: int | None = None
    multicast_router: MulticastRouter | None = None
    multicast_querier: bool | None = None
    multicast_query_use_ifaddr: bool | None = None
    multicast_last_member_count: U32 | None = None
    multicast_startup_query_count: U32 | None = None
    multicast_last_member_interval: Centisecs | None = None
    multicast_membership_interval: Centisecs | None = None
    multicast_querier_interval: Centisecs | None = None
    # The kernel raises a query interval below 1 s to 1 s, and lowers one above a day to a day
    # (BR_MULTICAST_QUERY_INTVL_MIN, _MAX; br_multicast.c): a value it would not keep is refused.
    multicast_query_interval: int | None = Field(default=None, ge=100, le=8_640_000)
    multicast_query_response_interval: Centisecs | None = None
    multicast_startup_query_interval: int | None = Field(default=None, ge=100, le=8_640_000)
    vlan_protocol: BridgeVlanProtocol | None = None
    vlan_default_pvid: int | None = Field(default=None, ge=0, le=4094)  # 0: no PVID for new ports
    # What `nmstatectl show` writes and nmstate ignores when applying (the kernel's running timers):
    # taken, so that its output applies, and never compared or sent.
    gc_timer: int | None = Field(default=None, exclude=True)
    hello_timer: int | None = Field(default=None, exclude=True)

    @field_validator("multicast_router", mode="before")
    @classmethod
    def _router_number(cls, v: object) -> object:
        # nmstate takes the kernel's numbers too (0 disabled, 1 auto, 2 enabled).
        return (
            {0: "disabled", 1: "auto", 2: "enabled"}.get(v, v) if isinstance(v, int) and not isinstance(v, bool) else v
        )

    @model_validator(mode="after")
    def _one_mask(self) -> BridgeOptions:
        other = self.group_forward_mask
        if other is not None:
            if self.group_fwd_mask is not None and self.group_fwd_mask != other:
                raise ValueError(
                    f"group-fwd-mask {self.group_fwd_mask} and group-forward-mask {other} are one setting: give one"
                )
            object.__setattr__(self, "group_fwd_mask", other)
            object.__setattr__(self, "group_forward_mask", None)
        return self

    @field_validator("group_fwd_mask", "group_forward_mask")
    @classmethod
    def _mask(cls, v: int | None) -> int | None:
        if v is not None and v & 0x7:
            raise ValueError(
                "bits 0-2 (01:80:c2:00:00:00 to :02, STP, pause and bonding's LACP) cannot be forwarded: "
                f"the kernel refuses them; {v} has {v & 7}"
            )
        return v

    @field_validator("hash_elasticity")
    @classmethod
    def _elasticity(cls, v: int | None) -> int | None:
        if v is not None and v != 16:
            raise ValueError("only 16: the kernel keeps 16 whatever it is sent (deprecated since Linux 5.0)")
        return v

    @field_validator("group_addr")
    @classmethod
    def _group_addr(cls, v: str | None) -> str | None:
        # br_netlink.c: a link-local group 01:80:c2:00:00:0X, but for :01 (pause), :02 (slow
        # protocols: LACP) and :03 (802.1X PAE), which the kernel refuses.
        if v is None:
            return v
        if not (_MAC.match(v) and v.lower()[:16] == "01:80:c2:00:00:0") or v[16] in "123":
            raise ValueError(
                "a link-local group address 01:80:C2:00:00:00 or :04 to :0F (the kernel refuses others, "
                "and :01 pause, :02 LACP, :03 802.1X)"
            )
        return v.upper()


class VlanMode(StrEnum):
    TRUNK = "trunk"
    ACCESS = "access"


class VlanIdRange(Section):
    min: int = Field(ge=1, le=4094)
    max: int = Field(ge=1, le=4094)

    @model_validator(mode="after")
    def _order(self) -> VlanIdRange:
        if self.min > self.max:
            raise ValueError(f"id-range min {self.min} is above max {self.max}")
        return self


class TrunkTag(Section):
    """One entry of trunk-tags: an `id`, or an `id-range`."""

    id: int | None = Field(default=None, ge=1, le=4094)
    id_range: VlanIdRange | None = None

    @model_validator(mode="after")
    def _one(self) -> TrunkTag:
        if (self.id is None) == (self.id_range is None):
            raise ValueError("a trunk tag is either {id: N} or {id-range: {min: N, max: M}}")
        return self

    def ids(self) -> range:
        if self.id_range is not None:
            return range(self.id_range.min, self.id_range.max + 1)
        assert self.id is not None
        return range(self.id, self.id + 1)


class PortVlan(Section):
    """A bridge port's VLANs (bridge VLAN filtering): nmstate's `vlan` of a port; `vlan: {}` is none."""

    mode: VlanMode | None = None
    trunk_tags: list[TrunkTag] | None = None
    tag: int | None = Field(default=None, ge=1, le=4094)  # access: the one VLAN; trunk: the native one
    enable_native: bool | None = None

    @model_validator(mode="after")
    def _shape(self) -> PortVlan:
        if self.mode is VlanMode.ACCESS and self.trunk_tags:
            raise ValueError("an access port has one VLAN (tag), no trunk-tags")
        if self.mode is VlanMode.ACCESS and self.tag is None:
            raise ValueError("an access port needs its tag")
        if self.enable_native and self.tag is None:
            raise ValueError("enable-native needs the native VLAN's tag")
        given = self.trunk_tags is not None or self.tag is not None or self.enable_native is not None
        if self.mode is None and given:
            raise ValueError("a port's vlan needs its mode: access (one VLAN, tag) or trunk (trunk-tags)")
        if self.mode is VlanMode.TRUNK and not self.trunk_tags and not self.enable_native:
            # Nothing to carry: every VLAN of the port would go, the traffic with them.
            raise ValueError("a trunk port needs its trunk-tags (or a native VLAN: tag with enable-native: true)")
        return self


class BridgePort(Section):
    name: str
    # The port's own STP settings, nmstate's names; the kernel's ranges (br_stp_if.c, br_private.h).
    stp_priority: int | None = Field(default=None, ge=0, le=63)
    stp_path_cost: int | None = Field(default=None, ge=1, le=65535)
    stp_hairpin_mode: bool | None = None
    vlan: PortVlan | None = None
    # linkctl's own (never in a file, never shown): the port's exact VLANs as read, (vid, flags) as
    # kernel/brvlan.py has them, which `vlan` cannot always say (none, a PVID alone, untagged without
    # being the PVID). plan/convert.py sets it so that a rollback puts back every port's set; the
    # planner takes it over `vlan`.
    raw_vlans: tuple[tuple[int, int], ...] | None = None

    _name = field_validator("name")(classmethod(lambda cls, v, info: _ifname(v, info)))

    @model_validator(mode="before")
    @classmethod
    def _own_fields(cls, data: object, info: ValidationInfo) -> object:
        return _refuse_internal(cls, data, info, ("raw_vlans",))

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> dict[str, Any]:
        return _without_internal(handler(self), info, ("raw_vlans",))


class BridgeSection(Section):
    options: BridgeOptions | None = None
    port: list[BridgePort] | None = None
    # linkctl's own, as BridgePort.raw_vlans: the vlan_filtering the bridge had, which a rollback
    # restores whatever its ports' `vlan` say (plan/vlans.py filtering_wanted).
    filtering_read: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _own_fields(cls, data: object, info: ValidationInfo) -> object:
        return _refuse_internal(cls, other_name(data, "ports", "port"), info, ("filtering_read",))

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> dict[str, Any]:
        data = _without_internal(handler(self), info, ("filtering_read",))
        if not _internal(info) and self.filtering_read and not any(_says_vlans(p) for p in self.port or ()):
            # A filtering bridge none of whose ports' VLANs the format can say: a port list without any
            # `vlan` would turn its filtering off when applied back; without one, ports and filtering stay.
            data.pop("port", None)
        return data

    def vlan_filtering(self) -> bool:
        """Whether the section asks for bridge VLAN filtering (nmstate turns it on for any of these)."""
        opts = self.options
        if opts is not None and (opts.vlan_protocol is not None or opts.vlan_default_pvid is not None):
            return True
        return any(_says_vlans(p) for p in self.port or ())


def _says_vlans(port: BridgePort) -> bool:
    return port.vlan is not None and port.vlan.mode is not None

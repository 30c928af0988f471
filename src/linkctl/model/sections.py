"""The kind sections of the format with many keys: linux-bridge, bond, mac-vlan, mac-vtap, ipvlan.

Keys and values as nmstate spells them; ranges as the kernel enforces them (its
refusal would come only after other changes of the same plan were made), each range
noting where the kernel has it.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, field_validator, model_validator

from linkctl.model.spec_base import Section

_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")


def _ifname(value: str) -> str:
    from linkctl.model.spec import check_ifname  # spec.py imports this module: named at call time

    return check_ifname(value)


def _ifname_or_none(value: str | None) -> str | None:
    return None if value is None else _ifname(value)


# --- linux-bridge ---------------------------------------------------------------------------


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
    """A bridge port's VLANs (bridge VLAN filtering): nmstate's `vlan` of a port."""

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
        return self


class BridgePort(Section):
    name: str
    # The port's own STP settings, nmstate's names; the kernel's ranges (br_stp_if.c, br_private.h).
    stp_priority: int | None = Field(default=None, ge=0, le=63)
    stp_path_cost: int | None = Field(default=None, ge=1, le=65535)
    stp_hairpin_mode: bool | None = None
    vlan: PortVlan | None = None

    _name = field_validator("name")(classmethod(lambda cls, v: _ifname(v)))


class BridgeSection(Section):
    options: BridgeOptions | None = None
    port: list[BridgePort] | None = None

    def vlan_filtering(self) -> bool:
        """Whether the section asks for bridge VLAN filtering (nmstate turns it on for any of these)."""
        opts = self.options
        if opts is not None and (opts.vlan_protocol is not None or opts.vlan_default_pvid is not None):
            return True
        return any(p.vlan is not None for p in self.port or ())


# --- mac-vlan, mac-vtap, ipvlan ---------------------------------------------------------------


class MacvlanMode(StrEnum):
    PRIVATE = "private"
    VEPA = "vepa"
    BRIDGE = "bridge"
    PASSTHRU = "passthru"
    SOURCE = "source"


class MacvlanSection(Section):
    base_iface: str
    mode: MacvlanMode | None = None
    promiscuous: bool | None = None  # false: IFLA_MACVLAN_FLAGS' NOPROMISC (`ip ... nopromisc`)

    _base = field_validator("base_iface")(classmethod(lambda cls, v: _ifname(v)))


class MacvtapSection(MacvlanSection):
    """mac-vtap: a mac-vlan with a character device (/dev/tapN) for a VM's NIC; same settings."""


class IpvlanMode(StrEnum):
    L2 = "l2"
    L3 = "l3"
    L3S = "l3s"


class IpvlanSection(Section):
    base_iface: str
    mode: IpvlanMode | None = None
    private: bool | None = None
    vepa: bool | None = None

    _base = field_validator("base_iface")(classmethod(lambda cls, v: _ifname(v)))

    @model_validator(mode="after")
    def _flags(self) -> IpvlanSection:
        if self.private and self.vepa:
            raise ValueError("private and vepa exclude each other (the kernel's IPVLAN_F_PRIVATE, IPVLAN_F_VEPA)")
        return self


# --- bond --------------------------------------------------------------------------------------


class BondMode(StrEnum):
    BALANCE_RR = "balance-rr"
    ACTIVE_BACKUP = "active-backup"
    BALANCE_XOR = "balance-xor"
    BROADCAST = "broadcast"
    LACP = "802.3ad"
    BALANCE_TLB = "balance-tlb"
    BALANCE_ALB = "balance-alb"


class AdSelect(StrEnum):
    STABLE = "stable"
    BANDWIDTH = "bandwidth"
    COUNT = "count"


class LacpRate(StrEnum):
    SLOW = "slow"
    FAST = "fast"


class AllPortsActive(StrEnum):
    DROPPED = "dropped"
    DELIVERED = "delivered"


class ArpAllTargets(StrEnum):
    ANY = "any"
    ALL = "all"


class ArpValidate(StrEnum):
    NONE = "none"
    ACTIVE = "active"
    BACKUP = "backup"
    ALL = "all"
    FILTER = "filter"
    FILTER_ACTIVE = "filter_active"
    FILTER_BACKUP = "filter_backup"


class FailOverMac(StrEnum):
    NONE = "none"
    ACTIVE = "active"
    FOLLOW = "follow"


class PrimaryReselect(StrEnum):
    ALWAYS = "always"
    BETTER = "better"
    FAILURE = "failure"


class XmitHashPolicy(StrEnum):
    LAYER2 = "layer2"
    LAYER34 = "layer3+4"
    LAYER23 = "layer2+3"
    ENCAP23 = "encap2+3"
    ENCAP34 = "encap3+4"
    VLAN_SRCMAC = "vlan+srcmac"


_INT_MAX = 2**31 - 1


class BondOptions(Section):
    """nmstate's `link-aggregation.options`: the kernel's option names (snake_case, as nmstate keeps
    them) and ranges (drivers/net/bonding/bond_options.c). Which modes each belongs to is the bond
    kind's rule (kinds/bond.py), checked in validation."""

    model_config = ConfigDict(**{**Section.model_config, "alias_generator": None})

    miimon: int | None = Field(default=None, ge=0, le=_INT_MAX)
    primary: str | None = None
    updelay: int | None = Field(default=None, ge=0, le=_INT_MAX)
    downdelay: int | None = Field(default=None, ge=0, le=_INT_MAX)
    ad_actor_sys_prio: int | None = Field(default=None, ge=1, le=65535)
    ad_actor_system: str | None = None
    ad_select: AdSelect | None = None
    ad_user_port_key: int | None = Field(default=None, ge=0, le=1023)
    all_slaves_active: AllPortsActive | None = None
    arp_all_targets: ArpAllTargets | None = None
    arp_interval: int | None = Field(default=None, ge=0, le=_INT_MAX)
    arp_ip_target: str | None = None  # comma-separated IPv4 addresses, at most 16
    arp_validate: ArpValidate | None = None
    fail_over_mac: FailOverMac | None = None
    lacp_rate: LacpRate | None = None
    lp_interval: int | None = Field(default=None, ge=1, le=_INT_MAX)
    min_links: int | None = Field(default=None, ge=0, le=_INT_MAX)
    num_grat_arp: int | None = Field(default=None, ge=0, le=255)
    num_unsol_na: int | None = Field(default=None, ge=0, le=255)
    packets_per_slave: int | None = Field(default=None, ge=0, le=65535)
    primary_reselect: PrimaryReselect | None = None
    resend_igmp: int | None = Field(default=None, ge=0, le=255)
    tlb_dynamic_lb: bool | None = None
    use_carrier: bool | None = None
    xmit_hash_policy: XmitHashPolicy | None = None
    arp_missed_max: int | None = Field(default=None, ge=1, le=255)
    lacp_active: bool | None = None
    peer_notif_delay: int | None = Field(default=None, ge=0, le=300_000)

    _primary = field_validator("primary")(classmethod(lambda cls, v: _ifname_or_none(v)))

    @field_validator("ad_actor_system")
    @classmethod
    def _actor(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not _MAC.match(v) or int(v[:2], 16) & 1 or v == "00:00:00:00:00:00":
            raise ValueError("a unicast MAC address, not all zeros (bond_option_ad_actor_system_set)")
        return v.lower()

    @field_validator("arp_ip_target")
    @classmethod
    def _targets(cls, v: str | None) -> str | None:
        if v is None:
            return v
        import ipaddress

        addrs = [a.strip() for a in v.split(",") if a.strip()]
        if len(addrs) > 16:
            raise ValueError(f"at most 16 ARP targets (BOND_MAX_ARP_TARGETS), {len(addrs)} given")
        try:
            return ",".join(str(ipaddress.IPv4Address(a)) for a in addrs)
        except ValueError:
            raise ValueError("IPv4 addresses separated by commas, such as 192.0.2.1,192.0.2.2") from None


_AB, _TLB, _ALB = BondMode.ACTIVE_BACKUP, BondMode.BALANCE_TLB, BondMode.BALANCE_ALB
_LACP_ONLY = frozenset({BondMode.LACP})
_NOT_ARP = frozenset(BondMode) - {BondMode.LACP, _TLB, _ALB}  # ARP monitoring: not with 802.3ad, tlb, alb
# The modes each option belongs to: where the kernel refuses it in other modes (bond_options.c
# `unsuppmodes`), and where Documentation/networking/bonding.rst says it has effect only in some.
# An option not listed belongs to every mode.
BOND_OPTION_MODES: dict[str, frozenset[BondMode]] = {
    "ad_actor_sys_prio": _LACP_ONLY,
    "ad_actor_system": _LACP_ONLY,
    "ad_select": _LACP_ONLY,
    "ad_user_port_key": _LACP_ONLY,
    "lacp_rate": _LACP_ONLY,
    "lacp_active": _LACP_ONLY,
    "min_links": _LACP_ONLY,
    "arp_interval": _NOT_ARP,
    "arp_validate": _NOT_ARP,
    "arp_all_targets": _NOT_ARP,
    "arp_ip_target": _NOT_ARP,
    "arp_missed_max": _NOT_ARP,
    "fail_over_mac": frozenset({_AB}),
    "num_grat_arp": frozenset({_AB}),
    "num_unsol_na": frozenset({_AB}),
    "peer_notif_delay": frozenset({_AB}),
    "packets_per_slave": frozenset({BondMode.BALANCE_RR}),
    "primary": frozenset({_AB, _TLB, _ALB}),
    "primary_reselect": frozenset({_AB, _TLB, _ALB}),
    "tlb_dynamic_lb": frozenset({_TLB, _ALB}),
    "lp_interval": frozenset({_TLB, _ALB}),
    "xmit_hash_policy": frozenset({BondMode.BALANCE_XOR, BondMode.LACP, _TLB, _ALB}),
    "resend_igmp": frozenset({BondMode.BALANCE_RR, _AB, _TLB, _ALB}),
}


def bond_option_conflicts(mode: BondMode, options: BondOptions) -> list[str]:
    """Each option set that does not belong to `mode`, named with the modes it belongs to."""
    out = []
    for key, modes in BOND_OPTION_MODES.items():
        if getattr(options, key) is not None and mode not in modes:
            allowed = ", ".join(m.value for m in BondMode if m in modes)
            out.append(f"option {key} does not belong to mode {mode.value} (only to {allowed})")
    return out


class BondPortConfig(Section):
    """nmstate's `ports-config` entry: a port's queue id and priority (IFLA_BOND_SLAVE_*)."""

    name: str
    queue_id: int | None = Field(default=None, ge=0, le=65535)
    priority: int | None = Field(default=None, ge=-(2**31), le=_INT_MAX)

    _name = field_validator("name")(classmethod(lambda cls, v: _ifname(v)))


class BondSection(Section):
    mode: BondMode | None = None
    port: list[str] | None = None
    ports_config: list[BondPortConfig] | None = None
    options: BondOptions | None = None

    @field_validator("port")
    @classmethod
    def _ports(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else [_ifname(name) for name in v]

    @model_validator(mode="after")
    def _ports_from_config(self) -> BondSection:
        # nmstate takes the ports from `ports-config` when `port` is not written.
        if self.port is None and self.ports_config:
            object.__setattr__(self, "port", [c.name for c in self.ports_config])
        return self

    @model_validator(mode="after")
    def _options_of_mode(self) -> BondSection:
        if self.mode is not None and self.options is not None:
            conflicts = bond_option_conflicts(self.mode, self.options)
            if conflicts:
                raise ValueError("; ".join(conflicts))
        opts = self.options
        if opts is not None and opts.miimon and opts.arp_interval:
            raise ValueError("miimon and arp_interval exclude each other: one link monitor per bond")
        for key in ("updelay", "downdelay", "peer_notif_delay"):
            # _bond_option_delay_set: the kernel rounds a delay down to a multiple of miimon.
            delay = getattr(opts, key, None)
            if opts is not None and opts.miimon and delay and delay % opts.miimon:
                fit = delay - delay % opts.miimon
                raise ValueError(f"{key} {delay} is no multiple of miimon {opts.miimon}: the kernel would keep {fit}")
        peer_notif = {opts.num_grat_arp, opts.num_unsol_na} - {None} if opts is not None else set()
        if len(peer_notif) > 1:
            raise ValueError("num_grat_arp and num_unsol_na are one kernel setting (num_peer_notif): give one value")
        return self

    @model_validator(mode="after")
    def _queue_ids(self) -> BondSection:
        # bond_option_queue_id_set: two ports may not share a queue id other than 0.
        seen: dict[int, str] = {}
        for conf in self.ports_config or ():
            if conf.queue_id:
                if conf.queue_id in seen:
                    raise ValueError(
                        f"ports {seen[conf.queue_id]} and {conf.name} share queue-id {conf.queue_id}: "
                        "the kernel allows each non-zero queue id once"
                    )
                seen[conf.queue_id] = conf.name
        return self

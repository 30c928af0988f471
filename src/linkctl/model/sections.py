"""The kind sections of the format with many keys: bond, mac-vlan, mac-vtap, ipvlan (linux-bridge's
are in model/bridge_sections.py).

Keys and values as nmstate spells them; ranges as the kernel enforces them (its
refusal would come only after other changes of the same plan were made), each range
noting where the kernel has it.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from linkctl.model.spec_base import NumberedEnum, Section, other_name

_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")


def _ifname(value: str, info: ValidationInfo | None = None) -> str:
    from linkctl.model.spec import check_ifname  # spec.py imports this module: named at call time

    return check_ifname(value, info)


def _ifname_or_none(value: str | None, info: ValidationInfo | None = None) -> str | None:
    return None if value is None else _ifname(value, info)


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

    _base = field_validator("base_iface")(classmethod(lambda cls, v, info: _ifname(v, info)))


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

    _base = field_validator("base_iface")(classmethod(lambda cls, v, info: _ifname(v, info)))

    @model_validator(mode="after")
    def _flags(self) -> IpvlanSection:
        if self.private and self.vepa:
            raise ValueError("private and vepa exclude each other (the kernel's IPVLAN_F_PRIVATE, IPVLAN_F_VEPA)")
        return self


# --- bond --------------------------------------------------------------------------------------


class BondMode(NumberedEnum):
    BALANCE_RR = "balance-rr"
    ACTIVE_BACKUP = "active-backup"
    BALANCE_XOR = "balance-xor"
    BROADCAST = "broadcast"
    LACP = "802.3ad"
    BALANCE_TLB = "balance-tlb"
    BALANCE_ALB = "balance-alb"

    @classmethod
    def _missing_(cls, value: object) -> BondMode | None:
        # nmstate's other name for 802.3ad (BondMode's serde alias), besides the kernel's numbers.
        return cls.LACP if value == "lacp" else super()._missing_(value)  # type: ignore[return-value]


class AdSelect(NumberedEnum):
    STABLE = "stable"
    BANDWIDTH = "bandwidth"
    COUNT = "count"


class LacpRate(NumberedEnum):
    SLOW = "slow"
    FAST = "fast"


class AllPortsActive(NumberedEnum):
    DROPPED = "dropped"
    DELIVERED = "delivered"


class ArpAllTargets(NumberedEnum):
    ANY = "any"
    ALL = "all"


class ArpValidate(NumberedEnum):
    NONE = "none"
    ACTIVE = "active"
    BACKUP = "backup"
    ALL = "all"
    FILTER = "filter"
    FILTER_ACTIVE = "filter_active"
    FILTER_BACKUP = "filter_backup"


class FailOverMac(NumberedEnum):
    NONE = "none"
    ACTIVE = "active"
    FOLLOW = "follow"


class PrimaryReselect(NumberedEnum):
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

    _primary = field_validator("primary")(classmethod(lambda cls, v, info: _ifname_or_none(v, info)))

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


# BOND_OPT_PRIO's modes (bond_options.c): a port's priority picks the active port, in these alone.
PRIO_MODES = frozenset({_AB, _TLB, _ALB})


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

    _name = field_validator("name")(classmethod(lambda cls, v, info: _ifname(v, info)))


class BondSection(Section):
    mode: BondMode | None = None
    port: list[str] | None = None
    ports_config: list[BondPortConfig] | None = None
    options: BondOptions | None = None

    @model_validator(mode="before")
    @classmethod
    def _ports_alias(cls, data: object) -> object:
        # `slaves`: nmstate's name before 1.0, still in its examples and on nmstate.io.
        return other_name(other_name(data, "ports", "port"), "slaves", "port")

    @field_validator("port")
    @classmethod
    def _ports(cls, v: list[str] | None, info: ValidationInfo) -> list[str] | None:
        return None if v is None else [_ifname(name, info) for name in v]

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
        strangers = [c.name for c in self.ports_config or () if self.port is not None and c.name not in self.port]
        if strangers:
            raise ValueError(
                f"ports-config names {', '.join(strangers)}, not in port {self.port}: a setting of a port is "
                "applied to a port of this bond; list it in port, or drop its entry"
            )
        prio = [c.name for c in self.ports_config or () if c.priority is not None]
        if prio and self.mode is not None and self.mode not in PRIO_MODES:
            allowed = ", ".join(m.value for m in BondMode if m in PRIO_MODES)
            raise ValueError(
                f"priority (of {', '.join(prio)}) does not belong to mode {self.mode.value} (only to {allowed}): "
                "the kernel refuses it (Permission denied); leave priority out"
            )
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

"""bond: link aggregation; `active-backup` is the fallback for a flapping NIC.

The mode can only change on a bond that is down and has no ports, so a mode
change means re-creation, as does a change of the few options with the same rule
(recreate_fields). The other options change in place; `primary` names a port,
so it is set after the ports are enslaved. Ports are enslaved by the planner
(IFLA_MASTER), down first, as the bonding driver requires; their queue id and
priority (`ports-config`) are the port's IFLA_INFO_SLAVE_DATA.

Each option of nmstate's `link-aggregation.options` is one row of `OPTIONS`: its
attribute in the IFLA_BOND_* table (linkctl/nla/ifla.py), the kernel's numbering of
its words, and `ip`'s spelling. The modes an option belongs to, and the ranges, are
the format's rules (model/sections.py: BOND_OPTION_MODES), checked before anything
is sent.
"""

from __future__ import annotations

import ipaddress
from typing import ClassVar, NamedTuple

from linkctl.kinds.base import ETH_DATA_LEN, NO_DIFF, FieldDiff, KindDiff, LinkKind, Resolver, collect, differ
from linkctl.model.sections import PRIO_MODES
from linkctl.model.spec import BondMode, BondOptions, BondPortConfig, BondSection, InterfaceSpec, InterfaceType
from linkctl.model.state import BondInfo, BondPortInfo, KindInfo, Link, NetnsState
from linkctl.nla import attr, iter_attrs
from linkctl.nla.ifla import BOND as TABLE
from linkctl.nla.ifla import BOND_PORT as PORT_TABLE

MODES = list(BondMode)  # the kernel's numbering is the order of BondMode
PRIMARY = "link-aggregation.options.primary"


class Option(NamedTuple):  # not a dataclass: the kinds load on every command's path
    """One bond option: nmstate's key (also the kernel's sysfs and `ip` name, but where noted)."""

    key: str
    attr: str  # IFLA_BOND_* as the table names it
    words: tuple[str, ...] = ()  # the kernel's numbering of the option's values
    boolean: bool = False
    ip_name: str = ""
    ip_style: str = ""  # how `ip` takes the value when not as written: "number" (its index), "on/off"

    @property
    def field(self) -> str:
        return f"link-aggregation.options.{self.key}"

    def raw(self, value: object) -> object:
        """The value as the attribute carries it."""
        if self.words:
            return self.words.index(str(value))
        if self.boolean:
            return int(bool(value))
        if self.attr == "arp_ip_target":
            return _targets_nest(str(value))
        return value

    def shown(self, raw: object) -> object:
        """The kernel's value as the declaration writes it."""
        if raw is None:
            return None
        if self.words:
            return self.words[raw] if isinstance(raw, int) and raw < len(self.words) else raw
        if self.boolean:
            return bool(raw)
        if self.attr == "arp_ip_target":
            return _targets_text(raw) if isinstance(raw, bytes) else None
        return raw

    def ip_value(self, value: object) -> str:
        if self.ip_style == "on/off":
            return "on" if value else "off"
        if self.ip_style == "number":
            return str(self.words.index(str(value)))
        if isinstance(value, bool):
            return "1" if value else "0"
        return str(value)


OPTIONS = (
    Option("miimon", "miimon"),
    Option("updelay", "updelay"),
    Option("downdelay", "downdelay"),
    Option("ad_actor_sys_prio", "ad_actor_sys_prio"),
    Option("ad_actor_system", "ad_actor_system"),
    Option("ad_select", "ad_select", ("stable", "bandwidth", "count")),
    Option("ad_user_port_key", "ad_user_port_key"),
    Option("all_slaves_active", "all_slaves_active", ("dropped", "delivered"), ip_style="number"),
    Option("arp_all_targets", "arp_all_targets", ("any", "all")),
    Option("arp_interval", "arp_interval"),
    Option("arp_ip_target", "arp_ip_target"),
    Option(
        "arp_validate", "arp_validate",
        ("none", "active", "backup", "all", "filter", "filter_active", "filter_backup"),
    ),
    Option("fail_over_mac", "fail_over_mac", ("none", "active", "follow")),
    Option("lacp_rate", "ad_lacp_rate", ("slow", "fast"), ip_name="lacp_rate"),
    Option("lp_interval", "lp_interval"),
    Option("min_links", "min_links"),
    Option("num_grat_arp", "num_peer_notif", ip_name="num_grat_arp"),
    Option("num_unsol_na", "num_peer_notif", ip_name="num_unsol_na"),
    Option("packets_per_slave", "packets_per_slave"),
    Option("primary_reselect", "primary_reselect", ("always", "better", "failure")),
    Option("resend_igmp", "resend_igmp"),
    Option("tlb_dynamic_lb", "tlb_dynamic_lb", boolean=True),
    Option("use_carrier", "use_carrier", boolean=True),
    Option(
        "xmit_hash_policy", "xmit_hash_policy",
        ("layer2", "layer3+4", "layer2+3", "encap2+3", "encap3+4", "vlan+srcmac"),
    ),
    Option("arp_missed_max", "missed_max"),
    Option("lacp_active", "ad_lacp_active", boolean=True, ip_name="lacp_active", ip_style="on/off"),
    Option("peer_notif_delay", "peer_notif_delay", ip_name="peer_notify_delay"),
)  # fmt: skip


class PortOption(NamedTuple):
    key: str  # BondPortConfig's field
    attr: str  # IFLA_BOND_SLAVE_* as the table names it
    ip_name: str

    @property
    def field(self) -> str:
        return self.key.replace("_", "-")


PORT_OPTIONS = (PortOption("queue_id", "queue_id", "queue_id"), PortOption("priority", "prio", "prio"))


class Bond(LinkKind):
    type = InterfaceType.BOND
    kernel_kind = "bond"
    module = "bonding"
    created_mtu = ETH_DATA_LEN
    section_key = "link_aggregation"
    # The mode, and the options the kernel changes only on a bond that is down or has no ports
    # (BOND_OPTFLAG_IFDOWN, _NOSLAVES in bond_options.c): a new bond is made with them instead.
    recreate_fields: ClassVar[tuple[str, ...]] = (
        "link-aggregation.mode",
        *(
            f"link-aggregation.options.{key}"
            for key in (
                "lacp_rate", "ad_select", "ad_actor_sys_prio", "ad_actor_system", "ad_user_port_key",
                "tlb_dynamic_lb", "fail_over_mac",
            )
        ),
    )  # fmt: skip

    def decode(self, buf: bytes, off: int, end: int) -> KindInfo:
        data = TABLE.decode(buf, off, end)
        mode = data.get("mode")
        return BondInfo(
            mode=MODES[mode].value if isinstance(mode, int) and mode < len(MODES) else None,
            miimon=data.get("miimon"),  # type: ignore[arg-type]
            updelay=data.get("updelay"),  # type: ignore[arg-type]
            downdelay=data.get("downdelay"),  # type: ignore[arg-type]
            primary_ifindex=data.get("primary") or None,  # type: ignore[arg-type]
            data=data,
        )

    def decode_port(self, buf: bytes, off: int, end: int) -> BondPortInfo:
        data = PORT_TABLE.decode(buf, off, end)
        return BondPortInfo(queue_id=data.get("queue_id"), priority=data.get("prio"))  # type: ignore[arg-type]

    def references(self, spec: InterfaceSpec) -> list[tuple[str, str]]:
        opts = spec.link_aggregation.options if spec.link_aggregation else None
        return [(PRIMARY, opts.primary)] if opts and opts.primary else []

    def compare(self, spec: InterfaceSpec, link: Link, ns: NetnsState, base: str | None) -> KindDiff:
        want = spec.link_aggregation
        if want is None:
            return NO_DIFF
        have = link.info if isinstance(link.info, BondInfo) else BondInfo()
        opts = want.options or BondOptions()
        return self.split(
            differ("link-aggregation.mode", have.mode, want.mode and want.mode.value),
            *(differ(o.field, o.shown(have.data.get(o.attr)), _declared(opts, o)) for o in OPTIONS),
            differ(PRIMARY, ns.name_of(have.primary_ifindex), opts.primary),
        )

    def info_data(self, spec: InterfaceSpec, resolve: Resolver, only: frozenset[str] | None = None) -> bytes:
        want = spec.link_aggregation
        assert want is not None
        opts = want.options or BondOptions()
        values: list[tuple[str, object]] = []
        if only is None and want.mode:
            values.append(("mode", MODES.index(want.mode)))
        values += [(o.attr, o.raw(v)) for o, v in _given(opts, only)]
        # The primary must already be a port: it is set in place after enslaving.
        if opts.primary and only is not None and PRIMARY in only:
            values.append(("primary", resolve(opts.primary)))
        return TABLE.encode(values)

    def ip_args(self, spec: InterfaceSpec, only: frozenset[str] | None = None) -> list[str]:
        want = spec.link_aggregation
        assert want is not None
        opts = want.options or BondOptions()
        args = ["type", "bond"]
        if only is None and want.mode:
            args += ["mode", want.mode.value]
        for o, value in _given(opts, only):
            args += [o.ip_name or o.key, o.ip_value(value)]
        if opts.primary is not None and (only is None or PRIMARY in only):
            args += ["primary", opts.primary]
        return args

    def section_from_link(self, link: Link, ns: NetnsState, base: str | None) -> BondSection:
        info = link.info if isinstance(link.info, BondInfo) else BondInfo()
        shown = {o.key: o.shown(info.data.get(o.attr)) for o in OPTIONS}
        ports = ns.ports_of(link.name)
        mode = BondMode(info.mode) if info.mode else None
        configs = [_port_config(p, ns.links[p].bond_port, mode) for p in ports]
        return BondSection(
            mode=BondMode(info.mode) if info.mode else None,
            port=ports,
            ports_config=[c for c in configs if c is not None] or None,
            options=BondOptions(
                primary=ns.name_of(info.primary_ifindex), **{k: v for k, v in shown.items() if v is not None}
            ),
        )


def _declared(opts: BondOptions, o: Option) -> object:
    value = getattr(opts, o.key)
    return value.value if hasattr(value, "value") else value


def _given(opts: BondOptions, only: frozenset[str] | None) -> list[tuple[Option, object]]:
    """The options the file sets (those of `only`, when only some change), with their values."""
    out = []
    for o in OPTIONS:
        value = _declared(opts, o)
        if value is not None and (only is None or o.field in only):
            out.append((o, value))
    return out


def _port_config(name: str, info: object, mode: BondMode | None) -> BondPortConfig | None:
    """A port's settings as its ports-config entry; its priority only in a mode that takes one (the
    kernel reports 0 in every mode, and refuses to be given it in the others)."""
    if not isinstance(info, BondPortInfo):
        return None
    priority = info.priority if mode in PRIO_MODES else None
    if info.queue_id is None and priority is None:
        return None
    return BondPortConfig(name=name, queue_id=info.queue_id, priority=priority)


def port_diffs(conf: BondPortConfig, have: object) -> tuple[FieldDiff, ...]:
    """What a port's ports-config entry changes on it (`have` None: it joins now, all are set)."""
    info = have if isinstance(have, BondPortInfo) else None
    return collect(
        *(differ(o.field, getattr(info, o.key) if info else None, getattr(conf, o.key)) for o in PORT_OPTIONS)
    )


def port_data(conf: BondPortConfig, fields: frozenset[str]) -> bytes:
    """IFLA_INFO_SLAVE_DATA setting the named fields of a bond's port."""
    return PORT_TABLE.encode((o.attr, getattr(conf, o.key)) for o in PORT_OPTIONS if o.field in fields)


def port_ip_args(conf: BondPortConfig, fields: frozenset[str]) -> list[str]:
    args = ["type", "bond_slave"]
    for o in PORT_OPTIONS:
        if o.field in fields and getattr(conf, o.key) is not None:
            args += [o.ip_name, str(getattr(conf, o.key))]
    return args


def _targets_nest(text: str) -> bytes:
    """IFLA_BOND_ARP_IP_TARGET: one attribute per address, numbered from 0, in network order."""
    addrs = [a for a in text.split(",") if a]
    return b"".join(attr(i, ipaddress.IPv4Address(a).packed) for i, a in enumerate(addrs))


def _targets_text(nest: bytes) -> str | None:
    addrs = [str(ipaddress.IPv4Address(nest[s:e])) for _t, s, e in iter_attrs(nest, 0, len(nest)) if e - s == 4]
    return ",".join(addrs) or None


BOND = Bond()

"""Layer 3 as the kernel reports it: addresses, routes and policy rules of one namespace.

Filled by kernel/l3.py, read by the planner (plan/l3.py) and by `show`. Only what a person
configures is kept: routes of the kernel's own making (proto kernel: the prefix routes of
addresses, the local table) and the three default rules never appear here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

RTN_UNICAST = 1
RTN_BLACKHOLE = 6
RTN_UNREACHABLE = 7
RTN_PROHIBIT = 8
ROUTE_TYPES = {RTN_BLACKHOLE: "blackhole", RTN_UNREACHABLE: "unreachable", RTN_PROHIBIT: "prohibit"}
TYPE_OF = {name: number for number, name in ROUTE_TYPES.items()}

FR_ACT_TO_TBL = 1
RULE_ACTIONS = {6: "blackhole", 7: "unreachable", 8: "prohibit"}
RULE_ACTION_OF = {name: number for number, name in RULE_ACTIONS.items()}


@dataclass(frozen=True, order=True)
class Address:
    """One address on one link ("192.0.2.1/24")."""

    ifindex: int
    ip: str
    prefixlen: int
    version: int
    link_local: bool = False  # scope link: made by the kernel (fe80::/64) or meaningless to move
    # IFA_F_DADFAILED: another host on the link answered for this IPv6 address; the kernel never uses it
    dadfailed: bool = False
    # IFA_F_SECONDARY: an IPv4 address in the subnet of an earlier one on the link (its primary); deleting
    # the primary deletes it too (unless net.ipv4.conf.*.promote_secondaries)
    secondary: bool = False

    @property
    def cidr(self) -> str:
        return f"{self.ip}/{self.prefixlen}"


@dataclass(frozen=True, order=True)
class NextHop:
    oif: int | None = None
    gateway: str | None = None
    weight: int | None = None  # ECMP weight, 1-256; None for a route with one next hop


@dataclass(frozen=True)
class Route:
    """One route a person (or a tool) made: proto boot or static, in any table."""

    version: int
    dst: str  # a network: "0.0.0.0/0", "198.51.100.0/24"
    table: int
    metric: int
    type: int = RTN_UNICAST
    protocol: int = 4
    scope: int = 0
    tos: int = 0
    nexthops: tuple[NextHop, ...] = ()
    prefsrc: str | None = None
    # RTA_METRICS as nmstate names them: cwnd, initcwnd, initrwnd, mtu, advmss, quickack, lock-mtu
    metrics: tuple[tuple[str, int], ...] = ()

    @property
    def key(self) -> tuple[int, str, int, int, int]:
        """What the kernel tells routes apart by: one route per key (its next hops are its value)."""
        return (self.version, self.dst, self.table, self.metric, self.tos)

    def metric_value(self, name: str) -> int | None:
        return dict(self.metrics).get(name)


@dataclass(frozen=True)
class Rule:
    """One policy-routing rule; the kernel's three defaults (proto kernel) are left out."""

    version: int
    priority: int
    table: int
    action: int = FR_ACT_TO_TBL
    src: str | None = None
    dst: str | None = None
    fwmark: int | None = None
    fwmask: int | None = None
    iif: str | None = None
    oif: str | None = None
    suppress_prefixlen: int | None = None
    protocol: int = 0


@dataclass
class L3State:
    """Layer 3 of one namespace, read in one dump of each kind."""

    addresses: list[Address] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    # net.ipv6.conf.NAME.disable_ipv6 of the links that were asked about; "default" for new links
    ipv6_off: dict[str, bool] = field(default_factory=dict)

    def addresses_of(self, ifindex: int) -> list[Address]:
        """In the kernel's order: an IPv4 subnet's primary before its secondaries (re-added so, it stays primary)."""
        return [a for a in self.addresses if a.ifindex == ifindex and not a.link_local]


__all__ = ["Address", "L3State", "NextHop", "Route", "Rule"]

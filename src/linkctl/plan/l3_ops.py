"""The layer 3 changes a plan is made of: addresses, IPv6 on/off, routes, rules.

Next hops name their link, not its index: the link may be made by the same plan, and
the executor looks the index up when it sends the request.
"""

from __future__ import annotations

from dataclasses import dataclass

from linkctl.model.l3_state import FR_ACT_TO_TBL, ROUTE_TYPES, RTN_UNICAST, RULE_ACTIONS
from linkctl.model.l3_state import Rule as Rule
from linkctl.plan.ops import Op, _ip

MAIN_TABLE = 254


@dataclass(frozen=True, order=True)
class Hop:
    dev: str | None = None
    gateway: str | None = None
    weight: int | None = None


@dataclass(frozen=True)
class RouteSpec:
    """A route as the plan sees it: its key (version, dst, table, metric, tos) and its value."""

    version: int
    dst: str
    table: int = MAIN_TABLE
    metric: int = 0
    type: int = RTN_UNICAST
    hops: tuple[Hop, ...] = ()
    prefsrc: str | None = None
    metrics: tuple[tuple[str, int], ...] = ()
    tos: int = 0

    @property
    def key(self) -> tuple[int, str, int, int, int]:
        return (self.version, self.dst, self.table, self.metric, self.tos)

    def ip_args(self) -> list[str]:
        args = [] if self.type == RTN_UNICAST else [ROUTE_TYPES[self.type]]
        args.append(self.dst)
        if len(self.hops) == 1:
            args += _hop_args(self.hops[0])
        elif self.hops:
            for hop in self.hops:
                args += ["nexthop", *_hop_args(hop), "weight", str(hop.weight or 1)]
        if self.table != MAIN_TABLE:
            args += ["table", str(self.table)]
        args += ["metric", str(self.metric)]
        if self.prefsrc:
            args += ["src", self.prefsrc]
        for name, value in self.metrics:
            if name == "lock-mtu":
                continue
            locked = name == "mtu" and ("lock-mtu", 1) in self.metrics
            args += [name, *(["lock"] if locked else []), str(value)]
        return args

    def text(self) -> str:
        return " ".join(self.ip_args())


def _hop_args(hop: Hop) -> list[str]:
    args = ["via", hop.gateway] if hop.gateway else []
    return args + (["dev", hop.dev] if hop.dev else [])


@dataclass(frozen=True)
class SetAddress(Op):
    """Add (`add`) or remove an address on link `name`."""

    cidr: str = ""
    add: bool = True
    # Without duplicate address detection: an IPv6 address a route of the plan takes as its source
    # (the kernel refuses a tentative one: "Invalid source address").
    nodad: bool = False

    @property
    def verb(self) -> str:
        return "add address" if self.add else "remove address"

    def describe(self) -> str:
        text = f"{'add' if self.add else 'remove'} address {self.cidr} {'to' if self.add else 'from'} {self.where()}"
        return f"{text}: {self.reason}" if self.reason else text

    def ip_command(self) -> list[str]:
        tail = ["nodad"] if self.nodad else []
        return [*_ip(self.netns), "address", "add" if self.add else "del", self.cidr, "dev", self.name, *tail]


@dataclass(frozen=True)
class SetIpv6(Op):
    """net.ipv6.conf.NAME.disable_ipv6: off removes every IPv6 address, link-local ones too."""

    enabled: bool = True

    @property
    def verb(self) -> str:
        return "enable IPv6 on" if self.enabled else "disable IPv6 on"

    def ip_command(self) -> list[str]:
        cmd = ["ip", "netns", "exec", self.netns] if self.netns else []
        return [*cmd, "sysctl", "-w", f"net.ipv6.conf.{self.name}.disable_ipv6={0 if self.enabled else 1}"]


@dataclass(frozen=True)
class SetRoute(Op):
    """Add, replace (`replace`) or delete (`add` False) one route; `name` is its destination."""

    route: RouteSpec = RouteSpec(4, "0.0.0.0/0")
    add: bool = True
    replace: bool = False

    @property
    def verb(self) -> str:
        return "replace route" if self.replace else ("add route" if self.add else "delete route")

    def where(self) -> str:
        return f"(netns {self.netns})" if self.netns else ""

    def describe(self) -> str:
        text = f"{self.verb} {self.route.text()}"
        text += f" {self.where()}" if self.netns else ""
        return f"{text}: {self.reason}" if self.reason else text

    def ip_command(self) -> list[str]:
        family = ["-6"] if self.route.version == 6 else []
        action = "replace" if self.replace else ("add" if self.add else "del")
        return [*_ip(self.netns), *family, "route", action, *self.route.ip_args()]


@dataclass(frozen=True)
class SetRule(Op):
    """Add or delete one policy-routing rule; `name` is its priority as text."""

    rule: Rule = Rule(4, 0, MAIN_TABLE)  # noqa: RUF009 - frozen, never shared mutably
    add: bool = True

    @property
    def verb(self) -> str:
        return "add rule" if self.add else "delete rule"

    def describe(self) -> str:
        text = f"{self.verb} {' '.join(rule_args(self.rule))}"
        text += f" (netns {self.netns})" if self.netns else ""
        return f"{text}: {self.reason}" if self.reason else text

    def ip_command(self) -> list[str]:
        family = ["-6"] if self.rule.version == 6 else []
        return [*_ip(self.netns), *family, "rule", "add" if self.add else "del", *rule_args(self.rule)]


def rule_args(rule: Rule) -> list[str]:
    args: list[str] = []
    if rule.priority >= 0:
        args += ["priority", str(rule.priority)]
    if rule.src:
        args += ["from", rule.src]
    if rule.dst:
        args += ["to", rule.dst]
    if rule.fwmark is not None:
        mask = f"/{rule.fwmask:#x}" if rule.fwmask not in (None, 0xFFFFFFFF) else ""
        args += ["fwmark", f"{rule.fwmark:#x}{mask}"]
    if rule.iif:
        args += ["iif", rule.iif]
    if rule.oif:
        args += ["oif", rule.oif]
    if rule.suppress_prefixlen is not None:
        args += ["suppress_prefixlength", str(rule.suppress_prefixlen)]
    if rule.action == FR_ACT_TO_TBL:
        args += ["table", str(rule.table)]
    else:
        args.append(RULE_ACTIONS.get(rule.action, str(rule.action)))
    return args

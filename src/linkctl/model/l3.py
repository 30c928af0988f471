"""Layer 3 in nmstate's format: a link's `ipv4:`/`ipv6:` sections, `routes:` and `route-rules:`.

Addresses belong to their link; routes and rules are top-level lists, as nmstate has them.
linkctl adds one key to a route and a rule: `netns`, the namespace it lives in (default: the
next-hop interface's, else the one the file is applied to).
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from linkctl.model.spec_base import Section

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddr = ipaddress.IPv4Address | ipaddress.IPv6Address

MAIN_TABLE = 254
# The kernel's metric for a route added without one: 0 for IPv4, IP6_RT_PRIO_USER for IPv6.
DEFAULT_METRIC = {4: 0, 6: 1024}


def _address(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError("an IPv4 or IPv6 address, such as 192.0.2.1 or 2001:db8::1") from None


def _network(value: str) -> str:
    """A destination as nmstate writes it (198.51.100.0/24, 2001:db8::/64, 0.0.0.0/0), normalised;
    host bits set are refused, as the kernel refuses them ("Invalid prefix for given prefix length")."""
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError as exc:
        if "has host bits set" in str(exc):
            net = ipaddress.ip_network(value, strict=False)
            raise ValueError(f"host bits set: the network is {net}") from None
        raise ValueError("a network such as 198.51.100.0/24, 2001:db8::/64 or 0.0.0.0/0") from None


class IpAddressEntry(Section):
    ip: str
    prefix_length: int = Field(ge=0, le=128)

    _ip = field_validator("ip")(classmethod(lambda cls, v: _address(v)))

    @model_validator(mode="after")
    def _fits(self) -> IpAddressEntry:
        addr = ipaddress.ip_address(self.ip)
        if self.prefix_length > addr.max_prefixlen:
            raise ValueError(
                f"prefix-length {self.prefix_length} is longer than an IPv{addr.version} address ({addr.max_prefixlen})"
            )
        return self

    @property
    def version(self) -> int:
        return ipaddress.ip_address(self.ip).version

    @property
    def cidr(self) -> str:
        return f"{self.ip}/{self.prefix_length}"


class IpSection(Section):
    """`ipv4:` or `ipv6:`. Static addresses only: DHCP and autoconf need a client linkctl does not run.

    The dhcp-* and auto-* keys are accepted for nmstate's files; they mean nothing without a client.
    """

    enabled: bool | None = None
    dhcp: bool | None = None
    autoconf: bool | None = None  # IPv6 only
    address: list[IpAddressEntry] | None = None
    allow_extra_address: bool | None = None
    auto_dns: bool | None = None
    auto_gateway: bool | None = None
    auto_routes: bool | None = None
    auto_route_table_id: int | None = Field(default=None, ge=0, le=2**32 - 1)
    auto_route_metric: int | None = Field(default=None, ge=0, le=2**32 - 1)
    dhcp_client_id: str | None = None
    dhcp_duid: str | None = None
    dhcp_send_hostname: bool | None = None
    dhcp_custom_hostname: str | None = None
    dhcp_timeout: int | None = None
    addr_gen_mode: str | None = None
    token: str | None = None

    def addresses(self) -> list[IpAddressEntry]:
        return list(self.address or ())


class RouteType(StrEnum):
    BLACKHOLE = "blackhole"
    UNREACHABLE = "unreachable"
    PROHIBIT = "prohibit"


class EntryState(StrEnum):
    ABSENT = "absent"
    IGNORE = "ignore"


class RouteEntry(Section):
    """One route; with `state: absent`, a pattern: every field left out matches anything."""

    state: EntryState | None = None
    destination: str | None = None
    next_hop_interface: str | None = None
    next_hop_address: str | None = None
    metric: int | None = Field(default=None, ge=-1, le=2**32 - 1)  # -1: nmstate's "backend default"
    table_id: int | None = Field(default=None, ge=0, le=2**32 - 1)  # 0: nmstate's "main"
    weight: int | None = Field(default=None, ge=1, le=256)
    route_type: RouteType | None = None
    source: str | None = None
    cwnd: int | None = Field(default=None, ge=0, le=2**32 - 1)
    initcwnd: int | None = Field(default=None, ge=0, le=2**32 - 1)
    initrwnd: int | None = Field(default=None, ge=0, le=2**32 - 1)
    mtu: int | None = Field(default=None, ge=68, le=2**32 - 1)
    advmss: int | None = Field(default=None, ge=0, le=2**32 - 1)
    quickack: bool | None = None
    lock_mtu: bool | None = None
    vrf_name: str | None = None
    netns: str | None = None

    _dst = field_validator("destination")(classmethod(lambda cls, v: None if v is None else _network(v)))
    _via = field_validator("next_hop_address")(classmethod(lambda cls, v: v if v in (None, "") else _address(v)))
    _src = field_validator("source")(classmethod(lambda cls, v: None if v is None else _address(v)))

    @property
    def absent(self) -> bool:
        return self.state is EntryState.ABSENT

    @property
    def version(self) -> int | None:
        for value in (self.destination, self.next_hop_address, self.source):
            if value:
                return ipaddress.ip_network(value, strict=False).version
        return None

    @property
    def table(self) -> int:
        return self.table_id or MAIN_TABLE

    @property
    def kernel_metric(self) -> int:
        version = self.version or 4
        return DEFAULT_METRIC[version] if self.metric in (None, -1) else int(self.metric or 0)


class RoutesSection(Section):
    config: list[RouteEntry] | None = None
    running: list[dict[str, object]] | None = None  # nmstate's `show` output: read-only, ignored


class RuleAction(StrEnum):
    BLACKHOLE = "blackhole"
    PROHIBIT = "prohibit"
    UNREACHABLE = "unreachable"


class RuleFamily(StrEnum):
    IPV4 = "ipv4"
    IPV6 = "ipv6"


class RouteRuleEntry(Section):
    """One policy-routing rule; with `state: absent`, a pattern as for routes."""

    state: EntryState | None = None
    family: RuleFamily | None = None
    ip_from: str | None = None
    ip_to: str | None = None
    priority: int | None = Field(default=None, ge=0, le=2**32 - 1)
    route_table: int | None = Field(default=None, ge=0, le=2**32 - 1)
    fwmark: int | None = Field(default=None, ge=0, le=2**32 - 1)
    fwmask: int | None = Field(default=None, ge=0, le=2**32 - 1)
    iif: str | None = None
    oif: str | None = None
    action: RuleAction | None = None
    suppress_prefix_length: int | None = Field(default=None, ge=0, le=128)
    netns: str | None = None

    @field_validator("ip_from", "ip_to")
    @classmethod
    def _prefix(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            return str(ipaddress.ip_network(v, strict=False))
        except ValueError:
            raise ValueError("an address or network, such as 192.0.2.0/24 or 2001:db8::1") from None

    @property
    def absent(self) -> bool:
        return self.state is EntryState.ABSENT

    @property
    def version(self) -> int | None:
        if self.family is not None:
            return 6 if self.family is RuleFamily.IPV6 else 4
        for value in (self.ip_from, self.ip_to):
            if value:
                return ipaddress.ip_network(value).version
        return None


class RouteRulesSection(Section):
    config: list[RouteRuleEntry] | None = None


__all__ = [
    "IpAddressEntry",
    "IpSection",
    "RouteEntry",
    "RouteRuleEntry",
    "RouteRulesSection",
    "RoutesSection",
]

"""RTM_*ADDR, RTM_*ROUTE and RTM_*RULE as bytes: requests built, dump messages read. No socket here.

Hand-written for the reason nla.py gives (pyroute2's generic codec is 20-60x slower on a dump);
each attribute is named once in the tables below, and tests/kernel/test_l3wire.py checks both
directions against pyroute2's ifaddrmsg, rtmsg and fibmsg.
"""

from __future__ import annotations

import ipaddress
import struct

from linkctl.model.l3_state import FR_ACT_TO_TBL, RTN_UNICAST, Address, NextHop, Route, Rule
from linkctl.nla import (
    NLM_F_ACK,
    NLM_F_CREATE,
    NLM_F_DUMP,
    NLM_F_EXCL,
    NLM_F_REPLACE,
    NLM_F_REQUEST,
    U32,
    attr,
    attr_str,
    attr_u8,
    attr_u32,
    cstr,
    iter_attrs,
    message,
    nested,
)

RTM_NEWADDR, RTM_DELADDR, RTM_GETADDR = 20, 21, 22
RTM_NEWROUTE, RTM_DELROUTE, RTM_GETROUTE = 24, 25, 26
RTM_NEWRULE, RTM_DELRULE, RTM_GETRULE = 32, 33, 34

IFADDRMSG = struct.Struct("=BBBBI")  # family, prefixlen, flags, scope, index
RTMSG = struct.Struct("=BBBBBBBBI")  # family, dst_len, src_len, tos, table, protocol, scope, type, flags
FIB_RULE_HDR = struct.Struct("=BBBBBBBBI")  # family, dst_len, src_len, tos, table, res1, res2, action, flags
RTNEXTHOP = struct.Struct("=HBBi")  # len, flags, hops (weight - 1), ifindex

AF_INET, AF_INET6 = 2, 10  # socket's constants, without socket.py's import (the receipt's fast path reads here)
FAMILY = {4: AF_INET, 6: AF_INET6}
VERSION = {AF_INET: 4, AF_INET6: 6}

IFA_ADDRESS, IFA_LOCAL, IFA_FLAGS = 1, 2, 8
IFA_F_DADFAILED = 0x08
IFA_F_NODAD = 0x02
IFA_F_SECONDARY = 0x01
RT_SCOPE_UNIVERSE, RT_SCOPE_LINK = 0, 253
# On a deletion: any scope (what `ip route del` sends); IPv4 matches a route's scope exactly otherwise,
# and a route without a gateway is filed with scope link.
RT_SCOPE_NOWHERE = 255
RTPROT_KERNEL, RTPROT_BOOT, RTPROT_STATIC = 2, 3, 4
RT_TABLE_UNSPEC, RT_TABLE_LOCAL = 0, 255
# Routes a person or a configuration tool made (nmstate's "static routes": proto boot and static).
MANAGED_PROTOCOLS = frozenset({RTPROT_BOOT, RTPROT_STATIC})

RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_PREFSRC = 1, 4, 5, 6, 7
RTA_METRICS, RTA_MULTIPATH, RTA_TABLE = 8, 9, 15
# RTA_METRICS members (RTAX_*), by nmstate's names.
RTAX = {"mtu": 2, "cwnd": 7, "advmss": 8, "initcwnd": 11, "initrwnd": 14, "quickack": 15}
RTAX_NAME = {number: name for name, number in RTAX.items()}
RTAX_LOCK = 1

FRA_DST, FRA_SRC, FRA_IIFNAME, FRA_PRIORITY, FRA_FWMARK = 1, 2, 3, 6, 10
FRA_SUPPRESS_PREFIXLEN, FRA_TABLE, FRA_FWMASK, FRA_OIFNAME, FRA_PROTOCOL = 14, 15, 16, 17, 21

_CHANGE = NLM_F_REQUEST | NLM_F_ACK


def _ip_bytes(ip: str) -> bytes:
    return ipaddress.ip_address(ip).packed


def _ip_str(raw: bytes | memoryview) -> str:
    return str(ipaddress.ip_address(bytes(raw)))


# --- requests --------------------------------------------------------------------------


def dump_request(mtype: int, seq: int, version: int) -> bytes:
    header = (
        IFADDRMSG.pack(FAMILY[version], 0, 0, 0, 0) if mtype == RTM_GETADDR else RTMSG.pack(FAMILY[version], *[0] * 8)
    )
    return message(mtype, NLM_F_REQUEST | NLM_F_DUMP, seq, header)


def address_request(seq: int, ifindex: int, ip: str, prefixlen: int, add: bool, nodad: bool = False) -> bytes:
    """`ip address add|del IP/LEN dev IFINDEX [nodad]`: IFA_LOCAL and IFA_ADDRESS both, as ip sends them."""
    version = ipaddress.ip_address(ip).version
    raw = _ip_bytes(ip)
    flags = IFA_F_NODAD if nodad else 0
    body = IFADDRMSG.pack(FAMILY[version], prefixlen, flags, 0, ifindex) + attr(IFA_LOCAL, raw) + attr(IFA_ADDRESS, raw)
    flags = _CHANGE | (NLM_F_CREATE | NLM_F_EXCL if add else 0)
    return message(RTM_NEWADDR if add else RTM_DELADDR, flags, seq, body)


def route_request(seq: int, route: Route, add: bool, replace: bool = False) -> bytes:
    """`ip route add|replace|del`; a route with several next hops goes as one RTA_MULTIPATH."""
    net = ipaddress.ip_network(route.dst)
    table_low = route.table if route.table < 256 else RT_TABLE_UNSPEC
    only_dev = route.type == RTN_UNICAST and all(nh.gateway is None for nh in route.nexthops)
    scope = RT_SCOPE_LINK if only_dev and route.version == 4 else RT_SCOPE_UNIVERSE
    header = RTMSG.pack(
        FAMILY[route.version], net.prefixlen, 0, route.tos, table_low,
        route.protocol if add else 0, scope if add else RT_SCOPE_NOWHERE, route.type, 0,
    )  # fmt: skip
    attrs = [attr(RTA_DST, net.network_address.packed), attr_u32(RTA_TABLE, route.table)]
    attrs.append(attr_u32(RTA_PRIORITY, route.metric))
    if route.prefsrc:
        attrs.append(attr(RTA_PREFSRC, _ip_bytes(route.prefsrc)))
    attrs += _nexthop_attrs(route.nexthops)
    if add and route.metrics:
        attrs.append(_metrics(route.metrics))
    flags = _CHANGE | (NLM_F_CREATE | (NLM_F_REPLACE if replace else NLM_F_EXCL) if add else 0)
    return message(RTM_NEWROUTE if add else RTM_DELROUTE, flags, seq, header + b"".join(attrs))


def _nexthop_attrs(nexthops: tuple[NextHop, ...]) -> list[bytes]:
    if not nexthops:
        return []
    if len(nexthops) == 1 and nexthops[0].weight is None:
        hop = nexthops[0]
        out = [attr_u32(RTA_OIF, hop.oif)] if hop.oif else []
        return out + ([attr(RTA_GATEWAY, _ip_bytes(hop.gateway))] if hop.gateway else [])
    parts = []
    for hop in nexthops:
        inner = attr(RTA_GATEWAY, _ip_bytes(hop.gateway)) if hop.gateway else b""
        weight = hop.weight if hop.weight is not None else 1
        parts.append(RTNEXTHOP.pack(RTNEXTHOP.size + len(inner), 0, weight - 1, hop.oif or 0) + inner)
    return [attr(RTA_MULTIPATH, b"".join(parts))]


def _metrics(metrics: tuple[tuple[str, int], ...]) -> bytes:
    members = []
    lock = 0
    for name, value in metrics:
        if name == "lock-mtu":
            lock |= (1 << RTAX["mtu"]) if value else 0
        else:
            members.append(attr_u32(RTAX[name], value))
    if lock:
        members.insert(0, attr_u32(RTAX_LOCK, lock))
    return nested(RTA_METRICS, *members)


def rule_request(seq: int, rule: Rule, add: bool) -> bytes:
    """`ip rule add|del`, every selector the rule has."""
    table_low = rule.table if rule.table < 256 else RT_TABLE_UNSPEC
    src_len = ipaddress.ip_network(rule.src).prefixlen if rule.src else 0
    dst_len = ipaddress.ip_network(rule.dst).prefixlen if rule.dst else 0
    header = FIB_RULE_HDR.pack(FAMILY[rule.version], dst_len, src_len, 0, table_low, 0, 0, rule.action, 0)
    attrs = [attr_u32(FRA_PRIORITY, rule.priority)] if rule.priority >= 0 else []  # -1: the kernel picks
    if rule.action == FR_ACT_TO_TBL:
        attrs.append(attr_u32(FRA_TABLE, rule.table))
    if rule.src:
        attrs.append(attr(FRA_SRC, ipaddress.ip_network(rule.src).network_address.packed))
    if rule.dst:
        attrs.append(attr(FRA_DST, ipaddress.ip_network(rule.dst).network_address.packed))
    if rule.fwmark is not None:
        attrs.append(attr_u32(FRA_FWMARK, rule.fwmark))
    if rule.fwmask is not None:
        attrs.append(attr_u32(FRA_FWMASK, rule.fwmask))
    if rule.iif:
        attrs.append(attr_str(FRA_IIFNAME, rule.iif))
    if rule.oif:
        attrs.append(attr_str(FRA_OIFNAME, rule.oif))
    if rule.suppress_prefixlen is not None:
        attrs.append(attr_u32(FRA_SUPPRESS_PREFIXLEN, rule.suppress_prefixlen))
    if add:
        attrs.append(attr_u8(FRA_PROTOCOL, RTPROT_STATIC))
    flags = _CHANGE | (NLM_F_CREATE | NLM_F_EXCL if add else 0)
    return message(RTM_NEWRULE if add else RTM_DELRULE, flags, seq, header + b"".join(attrs))


# --- dump messages ---------------------------------------------------------------------


def decode_address(buf: bytes | memoryview, off: int, end: int) -> Address | None:
    family, prefixlen, flags, scope, index = IFADDRMSG.unpack_from(buf, off)
    if family not in VERSION:
        return None
    found: dict[int, tuple[int, int]] = {a: (s, e) for a, s, e in iter_attrs(buf, off + IFADDRMSG.size, end)}
    span = found.get(IFA_LOCAL) or found.get(IFA_ADDRESS)
    if span is None:
        return None
    if IFA_FLAGS in found:  # the whole u32 of flags; the header's byte holds only the low 8
        (flags,) = U32.unpack_from(buf, found[IFA_FLAGS][0])
    ip = _ip_str(buf[span[0] : span[1]])
    dadfailed = bool(flags & IFA_F_DADFAILED)
    return Address(
        index, ip, prefixlen, VERSION[family], link_local=scope == RT_SCOPE_LINK, dadfailed=dadfailed,
        secondary=bool(flags & IFA_F_SECONDARY),
    )  # fmt: skip


def decode_route(
    buf: bytes | memoryview, off: int, end: int, protocols: frozenset[int] = MANAGED_PROTOCOLS
) -> Route | None:
    """A route of a dump, or None for those linkctl never manages (the kernel's, the local table, cached)."""
    family, dst_len, _src_len, tos, table, protocol, scope, rtype, _flags = RTMSG.unpack_from(buf, off)
    if family not in VERSION or protocol not in protocols:
        return None
    if tos and protocols is MANAGED_PROTOCOLS:
        return None  # a route with a TOS has no spelling in nmstate's format: never managed, never touched
    version = VERSION[family]
    found = {a: (s, e) for a, s, e in iter_attrs(buf, off + RTMSG.size, end)}
    if RTA_TABLE in found:
        (table,) = U32.unpack_from(buf, found[RTA_TABLE][0])
    if table == RT_TABLE_LOCAL:
        return None
    zero = "0.0.0.0" if version == 4 else "::"
    dst = _ip_str(_span(buf, found[RTA_DST])) if RTA_DST in found else zero
    metric = U32.unpack_from(buf, found[RTA_PRIORITY][0])[0] if RTA_PRIORITY in found else 0
    prefsrc = _ip_str(_span(buf, found[RTA_PREFSRC])) if RTA_PREFSRC in found else None
    return Route(
        version=version, dst=str(ipaddress.ip_network(f"{dst}/{dst_len}")), table=table, metric=metric,
        type=rtype, protocol=protocol, scope=scope, tos=tos, nexthops=_nexthops(buf, found),
        prefsrc=prefsrc, metrics=_read_metrics(buf, found.get(RTA_METRICS)),
    )  # fmt: skip


ANY_PROTOCOL = frozenset(range(256))


def decode_default_route(buf: bytes | memoryview, off: int, end: int) -> Route | None:
    """A default route (0.0.0.0/0, ::/0) whatever made it, DHCP and router advertisements included:
    audit judges where the traffic goes, not who manages it."""
    if RTMSG.unpack_from(buf, off)[1] != 0:  # dst_len
        return None
    return decode_route(buf, off, end, ANY_PROTOCOL)


def _span(buf: bytes | memoryview, span: tuple[int, int]) -> bytes:
    return bytes(buf[span[0] : span[1]])


def _nexthops(buf: bytes | memoryview, found: dict[int, tuple[int, int]]) -> tuple[NextHop, ...]:
    if RTA_MULTIPATH not in found:
        oif = U32.unpack_from(buf, found[RTA_OIF][0])[0] if RTA_OIF in found else None
        gateway = _ip_str(_span(buf, found[RTA_GATEWAY])) if RTA_GATEWAY in found else None
        return (NextHop(oif, gateway),) if oif or gateway else ()
    hops = []
    pos, stop = found[RTA_MULTIPATH]
    while pos + RTNEXTHOP.size <= stop:
        length, _flags, weight, ifindex = RTNEXTHOP.unpack_from(buf, pos)
        if length < RTNEXTHOP.size:
            break
        gateway = None
        for a, s, e in iter_attrs(buf, pos + RTNEXTHOP.size, pos + length):
            if a == RTA_GATEWAY:
                gateway = _ip_str(buf[s:e])
        hops.append(NextHop(ifindex or None, gateway, weight + 1))
        pos += (length + 3) & ~3
    return tuple(hops)


def _read_metrics(buf: bytes | memoryview, span: tuple[int, int] | None) -> tuple[tuple[str, int], ...]:
    if span is None:
        return ()
    out: list[tuple[str, int]] = []
    for a, s, _e in iter_attrs(buf, span[0], span[1]):
        (value,) = U32.unpack_from(buf, s)
        if a == RTAX_LOCK:
            if value & (1 << RTAX["mtu"]):
                out.append(("lock-mtu", 1))
        elif a in RTAX_NAME:
            out.append((RTAX_NAME[a], value))
    return tuple(sorted(out))


def decode_rule(buf: bytes | memoryview, off: int, end: int) -> Rule | None:
    """A policy rule of a dump, or None for the kernel's own defaults."""
    family, dst_len, src_len, _tos, table, _r1, _r2, action, _flags = FIB_RULE_HDR.unpack_from(buf, off)
    if family not in VERSION:
        return None
    found = {a: (s, e) for a, s, e in iter_attrs(buf, off + FIB_RULE_HDR.size, end)}
    protocol = buf[found[FRA_PROTOCOL][0]] if FRA_PROTOCOL in found else 0
    if protocol == RTPROT_KERNEL:
        return None

    def u32(key: int) -> int | None:
        return U32.unpack_from(buf, found[key][0])[0] if key in found else None

    def net(key: int, length: int) -> str | None:
        if key not in found:
            return None
        return str(ipaddress.ip_network(f"{_ip_str(_span(buf, found[key]))}/{length}"))

    def name(key: int) -> str | None:
        return cstr(buf, *found[key]) if key in found else None

    suppress = u32(FRA_SUPPRESS_PREFIXLEN)
    fwmask = u32(FRA_FWMASK)
    # The kernel leaves out a mark of 0 (and keeps its mask): "fwmark 0" reads back as the mask alone.
    fwmark = u32(FRA_FWMARK) if FRA_FWMARK in found or fwmask is None else 0
    return Rule(
        version=VERSION[family], priority=u32(FRA_PRIORITY) or 0, table=u32(FRA_TABLE) or table,
        action=action, src=net(FRA_SRC, src_len), dst=net(FRA_DST, dst_len), fwmark=fwmark,
        fwmask=fwmask, iif=name(FRA_IIFNAME), oif=name(FRA_OIFNAME),
        suppress_prefixlen=None if suppress in (None, 0xFFFFFFFF) else suppress, protocol=int(protocol),
    )  # fmt: skip

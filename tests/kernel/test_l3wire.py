"""The layer 3 codec against pyroute2's (requests) and against `ip -j` (real dumps of a namespace)."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator

import pytest
from pyroute2.netlink.rtnl.fibmsg import fibmsg
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.rtmsg import rtmsg

from linkctl.kernel import l3wire as W
from linkctl.kernel.l3 import read_l3
from linkctl.kernel.netlink import RtnlSocket
from linkctl.model.l3_state import NextHop, Route, Rule
from linkctl.nla import NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE


def _decoded(cls: type, data: bytes):  # type: ignore[no-untyped-def]
    msg = cls(data)
    msg.decode()
    return msg


def test_address_request_as_pyroute2_reads_it() -> None:
    msg = _decoded(ifaddrmsg, W.address_request(5, 7, "2001:db8::1", 64, add=True))
    assert msg["header"]["type"] == W.RTM_NEWADDR
    assert msg["header"]["flags"] & NLM_F_CREATE and msg["header"]["flags"] & NLM_F_EXCL
    assert (msg["family"], msg["prefixlen"], msg["index"]) == (10, 64, 7)
    assert msg.get_attr("IFA_LOCAL") == "2001:db8::1" == msg.get_attr("IFA_ADDRESS")
    gone = _decoded(ifaddrmsg, W.address_request(6, 7, "192.0.2.1", 24, add=False))
    assert gone["header"]["type"] == W.RTM_DELADDR and gone.get_attr("IFA_LOCAL") == "192.0.2.1"


def test_route_request_as_pyroute2_reads_it() -> None:
    route = Route(
        4, "198.51.100.0/24", 1000, 100, nexthops=(NextHop(3, "192.0.2.254"),), prefsrc="192.0.2.1",
        metrics=(("cwnd", 10), ("initcwnd", 20), ("lock-mtu", 1), ("mtu", 1400)),
    )  # fmt: skip
    msg = _decoded(rtmsg, W.route_request(9, route, add=True, replace=True))
    assert msg["header"]["flags"] & NLM_F_REPLACE
    assert (msg["family"], msg["dst_len"], msg["table"], msg["proto"]) == (2, 24, 0, W.RTPROT_STATIC)
    assert msg.get_attr("RTA_TABLE") == 1000 and msg.get_attr("RTA_PRIORITY") == 100
    assert msg.get_attr("RTA_DST") == "198.51.100.0" and msg.get_attr("RTA_GATEWAY") == "192.0.2.254"
    assert msg.get_attr("RTA_OIF") == 3 and msg.get_attr("RTA_PREFSRC") == "192.0.2.1"
    metrics = msg.get_attr("RTA_METRICS")
    assert metrics.get_attr("RTAX_CWND") == 10 and metrics.get_attr("RTAX_INITCWND") == 20
    assert metrics.get_attr("RTAX_MTU") == 1400 and metrics.get_attr("RTAX_LOCK") == 1 << 2


def test_multipath_request_as_pyroute2_reads_it() -> None:
    route = Route(6, "2001:db8:9::/64", 254, 1024, nexthops=(NextHop(3, "fe80::1", 2), NextHop(4, "fe80::2", 5)))
    msg = _decoded(rtmsg, W.route_request(1, route, add=True))
    hops = msg.get_attr("RTA_MULTIPATH")
    assert [(h["oif"], h["hops"] + 1, h.get_attr("RTA_GATEWAY")) for h in hops] == [
        (3, 2, "fe80::1"),
        (4, 5, "fe80::2"),
    ]


def test_rule_request_as_pyroute2_reads_it() -> None:
    rule = Rule(4, 1000, 100, src="192.0.2.0/24", fwmark=5, fwmask=0xFF, iif="v0", suppress_prefixlen=0)
    msg = _decoded(fibmsg, W.rule_request(2, rule, add=True))
    assert (msg["family"], msg["src_len"], msg["action"]) == (2, 24, 1)
    assert msg.get_attr("FRA_PRIORITY") == 1000 and msg.get_attr("FRA_TABLE") == 100
    assert msg.get_attr("FRA_SRC") == "192.0.2.0" and msg.get_attr("FRA_IIFNAME") == "v0"
    assert msg.get_attr("FRA_FWMARK") == 5 and msg.get_attr("FRA_FWMASK") == 0xFF
    assert msg.get_attr("FRA_SUPPRESS_PREFIXLEN") == 0
    kernel_picks = _decoded(fibmsg, W.rule_request(3, Rule(6, -1, 200, dst="2001:db8::/32"), add=True))
    assert kernel_picks.get_attr("FRA_PRIORITY") is None and kernel_picks["family"] == 10


@pytest.fixture
def ns() -> Iterator[str]:
    name = f"l3w-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def _ip(ns: str, *args: str) -> None:
    subprocess.run(["ip", "-n", ns, *args], check=True)


def _ipj(ns: str, *args: str) -> list[dict[str, object]]:
    out = subprocess.run(["ip", "-n", ns, "-j", *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out) if out.strip() else []


def test_dumps_read_what_ip_reads(ns: str) -> None:
    """Addresses, routes and rules made with iproute2, read back by linkctl's dumps as `ip -j` reads them."""
    _ip(ns, "link", "add", "w0", "type", "veth", "peer", "name", "w1")
    _ip(ns, "link", "set", "w0", "up")
    _ip(ns, "link", "set", "w1", "up")
    _ip(ns, "address", "add", "192.0.2.1/24", "dev", "w0")
    _ip(ns, "address", "add", "2001:db8:1::1/64", "dev", "w0", "nodad")
    _ip(ns, "route", "add", "198.51.100.0/24", "via", "192.0.2.254", "dev", "w0", "metric", "7", "table", "300")
    _ip(ns, "route", "add", "blackhole", "203.0.113.0/24")
    _ip(ns, "route", "add", "10.9.0.0/16", "nexthop", "via", "192.0.2.2", "weight", "3", "nexthop", "via", "192.0.2.3")
    _ip(ns, "-6", "route", "add", "2001:db8:9::/64", "via", "2001:db8:1::fe", "dev", "w0", "initcwnd", "20")
    _ip(ns, "rule", "add", "from", "192.0.2.0/24", "table", "300", "priority", "500")
    _ip(ns, "-6", "rule", "add", "fwmark", "0x7/0xf", "table", "301", "priority", "600")
    with RtnlSocket(ns) as sock:
        state = read_l3(sock)
        w0 = sock.get_link("w0")
    assert w0 is not None
    mine = {a.cidr for a in state.addresses if a.ifindex == w0.ifindex and not a.link_local}
    theirs = {
        f"{a['local']}/{a['prefixlen']}"
        for link in _ipj(ns, "address", "show", "dev", "w0")
        for a in link["addr_info"]  # type: ignore[union-attr]
        if a["scope"] != "link"  # type: ignore[index]
    }
    assert mine == theirs == {"192.0.2.1/24", "2001:db8:1::1/64"}
    routes = {(r.dst, r.table, r.metric): r for r in state.routes}
    assert routes[("198.51.100.0/24", 300, 7)].nexthops == (NextHop(w0.ifindex, "192.0.2.254"),)
    assert routes[("203.0.113.0/24", 254, 0)].type == 6
    ecmp = routes[("10.9.0.0/16", 254, 0)].nexthops
    assert {(h.gateway, h.weight) for h in ecmp} == {("192.0.2.2", 3), ("192.0.2.3", 1)}
    assert routes[("2001:db8:9::/64", 254, 1024)].metrics == (("initcwnd", 20),)
    kernel_made = [r for r in _ipj(ns, "route", "show", "table", "all") if r.get("protocol") == "kernel"]
    assert kernel_made and not any(r.dst == k["dst"] for r in state.routes for k in kernel_made)
    rules = {(r.version, r.priority): r for r in state.rules}
    assert set(rules) == {(4, 500), (6, 600)}  # the kernel's defaults left out
    assert rules[(4, 500)].src == "192.0.2.0/24" and rules[(4, 500)].table == 300
    assert (rules[(6, 600)].fwmark, rules[(6, 600)].fwmask, rules[(6, 600)].table) == (7, 0xF, 301)
    assert state.ipv6_off == {"default": False, "lo": False, "w0": False, "w1": False}  # every link's switch

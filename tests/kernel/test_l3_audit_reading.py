"""What audit reads of layer 3 beyond the planner's reading: IFA_F_DADFAILED on an address, and the
default routes of every protocol and table, each checked against `ip -j` on the same namespace."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable

from linkctl.kernel.l3 import read_addresses, read_default_routes, read_l3
from linkctl.kernel.netlink import RtnlSocket
from linkctl.model.l3_state import NextHop
from tests.helpers.dad import address_flags, dad_conflict


def _ip(ns: str, *args: str) -> str:
    return subprocess.run(["ip", "-n", ns, *args], capture_output=True, text=True, check=True).stdout


def test_dadfailed_is_read_as_ip_reads_it(netns_factory: Callable[[], str]) -> None:
    holder_ns, loser_ns = netns_factory(), netns_factory()
    dad_conflict(holder_ns, "dh0", loser_ns, "dl0", "2001:db8:d::1/64")
    _ip(loser_ns, "addr", "add", "2001:db8:e::1/64", "dev", "dl0", "nodad")  # a good one beside it
    _ip(loser_ns, "addr", "add", "192.0.2.9/24", "dev", "dl0")
    with RtnlSocket(loser_ns) as sock:
        state = read_l3(sock)
        assert read_addresses(sock) == state.addresses  # audit's reading: the same two dumps alone
    mine = {a.ip: a.dadfailed for a in state.addresses if not a.link_local}
    theirs = {
        entry["local"]: bool(entry.get("dadfailed"))
        for link in json.loads(_ip(loser_ns, "-j", "addr", "show"))
        for entry in link["addr_info"]
        if entry["scope"] != "link" and entry["local"] != "127.0.0.1" and entry["local"] != "::1"
    }
    assert mine == theirs == {"2001:db8:d::1": True, "2001:db8:e::1": False, "192.0.2.9": False}
    assert address_flags(holder_ns, "dh0", "2001:db8:d::1").get("dadfailed") is None  # the holder keeps it


def test_default_routes_of_every_protocol_and_table_as_ip_lists_them(netns: str) -> None:
    _ip(netns, "link", "add", "r0", "type", "veth", "peer", "name", "r1")
    for dev in ("r0", "r1"):
        _ip(netns, "link", "set", dev, "up")
    _ip(netns, "addr", "add", "192.0.2.1/24", "dev", "r0")
    _ip(netns, "addr", "add", "2001:db8::1/64", "dev", "r0", "nodad")
    _ip(netns, "route", "add", "default", "via", "192.0.2.254", "dev", "r0", "proto", "dhcp", "metric", "100")
    _ip(netns, "route", "add", "default", "via", "192.0.2.253", "dev", "r0", "table", "300")
    _ip(netns, "-6", "route", "add", "default", "via", "2001:db8::fe", "dev", "r0", "proto", "ra")
    _ip(netns, "route", "add", "198.51.100.0/24", "via", "192.0.2.254", "dev", "r0")  # not a default route
    with RtnlSocket(netns) as sock:
        defaults = read_default_routes(sock)
        planner = read_l3(sock).routes
        r0 = sock.get_link("r0")
    assert r0 is not None
    mine = {(r.version, r.table, r.metric, r.protocol, r.nexthops) for r in defaults}
    assert mine == {
        (4, 254, 100, 16, (NextHop(r0.ifindex, "192.0.2.254"),)),
        (4, 300, 0, 3, (NextHop(r0.ifindex, "192.0.2.253"),)),
        (6, 254, 1024, 9, (NextHop(r0.ifindex, "2001:db8::fe"),)),
    }
    theirs = [r for f in ("-4", "-6") for r in json.loads(_ip(netns, f, "-j", "route", "show", "table", "all"))]
    gateways = {r["gateway"] for r in theirs if r["dst"] == "default"}
    assert gateways == {hop.gateway for r in defaults for hop in r.nexthops}
    # the planner's reading keeps to the routes a person made (proto boot, static)
    assert {r.dst for r in planner} == {"0.0.0.0/0", "198.51.100.0/24"}
    assert all(r.protocol == 3 for r in planner)

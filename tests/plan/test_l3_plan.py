"""The layer 3 pass of the planner, pure: state in, ops out, no kernel."""

from __future__ import annotations

import pytest

from linkctl.errors import ValidationFailed
from linkctl.model.l3_state import Address, L3State, NextHop, Route, Rule
from linkctl.model.load import from_data
from linkctl.model.spec import Declaration
from linkctl.model.state import HostState, IfFlag, Link, NetnsState, VethInfo, VxlanInfo
from linkctl.plan.check_l3 import check_layer3, remakes_links
from linkctl.plan.convert import declaration_of
from linkctl.plan.l3_ops import SetAddress, SetIpv6, SetRoute, SetRule
from linkctl.plan.planner import make_plan

NS = "t"


def host(l3: L3State, up: bool = True) -> HostState:
    flags = IfFlag.UP | IfFlag.LOWER_UP if up else IfFlag(0)
    links = [
        Link(1, "lo", NS, flags=IfFlag.LOOPBACK | IfFlag.UP, mtu=65536),
        Link(2, "w0", NS, "veth", flags=flags, mtu=1500, info=VethInfo(3)),
        Link(3, "w1", NS, "veth", flags=flags, mtu=1500, info=VethInfo(2)),
    ]
    state = NetnsState.of(NS, links)
    state.l3 = l3
    return HostState({NS: state})


def decl(data: dict[str, object]) -> Declaration:
    return from_data(data, "t.yml")


def ops(d: Declaration, h: HostState) -> list[str]:
    return [op.describe() for op in make_plan(d, h, NS).ops]


V4 = [Address(2, "192.0.2.1", 24, 4), Address(2, "fe80::1", 64, 6, link_local=True)]


def test_listed_addresses_are_the_whole_set_link_local_left_alone() -> None:
    h = host(L3State(addresses=[*V4, Address(2, "192.0.2.7", 24, 4)]))
    d = decl({"interfaces": [{"name": "w0", "ipv4": {"address": [{"ip": "192.0.2.1", "prefix-length": 24},
                                                                  {"ip": "10.0.0.1", "prefix-length": 8}]}}]})  # fmt: skip
    assert ops(d, h) == [
        "remove address 192.0.2.7/24 from w0 (netns t)",
        "add address 10.0.0.1/8 to w0 (netns t)",
    ]


def test_allow_extra_address_keeps_the_others_and_a_section_without_addresses_changes_nothing() -> None:
    h = host(L3State(addresses=[*V4, Address(2, "192.0.2.7", 24, 4)]))
    keep = {"address": [{"ip": "10.0.0.1", "prefix-length": 8}], "allow-extra-address": True}
    assert ops(decl({"interfaces": [{"name": "w0", "ipv4": keep}]}), h) == ["add address 10.0.0.1/8 to w0 (netns t)"]
    assert ops(decl({"interfaces": [{"name": "w0", "ipv4": {"dhcp": False}}]}), h) == []


def test_enabled_without_an_address_list_leaves_the_addresses_as_they_are() -> None:
    """nmstate's partial editing: `ipv4: {enabled: true}` names no address, so none goes (it removed
    them all); `address: []` and `enabled: false` still do. nmstate.io's VxLAN example writes
    `ipv6: {enabled: true}` alone."""
    h = host(L3State(addresses=[*V4, Address(2, "2001:db8::7", 64, 6)]))
    for section in ({"enabled": True}, {"enabled": True, "dhcp": False}):
        assert ops(decl({"interfaces": [{"name": "w0", "ipv4": section, "ipv6": section}]}), h) == []
    assert ops(decl({"interfaces": [{"name": "w0", "ipv4": {"enabled": True, "address": []}}]}), h) == [
        "remove address 192.0.2.1/24 from w0 (netns t)"
    ]
    assert ops(decl({"interfaces": [{"name": "w0", "ipv4": {"enabled": False}}]}), h) == [
        "remove address 192.0.2.1/24 from w0 (netns t)"
    ]


def test_a_changed_prefix_is_removed_then_added() -> None:
    h = host(L3State(addresses=V4))
    d = decl({"interfaces": [{"name": "w0", "ipv4": {"address": [{"ip": "192.0.2.1", "prefix-length": 25}]}}]})
    assert ops(d, h) == ["remove address 192.0.2.1/24 from w0 (netns t)", "add address 192.0.2.1/25 to w0 (netns t)"]


def test_ipv6_disabled_is_one_sysctl_and_no_address_ops() -> None:
    h = host(L3State(addresses=[*V4, Address(2, "2001:db8::1", 64, 6)], ipv6_off={"default": False, "w0": False}))
    plan = make_plan(decl({"interfaces": [{"name": "w0", "ipv6": {"enabled": False}}]}), h, NS)
    assert [type(op) for op in plan.ops] == [SetIpv6] and not plan.ops[0].enabled  # type: ignore[attr-defined]
    on = {"enabled": True, "address": [{"ip": "2001:db8::1", "prefix-length": 64}]}
    off = host(L3State(addresses=V4[:1], ipv6_off={"default": False, "w0": True}))
    assert ops(decl({"interfaces": [{"name": "w0", "ipv6": on}]}), off) == [
        "enable IPv6 on w0 (netns t)",
        "add address 2001:db8::1/64 to w0 (netns t)",
    ]


ROUTE = Route(4, "198.51.100.0/24", 254, 0, nexthops=(NextHop(2, "192.0.2.254"),))


def test_routes_are_added_replaced_or_left() -> None:
    h = host(L3State(addresses=V4, routes=[ROUTE]))
    same = {"destination": "198.51.100.0/24", "next-hop-interface": "w0", "next-hop-address": "192.0.2.254"}
    assert ops(decl({"routes": {"config": [same]}}), h) == []
    other = {**same, "next-hop-address": "192.0.2.253"}
    plan = make_plan(decl({"routes": {"config": [other]}}), h, NS)
    assert len(plan.ops) == 1 and isinstance(plan.ops[0], SetRoute) and plan.ops[0].replace
    new_metric = {**same, "metric": 5}
    assert ops(decl({"routes": {"config": [new_metric]}}), h) == [
        "add route 198.51.100.0/24 via 192.0.2.254 dev w0 metric 5 (netns t)"
    ]


def test_entries_with_one_key_are_one_ecmp_route() -> None:
    h = host(L3State(addresses=V4))
    a = {"destination": "10.9.0.0/16", "next-hop-interface": "w0", "next-hop-address": "192.0.2.2", "weight": 3}
    b = {"destination": "10.9.0.0/16", "next-hop-interface": "w1", "next-hop-address": "192.0.2.3"}
    plan = make_plan(decl({"routes": {"config": [a, b]}}), h, NS)
    assert len(plan.ops) == 1
    op = plan.ops[0]
    assert isinstance(op, SetRoute)
    assert [(hop.dev, hop.weight) for hop in op.route.hops] == [("w0", 3), ("w1", 1)]
    kernel = Route(4, "10.9.0.0/16", 254, 0, nexthops=(NextHop(3, "192.0.2.3", 1), NextHop(2, "192.0.2.2", 3)))
    assert ops(decl({"routes": {"config": [a, b]}}), host(L3State(addresses=V4, routes=[kernel]))) == []


@pytest.mark.parametrize(
    ("pattern", "gone"),
    [
        ({"next-hop-interface": "w0"}, True),
        ({"next-hop-interface": "w1"}, False),
        ({"destination": "198.51.100.0/24"}, True),
        ({"destination": "198.51.100.0/24", "metric": 7}, False),
        ({"next-hop-address": ""}, False),  # only routes without a gateway
        ({"table-id": 0}, True),  # nmstate's "main", a wildcard
        ({"table-id": 300}, False),
    ],
)
def test_absent_entries_match_by_any_subset(pattern: dict[str, object], gone: bool) -> None:
    h = host(L3State(addresses=V4, routes=[ROUTE]))
    said = ops(decl({"routes": {"config": [{**pattern, "state": "absent"}]}}), h)
    assert said == (["delete route 198.51.100.0/24 via 192.0.2.254 dev w0 metric 0 (netns t)"] if gone else [])


def test_a_present_entry_wins_over_an_absent_one_that_matches_it() -> None:
    h = host(L3State(addresses=V4, routes=[ROUTE]))
    keep = {"destination": "198.51.100.0/24", "next-hop-interface": "w0", "next-hop-address": "192.0.2.254"}
    assert ops(decl({"routes": {"config": [{"next-hop-interface": "w0", "state": "absent"}, keep]}}), h) == []


def test_rules_compare_without_the_protocol_and_with_the_kernels_mask() -> None:
    have = Rule(4, 1000, 100, fwmark=5, fwmask=0xFFFFFFFF, protocol=4)
    h = host(L3State(rules=[have]))
    entry = {"fwmark": 5, "route-table": 100, "priority": 1000, "family": "ipv4"}
    assert ops(decl({"route-rules": {"config": [entry]}}), h) == []
    no_priority = {"fwmark": 5, "route-table": 100, "family": "ipv4"}
    assert ops(decl({"route-rules": {"config": [no_priority]}}), h) == []
    plan = make_plan(decl({"route-rules": {"config": [{**entry, "route-table": 101}]}}), h, NS)
    assert [type(op) for op in plan.ops] == [SetRule]
    gone = make_plan(decl({"route-rules": {"config": [{"route-table": 100, "state": "absent"}]}}), h, NS)
    assert [op.describe() for op in gone.ops] == ["delete rule priority 1000 fwmark 0x5 table 100 (netns t)"]


def test_a_link_made_again_gets_its_addresses_and_routes_back() -> None:
    h = host(L3State(addresses=[*V4, Address(4, "10.7.0.1", 24, 4)], routes=[ROUTE, VIA_VX]))
    h.ns(NS).links["vx7"] = Link(
        4, "vx7", NS, "vxlan", flags=IfFlag.UP, mtu=1450, info=VxlanInfo(7, remote="192.0.2.50", port=4789)
    )
    # A new VNI is a new link for the kernel; the file says nothing of its layer 3.
    d = decl({"interfaces": [{"name": "vx7", "type": "vxlan", "vxlan": {"id": 8, "remote": "192.0.2.50"}}]})
    said = ops(d, h)
    created = next(i for i, text in enumerate(said) if text.startswith("create vx7"))
    assert created < said.index("add address 10.7.0.1/24 to vx7 (netns t)")
    assert said.index("add address 10.7.0.1/24 to vx7 (netns t)") < said.index(
        "add route 10.77.0.0/16 via 10.7.0.254 dev vx7 metric 0 (netns t)"
    )
    assert not any("w0" in text for text in said)  # the routes through other links are left alone


VIA_VX = Route(4, "10.77.0.0/16", 254, 0, nexthops=(NextHop(4, "10.7.0.254"),))


def test_the_state_as_a_declaration_plans_nothing() -> None:
    l3 = L3State(
        addresses=[*V4, Address(3, "2001:db8::2", 64, 6)],
        routes=[
            ROUTE,
            Route(4, "203.0.113.0/24", 254, 0, type=6),
            Route(6, "2001:db8:9::/64", 300, 1024, nexthops=(NextHop(2, "fe80::9"),), metrics=(("initcwnd", 20),)),
            Route(4, "10.9.0.0/16", 254, 0, nexthops=(NextHop(2, "192.0.2.2", 3), NextHop(3, "192.0.2.3", 1))),
        ],
        rules=[Rule(4, 1000, 100, src="192.0.2.0/24"), Rule(6, 1001, 0, action=6, dst="2001:db8::/32")],
        ipv6_off={"default": False, "w0": False, "w1": True},
    )
    h = host(l3)
    again = declaration_of(h, netns=[NS])
    assert again.routes is not None and again.route_rules is not None
    assert make_plan(again, h, NS).ops == []


def test_validation_names_each_problem_once_before_any_change() -> None:
    h = host(L3State(addresses=V4), up=False)
    d = decl(
        {
            "interfaces": [{"name": "w1", "ipv4": {"dhcp": True}, "ipv6": {"autoconf": True}}],
            "routes": {
                "config": [
                    {"destination": "0.0.0.0/0", "next-hop-interface": "w0", "next-hop-address": "192.0.2.254"},
                    {"destination": "10.0.0.0/8", "next-hop-interface": "nope", "next-hop-address": "192.0.2.1"},
                    {"destination": "10.1.0.0/16", "next-hop-interface": "w0", "next-hop-address": "2001:db8::1"},
                    {"destination": "10.2.0.0/16", "route-type": "blackhole", "next-hop-interface": "w0"},
                ]
            },
            "route-rules": {"config": [{"route-table": 5}]},
        }
    )
    with pytest.raises(ValidationFailed) as err:
        check_layer3(d, h, make_plan(d, h, NS), "t.yml", NS)
    text = str(err.value)
    for expected in (
        "ipv4.dhcp: true: a DHCP client is not run by linkctl",
        "ipv6.autoconf: true: IPv6 autoconfiguration (SLAAC) is not run by linkctl",
        "w0 is down after this plan",
        "next-hop-interface: 'nope': no such link in netns t",
        "next-hop-address: '2001:db8::1': an IPv4 address, as the destination 10.1.0.0/16 is",
        "a blackhole, prohibit or unreachable route has no next hop",
        "family: (not given)",
    ):
        assert expected in text, (expected, text)


def test_an_unreachable_gateway_is_named_with_the_links_subnets() -> None:
    h = host(L3State(addresses=V4))
    d = decl(
        {
            "routes": {
                "config": [{"destination": "0.0.0.0/0", "next-hop-interface": "w0", "next-hop-address": "10.1.1.1"}]
            }
        }
    )
    with pytest.raises(ValidationFailed) as err:
        check_layer3(d, h, make_plan(d, h, NS), "t.yml", NS)
    assert "10.1.1.1 is in none of w0's subnets after this plan (192.0.2.1/24)" in str(err.value)
    fixed = decl(
        {
            "interfaces": [{"name": "w0", "ipv4": {"address": [{"ip": "10.1.1.2", "prefix-length": 24}]}}],
            "routes": {
                "config": [{"destination": "0.0.0.0/0", "next-hop-interface": "w0", "next-hop-address": "10.1.1.1"}]
            },
        }
    )
    check_layer3(fixed, h, make_plan(fixed, h, NS), "t.yml", NS)  # the address the file adds makes it reachable


def test_schema_refuses_what_the_kernel_would() -> None:
    for bad, words in (
        (
            {"interfaces": [{"name": "w0", "ipv4": {"address": [{"ip": "192.0.2.1", "prefix-length": 33}]}}]},
            "longer than",
        ),
        ({"routes": {"config": [{"destination": "198.51.100.1/24", "next-hop-interface": "w0"}]}}, "host bits set"),
        ({"routes": {"config": [{"destination": "x", "next-hop-interface": "w0"}]}}, "a network such as"),
        ({"routes": {"config": [{"destination": "10.0.0.0/8", "weight": 0}]}}, "greater than or equal to 1"),
    ):
        with pytest.raises(ValidationFailed) as err:
            decl(bad)
        assert words in str(err.value), str(err.value)


def test_op_kinds_and_their_ip_commands() -> None:
    h = host(L3State(addresses=V4))
    d = decl({"interfaces": [{"name": "w0", "ipv4": {"address": [{"ip": "192.0.2.1", "prefix-length": 24},
                                                                  {"ip": "192.0.2.2", "prefix-length": 24}]}}]})  # fmt: skip
    (op,) = make_plan(d, h, NS).ops
    assert isinstance(op, SetAddress) and op.ip_commands() == [
        ["ip", "-n", NS, "address", "add", "192.0.2.2/24", "dev", "w0"]
    ]


def test_ipv4_secondaries_go_before_their_primary_and_a_kept_one_comes_back() -> None:
    """The kernel deletes a primary's secondaries with it: they are removed first (no "Address not
    found" half-way), and a secondary the file keeps is added again after its primary went."""
    primary, second, third = (Address(2, f"192.0.2.{n}", 24, 4, secondary=n != 1) for n in (1, 9, 10))
    h = host(L3State(addresses=[primary, second, third]))
    keep_third = {"address": [{"ip": "192.0.2.10", "prefix-length": 24}]}
    assert ops(decl({"interfaces": [{"name": "w0", "ipv4": keep_third}]}), h) == [
        "remove address 192.0.2.9/24 from w0 (netns t)",
        "remove address 192.0.2.10/24 from w0 (netns t)",
        "remove address 192.0.2.1/24 from w0 (netns t)",
        "add address 192.0.2.10/24 to w0 (netns t)",
    ]
    only_primary = {"address": [{"ip": "192.0.2.1", "prefix-length": 24}]}
    assert ops(decl({"interfaces": [{"name": "w0", "ipv4": only_primary}]}), h) == [
        "remove address 192.0.2.9/24 from w0 (netns t)",
        "remove address 192.0.2.10/24 from w0 (netns t)",
    ]


def _with_vx7(h: HostState) -> HostState:
    h.ns(NS).links["vx7"] = Link(
        4, "vx7", NS, "vxlan", flags=IfFlag.UP, mtu=1450, info=VxlanInfo(7, remote="192.0.2.50", port=4789)
    )
    return h


ECMP6 = Route(6, "2001:db8:9::/64", 254, 1024, nexthops=(NextHop(2, "2001:db8:1::fe"), NextHop(4, "2001:db8:7::fe")))
ECMP4 = Route(4, "10.9.0.0/16", 254, 0, nexthops=(NextHop(2, "192.0.2.2"), NextHop(4, "10.7.0.254")))
VX_GONE = {"name": "vx7", "type": "vxlan", "state": "absent"}
VX_REMADE = {"name": "vx7", "type": "vxlan", "vxlan": {"id": 8, "remote": "192.0.2.50"}}


def test_an_ipv6_ecmp_route_keeps_its_next_hops_through_other_links_when_one_link_goes() -> None:
    """The kernel deletes an IPv4 route with any of its links, but only the next hop of an IPv6 one:
    a rollback deleting the link a change made had left the rest ("still differs"), and re-adding the
    route with a link made again was refused ("File exists")."""
    h = _with_vx7(host(L3State(addresses=V4, routes=[ECMP6, ECMP4])))
    absent = [{"destination": "2001:db8:9::/64", "state": "absent"}, {"destination": "10.9.0.0/16", "state": "absent"}]
    said = ops(decl({"interfaces": [VX_GONE], "routes": {"config": absent}}), h)
    assert said[1:] == ["delete route 2001:db8:9::/64 via 2001:db8:1::fe dev w0 metric 1024 (netns t)"]
    assert ops(decl({"interfaces": [VX_GONE]}), h)[1:] == []  # what the kernel leaves is left
    remade = [op for op in make_plan(decl({"interfaces": [VX_REMADE]}), h, NS).ops if isinstance(op, SetRoute)]
    assert sorted((op.route.dst, op.replace, [hop.dev for hop in op.route.hops]) for op in remade) == [
        ("10.9.0.0/16", False, ["vx7", "w0"]),  # gone whole with vx7: added again
        ("2001:db8:9::/64", True, ["vx7", "w0"]),  # its hop through w0 stayed: replaced
    ]


def test_routes_through_a_link_whose_every_ipv4_address_is_replaced_are_put_back() -> None:
    """The kernel flushes the IPv4 routes through a link when its last IPv4 address goes, and the plan
    removes addresses before it adds: a rollback putting the address back lost the link's routes."""
    multipath = Route(4, "10.8.0.0/16", 254, 0, nexthops=(NextHop(2, "192.0.2.2"), NextHop(3, "192.0.2.3")))
    h = host(L3State(addresses=V4, routes=[ROUTE, multipath]))
    moved = {"name": "w0", "ipv4": {"address": [{"ip": "192.0.2.5", "prefix-length": 24}]}}
    assert ops(decl({"interfaces": [moved]}), h) == [
        "remove address 192.0.2.1/24 from w0 (netns t)",
        "add address 192.0.2.5/24 to w0 (netns t)",
        "add route 198.51.100.0/24 via 192.0.2.254 dev w0 metric 0 (netns t)",  # a multipath one stays (dead hop)
    ]
    absent = {"destination": "198.51.100.0/24", "state": "absent"}
    assert ops(decl({"interfaces": [moved], "routes": {"config": [absent]}}), h)[0].startswith("delete route 198.51")
    kept = {
        "name": "w0",
        "ipv4": {"address": [{"ip": "192.0.2.1", "prefix-length": 24}, {"ip": "10.0.0.1", "prefix-length": 8}]},
    }
    assert ops(decl({"interfaces": [kept]}), h) == ["add address 10.0.0.1/8 to w0 (netns t)"]


def test_a_deleted_link_is_made_again_by_the_rollback_with_its_addresses_and_routes() -> None:
    """A plan that only deletes a link has layer 3 read (remakes_links), so that the state before, as the
    rollback declares it, holds the link's addresses and routes: a rollback had re-made the pair bare."""
    h = host(L3State(addresses=V4, routes=[ROUTE], ipv6_off={"default": False}))
    plan = make_plan(decl({"interfaces": [{"name": "w0", "type": "veth", "state": "absent"}]}), h, NS)
    assert remakes_links(plan.ops, h)
    gone = NetnsState.of(NS, [Link(1, "lo", NS, flags=IfFlag.LOOPBACK | IfFlag.UP, mtu=65536)])
    gone.l3 = L3State(ipv6_off={"default": False})
    said = ops(declaration_of(h, netns=[NS]), HostState({NS: gone}))
    assert said[0].startswith("create w0") and said[1:] == [
        "add address 192.0.2.1/24 to w0 (netns t)",
        "add route 198.51.100.0/24 via 192.0.2.254 dev w0 metric 0 (netns t)",
    ]


def test_a_link_taken_down_is_brought_up_by_the_rollback_with_its_ipv6_address_and_routes() -> None:
    """Going down, a link loses the routes through it and its IPv6 addresses (the kernel flushes them):
    a plan taking a link down has layer 3 read, and the rollback's plan puts them back after the link is up."""
    six = Address(2, "2001:db8:1::1", 64, 6)
    h = host(L3State(addresses=[*V4, six], routes=[ROUTE], ipv6_off={"default": False, "w0": False}))
    plan = make_plan(decl({"interfaces": [{"name": "w0", "type": "veth", "state": "down"}]}), h, NS)
    assert remakes_links(plan.ops, h)
    down = host(L3State(addresses=V4, ipv6_off={"default": False, "w0": False}))
    down.ns(NS).links["w0"] = Link(2, "w0", NS, "veth", flags=IfFlag(0), mtu=1500, info=VethInfo(3))
    said = ops(declaration_of(h, netns=[NS]), down)
    assert said[0].startswith("set w0") and said[1:] == [
        "add address 2001:db8:1::1/64 to w0 (netns t)",
        "add route 198.51.100.0/24 via 192.0.2.254 dev w0 metric 0 (netns t)",
    ]


@pytest.mark.parametrize(("change", "read"), [({"mtu": 1200}, True), ({"mtu": 1400}, False), ({"state": "up"}, False)])
def test_an_mtu_below_ipv6s_minimum_has_layer3_read_as_going_down_has(change: dict[str, object], read: bool) -> None:
    """Below 1280 bytes the kernel takes IPv6 off the link (addresses and routes): the rollback must know them."""
    h = host(L3State(addresses=V4))
    plan = make_plan(decl({"interfaces": [{"name": "w0", "type": "veth", **change}]}), h, NS)
    assert remakes_links(plan.ops, h) is read


def test_next_hops_with_and_without_a_gateway_on_one_link_sort_without_error() -> None:
    """Two entries of one key, one through a gateway and one straight on the link (and the kernel's own
    such route) are one ECMP route; sorting them compared None with a string (a crash)."""
    kernel = Route(4, "10.31.0.0/16", 254, 0, nexthops=(NextHop(2, None, 1), NextHop(2, "192.0.2.7", 1)))
    h = host(L3State(addresses=V4, routes=[kernel]))
    a = {"destination": "10.31.0.0/16", "next-hop-interface": "w0"}
    b = {**a, "next-hop-address": "192.0.2.7"}
    assert ops(decl({"routes": {"config": [a, b]}}), h) == []
    assert declaration_of(h, netns=[NS]).routes is not None


def test_rules_of_all_and_of_mark_0_compare_as_the_kernel_keeps_them() -> None:
    """The kernel stores "from 0.0.0.0/0" as no selector and leaves a mark of 0 out of its dump (keeping
    the mask): such rules compare equal to what it reads back, and an absent one finds them."""
    have = [Rule(4, 1100, 300, fwmark=0, fwmask=0xFFFFFFFF), Rule(4, 1101, 301)]
    h = host(L3State(rules=have))
    entries = [
        {"family": "ipv4", "fwmark": 0, "route-table": 300, "priority": 1100},
        {"ip-from": "0.0.0.0/0", "route-table": 301, "priority": 1101},
    ]
    assert ops(decl({"route-rules": {"config": entries}}), h) == []
    gone = [{**e, "state": "absent"} for e in entries]
    assert len(ops(decl({"route-rules": {"config": gone}}), h)) == 2


def test_a_route_whose_source_address_goes_is_named_not_put_back() -> None:
    """The kernel deletes a main-table IPv4 route with the address it names as `src` (fib_sync_down_addr;
    measured here: a table 7 route stays): the plan names it, and does not add it back, which the kernel
    would refuse ("Invalid prefsrc address")."""
    sourced = Route(4, "198.51.100.0/24", 254, 0, nexthops=(NextHop(2, "192.0.2.254"),), prefsrc="192.0.2.9")
    other = Route(4, "203.0.113.0/24", 7, 0, nexthops=(NextHop(2, "192.0.2.254"),), prefsrc="192.0.2.9")
    addresses = [*V4, Address(2, "192.0.2.9", 24, 4, secondary=True)]
    h = host(L3State(addresses=addresses, routes=[sourced, other]))
    only_first = {"name": "w0", "ipv4": {"address": [{"ip": "192.0.2.1", "prefix-length": 24}]}}
    plan = make_plan(decl({"interfaces": [only_first]}), h, NS)
    assert [op.describe() for op in plan.ops] == ["remove address 192.0.2.9/24 from w0 (netns t)"]
    (note,) = [n for n in plan.notes if n.startswith("route ")]
    assert "198.51.100.0/24 via 192.0.2.254 dev w0" in note and "source address 192.0.2.9" in note
    # Kept on another link, the address stays local: the kernel keeps the route, nothing to say.
    h2 = host(L3State(addresses=[*addresses, Address(3, "192.0.2.9", 32, 4)], routes=[sourced]))
    assert not [n for n in make_plan(decl({"interfaces": [only_first]}), h2, NS).notes if n.startswith("route ")]


def test_a_route_whose_source_address_is_removed_and_added_again_is_put_back_after_it() -> None:
    """Removals go before additions: a prefix change (or a move to another link) takes the address away for
    a moment, and the kernel deletes the main-table routes using it as source (measured); they are added
    back after the address, not counted as staying."""
    sourced = Route(4, "198.51.100.0/24", 254, 0, nexthops=(NextHop(2, "192.0.2.254"),), prefsrc="192.0.2.9")
    addresses = [*V4, Address(2, "192.0.2.9", 24, 4, secondary=True)]
    h = host(L3State(addresses=addresses, routes=[sourced]))
    narrower = {"ip": "192.0.2.9", "prefix-length": 25}
    w0 = {"name": "w0", "ipv4": {"address": [{"ip": "192.0.2.1", "prefix-length": 24}, narrower]}}
    plan = make_plan(decl({"interfaces": [w0]}), h, NS)
    assert [op.describe() for op in plan.ops] == [
        "remove address 192.0.2.9/24 from w0 (netns t)",
        "add address 192.0.2.9/25 to w0 (netns t)",
        "add route 198.51.100.0/24 via 192.0.2.254 dev w0 metric 0 src 192.0.2.9 (netns t)",
    ]
    assert not [n for n in plan.notes if n.startswith("route ")]

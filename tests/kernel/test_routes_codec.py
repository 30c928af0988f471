"""RTM_GETROUTE as linkctl encodes and decodes it, against pyroute2's codec."""

from __future__ import annotations

import socket

from pyroute2.netlink.rtnl.rtmsg import rtmsg

from linkctl.kernel import routes
from linkctl.kinds.vxlan import Underlay, mtu_fit


def decoded(data: bytes) -> rtmsg:
    msg = rtmsg(data)
    msg.decode()
    return msg


def test_request_for_a_v4_remote_from_local_decodes_the_same_in_pyroute2() -> None:
    msg = decoded(routes.get_route_request(7, "192.0.2.2", "192.0.2.1"))
    assert msg["header"]["type"] == routes.RTM_GETROUTE
    assert msg["header"]["sequence_number"] == 7
    assert msg["family"] == socket.AF_INET
    assert (msg["dst_len"], msg["src_len"]) == (32, 32)
    assert msg.get_attr("RTA_DST") == "192.0.2.2"
    assert msg.get_attr("RTA_SRC") == "192.0.2.1"


def test_request_for_a_v6_group_without_local() -> None:
    msg = decoded(routes.get_route_request(1, "ff05::7"))
    assert msg["family"] == socket.AF_INET6
    assert (msg["dst_len"], msg["src_len"]) == (128, 0)
    assert msg.get_attr("RTA_DST") == "ff05::7"
    assert msg.get_attr("RTA_SRC") is None


def test_answer_encoded_by_pyroute2_decodes_with_its_metric() -> None:
    answer = rtmsg()
    answer["header"]["type"] = routes.RTM_NEWROUTE
    answer["family"] = socket.AF_INET
    answer["dst_len"] = 32
    answer["attrs"] = [
        ["RTA_DST", "198.51.100.9"],
        ["RTA_OIF", 5],
        ["RTA_GATEWAY", "192.0.2.254"],
        ["RTA_PREFSRC", "192.0.2.1"],
        ["RTA_METRICS", {"attrs": [["RTAX_MTU", 1400]]}],
    ]
    answer.encode()
    data = bytes(answer.data)
    assert routes.decode_route(data, 16, len(data)) == routes.RouteAnswer(5, "192.0.2.254", "192.0.2.1", 1400)


def test_the_underlay_is_the_tighter_of_the_link_and_the_route_metric() -> None:
    under = Underlay("route to 198.51.100.9", "eth0", 1500, 1400, "192.0.2.254")
    assert under.mtu == 1400
    assert under.describe() == "route to 198.51.100.9 via 192.0.2.254, out of eth0 (MTU 1500, mtu 1400 on the route)"
    assert Underlay("route to 198.51.100.9", "eth0", 1500, 9000).mtu == 1500
    assert not mtu_fit(1500, Underlay("route to x", "eth0", 1500).mtu, "192.0.2.1", "192.0.2.2").fits

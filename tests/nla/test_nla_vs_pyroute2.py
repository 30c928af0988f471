"""The hand-written codec against pyroute2's own: requests and link messages agree."""

from __future__ import annotations

from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

from linkctl.kernel import rtnl
from linkctl.kernel.rtnl import LinkAttrs
from linkctl.kinds.vxlan import VXLAN
from linkctl.model.load import from_data


def decoded(data: bytes) -> ifinfmsg:
    msg = ifinfmsg(data)
    msg.decode()
    return msg


def test_create_request_decodes_the_same_in_pyroute2() -> None:
    spec = from_data(
        {
            "interfaces": [
                {
                    "name": "vx1",
                    "type": "vxlan",
                    "vxlan": {"id": 77, "remote": "192.0.2.1", "destination-port": 4789, "learning": False},
                }
            ]
        },
        "t",
    ).interfaces[0]
    data = VXLAN.info_data(spec, lambda name: 0)
    req = rtnl.new_link(
        9, LinkAttrs(name="vx1", mtu=1450, txqlen=2000, mac="02:00:00:00:00:09", up=True), "vxlan", data
    )
    msg = decoded(req)
    assert msg["header"]["sequence_number"] == 9
    assert msg.get_attr("IFLA_IFNAME") == "vx1"
    assert msg.get_attr("IFLA_MTU") == 1450
    assert msg.get_attr("IFLA_TXQLEN") == 2000
    assert msg.get_attr("IFLA_ADDRESS") == "02:00:00:00:00:09"
    assert msg["flags"] & 1 and msg["change"] & 1
    info = msg.get_attr("IFLA_LINKINFO")
    assert info.get_attr("IFLA_INFO_KIND") == "vxlan"
    vx = info.get_attr("IFLA_INFO_DATA")
    assert vx.get_attr("IFLA_VXLAN_ID") == 77
    assert vx.get_attr("IFLA_VXLAN_GROUP") == "192.0.2.1"
    assert vx.get_attr("IFLA_VXLAN_PORT") == 4789
    assert vx.get_attr("IFLA_VXLAN_LEARNING") == 0


def test_veth_peer_request() -> None:
    peer = rtnl.veth_peer(LinkAttrs(name="p0", mtu=9000))
    msg = decoded(rtnl.new_link(1, LinkAttrs(name="v0"), "veth", b"", peer))
    data = msg.get_attr("IFLA_LINKINFO").get_attr("IFLA_INFO_DATA")
    p = data.get_attr("VETH_INFO_PEER")
    assert p.get_attr("IFLA_IFNAME") == "p0" and p.get_attr("IFLA_MTU") == 9000


def test_set_request_by_name_and_master() -> None:
    msg = decoded(rtnl.set_link(3, 0, LinkAttrs(name="v0", master=7, promisc=True, up=False)))
    assert msg["index"] == 0 and msg.get_attr("IFLA_IFNAME") == "v0"
    assert msg.get_attr("IFLA_MASTER") == 7
    assert msg["change"] == 0x101 and msg["flags"] == 0x100

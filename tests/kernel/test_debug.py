"""`--debug` prints each request by the attribute tables that wrote it (linkctl/nla/ifla.py), nests opened."""

from __future__ import annotations

import io

from linkctl.kernel import brvlan, debug, rtnl
from linkctl.kinds import BY_KERNEL_KIND
from linkctl.model.load import from_data
from linkctl.nla import NLMSG_HDR, attr, ifla, message


def printed(*requests: bytes) -> list[str]:
    out = io.StringIO()
    show = debug.printer(out)
    for req in requests:
        show("request", req)
    return out.getvalue().splitlines()


def test_a_veth_s_peer_is_printed_as_a_link_of_its_own() -> None:
    peer = rtnl.veth_peer(rtnl.LinkAttrs(name="p0", mtu=9000, up=True, master=7))
    (line,) = printed(rtnl.new_link(1, rtnl.LinkAttrs(name="v0", txqlen=2000), "veth", b"", peer))
    assert line.startswith("-> seq=1 RTM_NEWLINK REQUEST|ACK|EXCL|CREATE {'index': 0, 'flags': '0', 'change': '0'}")
    assert "('IFLA_IFNAME', 'v0'), ('IFLA_TXQLEN', 2000)" in line
    assert "('VETH_INFO_PEER', {'index': 0, 'flags': 'UP', 'change': 'UP', 'attrs': [('IFLA_IFNAME', 'p0')" in line
    assert "('IFLA_MTU', 9000), ('IFLA_MASTER', 7)]})" in line


def test_kind_and_port_data_by_their_tables_and_what_no_table_knows_in_hex() -> None:
    spec = from_data(
        {"interfaces": [{"name": "br0", "type": "linux-bridge", "bridge": {"options": {"stp": {"enabled": True}}}}]},
        "t",
    )
    data = BY_KERNEL_KIND["bridge"].info_data(spec.interfaces[0], lambda n: 0)
    unknown = attr(99, b"\x01\x02")
    create, port = printed(
        rtnl.new_link(2, rtnl.LinkAttrs(name="br0"), "bridge", data, extra=unknown),
        rtnl.set_port(3, 5, None, "bridge", attr(3, (4).to_bytes(4, "little"))),
    )
    assert "('IFLA_INFO_KIND', 'bridge'), ('IFLA_INFO_DATA', {'attrs': [" in create
    assert "('IFLA_BR_STP_STATE', 1)" in create
    assert "('IFLA_99', '0102')" in create
    assert "('IFLA_INFO_SLAVE_KIND', 'bridge'), ('IFLA_INFO_SLAVE_DATA', {'attrs': [('IFLA_BRPORT_COST', 4)]})" in port


def test_alias_group_and_a_bridge_vlan_request() -> None:
    alias, vlans = printed(
        rtnl.set_link(4, 5, rtnl.LinkAttrs(alias="rack 4", group=3)),
        brvlan.vlan_request(5, 6, [(10, ifla.BRIDGE_VLAN_INFO_PVID)]),
    )
    assert alias.endswith("attrs=[('IFLA_GROUP', 3), ('IFLA_IFALIAS', 'rack 4')]")
    assert vlans.startswith("-> seq=5 RTM_SETLINK REQUEST|ACK {'index': 6,")
    assert "('IFLA_AF_SPEC', {'attrs': [('IFLA_BRIDGE_VLAN_INFO', '02000a00')]})" in vlans


def test_answers() -> None:
    ok = message(2, 0x100, 9, (0).to_bytes(4, "little") + NLMSG_HDR.pack(16, 16, 5, 9, 0))
    refused = message(2, 0x100, 10, (-17).to_bytes(4, "little", signed=True) + NLMSG_HDR.pack(16, 16, 5, 10, 0))
    assert printed(ok, refused) == ["<- seq=9 ok", "<- seq=10 error 17 File exists"]

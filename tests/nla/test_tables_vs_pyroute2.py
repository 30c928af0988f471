"""The attribute tables (linkctl/nla/ifla.py) against pyroute2's nla_maps, and each kind's data both ways.

A number or a wire type wrong in a table would write one option into another's place: the
tables' numbers are held to pyroute2's, and what the kinds encode is decoded by pyroute2
(and what pyroute2 encodes, by the kinds).
"""

from __future__ import annotations

from typing import Any

import pytest
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

from linkctl.kernel import rtnl
from linkctl.kernel.rtnl import LinkAttrs
from linkctl.kinds import BY_KERNEL_KIND
from linkctl.model.load import from_data
from linkctl.model.state import BondInfo, BridgeInfo, IpvlanInfo, MacvlanInfo
from linkctl.nla import Table, ifla


def _numbers(nla_class: Any) -> dict[str, int]:
    out = {}
    for i, entry in enumerate(nla_class.nla_map):
        if isinstance(entry[0], int):
            out[entry[1]] = entry[0]
        else:
            out[entry[0]] = i
    return out


DATA = ifinfmsg.ifinfo.data_map


@pytest.mark.parametrize(
    ("table", "nla_class"),
    [
        (ifla.BRIDGE, DATA["bridge"]),
        (ifla.BOND, DATA["bond"]),
        (ifla.MACVLAN, DATA["macvlan"]),
        (ifla.VXLAN, DATA["vxlan"]),
        (ifla.VLAN, DATA["vlan"]),
        (ifla.IPVLAN, DATA["ipvlan"]),
        (ifla.BRIDGE_PORT, ifinfmsg.ifinfo.bridge_slave_data),
        (ifla.BOND_PORT, ifinfmsg.ifinfo.bond_slave_data),
        (ifla.LINK, ifinfmsg),
    ],
)
def test_table_numbers_are_pyroute2s(table: Table, nla_class: Any) -> None:
    theirs = _numbers(nla_class)
    checked = 0
    for a in table.attrs:
        name = table.label(a.num)
        if name in theirs:
            assert theirs[name] == a.num, name
            checked += 1
    assert checked >= min(len(table.attrs), len(theirs)) // 2  # the names are the kernel's: most match


def _decl(iface: dict[str, Any]) -> Any:
    return from_data({"interfaces": [iface]}, "t").interfaces[0]


def _info_data(kind: str, data: bytes) -> Any:
    msg = ifinfmsg(rtnl.new_link(1, LinkAttrs(name="x0"), kind, data))
    msg.decode()
    return msg.get_attr("IFLA_LINKINFO").get_attr("IFLA_INFO_DATA")


def test_bridge_options_decode_the_same_in_pyroute2_and_back() -> None:
    options = {
        "group-forward-mask": 8, "group-addr": "01:80:C2:00:00:0E", "hash-max": 1024,
        "multicast-router": "enabled", "multicast-querier": True, "multicast-query-interval": 12000,
        "vlan-protocol": "802.1ad", "vlan-default-pvid": 7, "stp": {"enabled": True, "forward-delay": 4},
    }  # fmt: skip
    spec = _decl({"name": "br0", "type": "linux-bridge", "bridge": {"options": options}})
    kind = BY_KERNEL_KIND["bridge"]
    data = kind.info_data(spec, lambda n: 0)
    br = _info_data("bridge", data)
    assert br.get_attr("IFLA_BR_GROUP_FWD_MASK") == 8
    assert br.get_attr("IFLA_BR_GROUP_ADDR") == "01:80:c2:00:00:0e"
    assert br.get_attr("IFLA_BR_MCAST_HASH_MAX") == 1024
    assert br.get_attr("IFLA_BR_MCAST_ROUTER") == 2 and br.get_attr("IFLA_BR_MCAST_QUERIER") == 1
    assert br.get_attr("IFLA_BR_MCAST_QUERY_INTVL") == 12000
    assert br.get_attr("IFLA_BR_VLAN_PROTOCOL") == 0x88A8 and br.get_attr("IFLA_BR_VLAN_DEFAULT_PVID") == 7
    assert br.get_attr("IFLA_BR_FORWARD_DELAY") == 400 and br.get_attr("IFLA_BR_STP_STATE") == 1
    info = kind.decode(data, 0, len(data))
    assert isinstance(info, BridgeInfo) and info.stp and info.forward_delay == 400
    assert kind.compare(spec, _link("bridge", info), _ns(), None).empty  # read back: nothing differs


def test_bond_options_decode_the_same_in_pyroute2_and_back() -> None:
    options = {
        "lacp_rate": "fast", "ad_select": "count", "xmit_hash_policy": "layer3+4", "miimon": 100,
        "ad_actor_system": "02:00:00:00:00:01", "min_links": 2, "lacp_active": False,
    }  # fmt: skip
    spec = _decl({"name": "b0", "type": "bond", "link-aggregation": {"mode": "802.3ad", "options": options}})
    kind = BY_KERNEL_KIND["bond"]
    data = kind.info_data(spec, lambda n: 0)
    bond = _info_data("bond", data)
    assert bond.get_attr("IFLA_BOND_MODE") == 4
    assert bond.get_attr("IFLA_BOND_AD_LACP_RATE") == 1 and bond.get_attr("IFLA_BOND_AD_SELECT") == 2
    assert bond.get_attr("IFLA_BOND_XMIT_HASH_POLICY") == 1 and bond.get_attr("IFLA_BOND_MIIMON") == 100
    assert bond.get_attr("IFLA_BOND_MIN_LINKS") == 2
    info = kind.decode(data, 0, len(data))
    assert isinstance(info, BondInfo) and info.mode == "802.3ad"
    assert kind.compare(spec, _link("bond", info), _ns(), None).empty


def test_arp_targets_are_a_nest_pyroute2_reads() -> None:
    options = {"arp_interval": 100, "arp_ip_target": "192.0.2.1,192.0.2.2"}
    spec = _decl({"name": "b0", "type": "bond", "link-aggregation": {"mode": "active-backup", "options": options}})
    kind = BY_KERNEL_KIND["bond"]
    data = kind.info_data(spec, lambda n: 0)
    targets = _info_data("bond", data).get_attr("IFLA_BOND_ARP_IP_TARGET")
    assert targets == ["192.0.2.1", "192.0.2.2"]
    info = kind.decode(data, 0, len(data))
    assert kind.compare(spec, _link("bond", info), _ns(), None).empty


@pytest.mark.parametrize("kind", ["macvlan", "macvtap"])
def test_macvlan_and_macvtap_flags(kind: str) -> None:
    key = "mac-vlan" if kind == "macvlan" else "mac-vtap"
    spec = _decl({"name": "m0", "type": key, key: {"base-iface": "e0", "mode": "vepa", "promiscuous": False}})
    module = BY_KERNEL_KIND[kind]
    data = module.info_data(spec, lambda n: 0)
    decoded = _info_data(kind, data)
    prefix = "IFLA_MACVLAN_" if kind == "macvlan" else "IFLA_MACVTAP_"  # pyroute2 names macvtap's own
    assert decoded.get_attr(prefix + "MODE") == "vepa"
    assert decoded.get_attr(prefix + "FLAGS") == "nopromisc"
    info = module.decode(data, 0, len(data))
    assert info == MacvlanInfo("vepa", 1)


def test_ipvlan_mode_and_flags() -> None:
    spec = _decl({"name": "i0", "type": "ipvlan", "ipvlan": {"base-iface": "e0", "mode": "l3s", "vepa": True}})
    module = BY_KERNEL_KIND["ipvlan"]
    data = module.info_data(spec, lambda n: 0)
    assert _info_data("ipvlan", data).get_attr("IFLA_IPVLAN_MODE") == 2
    assert module.decode(data, 0, len(data)) == IpvlanInfo(2, 2)


def _link(kind: str, info: Any) -> Any:
    from linkctl.model.state import Link

    return Link(ifindex=9, name="x0", kind=kind, info=info)


def _ns() -> Any:
    from linkctl.model.state import NetnsState

    return NetnsState.of(None, [])


def test_the_kernel_adapters_ifla_numbers_are_the_link_tables() -> None:
    """kernel/rtnl_const.py's names for top-level numbers are the link table's."""
    from linkctl.kernel import rtnl_const

    named = {k[len("IFLA_") :].lower(): v for k, v in vars(rtnl_const).items() if k.startswith("IFLA_")}
    named = {k: v for k, v in named.items() if not k.startswith("info_")}
    assert len(named) >= 20
    for name, num in named.items():
        assert ifla.LINK.by_name[name].num == num, name

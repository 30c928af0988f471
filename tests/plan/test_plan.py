"""Planning against hand-made states: what changes, in which order, and what does not."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from linkctl.model.state import BridgePortInfo, HostState, IfFlag, MacvlanInfo, NetnsState, VethInfo, VxlanInfo
from linkctl.plan.convert import declaration_of
from linkctl.plan.ops import CreateLink, CreateNetns, DeleteLink, MoveLink, SetLink, SetMaster, SetPort
from linkctl.plan.planner import make_plan
from tests.helpers.states import decl, host, link, topology


def test_show_yaml_round_trip_plans_nothing() -> None:
    state = topology()
    plan = make_plan(declaration_of(state), state)
    assert plan.ops == []
    assert set(plan.unchanged) == {"lo", "eth0", "br0", "veth0", "veth0-p", "vx42"}


def test_unwritten_keys_are_left_as_the_kernel_has_them() -> None:
    plan = make_plan(decl({"name": "veth0"}, {"name": "br0", "type": "linux-bridge"}), topology())
    assert plan.ops == []


def test_mtu_change_is_one_set_with_the_ip_command() -> None:
    plan = make_plan(decl({"name": "veth0", "mtu": 9000, "txqueuelen": 2000}), topology())
    (op,) = plan.ops
    assert isinstance(op, SetLink)
    assert op.ip_command() == ["ip", "link", "set", "dev", "veth0", "mtu", "9000", "txqueuelen", "2000"]
    assert {d.field for d in op.diffs} == {"mtu", "txqueuelen"}


def test_new_bridge_and_ports_are_created_in_order_with_master_at_creation() -> None:
    d = decl(
        {"name": "br1", "type": "linux-bridge", "mtu": 9000, "bridge": {"port": [{"name": "v1"}]}},
        {"name": "v1", "type": "veth", "mtu": 9000, "veth": {"peer": "v1-p"}},
    )
    plan = make_plan(d, topology())
    kinds = [type(op) for op in plan.ops]
    assert kinds == [CreateLink, CreateLink, SetLink]
    bridge, port, mtu = plan.ops
    assert bridge.name == "br1" and port.name == "v1"
    assert isinstance(port, CreateLink) and port.master == "br1"
    assert port.peer is not None and port.peer.name == "v1-p" and port.peer.props.mtu == 9000
    # The bridge MTU is set after its ports joined: each join recomputes it otherwise.
    assert isinstance(mtu, SetLink) and mtu.props.mtu == 9000
    assert mtu.describe() == "set br1: mtu 9000"  # no "None -> 9000" for a link this plan creates


def test_a_new_vxlan_without_a_port_is_told_of_the_kernel_s_8472() -> None:
    vx = {"name": "vx9", "type": "vxlan", "vxlan": {"id": 9, "base-iface": "eth0"}}
    assert make_plan(decl(vx), topology()).notes == [
        "vx9 gets the kernel's default VXLAN port 8472, not IANA's 4789 that switches and most other "
        "VTEPs use: write destination-port to choose"
    ]
    vx["vxlan"] = {"id": 9, "base-iface": "eth0", "destination-port": 4789}
    assert make_plan(decl(vx), topology()).notes == []


def test_vxlan_vni_change_means_re_creation_and_plan_says_why() -> None:
    d = decl({"name": "vx42", "type": "vxlan", "vxlan": {"id": 43, "base-iface": "eth0"}})
    plan = make_plan(d, topology())
    assert [type(op) for op in plan.ops] == [DeleteLink, CreateLink]
    assert "re-create" in plan.ops[1].reason and "vxlan.id 42 -> 43" in plan.ops[1].reason


def test_vxlan_learning_changes_in_place() -> None:
    d = decl({"name": "vx42", "vxlan": {"id": 42, "learning": False}})
    (op,) = make_plan(d, topology()).ops
    assert isinstance(op, SetLink) and op.kind_fields == {"vxlan.learning"}
    assert op.ip_command()[-1] == "nolearning"


def test_kind_change_recreates() -> None:
    plan = make_plan(decl({"name": "br0", "type": "veth", "veth": {"peer": "br0-p"}}), topology())
    assert isinstance(plan.ops[0], DeleteLink)
    assert "type linux-bridge -> veth" in plan.ops[-1].reason or any("type" in op.reason for op in plan.ops)


def test_port_list_is_authoritative_and_releases_others() -> None:
    plan = make_plan(decl({"name": "br0", "bridge": {"port": []}}), topology())
    (op,) = plan.ops
    assert isinstance(op, SetMaster) and op.master is None and op.name == "veth0"
    assert op.ip_command() == ["ip", "link", "set", "dev", "veth0", "nomaster"]


def test_a_port_moved_to_another_namespace_is_not_released_after_the_move() -> None:
    # The kernel takes a port out of its bridge when it moves it: a `nomaster` afterwards
    # would name a link no longer there (the apply failed with "no link named veth0").
    d = decl({"name": "br0", "bridge": {"port": []}}, {"name": "veth0", "netns": "blue"})
    plan = make_plan(d, topology())
    assert [type(op).__name__ for op in plan.ops] == ["CreateNetns", "MoveLink", "SetLink"]
    assert not any(isinstance(op, SetMaster) for op in plan.ops)


def test_absent_deletes_and_a_veth_pair_is_one_deletion() -> None:
    d = decl({"name": "veth0", "state": "absent"}, {"name": "veth0-p", "state": "absent"})
    plan = make_plan(d, topology())
    assert [op.name for op in plan.ops] == ["veth0"]
    assert isinstance(plan.ops[0], DeleteLink)


def test_absent_of_missing_link_is_a_no_op() -> None:
    plan = make_plan(decl({"name": "nothere", "state": "absent"}), topology())
    assert plan.ops == [] and "nothere" in plan.unchanged


def test_deleting_a_base_deletes_stacked_links_first() -> None:
    state = host(
        link(1, "b0", kind="veth", link_ifindex=2, info=None),
        link(2, "b0-p", kind="veth", link_ifindex=1),
        link(3, "mv0", kind="macvlan", link_ifindex=1),
    )
    plan = make_plan(
        decl({"name": "b0", "type": "linux-bridge", "state": "absent"}, {"name": "mv0", "state": "absent"}),
        state,
    )
    names = [op.name for op in plan.ops if isinstance(op, DeleteLink)]
    assert names.index("mv0") < names.index("b0")


def test_state_down_is_last() -> None:
    d = decl({"name": "veth0", "state": "down", "mtu": 1400})
    plan = make_plan(d, topology())
    assert isinstance(plan.ops[-1], SetLink) and plan.ops[-1].props.up is False


def test_move_to_declared_namespace_says_addresses_are_dropped() -> None:
    d = decl({"name": "veth0-p", "netns": "blue"})
    plan = make_plan(d, topology())
    assert isinstance(plan.ops[0], CreateNetns)
    move = plan.ops[1]
    assert isinstance(move, MoveLink) and move.to_netns == "blue"
    assert "addresses and routes are dropped" in move.describe()
    assert move.ip_command() == ["ip", "link", "set", "dev", "veth0-p", "netns", "blue"]


def test_a_numeric_namespace_to_create_says_it_is_not_that_process_s() -> None:
    plan = make_plan(decl({"name": "v9", "type": "veth", "veth": {"peer": "v9p"}}), topology(), "4242")
    assert plan.ops[0].describe() == (
        "create netns 4242: it does not exist (for process 4242's own namespace, name it first: "
        "ip netns attach NAME 4242)"
    )


def _peer_unseen(state: HostState) -> HostState:
    """veth0's peer in a namespace the file does not name: the pair is made again (see below)."""
    links = state.ns(None).links
    links["veth0"] = replace(links["veth0"], info=VethInfo(5, peer_netnsid=9))
    del links["veth0-p"]
    return state


def test_a_re_created_link_keeps_what_the_file_does_not_say() -> None:
    # veth0 (a port of br0, MTU 9000, txqueuelen 500, down) has its peer where the file does not
    # look: it is made again, and what the file leaves to the kernel stays as the kernel had it.
    state = _peer_unseen(topology())
    links = state.ns(None).links
    links["veth0"] = replace(links["veth0"], mtu=9000, txqlen=500, flags=IfFlag(0))
    plan = make_plan(decl({"name": "veth0", "type": "veth", "veth": {"peer": "veth0-p"}}), state)
    create = next(op for op in plan.ops if isinstance(op, CreateLink))
    assert (create.master, create.props.mtu, create.props.txqlen, create.props.up) == ("br0", 9000, 500, False)
    assert create.peer is not None and (create.peer.props.mtu, create.peer.props.txqlen) == (9000, 500)
    # Said in the file, the file wins.
    plan = make_plan(decl({"name": "veth0", "type": "veth", "mtu": 1400, "state": "up", "veth": {"peer": "p"}}), state)
    create = next(op for op in plan.ops if isinstance(op, CreateLink))
    assert (create.props.mtu, create.props.up) == (1400, True)


def test_a_port_re_made_as_a_bridge_does_not_stay_in_its_old_bridge() -> None:
    # veth0 is a port of br0; made a bridge itself, it cannot be br0's port (the kernel answers ELOOP).
    plan = make_plan(decl({"name": "veth0", "type": "linux-bridge"}), topology())
    create = next(op for op in plan.ops if isinstance(op, CreateLink))
    assert create.master is None and "master" not in create.ip_command()
    assert not any(isinstance(op, SetMaster) for op in plan.ops)


def test_an_mtu_given_to_one_end_of_a_pair_names_the_other_end_left_behind() -> None:
    plan = make_plan(decl({"name": "veth0", "mtu": 9000}), topology())
    assert plan.notes == [
        "veth0-p, veth0's veth peer, keeps MTU 1500: frames over 1500 bytes between them will be dropped; "
        "declare veth0-p with mtu 9000 too"
    ]
    # Both ends declared: the file said what it wants.
    both = make_plan(decl({"name": "veth0", "mtu": 9000}, {"name": "veth0-p", "mtu": 9000}), topology())
    assert both.notes == []


def test_a_bridge_mtu_above_a_port_the_file_leaves_alone_is_said() -> None:
    plan = make_plan(decl({"name": "br0", "mtu": 9000}), topology())
    assert plan.notes == [
        "veth0, a port of br0, keeps MTU 1500: frames over 1500 bytes that br0 forwards to it will be "
        "dropped; declare veth0 with mtu 9000 too"
    ]
    assert make_plan(decl({"name": "br0", "mtu": 9000}, {"name": "veth0", "mtu": 9000}), topology()).notes == [
        "veth0-p, veth0's veth peer, keeps MTU 1500: frames over 1500 bytes between them will be dropped; "
        "declare veth0-p with mtu 9000 too"
    ]


def test_a_mac_vlan_with_netns_stands_on_the_default_namespace_s_base_when_its_own_has_none() -> None:
    mv = {"name": "mv0", "type": "mac-vlan", "netns": "ctr", "mac-vlan": {"base-iface": "eth0", "mode": "bridge"}}
    ops = make_plan(decl(mv), topology()).ops
    create = next(op for op in ops if isinstance(op, CreateLink))
    assert create.made_in == (None,) and create.netns == "ctr"
    assert create.ip_command() == [
        "ip", "link", "add", "link", "eth0", "name", "mv0", "up", "netns", "ctr", "type", "macvlan", "mode", "bridge",
    ]  # fmt: skip
    # Made: the kernel reports its base's index in the default namespace (IFLA_LINK_NETNSID).
    made = topology()
    made.namespaces["ctr"] = NetnsState.of(
        "ctr",
        [
            replace(
                link(2, "mv0", kind="macvlan", link_ifindex=2, link_netnsid=0, info=MacvlanInfo("bridge")), netns="ctr"
            )
        ],
    )
    made.netnsids[("ctr", 0)] = None
    assert make_plan(decl(mv), made).ops == []
    # A base of that name in its own namespace is the one it stands on: this one is elsewhere.
    made.namespaces["ctr"].links["eth0"] = replace(link(5, "eth0"), netns="ctr")
    again = make_plan(decl(mv), made).ops
    assert [op.describe() for op in again][:1] == [
        "delete mv0 (netns ctr): re-create: mac-vlan.base-iface 'eth0@default' -> 'eth0'"
    ]


def test_a_re_made_bridge_port_keeps_the_port_settings_the_file_does_not_write() -> None:
    state = _peer_unseen(topology())
    links = state.ns(None).links
    links["veth0"] = replace(links["veth0"], port=BridgePortInfo(16, 50, True))
    plan = make_plan(decl({"name": "veth0", "type": "veth", "veth": {"peer": "veth0-p"}}), state)
    (port,) = [op for op in plan.ops if isinstance(op, SetPort)]
    assert port.describe() == ("set veth0 as a port of br0: stp-priority 16, stp-path-cost 50, stp-hairpin-mode true")
    assert port.ip_command() == ["ip", "link", "set", "dev", "veth0", "type", "bridge_slave", "priority", "16",
                                 "cost", "50", "hairpin", "on"]  # fmt: skip
    # Declared in the bridge's port list: the file's value wins, the rest is carried.
    br = {"name": "br0", "bridge": {"port": [{"name": "veth0", "stp-path-cost": 7}]}}
    plan = make_plan(decl({"name": "veth0", "type": "veth", "veth": {"peer": "veth0-p"}}, br), state)
    (port,) = [op for op in plan.ops if isinstance(op, SetPort)]
    assert "stp-priority 16, stp-path-cost 7, stp-hairpin-mode true" in port.describe()
    # Left alone, nothing is sent for them.
    assert not [op for op in make_plan(decl(br), state).ops if isinstance(op, SetPort) and "16" in op.describe()]


def _stack() -> HostState:
    """va (MTU 9000) with its peer vb; mv (mac-vlan, MTU 1400, txqueuelen 555) and vx (VXLAN) on va."""
    return host(
        link(2, "va", kind="veth", mtu=9000, link_ifindex=3, info=VethInfo(3)),
        link(3, "vb", kind="veth", mtu=9000, link_ifindex=2, info=VethInfo(2)),
        link(4, "mv", kind="macvlan", mtu=1400, txqlen=555, link_ifindex=2, info=MacvlanInfo("bridge")),
        link(5, "vx", kind="vxlan", mtu=8950, info=VxlanInfo(5, None, "192.0.2.5", 2, 4789, True)),
    )


def test_links_the_file_does_not_name_on_a_re_created_base_are_made_again_as_they_were() -> None:
    plan = make_plan(decl({"name": "va", "type": "dummy"}), _stack())
    assert [op.describe() for op in plan.ops] == [
        "delete mv: re-create: it stands on va, which is re-created",
        "delete vx: re-create: it stands on va, which is re-created",
        "delete va: re-create: type veth -> dummy",
        "create va: re-create: type veth -> dummy",
        "create mv: re-create: it stands on va, which is re-created",
        "create vx: re-create: it stands on va, which is re-created",
    ]
    mv = plan.ops[4]
    assert isinstance(mv, CreateLink) and (mv.props.mtu, mv.props.txqlen, mv.props.mac) == (
        1400,
        555,
        "02:00:00:00:00:04",
    )
    assert mv.lower == "va" and mv.ip_command()[-4:] == ["type", "macvlan", "mode", "bridge"]
    # A new base too small for a kept MTU: the kernel picks the VXLAN's again (8950 + 50 > 1500).
    small = make_plan(decl({"name": "va", "type": "dummy", "mtu": 1500}), _stack())
    vx = next(op for op in small.ops if isinstance(op, CreateLink) and op.name == "vx")
    assert vx.props.mtu is None
    # A base deleted for good takes them with it, as the kernel does, and the plan says so.
    gone = make_plan(decl({"name": "va", "state": "absent"}), _stack())
    assert not any(isinstance(op, CreateLink) for op in gone.ops)
    assert "mv is deleted by the kernel with va, its lower device" in gone.notes


@pytest.mark.parametrize(("remote", "kept"), [("192.0.2.10", 1450), ("2001:db8::1", None)])
def test_a_re_created_vxlan_keeps_its_mtu_only_while_it_still_fits(remote: str, kept: int | None) -> None:
    # A new VNI on the same base and underlay family fits as before; an IPv6 underlay needs
    # 20 bytes more, so the kernel picks the MTU again.
    vx = {"name": "vx42", "type": "vxlan", "vxlan": {"id": 43, "base-iface": "eth0", "remote": remote}}
    create = next(op for op in make_plan(decl(vx), topology()).ops if isinstance(op, CreateLink))
    assert create.props.mtu == kept


def test_a_re_created_vxlan_keeps_the_kind_settings_the_file_does_not_write() -> None:
    # Only the local address changes (audit's vxlan-local-not-assigned fix): the new vx42 keeps
    # its base, remote, port and learning instead of coming back with the kernel's defaults
    # (no remote, no base, port 8472).
    vx = {"name": "vx42", "type": "vxlan", "vxlan": {"id": 42, "local": "192.0.2.1"}}
    create = next(op for op in make_plan(decl(vx), topology()).ops if isinstance(op, CreateLink))
    assert create.spec is not None and create.spec.vxlan is not None
    section = create.spec.vxlan
    assert (section.base_iface, section.remote, section.destination_port, section.learning) == (
        "eth0", "192.0.2.10", 4789, True,
    )  # fmt: skip
    assert create.ip_command()[-9:] == [
        "dev",
        "eth0",
        "remote",
        "192.0.2.10",
        "local",
        "192.0.2.1",
        "dstport",
        "4789",
        "learning",
    ]
    # What the file writes wins.
    vx["vxlan"] = {"id": 42, "local": "192.0.2.1", "destination-port": 8472, "learning": False}
    create = next(op for op in make_plan(decl(vx), topology()).ops if isinstance(op, CreateLink))
    assert create.spec is not None and create.spec.vxlan is not None
    assert (create.spec.vxlan.destination_port, create.spec.vxlan.learning) == (8472, False)


def test_a_link_re_made_as_another_kind_takes_nothing_from_the_old_one() -> None:
    mv = {"name": "vx42", "type": "mac-vlan", "mac-vlan": {"base-iface": "eth0"}}
    create = next(op for op in make_plan(decl(mv), topology()).ops if isinstance(op, CreateLink))
    assert create.spec is not None and create.spec.mac_vlan is not None and create.spec.mac_vlan.mode is None


def test_a_veth_whose_peer_is_in_a_namespace_not_read_is_re_made_for_its_new_peer_netns() -> None:
    # va's peer lives in blue, which the file no longer names (it now says green): the pair is
    # made again across red and green, not created a second time beside va ("File exists").
    state = host(link(4, "va", kind="veth", info=VethInfo(peer_ifindex=2, peer_netnsid=0)), netns="red")
    d = decl(
        {"name": "va", "type": "veth", "netns": "red", "veth": {"peer": "vb", "peer-netns": "green"}},
        {"name": "vb", "type": "veth", "netns": "green"},
    )
    described = [op.describe() for op in make_plan(d, state).ops]
    assert described == [
        "create netns green: it does not exist",
        "delete va (netns red): re-create: veth.peer-netns (a namespace the file does not name) -> 'green'",
        "create va (netns red): re-create: veth.peer-netns (a namespace the file does not name) -> 'green'",
    ]
    # A veth whose peer is beside it needs no namespace read to be judged: left alone.
    same = host(link(4, "va", kind="veth", info=VethInfo(peer_ifindex=5)), netns="red")
    assert make_plan(decl({"name": "va", "netns": "red", "veth": {"peer": "vb"}}), same).ops == []


def test_an_undeclared_peer_given_another_namespace_is_moved_not_re_made() -> None:
    plan = make_plan(
        decl({"name": "veth0", "type": "veth", "veth": {"peer": "veth0-p", "peer-netns": "blue"}}), topology()
    )
    assert [op.describe() for op in plan.ops] == [
        "create netns blue: it does not exist",
        "move veth0-p to netns blue: its addresses and routes are dropped by the kernel and must be configured again there",
        "set veth0-p (netns blue): state 'down' -> 'up'",
    ]


def test_both_ends_of_a_veth_absent_is_one_deletion_and_neither_is_unchanged() -> None:
    plan = make_plan(decl({"name": "veth0", "state": "absent"}, {"name": "veth0-p", "state": "absent"}), topology())
    assert [op.describe() for op in plan.ops] == ["delete veth0: state: absent"]
    assert plan.notes == ["veth0-p goes with its veth peer: one request deletes the pair"]
    assert "veth0-p" not in plan.unchanged and "veth0" not in plan.unchanged


def test_a_moved_link_that_was_up_is_brought_up_again_in_its_new_namespace() -> None:
    # The kernel closes a link it moves; the file did not ask for it to go down.
    ops = make_plan(decl({"name": "veth0-p", "netns": "blue"}), topology()).ops
    assert [type(op) for op in ops] == [CreateNetns, MoveLink, SetLink]
    up = ops[2]
    assert isinstance(up, SetLink) and up.netns == "blue" and up.props.up is True
    assert up.describe() == "set veth0-p (netns blue): state 'down' -> 'up'"
    kept_down = make_plan(decl({"name": "veth0-p", "netns": "blue", "state": "down"}), topology()).ops
    assert [type(op) for op in kept_down] == [CreateNetns, MoveLink]


def test_a_veth_whose_peer_the_plan_moves_back_is_kept_not_re_created() -> None:
    # A rollback's view: b0 belongs in "home" and is found in "other", where a move put it.
    state = _split_pair("other")
    back = decl(
        {"name": "a0", "type": "veth", "netns": "tenant", "veth": {"peer": "b0", "peer-netns": "home"}},
        {"name": "b0", "type": "veth", "netns": "home", "veth": {"peer": "a0", "peer-netns": "tenant"}},
    )
    ops = make_plan(back, state, located={("home", "b0"): "other"}).ops
    assert not any(isinstance(op, CreateLink | DeleteLink) for op in ops), [op.describe() for op in ops]
    assert [op.describe().split(":")[0] for op in ops if isinstance(op, MoveLink)] == [
        "move b0 (netns other) to netns home"
    ]


@pytest.mark.parametrize("mode", ["active-backup", "802.3ad"])
def test_bond_ports_are_enslaved_down_then_brought_up(mode: str) -> None:
    # Planned here without a kernel: this kernel has no bonding module to run it.
    d = decl(
        {
            "name": "bond0",
            "type": "bond",
            "link-aggregation": {"mode": mode, "port": ["p1"], "options": {"miimon": 100}},
        },
        {"name": "p1", "type": "veth", "veth": {"peer": "p1-p"}},
    )
    plan = make_plan(d, topology())
    create_bond, create_port, enslave, up = plan.ops
    assert isinstance(create_bond, CreateLink) and create_bond.ip_command()[-4:] == [
        "mode",
        mode,
        "miimon",
        "100",
    ]
    assert isinstance(create_port, CreateLink) and create_port.props.up is False and create_port.master is None
    assert isinstance(enslave, SetMaster) and enslave.down_first and enslave.master == "bond0"
    assert isinstance(up, SetLink) and up.props.up is True


def test_bond_mode_change_recreates() -> None:
    from linkctl.model.state import BondInfo

    state = host(link(1, "bond0", kind="bond", info=BondInfo(mode="balance-rr", miimon=0)))
    plan = make_plan(decl({"name": "bond0", "link-aggregation": {"mode": "active-backup"}}), state)
    assert [type(op) for op in plan.ops] == [DeleteLink, CreateLink]


def test_vlan_and_dummy_are_planned() -> None:
    d = decl(
        {"name": "eth0.10", "type": "vlan", "vlan": {"base-iface": "eth0", "id": 10}},
        {"name": "d0", "type": "dummy", "mtu": 9000},
    )
    plan = make_plan(d, topology())
    cmds = [op.ip_command() for op in plan.ops]
    assert ["ip", "link", "add", "link", "eth0", "name", "eth0.10", "up", "type", "vlan", "id", "10"] in cmds
    assert ["ip", "link", "add", "name", "d0", "mtu", "9000", "up"] in cmds


def test_vlan_id_change_recreates() -> None:
    from linkctl.model.state import VlanInfo

    state = host(
        link(2, "eth0", parent_bus="pci"),
        link(3, "eth0.10", kind="vlan", link_ifindex=2, info=VlanInfo(10, "802.1q")),
    )
    plan = make_plan(decl({"name": "eth0.10", "vlan": {"base-iface": "eth0", "id": 11}}), state)
    assert [type(op) for op in plan.ops] == [DeleteLink, CreateLink]


def test_recreating_one_veth_end_says_the_other_goes_too() -> None:
    d = decl(
        {
            "name": "vx42",
            "type": "vxlan",
            "vxlan": {"id": 42, "base-iface": "eth0", "destination-port": 4789},
        },
        {"name": "veth0-p", "type": "linux-bridge"},
    )
    plan = make_plan(d, topology())
    assert [op.name for op in plan.ops if isinstance(op, DeleteLink)] == ["veth0-p"]
    assert "veth0 goes with veth0-p: they are a veth pair" in plan.notes


def test_netns_option_applies_to_undeclared_namespace() -> None:
    state = host(link(1, "v", kind="veth"), netns="red")
    plan = make_plan(decl({"name": "v", "mtu": 1400}), state, default_netns="red")
    (op,) = plan.ops
    assert op.ip_command()[:3] == ["ip", "-n", "red"]


def test_a_new_veth_pair_counts_both_ends_as_changed_not_unchanged() -> None:
    d = decl(
        {"name": "v9", "type": "veth", "state": "up", "veth": {"peer": "p9"}},
        {"name": "p9", "type": "veth", "state": "up", "veth": {"peer": "v9"}},
    )
    plan = make_plan(d, topology())
    (create,) = [op for op in plan.ops if isinstance(op, CreateLink)]
    assert create.peer is not None and {create.name, create.peer.name} == {"v9", "p9"}
    assert "p9" not in plan.unchanged and "v9" not in plan.unchanged


def test_the_text_plan_names_a_few_unchanged_links_and_counts_the_rest() -> None:
    from linkctl.cli.render import UNCHANGED_SHOWN, plan_json, plan_text

    state = topology()
    specs = [{"name": "veth0", "mtu": 1400}] + [{"name": n} for n in ("lo", "eth0", "br0", "veth0-p", "vx42")]
    plan = make_plan(decl(*specs), state)
    assert "unchanged: br0, eth0, lo, veth0-p, vx42" in plan_text(plan)
    plan.unchanged = [f"v{i}" for i in range(UNCHANGED_SHOWN + 30)]
    text = plan_text(plan)
    assert f"v{UNCHANGED_SHOWN - 1} and 30 more" in text and f"v{UNCHANGED_SHOWN}," not in text
    assert len(json.loads(plan_json(plan))["unchanged"]) == UNCHANGED_SHOWN + 30


def _split_pair(peer_home: str | None) -> HostState:
    """veth a0 in namespace "tenant", its peer b0 in `peer_home` (None: the host's own)."""
    state = HostState()
    state.namespaces["tenant"] = NetnsState.of(
        "tenant", [replace(link(2, "a0", kind="veth", info=VethInfo(7, 0)), netns="tenant")]
    )
    state.namespaces[peer_home] = NetnsState.of(
        peer_home, [replace(link(7, "b0", kind="veth", info=VethInfo(2, 0)), netns=peer_home)]
    )
    state.netnsids[("tenant", 0)] = peer_home
    state.netnsids[(peer_home, 0)] = "tenant"
    return state


def test_a_peer_in_another_named_namespace_is_declared_there() -> None:
    state = _split_pair("other")
    decl = declaration_of(state, netns=["tenant"])
    assert decl.interfaces[0].veth is not None and decl.interfaces[0].veth.peer_netns == "other"
    assert make_plan(decl, state).ops == []


def test_a_peer_in_the_host_namespace_has_no_spelling_so_no_veth_section() -> None:
    state = _split_pair(None)
    (spec,) = declaration_of(state, netns=["tenant"]).interfaces
    assert spec.name == "a0" and spec.veth is None  # not "peer b0 in tenant", which would be wrong
    (host_end,) = declaration_of(state, netns=[None]).interfaces
    assert host_end.veth is not None and host_end.veth.peer_netns == "tenant"

"""Bridge port VLANs planned against hand-made states (plan/vlans.py): no kernel needed.

This VM's kernel lacks CONFIG_BRIDGE_VLAN_FILTERING, so the states are typed by hand as the
AF_BRIDGE dump gives them (kernel/brvlan.py read_vlans): each port's (vid, flags) with flags
PVID 2, UNTAGGED 4. The end-to-end test is tests/engine/test_bridge_vlans.py (skipped here).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import yaml

from linkctl.cli.render import links_yaml
from linkctl.errors import ValidationFailed
from linkctl.model.bridge_sections import INTERNAL, PortVlan
from linkctl.model.load import from_data
from linkctl.model.spec import Declaration
from linkctl.model.state import BridgeInfo, HostState, Link, VethInfo
from linkctl.plan.convert import declaration_of
from linkctl.plan.ops import CreateLink, DeleteLink, Op, SetLink, SetMaster
from linkctl.plan.planner import make_plan
from linkctl.plan.vlans import (
    SetPortVlans,
    SetVlanFiltering,
    after_pvid_change,
    has_port_vlans,
    section_of,
    wanted_vlans,
)
from tests.helpers.states import decl, host, link

PVID, UNTAGGED = 2, 4  # BRIDGE_VLAN_INFO_PVID, BRIDGE_VLAN_INFO_UNTAGGED
NATIVE = PVID | UNTAGGED
DEFAULT = ((1, NATIVE),)  # what the kernel gives a port joining a bridge of vlan_default_pvid 1


def bridge(filtering: bool = True, pvid: int = 1, index: int = 3, name: str = "br0") -> Link:
    data: dict[str, object] = {"vlan_filtering": int(filtering), "vlan_default_pvid": pvid, "vlan_protocol": 0x8100}
    return link(index, name, kind="bridge", info=BridgeInfo(stp=False, data=data))


def port(index: int, name: str, vlans: tuple[tuple[int, int], ...] | None = DEFAULT, master: int = 3) -> Link:
    return link(index, name, kind="veth", master_ifindex=master, slave_kind="bridge", vlans=vlans)


def state(*ports: Link, filtering: bool = True, pvid: int = 1) -> HostState:
    return host(link(2, "eth0", parent_bus="pci"), bridge(filtering, pvid), *ports)


def br0(*ports: dict[str, object], **options: object) -> dict[str, object]:
    section: dict[str, object] = {"port": list(ports)}
    if options:
        section["options"] = options
    return {"name": "br0", "type": "linux-bridge", "bridge": section}


ACCESS_10 = {"mode": "access", "tag": 10}
TRUNK = {"mode": "trunk", "trunk-tags": [{"id": 101}, {"id-range": {"min": 200, "max": 299}}], "tag": 100,
         "enable-native": True}  # fmt: skip


def only_vlan_steps(plan_ops: list[Op]) -> list[Op]:
    return [op for op in plan_ops if isinstance(op, (SetPortVlans, SetVlanFiltering))]


def test_an_access_port_loses_the_default_vlan_and_gets_its_own_as_pvid_untagged() -> None:
    plan = make_plan(decl(br0({"name": "vp0", "vlan": ACCESS_10})), state(port(4, "vp0")))
    (op,) = plan.ops
    assert isinstance(op, SetPortVlans) and op.master == "br0"
    assert op.delete == (1,) and op.add == ((10, NATIVE),)
    assert op.ip_commands() == [
        ["bridge", "vlan", "del", "dev", "vp0", "vid", "1"],
        ["bridge", "vlan", "add", "dev", "vp0", "vid", "10", "pvid", "untagged"],
    ]
    assert op.describe() == "set the VLANs of vp0 on br0: delete 1; add 10 pvid untagged"


def test_a_trunk_sends_its_ranges_as_ranges_and_its_native_vlan_alone() -> None:
    (op,) = make_plan(decl(br0({"name": "vp0", "vlan": TRUNK})), state(port(4, "vp0"))).ops
    assert isinstance(op, SetPortVlans)
    assert op.add == ((100, NATIVE), (101, 0), *((v, 0) for v in range(200, 300)))
    assert op.ip_commands()[1:] == [
        ["bridge", "vlan", "add", "dev", "vp0", "vid", "100", "pvid", "untagged"],
        ["bridge", "vlan", "add", "dev", "vp0", "vid", "101"],
        ["bridge", "vlan", "add", "dev", "vp0", "vid", "200-299"],
    ]


def test_a_second_plan_is_empty_once_the_port_has_its_set() -> None:
    want = ((100, NATIVE), (101, 0), *((v, 0) for v in range(200, 300)))
    plan = make_plan(decl(br0({"name": "vp0", "vlan": TRUNK})), state(port(4, "vp0", want)))
    assert plan.ops == [] and "br0" in plan.unchanged


def test_flags_change_in_place_and_the_pvid_moves_without_a_deletion() -> None:
    # vp0 had 10 tagged and 20 as its untagged PVID; the file makes 10 the native VLAN and 20 tagged.
    have = ((10, 0), (20, NATIVE))
    vlan = {"mode": "trunk", "trunk-tags": [{"id": 20}], "tag": 10, "enable-native": True}
    (op,) = make_plan(decl(br0({"name": "vp0", "vlan": vlan})), state(port(4, "vp0", have))).ops
    assert isinstance(op, SetPortVlans) and op.delete == () and op.add == ((10, NATIVE), (20, 0))


def test_only_what_differs_is_sent() -> None:
    have = ((1, NATIVE), (101, 0), (150, 0), *((v, 0) for v in range(200, 300)))
    (op,) = make_plan(decl(br0({"name": "vp0", "vlan": TRUNK})), state(port(4, "vp0", have))).ops
    assert isinstance(op, SetPortVlans) and op.delete == (1, 150) and op.add == ((100, NATIVE),)
    assert op.ip_commands()[:2] == [
        ["bridge", "vlan", "del", "dev", "vp0", "vid", "1"],
        ["bridge", "vlan", "del", "dev", "vp0", "vid", "150"],
    ]


def test_a_trunk_without_native_vlan_keeps_no_pvid() -> None:
    vlan = {"mode": "trunk", "trunk-tags": [{"id-range": {"min": 5, "max": 7}}]}
    (op,) = make_plan(decl(br0({"name": "vp0", "vlan": vlan})), state(port(4, "vp0"))).ops
    assert isinstance(op, SetPortVlans) and op.delete == (1,) and op.add == ((5, 0), (6, 0), (7, 0))
    assert op.ip_commands()[1] == ["bridge", "vlan", "add", "dev", "vp0", "vid", "5-7"]


def test_filtering_goes_on_after_the_ports_vlans_where_it_is_off() -> None:
    plan = make_plan(decl(br0({"name": "vp0", "vlan": ACCESS_10})), state(port(4, "vp0"), filtering=False))
    assert [type(op) for op in plan.ops] == [SetPortVlans, SetVlanFiltering]
    switch = plan.ops[1]
    assert isinstance(switch, SetVlanFiltering) and switch.on
    assert switch.ip_command() == ["ip", "link", "set", "dev", "br0", "type", "bridge", "vlan_filtering", "1"]
    assert switch.data == bytes.fromhex("0500 0700 01 000000".replace(" ", ""))  # IFLA_BR_VLAN_FILTERING u8 1


def test_a_port_list_without_any_vlan_turns_filtering_off_as_nmstate_does() -> None:
    plan = make_plan(decl(br0({"name": "vp0"})), state(port(4, "vp0", ((10, NATIVE),))))
    (op,) = plan.ops
    assert isinstance(op, SetVlanFiltering) and not op.on
    assert op.describe() == "set br0: vlan-filtering on -> off (no port has a vlan section)"


def test_an_empty_vlan_is_no_vlan() -> None:
    (op,) = make_plan(decl(br0({"name": "vp0", "vlan": {}})), state(port(4, "vp0"))).ops
    assert isinstance(op, SetVlanFiltering) and not op.on


def test_a_bridge_declared_without_a_port_list_keeps_its_filtering_and_its_ports_vlans() -> None:
    d = decl({"name": "br0", "type": "linux-bridge", "bridge": {"options": {"mac-ageing-time": 300}}})
    ops = make_plan(d, state(port(4, "vp0", ((10, NATIVE),)))).ops
    assert only_vlan_steps(ops) == []


def test_without_vlans_declared_a_bridge_that_does_not_filter_gets_no_step() -> None:
    plan = make_plan(decl(br0({"name": "vp0"})), state(port(4, "vp0", None), filtering=False))
    assert plan.ops == []


def test_a_new_bridge_and_port_get_their_vlans_after_the_port_is_made_in_it() -> None:
    d = decl(
        {"name": "br1", "type": "linux-bridge", "bridge": {"port": [{"name": "v1", "vlan": ACCESS_10}]}},
        {"name": "v1", "type": "veth", "veth": {"peer": "v1-p"}},
    )
    plan = make_plan(d, host(link(2, "eth0", parent_bus="pci")))
    assert [type(op) for op in plan.ops] == [CreateLink, CreateLink, SetPortVlans, SetVlanFiltering]
    step = plan.ops[2]
    # The kernel gives the joining port VLAN 1 (a new bridge's default): it goes; 10 is sent.
    assert isinstance(step, SetPortVlans) and step.delete == (1,) and step.add == ((10, NATIVE),)


def test_a_port_joining_now_gets_its_vlans_after_the_enslaving() -> None:
    free = link(4, "vp0", kind="veth")
    plan = make_plan(decl(br0({"name": "vp0", "vlan": ACCESS_10})), state(free))
    assert [type(op) for op in plan.ops] == [SetMaster, SetPortVlans]
    step = plan.ops[1]
    assert isinstance(step, SetPortVlans) and step.delete == (1,) and step.add == ((10, NATIVE),)


def test_a_joining_port_keeps_the_default_vlan_when_it_is_wanted_and_finds_none_with_pvid_0() -> None:
    vlan = {"mode": "trunk", "trunk-tags": [{"id": 1}, {"id": 2}]}
    plan = make_plan(decl(br0({"name": "vp0", "vlan": vlan})), state(link(4, "vp0", kind="veth")))
    step = plan.ops[-1]
    assert isinstance(step, SetPortVlans) and step.delete == () and step.add == ((1, 0), (2, 0))
    plan = make_plan(decl(br0({"name": "vp0", "vlan": ACCESS_10})), state(link(4, "vp0", kind="veth"), pvid=0))
    step = plan.ops[-1]
    assert isinstance(step, SetPortVlans) and step.delete == () and step.add == ((10, NATIVE),)


def test_a_new_default_pvid_is_set_before_and_the_ports_it_moves_are_planned_from_there() -> None:
    # The kernel moves a port still on the old default (1) to the new one (5) when the option is set.
    vlan = {"mode": "trunk", "trunk-tags": [{"id": 100}]}
    plan = make_plan(decl(br0({"name": "vp0", "vlan": vlan}, **{"vlan-default-pvid": 5})), state(port(4, "vp0")))
    assert [type(op) for op in plan.ops] == [SetLink, SetPortVlans]
    assert {d.field for d in plan.ops[0].diffs} == {"bridge.options.vlan-default-pvid"}  # type: ignore[attr-defined]
    step = plan.ops[1]
    assert isinstance(step, SetPortVlans) and step.delete == (5,) and step.add == ((100, 0),)


@pytest.mark.parametrize(
    ("have", "old", "new", "after"),
    [
        ({1: NATIVE}, 1, 5, {5: NATIVE}),
        ({1: NATIVE, 7: 0}, 1, 5, {5: NATIVE, 7: 0}),
        ({1: 0, 9: NATIVE}, 1, 5, {1: 0, 9: NATIVE}),  # not on the default: left alone
        ({1: NATIVE, 5: 0}, 1, 5, {1: NATIVE, 5: 0}),  # has the new one already: left alone
        ({1: NATIVE}, 1, 0, {}),  # 0: the default VLAN goes
        ({3: 0}, 0, 5, {3: 0, 5: NATIVE}),  # from 0: every port gets the new one
    ],
)
def test_the_kernels_default_pvid_move(have: dict[int, int], old: int, new: int, after: dict[int, int]) -> None:
    assert after_pvid_change(have, old, new) == after


def test_vlans_not_read_are_all_sent_and_none_deleted() -> None:
    (op,) = make_plan(decl(br0({"name": "vp0", "vlan": ACCESS_10})), state(port(4, "vp0", None))).ops
    assert isinstance(op, SetPortVlans) and op.delete == () and op.add == ((10, NATIVE),)


def test_a_port_remade_under_a_bridge_the_file_leaves_alone_keeps_its_vlans() -> None:
    had = ((10, NATIVE), (20, 0))
    vp0 = port(4, "vp0", had)
    vp0 = replace(vp0, link_ifindex=5, info=VethInfo(5))
    peer = link(5, "vp0-p", kind="veth", link_ifindex=4)
    remade: dict[str, object] = {
        "name": "vp0",
        "type": "vxlan",
        "vxlan": {"id": 5, "base-iface": "eth0", "destination-port": 4789},
    }
    plan = make_plan(decl(remade), state(vp0, peer))
    assert [type(op) for op in plan.ops][:2] == [DeleteLink, CreateLink]
    assert isinstance(plan.ops[1], CreateLink) and plan.ops[1].master == "br0"
    steps = only_vlan_steps(plan.ops)
    assert len(steps) == 1 and isinstance(steps[0], SetPortVlans)
    assert steps[0].delete == (1,) and steps[0].add == had


def test_a_port_remade_under_a_bridge_declared_without_a_port_list_gets_its_vlans_back_once() -> None:
    had = ((10, NATIVE), (20, 0))
    vp0 = replace(port(4, "vp0", had), link_ifindex=5, info=VethInfo(5))
    peer = link(5, "vp0-p", kind="veth", link_ifindex=4)
    remade: dict[str, object] = {
        "name": "vp0",
        "type": "vxlan",
        "vxlan": {"id": 5, "base-iface": "eth0", "destination-port": 4789},
    }
    bridge_only: dict[str, object] = {
        "name": "br0",
        "type": "linux-bridge",
        "bridge": {"options": {"mac-ageing-time": 300}},
    }
    plan = make_plan(decl(bridge_only, remade), state(vp0, peer))
    steps = only_vlan_steps(plan.ops)
    assert len(steps) == 1 and isinstance(steps[0], SetPortVlans) and steps[0].add == had


def test_in_a_namespace_the_commands_say_it() -> None:
    h = HostState()
    h.namespaces["blue"] = replace(state(port(4, "vp0")).namespaces[None], netns="blue")
    h.namespaces["blue"].links = {n: replace(lk, netns="blue") for n, lk in h.namespaces["blue"].links.items()}
    d = from_data({"interfaces": [{**br0({"name": "vp0", "vlan": ACCESS_10}), "netns": "blue"}]}, "f.yml")
    (op,) = make_plan(d, h).ops
    assert op.ip_commands()[0][:3] == ["bridge", "-n", "blue"]


def test_port_vlan_sections_to_vlans() -> None:
    trunk = PortVlan.model_validate(
        {"mode": "trunk", "trunk-tags": [{"id": 101}, {"id-range": {"min": 200, "max": 202}}], "tag": 100,
         "enable-native": True}
    )  # fmt: skip
    assert wanted_vlans(trunk) == {100: NATIVE, 101: 0, 200: 0, 201: 0, 202: 0}
    access = PortVlan.model_validate({"mode": "access", "tag": 300})
    assert wanted_vlans(access) == {300: NATIVE}


# --- the state back as a file -----------------------------------------------------------------


@pytest.mark.parametrize(
    "vlans",
    [
        ((10, NATIVE),),
        ((1, NATIVE), (100, 0), (101, 0), (102, 0), (300, 0)),
        ((5, 0), (6, 0), (7, 0)),  # a trunk without a native VLAN
        ((100, NATIVE), (101, 0), *((v, 0) for v in range(200, 300))),
    ],
)
def test_show_yaml_of_a_filtering_bridge_applies_back_as_a_no_op(vlans: tuple[tuple[int, int], ...]) -> None:
    now = state(port(4, "vp0", vlans), port(5, "vp1", ((1, NATIVE), (9, 0))))
    text = links_yaml(sorted(now, key=lambda lk: lk.ifindex), now)
    back = from_data(yaml.safe_load(text), "shown.yml")
    assert any(p.vlan is not None for s in back.interfaces if s.bridge for p in s.bridge.port or ())
    assert make_plan(back, now).ops == []
    assert make_plan(declaration_of(now), now).ops == []


def test_the_vlan_sections_written_back() -> None:
    assert section_of(((10, NATIVE),)).model_dump(by_alias=True, exclude_none=True) == {  # type: ignore[union-attr]
        "mode": "access", "tag": 10,
    }  # fmt: skip
    trunk = section_of(((1, NATIVE), (100, 0), (101, 0), (300, 0)))
    assert trunk is not None and trunk.model_dump(by_alias=True, exclude_none=True) == {
        "mode": "trunk", "trunk-tags": [{"id-range": {"min": 100, "max": 101}}, {"id": 300}], "tag": 1,
        "enable-native": True,
    }  # fmt: skip
    assert section_of(()) is None
    assert section_of(((10, 4),)) is None  # untagged without being the PVID: nmstate has no words for it


def test_a_bridge_that_does_not_filter_is_shown_without_port_vlans() -> None:
    now = state(port(4, "vp0", ((10, NATIVE),)), filtering=False)
    spec = next(s for s in declaration_of(now).interfaces if s.name == "br0")
    assert spec.bridge is not None and all(p.vlan is None for p in spec.bridge.port or ())


def test_a_rollback_from_filtering_on_to_off_is_planned_and_puts_the_ports_set_back() -> None:
    # The state before: br0 not filtering; the change turned it on. Re-declared, the state before turns it
    # off, and the port gets back the VLANs it had (the switch first: nothing is filtered meanwhile).
    before = state(port(4, "vp0", DEFAULT), filtering=False)
    after = state(port(4, "vp0", ((10, NATIVE),)))
    switch, step = make_plan(declaration_of(before), after).ops
    assert isinstance(switch, SetVlanFiltering) and not switch.on
    assert switch.describe() == "set br0: vlan-filtering on -> off (it did not filter)"
    assert isinstance(step, SetPortVlans) and step.delete == (10,) and step.add == DEFAULT
    assert make_plan(declaration_of(before), before).ops == []


# The sets nmstate has no words for: a filtering bridge with them applies back as a no-op all the same.
UNWRITABLE: list[tuple[tuple[int, int], ...]] = [
    (),  # no VLANs
    ((1, PVID),),  # a PVID alone, tagged
    ((1, NATIVE), (20, UNTAGGED)),  # untagged without being the PVID
]


@pytest.mark.parametrize("vlans", [None, *UNWRITABLE], ids=["no ports", "none", "pvid only", "untagged"])
def test_a_filtering_bridge_whose_ports_the_format_cannot_say_is_re_declared_as_a_no_op(
    vlans: tuple[tuple[int, int], ...] | None,
) -> None:
    now = state() if vlans is None else state(port(4, "vp0", vlans))
    assert make_plan(declaration_of(now), now).ops == []
    text = links_yaml(sorted(now, key=lambda lk: lk.ifindex), now)
    shown = next(e for e in yaml.safe_load(text)["interfaces"] if e["name"] == "br0")
    assert "port" not in shown["bridge"]  # a port list without any vlan would turn filtering off
    assert "raw-vlans" not in text and "filtering-read" not in text
    assert make_plan(from_data(yaml.safe_load(text), "shown.yml"), now).ops == []


@pytest.mark.parametrize("vlans", UNWRITABLE, ids=["none", "pvid only", "untagged"])
def test_next_to_a_port_it_can_say_one_it_cannot_is_shown_without_vlan_and_left_alone(
    vlans: tuple[tuple[int, int], ...],
) -> None:
    now = state(port(4, "vp0", vlans), port(5, "vp1", ((10, NATIVE),)))
    text = links_yaml(sorted(now, key=lambda lk: lk.ifindex), now)
    shown = next(e for e in yaml.safe_load(text)["interfaces"] if e["name"] == "br0")
    assert shown["bridge"]["port"] == [{"name": "vp0"}, {"name": "vp1", "vlan": {"mode": "access", "tag": 10}}]
    assert make_plan(from_data(yaml.safe_load(text), "shown.yml"), now).ops == []
    assert make_plan(declaration_of(now), now).ops == []


@pytest.mark.parametrize("had", UNWRITABLE, ids=["none", "pvid only", "untagged"])
def test_a_rollback_puts_back_a_set_the_format_cannot_say(had: tuple[tuple[int, int], ...]) -> None:
    before = state(port(4, "vp0", had))
    after = state(port(4, "vp0", ((10, NATIVE), (11, 0))))
    (step,) = make_plan(declaration_of(before), after).ops
    assert isinstance(step, SetPortVlans)
    assert step.delete == tuple(v for v in (10, 11) if v not in dict(had)) and step.add == had
    assert make_plan(declaration_of(before), before).ops == []  # the check after it: nothing left


def test_a_rollback_from_filtering_off_with_sets_to_on_restores_filtering_and_each_set() -> None:
    had = ((1, NATIVE), (20, UNTAGGED))
    before = state(port(4, "vp0", had), port(5, "vp1", ((1, PVID), (30, 0))), filtering=False)
    after = state(port(4, "vp0", ((10, NATIVE),)), port(5, "vp1", ((30, NATIVE),)))
    ops = make_plan(declaration_of(before), after).ops
    assert [type(op) for op in ops] == [SetVlanFiltering, SetPortVlans, SetPortVlans]
    vp0, vp1 = ops[1], ops[2]
    assert isinstance(vp0, SetPortVlans) and vp0.name == "vp0" and vp0.delete == (10,) and vp0.add == had
    assert isinstance(vp1, SetPortVlans) and vp1.name == "vp1" and vp1.delete == ()
    assert vp1.add == ((1, PVID), (30, 0))
    assert has_port_vlans(declaration_of(before))  # so the rollback reads, and its check compares, the sets


def test_a_rollback_turns_filtering_back_on_where_the_change_turned_it_off() -> None:
    before = state(port(4, "vp0", ((10, NATIVE),)))
    after = state(port(4, "vp0", ((10, NATIVE),)), filtering=False)
    (op,) = make_plan(declaration_of(before), after).ops
    assert isinstance(op, SetVlanFiltering) and op.on


def test_the_journal_keeps_the_internal_fields_and_a_show_leaves_them_out() -> None:
    now = state(port(4, "vp0", ((1, PVID),)))
    d = declaration_of(now)
    kept = d.model_dump(mode="json", by_alias=True, exclude_none=True, context=INTERNAL)
    back = Declaration.model_validate(kept, context=INTERNAL)
    bridge_back = next(s for s in back.interfaces if s.name == "br0").bridge
    assert bridge_back is not None and bridge_back.filtering_read is True
    assert bridge_back.port is not None and bridge_back.port[0].raw_vlans == ((1, PVID),)
    assert make_plan(back, state(port(4, "vp0", ((10, NATIVE),)))).ops != []
    public = str(d.model_dump(mode="json", by_alias=True, exclude_none=True))
    assert "raw" not in public and "filtering-read" not in public


@pytest.mark.parametrize(
    ("where", "key"),
    [("port", "raw-vlans"), ("port", "raw_vlans"), ("bridge", "filtering-read"), ("bridge", "filtering_read")],
)
def test_a_file_giving_linkctls_own_fields_is_refused_as_an_unknown_key(where: str, key: str) -> None:
    entry = br0({"name": "vp0", **({key: [[1, 2]]} if where == "port" else {})})
    if where == "bridge":
        entry["bridge"][key] = True  # type: ignore[index]
    with pytest.raises(ValidationFailed) as refused:
        from_data({"interfaces": [entry]}, "f.yml")
    assert key in str(refused.value) and "unknown key" in str(refused.value)


def test_where_the_kernel_has_no_vlan_filtering_nothing_of_it_is_re_declared() -> None:
    # This VM's kernel: IFLA_BR_VLAN_FILTERING 0, no IFLA_BR_VLAN_DEFAULT_PVID, every port listed with
    # no VLANs, which are no set to put back (a port re-made would be sent a deletion of VLAN 1).
    plain = link(3, "br0", kind="bridge", info=BridgeInfo(stp=False, data={"vlan_filtering": 0}))
    now = host(link(2, "eth0", parent_bus="pci"), plain, port(4, "vp0", ()))
    spec = next(s for s in declaration_of(now).interfaces if s.name == "br0")
    assert spec.bridge is not None and spec.bridge.filtering_read is None
    assert spec.bridge.port is not None and spec.bridge.port[0].raw_vlans is None
    assert not has_port_vlans(declaration_of(now))


# --- what the model takes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vlan", "words"),
    [
        ({"tag": 10}, "needs its mode"),
        ({"mode": "trunk"}, "needs its trunk-tags"),
        ({"mode": "trunk", "tag": 5}, "needs its trunk-tags"),
        ({"mode": "access"}, "needs its tag"),
    ],
)
def test_a_vlan_the_planner_could_not_read_is_refused_naming_why(vlan: dict[str, object], words: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        from_data({"interfaces": [br0({"name": "vp0", "vlan": vlan})]}, "f.yml")
    assert words in str(refused.value)

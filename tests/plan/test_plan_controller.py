"""`controller:` on a port (nmstate 2.2.2+), planned from typed states: merged into its controller's
port list with the ports the kernel has, refused where it disagrees with a port list (nmstate's
validate_controller_and_port_list_confliction), idempotent once applied."""

from __future__ import annotations

from dataclasses import replace

import pytest

from linkctl.errors import ValidationFailed
from linkctl.model.load import parse_text
from linkctl.model.spec import dump_spec
from linkctl.model.state import BondInfo, HostState, VethInfo
from linkctl.plan.convert import declaration_of
from linkctl.plan.ops import SetLink, SetMaster
from linkctl.plan.planner import make_plan
from linkctl.plan.validate import validate
from tests.helpers.states import decl, host, link, topology


def _state(eth1_master: int | None = None) -> HostState:
    """topology()'s br0 (veth0 its port), a free veth end eth1, and bond0 with no port."""
    base = topology()
    ns = base.ns(None)
    extra = [
        link(7, "eth1", kind="veth", link_ifindex=8, info=VethInfo(8), master_ifindex=eth1_master),
        link(8, "eth1p", kind="veth", link_ifindex=7, info=VethInfo(7)),
        link(9, "bond0", kind="bond", info=BondInfo(mode="active-backup", miimon=100)),
    ]
    return host(*ns.links.values(), *extra)


def _masters(ops: list[object]) -> list[tuple[str, str | None, bool]]:
    return [(op.name, op.master, op.down_first) for op in ops if isinstance(op, SetMaster)]


def test_a_port_naming_its_bridge_joins_it_and_the_bridge_keeps_its_other_ports() -> None:
    plan = make_plan(decl({"name": "eth1", "controller": "br0"}), _state())
    assert _masters(plan.ops) == [("eth1", "br0", False)]  # veth0 is not released


def test_joined_a_second_time_nothing_is_sent() -> None:
    assert make_plan(decl({"name": "eth1", "controller": "br0"}), _state(eth1_master=3)).ops == []


def test_an_empty_controller_detaches_the_port_and_only_it() -> None:
    plan = make_plan(decl({"name": "veth0", "controller": ""}), _state(eth1_master=3))
    assert _masters(plan.ops) == [("veth0", None, False)]
    assert make_plan(decl({"name": "veth0", "controller": ""}), _state()).ops != []
    # Already out of every controller: nothing to do.
    assert make_plan(decl({"name": "eth1", "controller": ""}), _state()).ops == []


def test_a_bond_takes_its_port_down_first_and_a_declared_state_up_follows() -> None:
    plan = make_plan(decl({"name": "eth1", "state": "up", "controller": "bond0"}), _state())
    assert _masters(plan.ops) == [("eth1", "bond0", True)]


def test_a_port_list_that_names_the_port_agrees_with_it() -> None:
    bridge = {"name": "br0", "bridge": {"port": [{"name": "veth0"}, {"name": "eth1"}]}}
    plan = make_plan(decl(bridge, {"name": "eth1", "controller": "br0"}), _state())
    assert _masters(plan.ops) == [("eth1", "br0", False)]


def test_a_declared_bridge_without_a_port_list_keeps_its_ports_and_its_settings_apply() -> None:
    bridge = {"name": "br0", "mtu": 1400}
    plan = make_plan(decl(bridge, {"name": "eth1", "controller": "br0"}), _state())
    assert _masters(plan.ops) == [("eth1", "br0", False)]
    assert any(isinstance(op, SetLink) and op.name == "br0" for op in plan.ops)


def test_show_writes_no_controller_and_its_file_applies_back_unchanged() -> None:
    state = _state(eth1_master=3)
    shown = [dump_spec(s) for s in declaration_of(state).interfaces]
    assert not any("controller" in s for s in shown)
    assert make_plan(decl(*shown), state).ops == []


def problems(text: str, state: HostState | None = None) -> list[str]:
    with pytest.raises(ValidationFailed) as info:
        validate(parse_text(text, "f.yml"), state or _state(), "f.yml", creatable=frozenset({"veth", "bridge"}))
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "interfaces: [{name: eth1, controller: br9}]",
            "interface eth1: controller: 'br9': a bridge or bond that exists in the file or the kernel",
        ),
        (
            "interfaces: [{name: eth1, controller: eth1p}]",
            "controller: 'eth1p': a linux-bridge or bond: eth1p is veth, which takes no ports",
        ),
        (
            "interfaces: [{name: br0, bridge: {port: [{name: veth0}]}}, {name: eth1, controller: br0}]",
            "controller: 'br0': a controller whose port list names it: br0's port list leaves eth1 out",
        ),
        (
            "interfaces: [{name: bond0, link-aggregation: {port: [eth1]}}, {name: eth1, controller: br0}]",
            "controller: 'br0': the controller whose port list names it: bond0's port list names eth1",
        ),
        (
            "interfaces: [{name: br0, bridge: {port: [{name: veth0}]}}, {name: veth0, controller: ''}]",
            "interface veth0: controller: '': a port no controller lists: br0's port list names veth0",
        ),
        ("interfaces: [{name: eth1, controller: eth1}]", "a link is not its own controller"),
        (
            "interfaces: [{name: br0, state: absent}, {name: eth1, controller: br0}]",
            "a controller that stays: br0 is declared absent",
        ),
        (
            "interfaces: [{name: bond0, controller: br0}, {name: br0, controller: bond0}]",
            "a controller that is not its own port: bond0 -> br0 -> bond0 is a loop",
        ),
        ("interfaces: [{name: eth1, controller: 'b r'}]", "an interface name may not contain"),
    ],
)
def test_a_controller_that_cannot_be_is_refused_with_field_value_and_fix(text: str, expected: str) -> None:
    found = problems(text)
    assert any(expected in p for p in found), found


def test_a_refused_controller_changes_nothing_in_the_plan_input() -> None:
    """Validation refuses before any change; the port list in the file is never overridden."""
    text = "interfaces: [{name: br0, bridge: {port: [{name: veth0}]}}, {name: eth1, controller: br0}]"
    assert problems(text)
    state = _state(eth1_master=None)
    ops = make_plan(parse_text(text, "f.yml"), state).ops
    assert ("eth1", "br0", False) not in _masters(ops)


def test_a_port_of_a_filtering_bridge_joins_without_turning_filtering_off() -> None:
    state = _state()
    br0 = state.find("br0", None)
    assert br0 is not None and br0.info is not None
    info = replace(br0.info, data={**br0.info.data, "vlan_filtering": 1})  # type: ignore[arg-type]
    state.namespaces[None].links["br0"] = replace(br0, info=info)
    plan = make_plan(decl({"name": "eth1", "controller": "br0"}), state)
    assert [type(op).__name__ for op in plan.ops] == ["SetMaster"]


# A port the file does not declare, joining a controller that is up through its port list, is brought
# up (nmstate's handle_changed_ports / apply_ctrller_change: "Include interface ... as its controller
# required so"); one already in the list, or declared, or joining a controller that is down, is not.


def _down_eth1(eth1_master: int | None = None) -> HostState:
    state = _state(eth1_master)
    eth1 = state.find("eth1", None)
    assert eth1 is not None
    state.namespaces[None].links["eth1"] = replace(eth1, flags=0)
    return state


def _ups(ops: list[object]) -> list[str]:
    return [op.name for op in ops if isinstance(op, SetLink) and op.props.up]


def test_an_undeclared_port_that_joins_an_up_bridge_is_brought_up_after_it_joins() -> None:
    plan = make_plan(decl({"name": "br0", "bridge": {"port": [{"name": "veth0"}, {"name": "eth1"}]}}), _down_eth1())
    assert [type(op).__name__ for op in plan.ops] == ["SetMaster", "SetLink"] and _ups(plan.ops) == ["eth1"]
    assert plan.ops[1].describe() == "set eth1: state 'down' -> 'up'"


@pytest.mark.parametrize(
    ("entries", "master"),
    [
        ([{"name": "br0", "bridge": {"port": [{"name": "veth0"}, {"name": "eth1"}]}}], 3),  # already a port
        ([{"name": "br0", "state": "down", "bridge": {"port": [{"name": "veth0"}, {"name": "eth1"}]}}], None),
        ([{"name": "br0", "bridge": {"port": [{"name": "veth0"}, {"name": "eth1"}]}}, {"name": "eth1"}], None),
        ([{"name": "eth1", "controller": "br0"}], None),  # declared: its own `state` says
    ],
)
def test_a_port_already_in_declared_or_under_a_down_controller_is_not_brought_up(
    entries: list[dict[str, object]], master: int | None
) -> None:
    assert "eth1" not in _ups(make_plan(decl(*entries), _down_eth1(master)).ops)

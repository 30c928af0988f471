"""nmstate's link keys, planned without a kernel: type ethernet on a veth, no type, state: ignore,
description, copy-mac-from (plan/match.py kind_for, plan/settle.py, plan/build.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from linkctl.errors import ValidationFailed
from linkctl.model.spec import Declaration
from linkctl.model.state import HostState, VethInfo
from linkctl.plan.convert import declaration_of
from linkctl.plan.ops import CreateLink, SetLink, SetMaster
from linkctl.plan.planner import make_plan
from linkctl.plan.validate import validate
from tests.helpers.states import decl, host, link, topology


def problems(d: Declaration, state: HostState) -> list[str]:
    try:
        validate(d, state, "test.yml")
    except ValidationFailed as exc:
        return [str(p) for p in exc.problems]
    return []


def commands(d: Declaration, state: HostState) -> list[list[str]]:
    return [cmd for op in make_plan(d, state).ops for cmd in op.ip_commands()]


# -- type: ethernet on a veth; no type -----------------------------------------------------------


def test_an_existing_veth_declared_ethernet_is_adopted_not_refused() -> None:
    # Was: "an ethernet link must already exist" for a link that exists.
    d = decl({"name": "veth0-p", "type": "ethernet", "state": "up", "mtu": 1400})
    assert problems(d, topology()) == []
    plan = make_plan(d, topology())
    assert [type(op) for op in plan.ops] == [SetLink]  # set in place, never re-created
    assert plan.ops[0].ip_command() == ["ip", "link", "set", "dev", "veth0-p", "mtu", "1400"]


def test_an_ethernet_that_does_not_exist_is_still_refused() -> None:
    found = problems(decl({"name": "eth9", "type": "ethernet"}), topology())
    assert any("an ethernet link must already exist" in p for p in found), found


def test_a_bridge_declared_ethernet_is_not_adopted() -> None:
    found = problems(decl({"name": "br0", "type": "ethernet"}), topology())
    assert any("br0 is an existing linux-bridge link" in p for p in found), found


def test_an_entry_without_type_takes_the_existing_link_s() -> None:
    assert make_plan(decl({"name": "veth0", "mtu": 1500}), topology()).empty
    assert problems(decl({"name": "vx42", "mtu": 1400}), topology()) == []


def test_an_entry_without_type_for_a_link_that_is_nowhere_says_so() -> None:
    (found,) = problems(decl({"name": "ghost0", "mtu": 1400}), topology())
    assert "ghost0" in found and "no link ghost0 exists to take its type from" in found


# -- state: ignore -------------------------------------------------------------------------------


def test_an_ignored_port_stays_in_a_bridge_whose_list_leaves_it_out() -> None:
    d = decl({"name": "veth0", "state": "ignore"}, {"name": "br0", "type": "linux-bridge", "bridge": {"port": []}})
    assert problems(d, topology()) == []
    assert not any(isinstance(op, SetMaster) for op in make_plan(d, topology()).ops)


def test_an_ignored_link_is_not_enslaved_by_a_list_that_names_it() -> None:
    d = decl(
        {"name": "veth0-p", "state": "ignore"},
        {"name": "br0", "type": "linux-bridge", "bridge": {"port": [{"name": "veth0"}, {"name": "veth0-p"}]}},
    )
    assert not any(isinstance(op, SetMaster) for op in make_plan(d, topology()).ops)


def test_without_ignore_the_same_list_releases_and_enslaves() -> None:
    # The control of the two tests above: the port lists do act when nothing is ignored.
    d = decl({"name": "br0", "type": "linux-bridge", "bridge": {"port": [{"name": "veth0-p"}]}})
    ops = [op for op in make_plan(d, topology()).ops if isinstance(op, SetMaster)]
    assert {(op.name, op.master) for op in ops} == {("veth0", None), ("veth0-p", "br0")}


def test_an_ignored_link_s_other_settings_are_not_touched() -> None:
    assert make_plan(decl({"name": "veth0", "state": "ignore", "mtu": 9000}), topology()).empty


# -- description ---------------------------------------------------------------------------------


def aliased(**aliases: str) -> HostState:
    """The topology with these links' aliases (ip link set dev X alias ...)."""
    return host(
        *(replace(lk, alias=aliases.get(lk.name.replace("-", "_"))) for lk in topology().ns(None).links.values())
    )


def test_a_description_is_set_in_place_and_kept_when_equal() -> None:
    d = decl({"name": "veth0", "description": "to rack 4"})
    (op,) = make_plan(d, topology()).ops
    assert op.ip_command() == ["ip", "link", "set", "dev", "veth0", "alias", "to rack 4"]
    assert make_plan(d, aliased(veth0="to rack 4")).empty
    cleared = make_plan(decl({"name": "veth0", "description": ""}), aliased(veth0="to rack 4")).ops
    assert [op.ip_command() for op in cleared] == [["ip", "link", "set", "dev", "veth0", "alias", ""]]
    assert make_plan(decl({"name": "veth0", "description": ""}), topology()).empty  # none to clear


def test_a_new_link_s_description_is_a_second_command() -> None:
    # The kernel ignores IFLA_IFALIAS in the request that creates a link (as `ip link add ... alias`).
    d = decl({"name": "v9", "type": "veth", "description": "new one", "veth": {"peer": "v9p"}})
    assert commands(d, topology()) == [
        ["ip", "link", "add", "name", "v9", "up", "type", "veth", "peer", "name", "v9p"],
        ["ip", "link", "set", "dev", "v9", "alias", "new one"],
        ["ip", "link", "set", "dev", "v9p", "up"],
    ]


def test_show_and_rollback_keep_a_description() -> None:
    state = aliased(veth0="kept")
    before = declaration_of(state)
    by_name = {s.name: s for s in before.interfaces}
    assert by_name["veth0"].description == "kept" and by_name["veth0-p"].description == ""
    assert make_plan(before, state).empty
    # A rollback to a state without an alias clears one the change set.
    ops = make_plan(before, aliased(veth0="kept", veth0_p="set by the change")).ops
    assert [op.ip_command() for op in ops] == [["ip", "link", "set", "dev", "veth0-p", "alias", ""]]


# -- copy-mac-from -------------------------------------------------------------------------------


def test_copy_mac_from_an_existing_link() -> None:
    d = decl({"name": "br0", "type": "linux-bridge", "copy-mac-from": "eth0"})
    assert problems(d, topology()) == []
    (op,) = make_plan(d, topology()).ops
    assert op.ip_command() == ["ip", "link", "set", "dev", "br0", "address", "02:00:00:00:00:02"]
    same = host(*(replace(lk, mac="02:00:00:00:00:02") if lk.name == "br0" else lk for lk in topology()))
    assert make_plan(d, same).empty  # applied again: nothing


def test_copy_mac_from_a_declared_mac_and_along_a_chain() -> None:
    d = decl(
        {"name": "v9", "type": "veth", "veth": {"peer": "v9p"}, "mac-address": "02:aa:00:00:00:01"},
        {"name": "v9p", "type": "veth", "copy-mac-from": "br0"},
        {"name": "br0", "type": "linux-bridge", "copy-mac-from": "v9"},
    )
    assert problems(d, topology()) == []
    create = next(op for op in make_plan(d, topology()).ops if isinstance(op, CreateLink))
    assert create.peer is not None and create.peer.props.mac == "02:aa:00:00:00:01"


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ([{"name": "br0", "copy-mac-from": "nowhere0"}], "no nowhere0"),
        (
            [{"name": "br0", "copy-mac-from": "v9"}, {"name": "v9", "type": "veth", "veth": {"peer": "v9p"}}],
            "the kernel picks its MAC at random",
        ),
        ([{"name": "br0", "copy-mac-from": "veth0"}, {"name": "veth0", "state": "absent"}], "declared absent"),
        ([{"name": "br0", "copy-mac-from": "veth0", "mac-address": "02:00:00:00:00:09"}], "either mac-address or"),
        ([{"name": "br0", "copy-mac-from": "veth0"}, {"name": "veth0", "copy-mac-from": "br0"}], "loop"),
    ],
)
def test_a_mac_that_cannot_be_known_is_refused(entries: list[dict[str, object]], expected: str) -> None:
    found = problems(decl(*entries), topology())
    assert any("copy-mac-from" in p and expected in p for p in found), found


# -- the parts of a file that parsed are validated too -------------------------------------------


def test_a_veth_pair_in_a_namespace_is_adopted_end_by_end() -> None:
    state = host(
        link(2, "eth1", kind="veth", link_ifindex=3, info=VethInfo(3)),
        link(3, "eth1p", kind="veth", link_ifindex=2, info=VethInfo(2)),
        netns="ns1",
    )
    d = decl(
        {"name": "eth1", "type": "ethernet", "netns": "ns1", "ethernet": {"speed": 1000}},
        {"name": "eth1p", "type": "ethernet", "netns": "ns1"},
    )
    assert problems(d, state) == []
    assert make_plan(d, state).empty


def test_deleting_the_end_of_an_ignored_veth_peer_is_refused() -> None:
    d = decl({"name": "veth0", "state": "absent"}, {"name": "veth0-p", "state": "ignore"})
    found = problems(d, topology())
    assert any("interface veth0: state" in p and "veth0-p is `state: ignore`" in p for p in found), found
    assert problems(decl({"name": "veth0", "state": "absent"}), topology()) == []

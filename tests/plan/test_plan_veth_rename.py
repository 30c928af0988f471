"""A veth peer renamed by hand is matched by its index, as the kernel pairs them, and named back."""

from __future__ import annotations

from dataclasses import replace

import pytest

from linkctl.errors import ValidationFailed
from linkctl.model.state import HostState, IfFlag, Link, NetnsName, NetnsState, VethInfo
from linkctl.plan.convert import declaration_of
from linkctl.plan.ops import CreateLink, DeleteLink, RenameLink
from linkctl.plan.planner import make_plan
from linkctl.plan.validate import validate
from tests.helpers.states import decl, link


def _state(
    *by_ns: tuple[NetnsName, list[Link]], ids: dict[tuple[NetnsName, int], NetnsName] | None = None
) -> HostState:
    h = HostState(netnsids=dict(ids or {}))
    for netns, links in by_ns:
        h.namespaces[netns] = NetnsState.of(netns, [replace(lk, netns=netns) for lk in links])
    return h


def _pair(peer: str = "u0q", up: bool = True, extra: tuple[Link, ...] = ()) -> HostState:
    """u0 and its peer (ifindex 3) beside it, the peer named `peer`."""
    flags = link(3, peer).flags if up else IfFlag(0)
    end = link(2, "u0", kind="veth", link_ifindex=3, info=VethInfo(3))
    return _state((None, [end, link(3, peer, kind="veth", link_ifindex=2, info=VethInfo(2), flags=flags), *extra]))


def _both() -> list[dict[str, object]]:
    return [
        {"name": "u0", "type": "veth", "veth": {"peer": "u0p"}},
        {"name": "u0p", "type": "veth", "veth": {"peer": "u0"}},
    ]


def test_a_peer_renamed_by_hand_is_named_back_in_place_down_rename_up() -> None:
    plan = make_plan(decl(*_both()), _pair())
    (op,) = plan.ops
    assert isinstance(op, RenameLink)
    assert op.describe() == "rename u0q to u0p: u0's veth peer, matched by its index"
    assert op.ip_commands() == [
        ["ip", "link", "set", "dev", "u0q", "down"],  # the kernel renames only a link that is down
        ["ip", "link", "set", "dev", "u0q", "name", "u0p"],
        ["ip", "link", "set", "dev", "u0p", "up"],
    ]
    assert plan.unchanged == ["u0"]
    # Once named back, nothing is left to do.
    assert make_plan(decl(*_both()), _pair("u0p")).ops == []


def test_a_peer_renamed_while_down_stays_down() -> None:
    (op,) = make_plan(decl(*_both()), _pair(up=False)).ops
    assert isinstance(op, RenameLink) and op.ip_commands() == [["ip", "link", "set", "dev", "u0q", "name", "u0p"]]


def test_only_one_end_declared_its_renamed_peer_is_named_back() -> None:
    plan = make_plan(decl({"name": "u0", "type": "veth", "veth": {"peer": "u0p"}}), _pair())
    assert [op.describe() for op in plan.ops] == ["rename u0q to u0p: u0's veth peer, matched by its index"]
    assert not any(isinstance(op, (CreateLink, DeleteLink)) for op in plan.ops)


def test_a_renamed_peer_keeps_its_settings_and_gets_the_declared_ones_by_its_new_name() -> None:
    d = decl({"name": "u0", "type": "veth", "veth": {"peer": "u0p"}}, {"name": "u0p", "type": "veth", "mtu": 9000})
    assert [op.ip_commands()[-1] for op in make_plan(d, _pair()).ops] == [
        ["ip", "link", "set", "dev", "u0p", "up"],
        ["ip", "link", "set", "dev", "u0p", "mtu", "9000"],
    ]


def _across(peer_ns: str, peer: str, ids: dict[tuple[NetnsName, int], NetnsName]) -> HostState:
    """u0 in red; its peer (ifindex 7) in `peer_ns`, named `peer`; each sees the other as netnsid 0."""
    end = link(2, "u0", kind="veth", link_ifindex=7, link_netnsid=0, info=VethInfo(7, 0))
    other = link(7, peer, kind="veth", link_ifindex=2, link_netnsid=0, info=VethInfo(2, 0))
    return _state(("red", [end]), ("blue", []), (peer_ns, [other]), ids=ids)


CROSS: tuple[dict[str, object], ...] = (
    {"name": "u0", "netns": "red", "type": "veth", "veth": {"peer": "u0p", "peer-netns": "blue"}},
    {"name": "u0p", "netns": "blue", "type": "veth", "veth": {"peer": "u0", "peer-netns": "red"}},
)


def test_a_peer_renamed_in_its_own_namespace_is_renamed_there() -> None:
    state = _across("blue", "u0q", {("red", 0): "blue", ("blue", 0): "red"})
    plan = make_plan(decl(*CROSS), state)
    assert [op.ip_commands() for op in plan.ops] == [
        [
            ["ip", "-n", "blue", "link", "set", "dev", "u0q", "down"],
            ["ip", "-n", "blue", "link", "set", "dev", "u0q", "name", "u0p"],
            ["ip", "-n", "blue", "link", "set", "dev", "u0p", "up"],
        ]
    ]
    # Only one end declared: the same.
    assert make_plan(decl(CROSS[0]), state).ops == plan.ops


def test_a_peer_renamed_and_moved_to_another_namespace_is_renamed_there_then_moved_back() -> None:
    state = _across("green", "u0q", {("red", 0): "green", ("green", 0): "red"})
    plan = make_plan(decl(*CROSS), state)
    assert [op.describe() for op in plan.ops] == [
        "rename u0q (netns green) to u0p: u0's veth peer, matched by its index",
        "move u0p (netns green) to netns blue: its addresses and routes are dropped by the kernel and must be "
        "configured again there",
        "set u0p (netns blue): state 'down' -> 'up'",
    ]
    rename = plan.ops[0]
    assert isinstance(rename, RenameLink) and not rename.up_after  # the move brings it down: up once there
    # The one end declared, its peer-netns named: the same.
    assert [op.describe() for op in make_plan(decl(CROSS[0]), state).ops] == [op.describe() for op in plan.ops]


def test_a_declared_peer_name_another_link_holds_is_refused_with_both_links_named() -> None:
    taken = _pair(extra=(link(9, "u0p", kind="bridge"),))
    for d in (decl(*_both()), decl(_both()[0])):
        with pytest.raises(ValidationFailed) as err:
            validate(d, taken, "f.yml")
        (problem,) = err.value.problems
        assert str(problem) == (
            "f.yml: interface u0: veth.peer: 'u0p': a name not used by another link in the peer's namespace: "
            "u0's veth peer is u0q now (ifindex 3, renamed by hand?), and u0p is another link (ifindex 9): "
            "rename or delete u0p, then apply again to name the peer back (RTNETLINK would answer: File exists)"
        )
        assert not any(isinstance(op, RenameLink) for op in make_plan(d, taken).ops)


def test_a_file_with_a_renamed_peer_is_valid() -> None:
    # It was refused: the declared peer looked absent, and the end named as its peer "taken".
    validate(decl(*_both()), _pair(), "f.yml")
    validate(decl(*CROSS), _across("green", "u0q", {("red", 0): "green", ("green", 0): "red"}), "f.yml")


def test_a_peer_declared_under_the_name_it_has_is_not_renamed() -> None:
    # The file names u0q for what it is (absent here): that entry decides, not a rename.
    d = decl({"name": "u0", "type": "veth", "veth": {"peer": "u0p"}}, {"name": "u0q", "state": "absent"})
    assert not any(isinstance(op, RenameLink) for op in make_plan(d, _pair()).ops)


def test_a_rollback_names_the_peer_back_as_it_was() -> None:
    # The state read before the change, as the rollback declares it, planned against the state after.
    before = _pair()
    (op,) = make_plan(declaration_of(before), _pair("u0p")).ops
    assert isinstance(op, RenameLink) and (op.old_name, op.name) == ("u0p", "u0q")

"""plan notes a bridge port whose MTU after the plan differs from its bridge's (issue 19), as audit says it after."""

from __future__ import annotations

from linkctl.diagnose.audit.context import AuditContext
from linkctl.diagnose.audit.mtu import bridge_port_mtu_mismatch
from linkctl.model.state import BridgeInfo, VethInfo
from linkctl.plan.planner import make_plan
from tests.helpers.states import decl, host, link, topology

_WHY = (
    "frames larger than the smallest MTU on the bridge are dropped silently when they cross to a port with a "
    "smaller one"
)


def _note(port: str, mtu: int, bridge: str, bridge_mtu: int) -> str:
    return (
        f"{port}: bridge port MTU {mtu} differs from bridge {bridge} MTU {bridge_mtu} after this plan: {_WHY}; "
        f"declare {port} with mtu {bridge_mtu}, or {bridge} with mtu {mtu} and every port of it with the same"
    )


def test_a_new_bridge_takes_its_smallest_port_s_mtu_and_the_larger_port_is_said() -> None:
    d = decl(
        {"name": "br1", "type": "linux-bridge", "bridge": {"port": [{"name": "p1"}, {"name": "p2"}]}},
        {"name": "p1", "type": "veth", "mtu": 9000, "veth": {"peer": "p1-x"}},
        {"name": "p2", "type": "veth", "veth": {"peer": "p2-x"}},
    )
    assert make_plan(d, topology()).notes == [_note("p1", 9000, "br1", 1500)]


def test_a_listed_port_without_mtu_under_a_bridge_given_one_is_said() -> None:
    br = {"name": "br0", "mtu": 9000, "bridge": {"port": [{"name": "veth0"}]}}
    plan = make_plan(decl(br, {"name": "veth0", "type": "veth", "veth": {"peer": "veth0-p"}}), topology())
    assert plan.notes == [_note("veth0", 1500, "br0", 9000)]
    # Declared with the bridge's MTU: nothing to say of the port (its veth peer is said, as before).
    both = make_plan(decl(br, {"name": "veth0", "mtu": 9000}), topology())
    assert not [n for n in both.notes if "bridge port MTU" in n]


def test_a_port_the_older_note_names_is_not_named_twice() -> None:
    plan = make_plan(decl({"name": "br0", "mtu": 9000, "bridge": {"port": [{"name": "veth0"}]}}), topology())
    assert plan.notes == [
        "veth0, a port of br0, keeps MTU 1500: frames over 1500 bytes that br0 forwards to it will be "
        "dropped; declare veth0 with mtu 9000 too"
    ]


def test_an_existing_bridge_set_by_hand_keeps_its_mtu_and_one_following_its_ports_follows_them() -> None:
    def state(bridge_mtu: int) -> object:
        return host(
            link(3, "br0", kind="bridge", mtu=bridge_mtu, info=BridgeInfo(stp=False)),
            link(4, "a", kind="veth", mtu=9000, master_ifindex=3, slave_kind="bridge", info=VethInfo(5)),
            link(5, "a-x", kind="veth", mtu=9000, info=VethInfo(4)),
            link(6, "b", kind="veth", mtu=1500, info=VethInfo(7)),
            link(7, "b-x", kind="veth", info=VethInfo(6)),
        )

    d = decl({"name": "br0", "bridge": {"port": [{"name": "a"}, {"name": "b"}]}})
    # br0 at 9000 = its only port's: the kernel lowers it to 1500 when b joins; a keeps 9000.
    assert make_plan(d, state(9000)).notes == [_note("a", 9000, "br0", 1500)]  # type: ignore[arg-type]
    # br0 at 4000 was set by hand: the kernel leaves it; both ports differ.
    assert make_plan(d, state(4000)).notes == [  # type: ignore[arg-type]
        _note("a", 9000, "br0", 4000),
        _note("b", 1500, "br0", 4000),
    ]


def test_audit_finds_after_the_apply_what_the_note_said_before() -> None:
    after = host(
        link(3, "br1", kind="bridge", mtu=1500, info=BridgeInfo(stp=False)),
        link(4, "p1", kind="veth", mtu=9000, master_ifindex=3, slave_kind="bridge", info=VethInfo(5)),
        link(5, "p1-x", kind="veth", mtu=9000, info=VethInfo(4)),
        link(6, "p2", kind="veth", mtu=1500, master_ifindex=3, slave_kind="bridge", info=VethInfo(7)),
        link(7, "p2-x", kind="veth", info=VethInfo(6)),
    )
    (finding,) = bridge_port_mtu_mismatch(AuditContext(after))
    assert finding.ifname == "p1"
    note = _note("p1", 9000, "br1", 1500)
    assert note.startswith(f"p1: {finding.message} after this plan: {finding.why};")

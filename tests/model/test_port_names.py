"""The ports a bridge or bond declares: one rule (InterfaceSpec.port_names) for validation, the planner
and rehearsal, where each used to spell it."""

from __future__ import annotations

from linkctl.model.spec import InterfaceSpec
from linkctl.plan.match import _ports


def spec(data: dict[str, object]) -> InterfaceSpec:
    return InterfaceSpec.model_validate({"name": "m0", **data})


def test_bridge_and_bond_ports_in_their_order() -> None:
    bridge = spec({"type": "linux-bridge", "bridge": {"port": [{"name": "p2"}, {"name": "p1"}]}})
    assert bridge.port_names == ["p2", "p1"] == _ports(bridge)
    bond = spec({"type": "bond", "link-aggregation": {"mode": "active-backup", "port": ["e1", "e0"]}})
    alias = spec({"type": "bond", "bond": {"mode": "active-backup", "port": ["e1", "e0"]}})  # nmstate's other spelling
    assert bond.port_names == alias.port_names == ["e1", "e0"]


def test_no_port_list_is_not_an_empty_one() -> None:
    # No list: the ports are left as they are. An empty list: the controller has none.
    assert spec({"type": "linux-bridge", "bridge": {}}).port_names is None
    assert spec({"type": "linux-bridge", "bridge": {"port": []}}).port_names == []
    assert spec({"type": "veth", "veth": {"peer": "m1"}}).port_names is None
    assert _ports(spec({"type": "linux-bridge", "bridge": {}})) == []

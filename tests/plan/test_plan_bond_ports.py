"""A bond's `ports-config` (queue-id, priority): planned as the port's IFLA_INFO_SLAVE_DATA.

Planned here from typed states: this kernel has no bonding (tests/kernel probes it and skips the
kernel run with that reason); the request's bytes are compared with pyroute2's encoder.
"""

from __future__ import annotations

import struct

from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

from linkctl.kernel import rtnl
from linkctl.model.state import BondInfo, BondPortInfo
from linkctl.plan.convert import declaration_of
from linkctl.plan.ops import SetMaster, SetPort
from linkctl.plan.planner import make_plan
from tests.helpers.states import decl, host, link


def _bond(queue_ids: tuple[int, int] = (0, 0), prios: tuple[int, int] = (0, 0)) -> object:
    return host(
        link(1, "lo"),
        link(2, "bond0", kind="bond", info=BondInfo(mode="active-backup", miimon=100)),
        link(3, "e1", master_ifindex=2, bond_port=BondPortInfo(queue_id=queue_ids[0], priority=prios[0])),
        link(4, "e2", master_ifindex=2, bond_port=BondPortInfo(queue_id=queue_ids[1], priority=prios[1])),
    )


def _file(*configs: dict[str, object]) -> object:
    bond = {"mode": "active-backup", "port": ["e1", "e2"], "ports-config": list(configs)}
    return decl({"name": "bond0", "type": "bond", "link-aggregation": bond})


def test_a_changed_queue_id_and_priority_are_one_port_step_with_the_ip_command() -> None:
    plan = make_plan(_file({"name": "e1", "queue-id": 3, "priority": 10}, {"name": "e2"}), _bond())  # type: ignore[arg-type]
    (op,) = plan.ops
    assert isinstance(op, SetPort) and op.name == "e1" and op.master == "bond0" and op.slave_kind == "bond"
    assert op.ip_command() == ["ip", "link", "set", "dev", "e1", "type", "bond_slave", "queue_id", "3", "prio", "10"]
    assert [str(d) for d in op.diffs] == ["queue-id 0 -> 3", "priority 0 -> 10"]


def test_only_what_differs_is_sent_and_equal_settings_plan_nothing() -> None:
    state = _bond(queue_ids=(3, 0), prios=(10, 0))
    assert make_plan(_file({"name": "e1", "queue-id": 3, "priority": 10}), state).ops == []  # type: ignore[arg-type]
    (op,) = make_plan(_file({"name": "e1", "queue-id": 3, "priority": 20}), state).ops  # type: ignore[arg-type]
    assert isinstance(op, SetPort) and op.args == ("type", "bond_slave", "prio", "20")


def test_a_port_joining_gets_its_settings_after_it_is_enslaved() -> None:
    state = host(
        link(1, "lo"),
        link(2, "bond0", kind="bond", info=BondInfo(mode="active-backup", miimon=100)),
        link(3, "e1"),
    )
    bond = {"mode": "active-backup", "port": ["e1"], "ports-config": [{"name": "e1", "queue-id": 2}]}
    ops = make_plan(decl({"name": "bond0", "type": "bond", "link-aggregation": bond}), state).ops  # type: ignore[arg-type]
    kinds = [type(op) for op in ops]
    assert SetMaster in kinds and SetPort in kinds and kinds.index(SetMaster) < kinds.index(SetPort)
    port = ops[kinds.index(SetPort)]
    assert isinstance(port, SetPort) and [str(d) for d in port.diffs] == [
        "queue-id 0 -> 2"
    ]  # bond_enslave: a new port's


def test_show_yaml_of_a_bond_with_port_settings_applies_back_as_nothing() -> None:
    state = _bond(queue_ids=(3, 0), prios=(10, 5))
    back = declaration_of(state)  # type: ignore[arg-type]
    bond = next(i for i in back.interfaces if i.name == "bond0")
    assert bond.link_aggregation is not None and bond.link_aggregation.ports_config is not None
    assert {(c.name, c.queue_id, c.priority) for c in bond.link_aggregation.ports_config} == {
        ("e1", 3, 10),
        ("e2", 0, 5),
    }
    assert make_plan(back, state).ops == []  # type: ignore[arg-type]


def test_the_request_is_the_bytes_pyroute2_encodes() -> None:
    (op,) = make_plan(_file({"name": "e1", "queue-id": 3}), _bond()).ops  # type: ignore[arg-type]
    assert isinstance(op, SetPort)
    ours = rtnl.set_port(9, 3, None, op.slave_kind, op.data)
    msg = ifinfmsg()
    msg["index"] = 3
    msg["attrs"] = [
        (
            "IFLA_LINKINFO",
            {
                "attrs": [
                    ("IFLA_INFO_SLAVE_KIND", "bond"),
                    ("IFLA_INFO_SLAVE_DATA", {"attrs": [("IFLA_BOND_SLAVE_QUEUE_ID", 3)]}),
                ]
            },
        )
    ]
    msg["header"]["type"], msg["header"]["flags"], msg["header"]["sequence_number"] = 16, 5, 9
    msg.encode()
    theirs = bytes(msg.data)
    # Equal but for NLA_F_NESTED (0x8000), which linkctl sets on its two nests and pyroute2 leaves out.
    differ = [i for i, (x, y) in enumerate(zip(ours, theirs, strict=True)) if x != y]
    assert len(differ) == 2 and all(ours[i] == theirs[i] | 0x80 for i in differ)


def test_a_priority_is_the_kernel_s_signed_ifla_bond_slave_prio() -> None:
    # pyroute2 has no IFLA_BOND_SLAVE_PRIO (9, s32, Linux 6.0): the attribute as the kernel's
    # bond_slave_changelink reads it (nla_get_s32).
    (op,) = make_plan(_file({"name": "e1", "priority": -7}), _bond()).ops  # type: ignore[arg-type]
    assert isinstance(op, SetPort) and op.data == struct.pack("=HHi", 8, 9, -7)


def test_a_queue_id_swap_frees_the_held_id_first() -> None:
    """The kernel gives a non-zero queue id to one port at a time (EPERM otherwise): each port giving up an
    id another port is given goes through 0 first."""
    state = _bond(queue_ids=(1, 2))
    ops = make_plan(_file({"name": "e1", "queue-id": 2}, {"name": "e2", "queue-id": 1}), state).ops  # type: ignore[arg-type]
    told = [(op.name, [str(d) for d in op.diffs]) for op in ops if isinstance(op, SetPort)]
    assert told == [
        ("e1", ["queue-id 1 -> 0"]),
        ("e2", ["queue-id 2 -> 0"]),
        ("e1", ["queue-id 0 -> 2"]),
        ("e2", ["queue-id 0 -> 1"]),
    ]
    assert (ops[0].reason, ops[1].reason) == ("frees queue-id 1", "frees queue-id 2")


def test_priority_belongs_to_the_modes_that_pick_an_active_port() -> None:
    import pytest

    from linkctl.model.load import SchemaFailed

    bond = {"mode": "balance-rr", "port": ["e1"], "ports-config": [{"name": "e1", "priority": 5}]}
    with pytest.raises(SchemaFailed) as refused:
        decl({"name": "bond0", "type": "bond", "link-aggregation": bond})
    assert "priority (of e1) does not belong to mode balance-rr" in str(refused.value)


def test_a_ports_config_entry_must_name_a_port() -> None:
    import pytest

    from linkctl.model.load import SchemaFailed

    bond = {"mode": "active-backup", "port": ["e1"], "ports-config": [{"name": "e9", "queue-id": 2}]}
    with pytest.raises(SchemaFailed) as refused:
        decl({"name": "bond0", "type": "bond", "link-aggregation": bond})
    assert "ports-config names e9, not in port ['e1']" in str(refused.value)


def test_show_yaml_of_a_balance_rr_bond_writes_no_priority_and_a_rejoining_port_is_sent_nothing() -> None:
    state = host(
        link(1, "lo"),
        link(2, "bond0", kind="bond", info=BondInfo(mode="balance-rr", miimon=100)),
        link(3, "e1", master_ifindex=2, bond_port=BondPortInfo(queue_id=0, priority=0)),
        link(4, "e2", bond_port=None),
    )
    back = declaration_of(state)  # type: ignore[arg-type]
    bond = next(i for i in back.interfaces if i.name == "bond0")
    assert bond.link_aggregation is not None and bond.link_aggregation.ports_config is not None
    assert [(c.name, c.queue_id, c.priority) for c in bond.link_aggregation.ports_config] == [("e1", 0, None)]
    # e2 joins with the kernel's queue id 0: the entry the rollback re-declares asks for nothing more.
    joined = {"mode": "balance-rr", "port": ["e1", "e2"], "ports-config": [{"name": "e2", "queue-id": 0}]}
    ops = make_plan(decl({"name": "bond0", "type": "bond", "link-aggregation": joined}), state).ops  # type: ignore[arg-type]
    assert [type(op) for op in ops] == [SetMaster]

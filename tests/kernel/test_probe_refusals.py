"""What kernel/probe.py refuses after validation: settings linkctl would otherwise take and leave undone."""

from __future__ import annotations

import pytest

from linkctl.errors import ValidationFailed
from linkctl.kernel.probe import _refuse_bond_port_settings
from linkctl.model.load import from_data


def _decl(ports_config: list[dict[str, object]]) -> object:
    bond = {"mode": "active-backup", "port": ["e1", "e2"], "ports-config": ports_config}
    return from_data({"interfaces": [{"name": "bond0", "type": "bond", "link-aggregation": bond}]}, "f.yml")


def test_a_bond_ports_queue_id_is_refused_naming_the_port_and_the_ip_command() -> None:
    decl = _decl([{"name": "e1", "queue-id": 3}, {"name": "e2"}])
    with pytest.raises(ValidationFailed) as refused:
        _refuse_bond_port_settings(decl, "f.yml")  # type: ignore[arg-type]
    text = str(refused.value)
    assert "ports-config.e1" in text and "type bond_slave queue_id N prio N" in text
    assert "ports-config.e2" not in text  # a name alone asks for nothing


def test_ports_config_with_names_only_is_taken() -> None:
    _refuse_bond_port_settings(_decl([{"name": "e1"}, {"name": "e2"}]), "f.yml")  # type: ignore[arg-type]

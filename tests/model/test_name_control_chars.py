"""Control characters in names: refused in a file (every key that names a link), taken from the
kernel, and escaped wherever a message prints them."""

from __future__ import annotations

import pytest

from linkctl.errors import ValidationFailed, printable
from linkctl.model.load import parse_text
from linkctl.model.spec import Declaration, InterfaceSpec
from linkctl.plan.checks import Scope
from tests.helpers.states import topology


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ('{name: "v\\e[8m", type: veth, veth: {peer: p}}', "name"),
        ('{name: v, type: veth, veth: {peer: "p\\x07"}}', "veth.peer"),
        ('{name: m, type: mac-vlan, mac-vlan: {base-iface: "b\\u202e0"}}', "mac-vlan.base-iface"),
        ('{name: br, type: linux-bridge, bridge: {port: [{name: "q\\x9b"}]}}', "bridge.port.0.name"),
    ],
)
def test_a_file_naming_a_link_with_a_control_character_is_refused(entry: str, field: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_text(f"interfaces: [{entry}]", "f.yml")
    (problem,) = info.value.problems
    assert problem.field == field and "may not contain control characters" in problem.allowed
    assert printable(str(problem)) == str(problem)  # the value, and the entry's name, escaped


def test_a_name_the_kernel_reports_is_taken_as_it_is() -> None:
    # plan/convert.py builds entries of the links there are; a rollback's restore is one of those.
    spec = InterfaceSpec(name="m\x1b[8m")
    assert Declaration(interfaces=[spec]).interfaces[0].name == "m\x1b[8m"


def test_printable_escapes_what_a_terminal_acts_on_and_keeps_the_lines() -> None:
    assert printable("a\x1b[8mb\nc\x07\u202ed é") == "a\\x1b[8mb\nc\\x07\\u202ed é"
    assert printable("plain words") == "plain words"


def test_validation_spells_an_entry_as_the_format_does() -> None:
    """The same name in one spelling: a key the format refused is not told again as not given."""
    scope = Scope(Declaration(), topology(), "f.yml")
    scope.add(InterfaceSpec(name="v\x1b"), "veth", None, "x")
    assert scope.problems[0].where == "f.yml: interface 'v\\x1b'"

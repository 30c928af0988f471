"""The declaration loader builds what PyYAML's safe loader builds (less base-60 numbers), faster.

model/yaml_load.py builds plain documents in one walk of the node tree and
leaves anything else to PyYAML's constructor; both paths must give PyYAML's data.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import yaml

from linkctl.model import yaml_load


def pyyaml(text: str) -> Any:
    return yaml.load(text, Loader=yaml.SafeLoader)  # the pure-Python reference


PLAIN_DOCUMENTS = [
    "interfaces:\n- name: br0\n  type: linux-bridge\n  mtu: 9000\n  bridge: {port: [{name: v0}], options: {stp: false}}\n",
    "- {name: v0, type: veth, mtu: 9000, txqueuelen: 2000, state: up, veth: {peer: p0}}\n",
    "{a: 0, b: 007, c: 0x1F, d: 1_000, e: -5, f: +3, g: 0b101, h: 10}",
    "{a: 1.5, b: .inf, c: -.Inf, d: 1e3, e: 6.02e+23, f: 1_0.5}",
    "{a: yes, b: no, c: on, d: off, e: True, f: FALSE, g: y, h: n}",
    "{a: ~, b: null, c: , d: ''}",
    '{a: 9000, b: "9000", c: \'9000\', d: "yes", e: yes}',
    "{1: one, 2.5: two, false: three, ~: four}",
    "[]",
    "{}",
    "just text",
    "[[1, [2, [3, {x: [4]}]]]]",
]


@pytest.mark.parametrize("text", PLAIN_DOCUMENTS)
def test_plain_documents_load_as_pyyaml_loads_them(text: str) -> None:
    assert yaml_load.load(text) == pyyaml(text)


def test_a_quoted_number_stays_a_string_next_to_the_same_number_unquoted() -> None:
    # Tags are remembered per text for plain scalars only: "9000" must not take 9000's int tag.
    data = yaml_load.load('{mtu: 9000, name: "9000", alias: 9000}')
    assert data == {"mtu": 9000, "name": "9000", "alias": 9000}
    assert isinstance(data["name"], str) and isinstance(data["alias"], int)


def test_base_60_forms_are_strings() -> None:
    data = yaml_load.load("{mac: 52:54:00:12:34:56, t: 1:30.5, n: 190:20:30}")
    assert data == {"mac": "52:54:00:12:34:56", "t": "1:30.5", "n": "190:20:30"}


def test_an_alias_shares_the_object_as_pyyaml_does() -> None:
    data = yaml_load.load("{x: &ports [{name: v0}], y: *ports}")
    assert data == pyyaml("{x: &ports [{name: v0}], y: *ports}")
    assert data["x"] is data["y"]


def test_a_recursive_alias_is_refused_where_it_starts() -> None:
    # PyYAML builds a list that holds itself; written out it never ends, and no declaration needs one.
    with pytest.raises(yaml_load.DeclarationError, match="an alias inside the node it names") as info:
        yaml_load.load("x: 1\ny: &a [1, *a]")
    mark = info.value.problem_mark
    assert mark is not None and mark.line == 1


def test_merge_keys_are_merged() -> None:
    text = "{base: &b {mtu: 9000, state: up}, eth0: {<<: *b, name: eth0, mtu: 1500}}"
    data = yaml_load.load(text)
    assert data["eth0"] == {"mtu": 1500, "state": "up", "name": "eth0"}
    assert data == pyyaml(text)


def test_explicit_tags_and_timestamps_are_pyyaml_s() -> None:
    text = "{a: !!str 123, b: 2026-11-30, c: !!binary aGk=, d: !!float 1, e: !!set {x, y}}"
    data = yaml_load.load(text)
    assert data == {"a": "123", "b": datetime.date(2026, 11, 30), "c": b"hi", "d": 1.0, "e": {"x", "y"}}


def test_an_unhashable_key_is_pyyaml_s_error() -> None:
    with pytest.raises(yaml.constructor.ConstructorError, match="unhashable key"):
        yaml_load.load("{? [1, 2] : x}")


@pytest.mark.parametrize("text", ["{a: !!str {b: 1}}", "{a: !!null [1]}", "{a: !!int {b: 1}}", "!!seq {a: 1}"])
def test_a_scalar_tag_on_a_collection_is_pyyaml_s_error(text: str) -> None:
    with pytest.raises(yaml.constructor.ConstructorError):
        pyyaml(text)
    with pytest.raises(yaml.constructor.ConstructorError):
        yaml_load.load(text)


def test_an_unknown_tag_is_refused_as_by_the_safe_loader() -> None:
    with pytest.raises(yaml.constructor.ConstructorError, match="could not determine a constructor"):
        yaml_load.load("!!python/object:os.system x")


def test_the_one_walk_builds_a_declaration_without_pyyaml_s_constructor() -> None:
    # The fast path itself: the data PyYAML would build, from the composed node tree.
    text = "interfaces:\n" + "".join(
        f"- {{name: v{i}, type: veth, mtu: 9000, state: up, veth: {{peer: p{i}}}}}\n" for i in range(50)
    )
    loader = yaml_load.DeclarationLoader(text)
    try:
        node = loader.get_single_node()
        assert yaml_load._Plain(loader).build(node) == pyyaml(text)
    finally:
        loader.dispose()

"""What PyYAML and the schema would let through but a declaration refuses, with the reason.

A key given twice (PyYAML keeps the last silently), a name with '%' (the kernel
reads it as a template and picks the number), and secrets echoed back in a
refusal: each is said, naming where, and no secret's value is ever printed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from linkctl.errors import HIDDEN, Problem, is_secret
from linkctl.model import yaml_load
from linkctl.model.load import parse_text
from linkctl.watch.config import ConfigError, parse_config
from tests.conftest import LINKCTL

SECRET = "hunter2-do-not-print"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LINKCTL, *args], capture_output=True, text=True, timeout=120, check=False)


# -- a key given twice -------------------------------------------------------------------------


def test_a_repeated_key_is_refused_with_both_lines(tmp_path: Path) -> None:
    # Was: mtu 1300 taken silently.
    path = tmp_path / "dup.yml"
    path.write_text("interfaces:\n- name: v0\n  type: veth\n  mtu: 1400\n  veth: {peer: p0}\n  mtu: 1300\n")
    res = run("plan", str(path))
    assert res.returncode == 1, res.stderr
    assert f"{path}:6:3: YAML: 'mtu': each key once in a mapping: 'mtu' is on line 4 and again on line 6" in res.stderr
    assert "nothing was changed" in res.stderr


@pytest.mark.parametrize(
    ("text", "first", "again"),
    [
        ("a: 1\nb:\n  c: 1\n  d: 2\n  c: 3\n", 3, 5),  # nested: the one walk
        ("x: &x {m: 1}\ny: *x\nz: {p: 1, p: 2}\n", 3, 3),  # with an alias: PyYAML's constructor
        ("x: &x {m: 1}\ny: {<<: *x, q: 1, q: 2}\n", 2, 2),
        ("{1: a, 0x1: b}\n", 1, 1),  # the same number spelt twice
    ],
)
def test_a_repeated_key_is_refused_on_either_path(text: str, first: int, again: int) -> None:
    with pytest.raises(yaml_load.DeclarationError) as info:
        yaml_load.load(text)
    assert f"on line {first} and again on line {again}" in info.value.fix
    mark = info.value.problem_mark
    assert mark is not None and mark.line + 1 == again


def test_a_merged_key_may_be_overridden() -> None:
    # `<<: *base` then the key itself: YAML's merge, not a repetition.
    data = yaml_load.load("base: &b {mtu: 9000, state: up}\neth0: {<<: *b, mtu: 1500}\n")
    assert data["eth0"] == {"mtu": 1500, "state": "up"}


def test_pyyaml_itself_would_take_the_last() -> None:
    # Why the loader checks: the safe loader keeps the second value and says nothing.
    assert yaml.safe_load("{mtu: 1400, mtu: 1300}") == {"mtu": 1300}


# -- '%' in a name -----------------------------------------------------------------------------

PERCENT = 'interfaces:\n- name: "v%d"\n  type: veth\n  veth: {peer: "p%d"}\n'


def test_a_name_with_percent_is_refused_naming_each_field() -> None:
    with pytest.raises(Exception) as info:
        parse_text(PERCENT, "f.yml")
    lines = str(info.value).splitlines()
    assert lines[1].startswith("  - f.yml: interface v%d: name: 'v%d': an interface name may not contain '%'")
    assert lines[2].startswith("  - f.yml: interface v%d: veth.peer: 'p%d': an interface name may not contain '%'")
    assert "write the name out (v0, v1, ...)" in lines[1]


@pytest.mark.parametrize(
    "entry",
    [
        "{name: br0, type: linux-bridge, bridge: {port: [{name: 'e%d'}]}}",
        "{name: m0, type: mac-vlan, mac-vlan: {base-iface: 'e%d'}}",
        "{name: b0, type: bond, link-aggregation: {port: ['e%d']}}",
    ],
)
def test_a_reference_with_percent_is_refused_too(entry: str) -> None:
    with pytest.raises(Exception, match="may not contain '%'"):
        parse_text(f"interfaces: [{entry}]", "f.yml")


def test_apply_of_template_names_changes_nothing(netns: str, tmp_path: Path) -> None:
    # Was: the kernel made v2 and p0 (each '%d' filled in with a free number), then a failure.
    path = tmp_path / "percent.yml"
    path.write_text(PERCENT)
    res = run("apply", "--netns", netns, str(path))
    assert res.returncode == 1, res.stdout + res.stderr
    assert "may not contain '%'" in res.stderr and "nothing was changed" in res.stderr
    links = subprocess.run(["ip", "-n", netns, "-o", "link", "show"], capture_output=True, text=True, check=True)
    assert [line.split(":")[1].strip() for line in links.stdout.splitlines()] == ["lo"]


# -- secrets -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entry",
    [
        f"802.1X: {{identity: alice, password: {SECRET}, private-key-password: {SECRET}}}",  # misspelt
        f"password: {SECRET}",
        f"psk: {SECRET}",
        f"macsec: {{mka-cak: {SECRET}, mka-ckn: 0102}}",
        f"wifi: {{ssid: x, token: [{SECRET}]}}",
        f"secret: {{value: {SECRET}}}",
    ],
)
@pytest.mark.parametrize("debug", [False, True])
def test_a_secret_in_an_unknown_section_is_never_printed(tmp_path: Path, entry: str, debug: bool) -> None:
    # Was: `802.1x: {password: ...}` printed the password back in the refusal.
    path = tmp_path / "secret.yml"
    path.write_text(f"interfaces:\n- name: v0\n  type: veth\n  veth: {{peer: p0}}\n  {entry}\n")
    res = run("plan", *(["--debug"] if debug else []), str(path))
    assert res.returncode == 1, res.stderr
    assert "unknown key" in res.stderr
    assert SECRET not in res.stdout + res.stderr
    assert HIDDEN in res.stderr or "'(section)'" in res.stderr  # a section's content is never quoted


def test_a_repeated_secret_key_names_the_key_not_the_value() -> None:
    with pytest.raises(yaml_load.DeclarationError) as info:
        yaml_load.load(f"psk: {SECRET}\npsk: {SECRET}x\n")
    assert SECRET not in str(info.value) + info.value.fix


def test_a_watch_config_refusal_hides_a_secret() -> None:
    receiver = {"type": "smtp", "name": "m", "host": "h", "from": "a@b.c", "to": ["x@y.z"], "password": SECRET}
    with pytest.raises(ConfigError) as info:
        parse_config({"alerts": {"receivers": [receiver]}})
    assert "alerts.receivers.0.password: (secret, not shown): unknown field" in str(info.value)
    assert SECRET not in str(info.value)


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("password", True),
        ("private-key-password", True),
        ("psk", True),
        ("mka-cak", True),
        ("secret", True),
        ("token", True),
        ("Passphrase", True),
        ("api_key", True),
        ("password_file", False),  # where the secret is kept: a path a person needs to see
        ("secret_env", False),
        ("mka-ckn", False),
        ("mtu", False),
        ("peer", False),
    ],
)
def test_secret_looking_keys(key: str, secret: bool) -> None:
    assert is_secret(key) is secret


def test_a_problem_under_a_secret_key_hides_its_value() -> None:
    text = str(Problem("f.yml", "802.1x.password", SECRET, "unknown key"))
    assert text == f"f.yml: 802.1x.password: {HIDDEN}: unknown key"

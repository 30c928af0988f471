"""A veth peer renamed by hand (`ip link set u0p name u0q`) is named back, in real namespaces."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ip, run_linkctl

BOTH = """
interfaces:
- {name: u0, type: veth, veth: {peer: u0p}}
- {name: u0p, type: veth, veth: {peer: u0}}
"""
ONE = """
interfaces:
- {name: u0, type: veth, veth: {peer: u0p}}
"""


def write(tmp_path: Path, text: str, name: str = "d.yml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def links(ns: str) -> dict[str, dict[str, object]]:
    return {str(d["ifname"]): d for d in json.loads(ip("-n", ns, "-j", "link", "show"))}


def is_up(link: dict[str, object]) -> bool:
    flags = link["flags"]
    assert isinstance(flags, list)
    return "UP" in flags


@pytest.mark.parametrize("text", [BOTH, ONE], ids=["both-ends", "one-end"])
def test_a_renamed_peer_is_named_back_and_a_second_apply_does_nothing(netns: str, tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    assert run_linkctl("apply", path, "--netns", netns).returncode == 0
    ip("-n", netns, "link", "set", "u0p", "name", "u0q")
    before = links(netns)
    plan = run_linkctl("plan", path, "--netns", netns)
    assert plan.returncode == 2, plan.stderr
    assert f"$ ip -n {netns} link set dev u0q name u0p" in plan.stdout
    res = run_linkctl("apply", path, "--netns", netns)
    assert res.returncode == 0, res.stderr
    after = links(netns)
    assert set(after) == {"lo", "u0", "u0p"}
    # The same pair, not a new one: same indexes, the peer up again as it was.
    assert (after["u0"]["ifindex"], after["u0p"]["ifindex"]) == (before["u0"]["ifindex"], before["u0q"]["ifindex"])
    assert after["u0"]["link"] == "u0p" and is_up(after["u0p"])
    again = run_linkctl("apply", path, "--netns", netns)
    assert again.returncode == 0 and "no changes" in again.stdout


def test_a_peer_renamed_while_down_is_named_back_down(netns: str, tmp_path: Path) -> None:
    path = write(tmp_path, ONE)
    assert run_linkctl("apply", path, "--netns", netns).returncode == 0
    ip("-n", netns, "link", "set", "u0p", "down")
    ip("-n", netns, "link", "set", "u0p", "name", "u0q")
    assert run_linkctl("apply", path, "--netns", netns).returncode == 0
    assert not is_up(links(netns)["u0p"])


def _across(a: str, b: str, c: str | None = None) -> str:
    text = f"""
interfaces:
- {{name: u0, type: veth, veth: {{peer: u0p, peer-netns: {b}}}}}
- {{name: u0p, netns: {b}, type: veth, veth: {{peer: u0, peer-netns: {a}}}}}
"""
    if c is not None:  # a pair in a third namespace: the file reads that one too
        text += f"- {{name: c0, netns: {c}, type: veth, veth: {{peer: c0p}}}}\n"
    return text


def test_a_peer_renamed_in_its_own_namespace_is_renamed_there(netns_factory: Callable[[], str], tmp_path: Path) -> None:
    a, b = netns_factory(), netns_factory()
    path = write(tmp_path, _across(a, b))
    assert run_linkctl("apply", path, "--netns", a).returncode == 0
    ip("-n", b, "link", "set", "u0p", "name", "u0q")
    plan = run_linkctl("plan", path, "--netns", a)
    assert f"$ ip -n {b} link set dev u0q name u0p" in plan.stdout, plan.stdout + plan.stderr
    index = links(a)["u0"]["ifindex"]
    assert run_linkctl("apply", path, "--netns", a).returncode == 0
    assert set(links(b)) == {"lo", "u0p"} and is_up(links(b)["u0p"]) and links(a)["u0"]["ifindex"] == index
    assert "no changes" in run_linkctl("apply", path, "--netns", a).stdout


def test_a_peer_renamed_and_moved_elsewhere_is_renamed_and_moved_back(
    netns_factory: Callable[[], str], tmp_path: Path
) -> None:
    a, b, c = netns_factory(), netns_factory(), netns_factory()
    path = write(tmp_path, _across(a, b, c))
    assert run_linkctl("apply", path, "--netns", a).returncode == 0
    ip("-n", b, "link", "set", "u0p", "netns", c)
    ip("-n", c, "link", "set", "u0p", "name", "u0q")
    ip("-n", c, "link", "set", "u0q", "up")  # the move brought it down: up again, it comes back up
    index = links(a)["u0"]["ifindex"]
    res = run_linkctl("apply", path, "--netns", a)
    assert res.returncode == 0, res.stderr
    assert f"$ ip -n {c} link set dev u0q name u0p" in res.stdout
    assert set(links(c)) == {"lo", "c0", "c0p"} and set(links(b)) == {"lo", "u0p"}
    assert is_up(links(b)["u0p"]) and links(a)["u0"]["ifindex"] == index
    assert "no changes" in run_linkctl("apply", path, "--netns", a).stdout


def test_a_declared_peer_name_another_link_holds_is_refused_before_any_change(netns: str, tmp_path: Path) -> None:
    path = write(tmp_path, BOTH)
    assert run_linkctl("apply", path, "--netns", netns).returncode == 0
    ip("-n", netns, "link", "set", "u0p", "name", "u0q")
    ip("-n", netns, "link", "add", "u0p", "type", "bridge")
    before = links(netns)
    res = run_linkctl("apply", path, "--netns", netns)
    assert res.returncode == 1
    assert "u0's veth peer is u0q now" in res.stderr and "rename or delete u0p" in res.stderr
    assert "nothing was changed" in res.stderr
    assert links(netns) == before


def test_a_failed_apply_puts_the_old_name_back(netns: str, tmp_path: Path) -> None:
    from linkctl.engine.apply import ApplyFailed, Context, apply, prepare
    from linkctl.model.load import load_file

    path = write(tmp_path, BOTH + "- {name: vA, type: veth, veth: {peer: vB}}\n", "more.yml")
    assert run_linkctl("apply", write(tmp_path, BOTH), "--netns", netns).returncode == 0
    ip("-n", netns, "link", "set", "u0p", "name", "u0q")
    before = links(netns)
    ctx = Context(load_file(path), "d.yml", netns)
    host, plan = prepare(ctx)
    assert [op.verb for op in plan.ops] == ["rename", "create"]
    ip("-n", netns, "link", "add", "vA", "type", "veth", "peer", "name", "vC")  # made behind linkctl's back
    with pytest.raises(ApplyFailed) as info:
        apply(ctx, host, plan)
    assert "File exists" in str(info.value) and "rolled back" in str(info.value)
    after = links(netns)
    assert "u0p" not in after and after["u0"]["link"] == "u0q"
    assert after["u0q"]["ifindex"] == before["u0q"]["ifindex"] and is_up(after["u0q"])

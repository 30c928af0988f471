"""`controller:` on a port (nmstate 2.2.2+) in real namespaces: a port joins its bridge and the
bridge's other ports stay, `controller: ''` detaches it, a second apply sends nothing, a conflict with
a port list is refused naming field, value and fix before anything changes, `try` rolls a join back."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ip, run_linkctl
from tests.engine.kernel_helpers import by_name, is_up, write


def _links(ns: str) -> None:
    """eth1, eth2 as veth ends; br0 with eth2 as its port."""
    ip("-n", ns, "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p")
    ip("-n", ns, "link", "add", "eth2", "type", "veth", "peer", "name", "eth2p")
    ip("-n", ns, "link", "add", "br0", "type", "bridge")
    ip("-n", ns, "link", "set", "eth2", "master", "br0")


def test_a_port_joins_then_leaves_its_bridge_and_each_apply_twice_sends_nothing(netns: str, tmp_path: Path) -> None:
    _links(netns)
    join = write(tmp_path, "interfaces: [{name: eth1, state: up, controller: br0}]", "join.yml")
    res = run_linkctl("apply", join, "--netns", netns)
    assert res.returncode == 0, res.stderr
    links = by_name(netns)
    assert links["eth1"].get("master") == "br0" and links["eth2"].get("master") == "br0", links
    assert is_up(links["eth1"])
    again = run_linkctl("apply", join, "--netns", netns)
    assert again.returncode == 0 and "nothing was sent to the kernel" in again.stdout, again.stdout + again.stderr

    leave = write(tmp_path, "interfaces: [{name: eth1, controller: ''}]", "leave.yml")
    res = run_linkctl("apply", leave, "--netns", netns)
    assert res.returncode == 0, res.stderr
    links = by_name(netns)
    assert "master" not in links["eth1"] and links["eth2"].get("master") == "br0", links
    again = run_linkctl("apply", leave, "--netns", netns)
    assert again.returncode == 0 and "nothing was sent to the kernel" in again.stdout, again.stdout + again.stderr


def test_a_port_list_that_leaves_the_port_out_is_refused_and_nothing_changes(netns: str, tmp_path: Path) -> None:
    _links(netns)
    text = """
interfaces:
- {name: br0, type: linux-bridge, mtu: 1400, bridge: {port: [{name: eth2}]}}
- {name: eth1, controller: br0}
"""
    res = run_linkctl("apply", write(tmp_path, text), "--netns", netns)
    assert res.returncode != 0
    assert "interface eth1: controller: 'br0': a controller whose port list names it" in res.stderr, res.stderr
    assert "add eth1 to br0's port list, or leave `controller` out" in res.stderr, res.stderr
    links = by_name(netns)
    assert "master" not in links["eth1"] and links["br0"]["mtu"] == 1500, links


def test_a_join_held_by_try_is_rolled_back_without_confirmation(netns: str, tmp_path: Path) -> None:
    _links(netns)
    held = write(tmp_path, "interfaces: [{name: eth1, controller: br0}]", "t.yml")
    res = run_linkctl("try", held, "--netns", netns, "--timeout", "1")
    assert res.returncode == 3 and "no confirmation" in res.stdout, res.stdout + res.stderr
    assert "enslave eth1" in res.stdout, res.stdout
    links = by_name(netns)
    assert "master" not in links["eth1"] and links["eth2"].get("master") == "br0", links


def test_an_undeclared_port_joining_an_up_bridge_by_its_list_comes_up(netns: str, tmp_path: Path) -> None:
    """nmstate includes a listed port it was not given with `state: up` (handle_changed_ports)."""
    _links(netns)
    ip("-n", netns, "link", "set", "br0", "up")
    assert not is_up(by_name(netns)["eth1"])
    text = "interfaces: [{name: br0, state: up, bridge: {port: [{name: eth2}, {name: eth1}]}}]"
    path = write(tmp_path, text)
    res = run_linkctl("apply", path, "--netns", netns)
    assert res.returncode == 0, res.stderr
    links = by_name(netns)
    assert links["eth1"].get("master") == "br0" and is_up(links["eth1"]), links
    assert not is_up(links["eth2"]), links  # already a port: left as it was
    again = run_linkctl("apply", path, "--netns", netns)
    assert "nothing was sent to the kernel" in again.stdout, again.stdout + again.stderr

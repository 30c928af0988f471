"""The plan's `ip` commands and notes against the real kernel: run by ip they make what the file declares; re-creations keep what the file leaves out."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ip, run_linkctl
from tests.engine.kernel_helpers import TOPOLOGY, by_name, drop_netns, is_up, write


@pytest.mark.parametrize("peer_section", ["", ", veth: {peer: va}"], ids=["peer-named-once", "both-ends-named"])
def test_the_plans_iproute2_commands_make_what_the_file_declares(
    netns_factory: Callable[[], str], tmp_path: Path, peer_section: str
) -> None:
    # Each step's `$ ip ...` lines, run by ip itself, must leave nothing for linkctl to change:
    # here a veth whose peer is in a namespace the plan creates, and is brought up after the pair.
    home, other = netns_factory(), f"lkt-{uuid.uuid4().hex[:8]}"
    path = write(
        tmp_path,
        f"""
interfaces:
- {{name: br0, type: linux-bridge, state: up, mtu: 1450, bridge: {{options: {{stp: {{enabled: false}}}}, port: [{{name: va}}]}}}}
- {{name: va, type: veth, state: up, mtu: 1450, txqueuelen: 2000, veth: {{peer: vb}}}}
- {{name: vb, type: veth, state: up, mtu: 1400, txqueuelen: 500, netns: {other}{peer_section}}}
- {{name: vx0, type: vxlan, mtu: 1400, vxlan: {{id: 42, base-iface: va, remote: 192.0.2.10, destination-port: 4789}}}}
""",
    )
    try:
        plan = run_linkctl("plan", path, "--netns", home, "--format", "json")
        assert plan.returncode == 2, plan.stderr
        for change in json.loads(plan.stdout)["changes"]:
            for cmd in change["commands"]:
                subprocess.run(cmd, check=True, capture_output=True)
        again = run_linkctl("plan", path, "--netns", home)
        assert (again.returncode, again.stderr) == (0, ""), again.stdout
    finally:
        drop_netns(other)


def test_the_ip_commands_of_a_change_plan_make_what_the_file_declares(
    netns_factory: Callable[[], str], tmp_path: Path
) -> None:
    # Changes in place, a re-creation, a release, a move out of a bridge: the plan's `$ ip ...`
    # lines, run by ip, leave nothing to change, and apply carries out the same plan.
    home, away = netns_factory(), netns_factory()
    changed = f"""
interfaces:
- {{name: br0, type: linux-bridge, mtu: 1500, bridge: {{options: {{stp: {{enabled: true, forward-delay: 4}},
    mac-ageing-time: 100}}, port: [{{name: veth0}}]}}}}
- {{name: veth0, type: veth, mtu: 1500, txqueuelen: 500, accept-all-mac-addresses: true,
    mac-address: "02:00:00:00:00:aa", veth: {{peer: veth0-p}}}}
- {{name: veth0-p, mtu: 1500}}
- {{name: veth1, type: veth, state: down, netns: {away}}}
- {{name: vx42, type: vxlan, mtu: 1400, vxlan: {{id: 43, base-iface: br0, remote: 192.0.2.11,
    destination-port: 4790, learning: false}}}}
- {{name: mv0, type: mac-vlan, mac-vlan: {{base-iface: veth0-p, mode: private}}}}
"""
    path = write(tmp_path, changed, "changed.yml")
    topology = write(tmp_path, TOPOLOGY)
    assert run_linkctl("apply", topology, "--netns", home).returncode == 0
    plan = run_linkctl("plan", path, "--netns", home, "--format", "json")
    assert plan.returncode == 2, plan.stderr
    for change in json.loads(plan.stdout)["changes"]:
        for cmd in change["commands"]:
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            assert done.returncode == 0, (cmd, done.stderr)
    again = run_linkctl("plan", path, "--netns", home)
    assert again.returncode == 0, again.stdout + again.stderr
    # The same change carried out by linkctl, from the original topology.
    ip("-n", away, "link", "del", "veth1")
    for name in ("vx42", "br0", "veth0"):  # mv0 goes with veth0's pair
        ip("-n", home, "link", "del", name)
    assert run_linkctl("apply", topology, "--netns", home).returncode == 0
    applied = run_linkctl("apply", path, "--netns", home)
    assert applied.returncode == 0, applied.stderr
    assert run_linkctl("plan", path, "--netns", home).returncode == 0


def test_plan_says_what_a_link_made_a_port_stops_answering_on(netns: str, tmp_path: Path) -> None:
    # The seed's `ip link set dev eth1 master br0`: the port keeps its address, and it goes dead.
    ip("-n", netns, "link", "add", "up0", "type", "veth", "peer", "name", "up0p")
    ip("-n", netns, "addr", "add", "10.9.0.1/24", "dev", "up0")
    ip("-n", netns, "link", "add", "bare0", "type", "veth", "peer", "name", "bare0p")
    text = "interfaces: [{name: br7, type: linux-bridge, bridge: {port: [{name: up0}, {name: bare0}]}}]"
    plan = run_linkctl("plan", write(tmp_path, text), "--netns", netns)
    assert plan.returncode == 2, plan.stderr
    assert (
        f"enslave up0 (netns {netns}) to br7: it carries 10.9.0.1/24, which a port no longer answers on; "
        "move them to br7"
    ) in plan.stdout
    assert f"enslave bare0 (netns {netns}) to br7\n" in plan.stdout


def test_plan_names_the_addresses_a_deletion_or_a_re_creation_loses(netns: str, tmp_path: Path) -> None:
    assert run_linkctl("apply", write(tmp_path, TOPOLOGY), "--netns", netns).returncode == 0
    ip("-n", netns, "addr", "add", "10.5.0.1/24", "dev", "veth1")
    ip("-n", netns, "addr", "add", "10.6.0.1/24", "dev", "mv0")
    # veth1-p declared absent: a new pair, not veth1-p renamed (plan/veth_match.py).
    text = "interfaces: [{name: veth1, type: veth, veth: {peer: veth1-q}}, {name: veth1-p, state: absent}, {name: mv0, state: absent}]"
    plan = run_linkctl("plan", write(tmp_path, text, "c.yml"), "--netns", netns)
    assert plan.returncode == 2, plan.stderr
    assert f"delete mv0 (netns {netns}): state: absent (its addresses 10.6.0.1/24 go with it)" in plan.stdout
    assert "re-create: veth.peer 'veth1-p' -> 'veth1-q' (its addresses 10.5.0.1/24 go with it)" in plan.stdout


def test_what_the_file_leaves_out_survives_a_re_creation_and_a_peer_is_moved_whole(netns: str, tmp_path: Path) -> None:
    # veth1 is a port of br0 with MTU 9000; mv0 sits on veth0-p. The file moves veth1's peer to
    # another namespace and gives mv0 another base, saying nothing of ports, MTUs or states.
    other = f"lkt-{uuid.uuid4().hex[:8]}"
    assert run_linkctl("apply", write(tmp_path, TOPOLOGY), "--netns", netns).returncode == 0
    before = by_name(netns)
    ip("-n", netns, "link", "set", "mv0", "txqueuelen", "700")
    ip("-n", netns, "link", "set", "mv0", "down")
    change = f"""
interfaces:
- {{name: veth1, type: veth, veth: {{peer: veth1-p, peer-netns: {other}}}}}
- {{name: mv0, type: mac-vlan, mac-vlan: {{base-iface: br0, mode: bridge}}}}
"""
    try:
        res = run_linkctl("apply", write(tmp_path, change, "c.yml"), "--netns", netns)
        assert res.returncode == 0, res.stderr
        assert f"move veth1-p (netns {netns}) to netns {other}" in res.stdout
        now = by_name(netns)
        # veth1 was not re-made: same MAC, still br0's port with its MTU
        assert (now["veth1"]["address"], now["veth1"].get("master"), now["veth1"]["mtu"]) == (
            before["veth1"]["address"], "br0", 9000,
        )  # fmt: skip
        assert is_up(by_name(other)["veth1-p"])
        # mv0 was re-made on its new base, keeping its queue length and its admin state
        assert now["mv0"]["link"] == "br0" and now["mv0"]["txqlen"] == 700 and not is_up(now["mv0"])
        assert run_linkctl("plan", write(tmp_path, change, "c.yml"), "--netns", netns).returncode == 0
    finally:
        drop_netns(other)


def test_links_stacked_on_a_re_created_veth_are_made_again_not_lost(netns: str, tmp_path: Path) -> None:
    # mv and vx stand on va and are not in the second file; va is re-made for its new peer name
    # (vb declared absent: a new pair, not vb renamed).
    first = """
interfaces:
- {name: va, type: veth, mtu: 9000, veth: {peer: vb}}
- {name: mv, type: mac-vlan, mtu: 1400, mac-vlan: {base-iface: va, mode: bridge}}
- {name: vx, type: vxlan, vxlan: {id: 5, base-iface: va, remote: 192.0.2.5, destination-port: 4789}}
"""
    assert run_linkctl("apply", write(tmp_path, first, "first.yml"), "--netns", netns).returncode == 0
    ip("-n", netns, "link", "set", "mv", "txqueuelen", "555")
    before = by_name(netns)
    second = write(
        tmp_path, "interfaces: [{name: va, type: veth, veth: {peer: vc}}, {name: vb, state: absent}]", "second.yml"
    )
    res = run_linkctl("apply", second, "--netns", netns)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "create mv (netns " in res.stdout and "it stands on va, which is re-created" in res.stdout
    after = by_name(netns)
    assert set(after) == {"lo", "va", "vc", "mv", "vx"}
    for name, keys in (("mv", ("address", "mtu", "txqlen")), ("vx", ("address", "mtu"))):
        assert [after[name][k] for k in keys] == [before[name][k] for k in keys], name
    assert after["vx"]["linkinfo"]["info_data"]["port"] == 4789  # type: ignore[index]
    assert run_linkctl("plan", second, "--netns", netns).returncode == 0

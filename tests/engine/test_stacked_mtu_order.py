"""A link stacked on a bridge gets its declared MTU once the bridge's MTU has settled (ports joined,
grown, the bridge's own MTU set): made or set earlier, the kernel clamps a new VXLAN to the bridge's
MTU of the moment less 50, and refuses a larger MTU on an existing VXLAN or macvlan. Real applies in
throwaway namespaces."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ip
from tests.engine.faults import links, run
from tests.engine.kernel_helpers import write

pytestmark = pytest.mark.kernel

_PAIR = (
    "- {name: v5, type: veth, state: up, mtu: MTU, veth: {peer: p5}}\n- {name: p5, type: veth, state: up, mtu: MTU}\n"
)


def _pair(mtu: int) -> str:
    return _PAIR.replace("MTU", str(mtu))


def test_an_existing_vxlan_grows_after_a_port_joining_its_bridge_grows_the_bridge(netns: str, tmp_path: Path) -> None:
    """br1 has no port (1500) and vx9 on it 1450; the file gives br1 the port v5 at 9000 and vx9 8950,
    no MTU for br1: the kernel raises br1 to 9000 only when v5 joins, so vx9 is set after the join."""
    runtime = tmp_path / "run"
    before = (
        "interfaces:\n- {name: br1, type: linux-bridge, state: up, bridge: {options: {stp: {enabled: false}}}}\n"
        + _pair(1500)
        + "- {name: vx9, type: vxlan, state: up, vxlan: {id: 9, base-iface: br1, remote: 192.0.2.9, "
        "destination-port: 4789}}\n"
    )
    assert run(["apply", write(tmp_path, before, "before.yml"), "-n", netns], runtime).returncode == 0
    assert links(netns)["vx9"]["mtu"] == 1450
    change = (
        "interfaces:\n- {name: br1, type: linux-bridge, state: up, bridge: {port: [{name: v5}]}}\n"
        + _pair(9000)
        + "- {name: vx9, type: vxlan, mtu: 8950}\n"
    )
    res = run(["apply", write(tmp_path, change, "change.yml"), "-n", netns], runtime)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    assert (links(netns)["br1"]["mtu"], links(netns)["vx9"]["mtu"]) == (9000, 8950)


def test_a_macvlan_on_a_vxlan_on_a_new_bridge_is_sized_after_the_vxlan(netns: str, tmp_path: Path) -> None:
    """Two links deep: the macvlan's MTU waits for the VXLAN's, which waits for the bridge's."""
    runtime = tmp_path / "run"
    assert run(["apply", write(tmp_path, "interfaces:\n" + _pair(1500), "b.yml"), "-n", netns], runtime).returncode == 0
    change = (
        "interfaces:\n- {name: br1, type: linux-bridge, state: up, mtu: 9000, bridge: {port: [{name: v5}]}}\n"
        + _pair(9000)
        + "- {name: vx9, type: vxlan, state: up, mtu: 8950, vxlan: {id: 9, base-iface: br1, remote: 192.0.2.9, "
        "destination-port: 4789}}\n"
        "- {name: mv9, type: mac-vlan, state: up, mtu: 8950, mac-vlan: {base-iface: vx9, mode: bridge}}\n"
    )
    res = run(["apply", write(tmp_path, change, "c.yml"), "-n", netns], runtime)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    assert (links(netns)["vx9"]["mtu"], links(netns)["mv9"]["mtu"]) == (8950, 8950)
    assert "mv9" in ip("-n", netns, "-br", "link")

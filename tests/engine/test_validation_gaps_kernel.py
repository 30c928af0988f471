"""What the kernel refused at step N, refused by validation before the first change, on a real
kernel: the state it reads (an existing passthru mac-vlan), and nothing made (real applies in
throwaway namespaces)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ip
from tests.engine.faults import run
from tests.engine.kernel_helpers import write

pytestmark = pytest.mark.kernel


def test_a_mac_vlan_beside_an_existing_passthru_one_is_refused_before_any_change(netns: str, tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    ip("-n", netns, "link", "add", "b0", "type", "veth", "peer", "name", "c0")
    ip("-n", netns, "link", "add", "link", "b0", "name", "pt", "type", "macvlan", "mode", "passthru")
    before = ip("-n", netns, "-br", "link")
    change = write(
        tmp_path,
        "interfaces:\n- {name: q0, type: veth, veth: {peer: r0}}\n"
        "- {name: m2, type: mac-vlan, mac-vlan: {base-iface: b0, mode: bridge}}\n",
    )
    res = run(["apply", change, "-n", netns], runtime)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "nothing was changed" in res.stderr and "pt runs over b0 in passthru mode" in res.stderr, res.stderr
    assert ip("-n", netns, "-br", "link") == before  # q0 not made, as it was at step 1 before


def test_the_loopback_as_a_bridge_port_is_refused_before_any_change(netns: str, tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    change = write(
        tmp_path,
        "interfaces:\n- {name: q0, type: veth, veth: {peer: r0}}\n"
        "- {name: br0, type: linux-bridge, bridge: {port: [{name: lo}]}}\n",
    )
    res = run(["apply", change, "-n", netns], runtime)
    assert res.returncode == 1 and "port: 'lo'" in res.stderr and "nothing was changed" in res.stderr, res.stderr
    assert ip("-n", netns, "-br", "link").count("\n") == 1  # lo alone

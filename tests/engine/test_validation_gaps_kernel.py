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


@pytest.mark.parametrize(("before", "after"), [("bridge", "passthru"), ("passthru", "vepa")])
def test_a_mac_vlan_switched_into_or_out_of_passthru_is_made_again(
    netns: str, tmp_path: Path, before: str, after: str
) -> None:
    # macvlan_changelink refuses to set or clear passthru (EINVAL): sent in place, the change
    # was refused and rolled back; the kind module now plans it as a re-creation.
    runtime = tmp_path / "run"
    ip("-n", netns, "link", "add", "b0", "type", "veth", "peer", "name", "c0")
    ip("-n", netns, "link", "add", "link", "b0", "name", "m1", "type", "macvlan", "mode", before)
    change = write(
        tmp_path, f"interfaces:\n- {{name: m1, type: mac-vlan, mac-vlan: {{base-iface: b0, mode: {after}}}}}\n"
    )
    res = run(["apply", change, "-n", netns], runtime)
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"macvlan mode {after} " in ip("-n", netns, "-d", "link", "show", "m1")
    again = run(["apply", change, "-n", netns], runtime)
    assert again.returncode == 0 and "nothing was sent" in again.stdout, again.stdout + again.stderr

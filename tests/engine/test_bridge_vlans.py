"""Bridge port VLANs end to end: apply, a second apply sending nothing, `show -f yaml` applying back
as a no-op, a `bridge vlan` change made behind linkctl's back seen past the receipt, and an
unconfirmed `try` putting the VLANs and the filtering switch back as they were.

Skipped on this VM: its kernel is built without CONFIG_BRIDGE_VLAN_FILTERING (the probe,
kernel/probe.py bridge_vlan_filtering, is answered "Operation not supported" for `ip link add
type bridge vlan_filtering 1`), so nothing here can run; the planning is tested from typed states
(tests/plan/test_plan_vlans.py), the requests against pyroute2's and iproute2's bytes and the
refusal on this kernel (tests/kernel/test_brvlan.py).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from linkctl.kernel.probe import ProbeUnavailable, bridge_vlan_filtering
from tests.conftest import ip, run_linkctl
from tests.engine.kernel_helpers import write


def _why_not() -> str | None:
    try:
        reason = bridge_vlan_filtering()
    except ProbeUnavailable as exc:
        return str(exc)
    return None if reason is None else f"this kernel has no bridge VLAN filtering: {reason}"


pytestmark = pytest.mark.skipif(_why_not() is not None, reason=str(_why_not()))

FILE = """
interfaces:
- name: br0
  type: linux-bridge
  state: up
  bridge:
    options: {stp: {enabled: false}}
    port:
    - name: vp0
      vlan: {mode: access, tag: 10}
    - name: vq0
      vlan:
        mode: trunk
        trunk-tags: [{id: 101}, {id-range: {min: 200, max: 203}}]
        tag: 100
        enable-native: true
- {name: vp0, type: veth, state: up, veth: {peer: vp1}}
- {name: vq0, type: veth, state: up, veth: {peer: vq1}}
"""
ACCESS = [{"vlan": 10, "flags": ["PVID", "Egress Untagged"]}]
TRUNK = [
    {"vlan": 100, "flags": ["PVID", "Egress Untagged"]},
    {"vlan": 101},
    {"vlan": 200, "vlanEnd": 203},
]


def vlans(netns: str) -> dict[str, list[dict[str, object]]]:
    """`bridge -j -c vlan show`: each port's VLANs, runs compressed as iproute2 prints them."""
    out = subprocess.run(
        ["bridge", "-n", netns, "-j", "-c", "vlan", "show"], capture_output=True, text=True, check=True
    )
    return {str(entry["ifname"]): list(entry["vlans"]) for entry in json.loads(out.stdout)}


def filtering(netns: str) -> int:
    (br,) = json.loads(ip("-n", netns, "-j", "-d", "link", "show", "br0"))
    return int(br["linkinfo"]["info_data"]["vlan_filtering"])


def test_port_vlans_apply_verify_and_apply_again_as_no_ops(netns: str, tmp_path: Path) -> None:
    path = write(tmp_path, FILE)
    res = run_linkctl("apply", path, "--netns", netns)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "vlan add dev vp0 vid 10 pvid untagged" in res.stdout
    assert filtering(netns) == 1
    now = vlans(netns)
    assert now["vp0"] == ACCESS and now["vq0"] == TRUNK
    again = run_linkctl("apply", path, "--netns", netns)
    assert "nothing was sent" in again.stdout, again.stdout + again.stderr
    shown = run_linkctl("show", "--netns", netns, "-f", "yaml")
    assert "mode: access" in shown.stdout and "enable-native: true" in shown.stdout
    back = run_linkctl("plan", write(tmp_path, shown.stdout, "shown.yml"), "--netns", netns)
    assert back.returncode == 0 and back.stdout.startswith("no changes"), back.stdout + back.stderr


def test_a_vlan_added_behind_linkctls_back_is_seen_past_the_receipt(netns: str, tmp_path: Path) -> None:
    path = write(tmp_path, FILE)
    assert run_linkctl("apply", path, "--netns", netns).returncode == 0
    assert "nothing was sent" in run_linkctl("apply", path, "--netns", netns).stdout  # the receipt answers
    _run("bridge", "-n", netns, "vlan", "add", "dev", "vp0", "vid", "55")
    res = run_linkctl("apply", path, "--netns", netns)
    assert res.returncode == 0 and "vlan del dev vp0 vid 55" in res.stdout, res.stdout + res.stderr
    assert vlans(netns)["vp0"] == ACCESS


START = """
interfaces:
- name: br0
  type: linux-bridge
  state: up
  bridge:
    options: {stp: {enabled: false}}
    port:
    - {name: vp0, vlan: {mode: access, tag: 20}}
    - {name: vq0, vlan: {mode: trunk, trunk-tags: [{id: 300}]}}
- {name: vp0, type: veth, state: up, veth: {peer: vp1}}
- {name: vq0, type: veth, state: up, veth: {peer: vq1}}
"""


def test_an_unconfirmed_try_puts_the_vlans_back(netns: str, tmp_path: Path) -> None:
    assert run_linkctl("apply", write(tmp_path, START, "start.yml"), "--netns", netns).returncode == 0
    before = vlans(netns)
    res = run_linkctl("try", write(tmp_path, FILE), "--netns", netns, "--timeout", "2", stdin="")
    assert "rolled back" in res.stdout + res.stderr and "checked" in res.stdout + res.stderr, res.stdout + res.stderr
    assert vlans(netns) == before and filtering(netns) == 1


def test_an_unconfirmed_try_turns_filtering_off_again_and_puts_the_ports_lists_back(netns: str, tmp_path: Path) -> None:
    """From a bridge that did not filter: the switch goes back off, and the ports' lists (which do
    nothing while the bridge does not filter, and nmstate's format has no words for) are the ones read
    before the change, kept in the rollback's own fields."""
    plain = START.replace("{name: vp0, vlan: {mode: access, tag: 20}}", "{name: vp0}")
    plain = plain.replace("{name: vq0, vlan: {mode: trunk, trunk-tags: [{id: 300}]}}", "{name: vq0}")
    assert "vlan" not in plain
    assert run_linkctl("apply", write(tmp_path, plain, "start.yml"), "--netns", netns).returncode == 0
    _run("bridge", "-n", netns, "vlan", "add", "dev", "vq0", "vid", "20", "untagged")  # no words for it
    assert filtering(netns) == 0
    before = vlans(netns)
    res = run_linkctl("try", write(tmp_path, FILE), "--netns", netns, "--timeout", "2", stdin="")
    assert "rolled back" in res.stdout + res.stderr and "checked" in res.stdout + res.stderr, res.stdout + res.stderr
    assert filtering(netns) == 0 and vlans(netns) == before


def test_a_filtering_bridge_with_sets_the_format_cannot_say_shows_and_rolls_back_as_it_is(
    netns: str, tmp_path: Path
) -> None:
    """vp0 with a PVID alone (tagged), vq0 with no VLAN: `show -f yaml` applies back as no change (the
    bridge's port list left out, its filtering kept), and a rollback puts back both exact sets."""
    assert run_linkctl("apply", write(tmp_path, START, "start.yml"), "--netns", netns).returncode == 0
    _run("bridge", "-n", netns, "vlan", "del", "dev", "vp0", "vid", "20")
    _run("bridge", "-n", netns, "vlan", "add", "dev", "vp0", "vid", "7", "pvid")
    _run("bridge", "-n", netns, "vlan", "del", "dev", "vq0", "vid", "300")
    before = vlans(netns)
    shown = run_linkctl("show", "--netns", netns, "-f", "yaml")
    back = run_linkctl("plan", write(tmp_path, shown.stdout, "shown.yml"), "--netns", netns)
    assert back.returncode == 0 and back.stdout.startswith("no changes"), back.stdout + back.stderr
    res = run_linkctl("try", write(tmp_path, FILE), "--netns", netns, "--timeout", "2", stdin="")
    assert "rolled back" in res.stdout + res.stderr and "checked" in res.stdout + res.stderr, res.stdout + res.stderr
    assert filtering(netns) == 1 and vlans(netns) == before


def _run(*cmd: str) -> None:
    subprocess.run(list(cmd), check=True, capture_output=True)

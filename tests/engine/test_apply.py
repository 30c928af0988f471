"""`apply` and `plan` against the real kernel: what is made, what a second run sends, rollback."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest

from linkctl.kernel import netns as netns_mod
from tests.conftest import ip, require_kind, run_linkctl
from tests.engine.kernel_helpers import TOPOLOGY, by_name, drop_netns, write


def test_apply_creates_what_ip_then_reports(netns: str, tmp_path: Path) -> None:
    res = run_linkctl("apply", write(tmp_path, TOPOLOGY), "--netns", netns)
    assert res.returncode == 0, res.stderr
    plan_at, done_at = res.stdout.find("link add name br0"), res.stdout.find("applied and verified")
    assert 0 <= plan_at < done_at, res.stdout
    links = by_name(netns)
    assert links["br0"]["mtu"] == 9000 and links["veth0"]["master"] == "br0" and links["veth1"]["master"] == "br0"
    assert links["veth0"]["txqlen"] == 2000
    vx = links["vx42"]["linkinfo"]["info_data"]  # type: ignore[index]
    assert vx["id"] == 42 and vx["port"] == 4789 and vx["remote"] == "192.0.2.10" and vx["link"] == "br0"
    assert links["mv0"]["linkinfo"]["info_data"]["mode"] == "bridge"  # type: ignore[index]
    assert all("UP" in d["flags"] for n, d in links.items() if n != "lo")  # type: ignore[operator]


def test_second_apply_sends_nothing_and_emits_no_link_event(netns: str, tmp_path: Path) -> None:
    path = write(tmp_path, TOPOLOGY)
    assert run_linkctl("apply", path, "--netns", netns).returncode == 0
    with netns_mod.entered(netns):
        listener = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    listener.bind((0, 1))  # RTMGRP_LINK
    try:
        _drain_until_quiet(listener)
        listener.setblocking(False)
        res = run_linkctl("apply", path, "--netns", netns, "--debug")
        assert res.returncode == 0
        assert "nothing was sent to the kernel" in res.stdout
        assert "RTM_NEWLINK" not in res.stderr and "RTM_DELLINK" not in res.stderr
        with pytest.raises(BlockingIOError):
            listener.recv(65536)
    finally:
        listener.close()
    plan = run_linkctl("plan", path, "--netns", netns)
    assert plan.returncode == 0 and "no changes" in plan.stdout


def _drain_until_quiet(sock: socket.socket) -> None:
    """Let the first apply's asynchronous notifications (carrier, bridge) arrive first.

    Quiet means 2.5 s without one: the kernel's linkwatch holds back events it does not
    deem urgent for up to a second (the macvlan's arrives 1.0 s after the others), so a
    1 s window ended just before it and the test failed now and then.
    """
    sock.settimeout(2.5)
    for _ in range(30):
        try:
            sock.recv(1 << 20)
        except TimeoutError:
            return


def test_debug_shows_requests_acks_and_the_links_the_kernel_sends_back(netns: str, tmp_path: Path) -> None:
    ip("-n", netns, "link", "add", "d0", "type", "veth", "peer", "name", "d0p")
    decl = "interfaces: [{name: dbr, type: linux-bridge, state: up, bridge: {port: [{name: d0}]}}]"
    res = run_linkctl("apply", write(tmp_path, decl), "--netns", netns, "--debug")
    assert res.returncode == 0, res.stderr
    lines = res.stderr.splitlines()
    assert any(ln.startswith("-> seq=1 RTM_NEWLINK") and "'flags': 'UP'" in ln and "'dbr'" in ln for ln in lines)
    assert "<- seq=1 ok" in lines
    # The new bridge's index is asked for before d0 is enslaved to it; the answer names the link.
    assert any(ln.startswith("<- seq=") and "'name': 'dbr'" in ln and "'kind': 'bridge'" in ln for ln in lines)


def test_plan_exit_codes_and_json(netns: str, tmp_path: Path) -> None:
    path = write(tmp_path, TOPOLOGY)
    res = run_linkctl("plan", path, "--netns", netns, "--format", "json")
    assert res.returncode == 2
    changes = json.loads(res.stdout)["changes"]
    assert changes[0]["command"][:5] == ["ip", "-n", netns, "link", "add"]
    bad = run_linkctl("plan", write(tmp_path, "interfaces: [{name: x, type: veth}]", "bad.yml"), "--netns", netns)
    assert bad.returncode == 1 and "required to create a veth" in bad.stderr and "Traceback" not in bad.stderr


def test_show_yaml_then_apply_changes_nothing(netns: str, tmp_path: Path) -> None:
    assert run_linkctl("apply", write(tmp_path, TOPOLOGY), "--netns", netns).returncode == 0
    shown = run_linkctl("show", "--netns", netns, "--format", "yaml")
    assert shown.returncode == 0
    res = run_linkctl("apply", write(tmp_path, shown.stdout, "state.yml"), "--netns", netns)
    assert res.returncode == 0 and "no changes" in res.stdout, res.stdout + res.stderr


def test_a_vxlan_left_too_big_by_hand_still_round_trips(netns: str, tmp_path: Path) -> None:
    """The mission's misconfiguration: an underlay lowered under its VXLAN by hand."""
    assert run_linkctl("apply", write(tmp_path, TOPOLOGY), "--netns", netns).returncode == 0
    ip("-n", netns, "link", "set", "dev", "br0", "mtu", "8000")  # vx42 (8950) no longer fits
    shown = run_linkctl("show", "--netns", netns, "--format", "yaml")
    res = run_linkctl("apply", write(tmp_path, shown.stdout, "state.yml"), "--netns", netns)
    assert res.returncode == 0 and "no changes" in res.stdout, res.stdout + res.stderr
    # Lowering the underlay further is a change of the file's making: refused, vx42 named.
    lower = run_linkctl("apply", write(tmp_path, "interfaces: [{name: br0, mtu: 7000}]", "l.yml"), "--netns", netns)
    assert lower.returncode == 1
    assert "br0: mtu: 7000: at least 9000: vx42 (MTU 8950) runs over br0" in lower.stderr
    assert by_name(netns)["br0"]["mtu"] == 8000


def test_kernel_refusal_rolls_back_every_step(netns: str, tmp_path: Path) -> None:
    assert run_linkctl("apply", write(tmp_path, TOPOLOGY), "--netns", netns).returncode == 0
    before = run_linkctl("show", "--netns", netns, "--format", "yaml").stdout
    # The last step gives mv0 the MAC of the link it stands on: only the kernel knows to refuse it.
    base_mac = by_name(netns)["veth0-p"]["address"]
    failing = f"""
interfaces:
- {{name: veth1, txqueuelen: 5000, accept-all-mac-addresses: true}}
- {{name: br1, type: linux-bridge}}
- {{name: vx42, vxlan: {{id: 42, learning: false}}}}
- {{name: mv0, mac-address: "{base_mac}"}}
"""
    res = run_linkctl("apply", write(tmp_path, failing, "f.yml"), "--netns", netns)
    assert res.returncode == 1
    assert "refused by the kernel: Address already in use" in res.stderr
    assert "rolled back" in res.stderr
    # The plan is printed while the kernel works, and stays in the output of a refused apply.
    assert "4 change(s):" in res.stdout and f"link set dev mv0 address {base_mac}" in res.stdout
    after = run_linkctl("show", "--netns", netns, "--format", "yaml").stdout
    assert after == before
    assert "br1" not in by_name(netns)


def test_file_exists_is_translated(netns: str, tmp_path: Path) -> None:
    from linkctl.engine.apply import ApplyFailed, Context, apply, prepare
    from linkctl.model.load import load_file

    ctx = Context(load_file(write(tmp_path, "interfaces: [{name: vA, type: veth, veth: {peer: vB}}]")), "d.yml", netns)
    host, plan = prepare(ctx)
    ip("-n", netns, "link", "add", "vA", "type", "veth", "peer", "name", "vC")  # created behind our back
    with pytest.raises(ApplyFailed) as info:
        apply(ctx, host, plan)
    assert "File exists" in str(info.value) and "rolled back" in str(info.value)
    assert set(by_name(netns)) == {"lo", "vA", "vC"}


def test_missing_namespace_is_created(netns: str, tmp_path: Path) -> None:
    new = f"{netns}-x"
    try:
        decl = f"interfaces: [{{name: d1, type: linux-bridge, netns: {new}}}]"
        res = run_linkctl("apply", write(tmp_path, decl))
        assert res.returncode == 0 and f"create netns {new}" in res.stdout
        assert "d1" in by_name(new)
    finally:
        drop_netns(new)


@pytest.mark.parametrize(
    ("kind", "module", "spec"),
    [
        ("dummy", "dummy", "{name: d0, type: dummy, mtu: 9000}"),
        (
            "bond",
            "bonding",
            "{name: bond0, type: bond, link-aggregation: {mode: active-backup, options: {miimon: 100}}}",
        ),
        ("vlan", "8021q", "{name: v0.10, type: vlan, vlan: {base-iface: v0, id: 10}}"),
    ],
)
def test_kinds_this_kernel_may_lack(netns: str, tmp_path: Path, kind: str, module: str, spec: str) -> None:
    ip("-n", netns, "link", "add", "v0", "type", "veth", "peer", "name", "v0p")
    path = write(tmp_path, f"interfaces: [{spec}]")
    from tests.conftest import kernel_can_create

    if not kernel_can_create(kind):
        from linkctl.kernel.sysinfo import module_advice

        res = run_linkctl("apply", path, "--netns", netns)
        assert res.returncode == 1 and f"modprobe {module}" in res.stderr
        # The way out as `linkctl doctor` words it for this host (no module support, not installed, or modprobe).
        assert f"this kernel cannot create {kind} links: {module_advice(module)}" in res.stderr
        require_kind(kind, module)  # skips, with the reason
    assert run_linkctl("apply", path, "--netns", netns).returncode == 0
    assert "no changes" in run_linkctl("apply", path, "--netns", netns).stdout


def test_ethtool_section_is_planned_applied_and_idempotent(netns: str, tmp_path: Path) -> None:
    ip("-n", netns, "link", "add", "e1", "type", "veth", "peer", "name", "e1p")
    path = write(tmp_path, "interfaces: [{name: e1, mtu: 9000, ethtool: {feature: {tx-checksum-ip-generic: false}}}]")
    plan = run_linkctl("plan", path, "--netns", netns)
    assert plan.returncode == 2 and f"ip netns exec {netns} ethtool -K e1 tx-checksum-ip-generic off" in plan.stdout
    assert run_linkctl("apply", path, "--netns", netns).returncode == 0
    shown = subprocess.run(
        ["ip", "netns", "exec", netns, "ethtool", "-k", "e1"], capture_output=True, text=True, check=True
    )
    assert "tx-checksum-ip-generic: off" in shown.stdout
    again = run_linkctl("apply", path, "--netns", netns)
    assert "no changes" in again.stdout


def test_ethtool_setting_the_driver_lacks_is_refused_before_any_change(netns: str, tmp_path: Path) -> None:
    ip("-n", netns, "link", "add", "e1", "type", "veth", "peer", "name", "e1p")
    path = write(tmp_path, "interfaces: [{name: e1, mtu: 9000}, {name: e1p, ethtool: {eee: {enabled: false}}}]")
    res = run_linkctl("apply", path, "--netns", netns)
    assert res.returncode == 1 and "interface e1p: ethtool.eee.enabled" in res.stderr and "no EEE support" in res.stderr
    assert by_name(netns)["e1"]["mtu"] == 1500


def test_a_mac_the_driver_cannot_change_is_explained_and_rolled_back(netns: str, tmp_path: Path) -> None:
    # ifb has no set-MAC operation: the kernel answers EOPNOTSUPP, which is no missing module.
    try:
        ip("-n", netns, "link", "add", "i1", "type", "ifb")
    except subprocess.CalledProcessError:
        pytest.skip("this kernel cannot create ifb links (module ifb not available)")
    before = by_name(netns)["i1"]
    text = "interfaces: [{name: i1, mtu: 1400, mac-address: '02:00:00:00:0a:01'}]"
    res = run_linkctl("apply", write(tmp_path, text), "--netns", netns)
    assert res.returncode == 1 and "rolled back" in res.stderr, res.stderr
    assert "driver cannot change its MAC address (ifb, some virtual and USB NICs)" in res.stderr
    assert "module is loaded" not in res.stderr
    now = by_name(netns)["i1"]
    assert (now["address"], now["mtu"]) == (before["address"], before["mtu"])


def test_a_tap_is_not_deleted_to_make_a_veth_in_its_place(netns: str, tmp_path: Path) -> None:
    ip("-n", netns, "tuntap", "add", "t1", "mode", "tap")
    res = run_linkctl("apply", write(tmp_path, "interfaces: [{name: t1, type: veth, veth: {peer: t1p}}]"), "-n", netns)
    assert res.returncode == 1 and "t1 is an existing unknown link, which cannot be deleted" in res.stderr
    assert by_name(netns)["t1"]["linkinfo"]["info_kind"] == "tun"  # still the tap it was

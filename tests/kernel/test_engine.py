"""The engine against the real kernel, in namespaces made and removed by each test."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

from linkctl.diagnose.audit import run_audit
from linkctl.kernel import netns as netns_mod
from linkctl.kernel.state import read_state
from tests.conftest import LINKCTL, ip, require_kind, run_linkctl

TOPOLOGY = """
interfaces:
- name: br0
  type: linux-bridge
  mtu: 9000
  bridge:
    options: {stp: {enabled: false}}
    port: [{name: veth0}, {name: veth1}]
- name: veth0
  type: veth
  mtu: 9000
  txqueuelen: 2000
  veth: {peer: veth0-p}
- name: veth0-p
  type: veth
  mtu: 9000
  veth: {peer: veth0}
- name: veth1
  type: veth
  mtu: 9000
  veth: {peer: veth1-p}
- name: vx42
  type: vxlan
  mtu: 8950
  vxlan: {id: 42, base-iface: br0, remote: 192.0.2.10, destination-port: 4789}
- name: mv0
  type: mac-vlan
  mac-vlan: {base-iface: veth0-p, mode: bridge}
"""


def write(tmp_path: Path, text: str, name: str = "d.yml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def drop_netns(*names: str) -> None:
    """Remove namespaces a test's linkctl created (not made by a fixture); missing ones are fine."""
    for name in names:
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)


def details(ns: str) -> list[dict[str, object]]:
    return json.loads(ip("-n", ns, "-j", "-d", "link", "show"))  # type: ignore[no-any-return]


def by_name(ns: str) -> dict[str, dict[str, object]]:
    return {str(d["ifname"]): d for d in details(ns)}


def is_up(link: dict[str, object]) -> bool:
    """IFF_UP among `ip -j`'s flags (not LOWER_UP)."""
    flags = link["flags"]
    assert isinstance(flags, list)
    return "UP" in flags


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


def test_plan_exit_codes_and_json(netns: str, tmp_path: Path) -> None:
    path = write(tmp_path, TOPOLOGY)
    res = run_linkctl("plan", path, "--netns", netns, "--format", "json")
    assert res.returncode == 2
    changes = json.loads(res.stdout)["changes"]
    assert changes[0]["command"][:5] == ["ip", "-n", netns, "link", "add"]
    bad = run_linkctl("plan", write(tmp_path, "interfaces: [{name: x, type: veth}]", "bad.yml"), "--netns", netns)
    assert bad.returncode == 1 and "required to create a veth" in bad.stderr and "Traceback" not in bad.stderr


def test_fast_decoder_agrees_with_pyroute2(netns: str, tmp_path: Path) -> None:
    from pyroute2 import NetNS

    assert run_linkctl("apply", write(tmp_path, TOPOLOGY), "--netns", netns).returncode == 0
    # Links just brought up still send (IGMP reports, neighbour discovery), so the counters may move
    # between dumps: pyroute2's reading must lie between ours before and ours after.
    ours = {lk.name: lk for lk in read_state([netns], stats=True).ns(netns).links.values()}
    with NetNS(netns) as pr:
        theirs = {m.get_attr("IFLA_IFNAME"): m for m in pr.get_links()}
    after = {lk.name: lk for lk in read_state([netns], stats=True).ns(netns).links.values()}
    assert set(ours) == set(theirs)
    for name, msg in theirs.items():
        link = ours[name]
        assert link.ifindex == msg["index"] and link.flags == msg["flags"]
        assert link.mtu == msg.get_attr("IFLA_MTU") and link.txqlen == msg.get_attr("IFLA_TXQLEN")
        assert link.master_ifindex == msg.get_attr("IFLA_MASTER")
        assert link.carrier_changes == msg.get_attr("IFLA_CARRIER_CHANGES")
        before_stats, after_stats, stats64 = link.stats, after[name].stats, msg.get_attr("IFLA_STATS64")
        assert before_stats is not None and after_stats is not None
        for field in ("rx_bytes", "rx_packets", "tx_bytes", "tx_packets", "multicast"):
            assert getattr(before_stats, field) <= stats64[field] <= getattr(after_stats, field), (name, field)
        info = msg.get_attr("IFLA_LINKINFO")
        assert link.kind == (info.get_attr("IFLA_INFO_KIND") if info else None)


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


def test_show_json_and_stats(netns: str, tmp_path: Path) -> None:
    assert run_linkctl("apply", write(tmp_path, TOPOLOGY), "--netns", netns).returncode == 0
    ip("-n", netns, "link", "set", "veth1-p", "down")
    res = run_linkctl("show", "veth1", "vx42", "--netns", netns, "--format", "json", "--stats")
    recs = {r["name"]: r for r in json.loads(res.stdout)}
    assert recs["veth1"]["no_carrier"] is True and recs["veth1"]["master"] == "br0"
    assert recs["veth1"]["info"] == {"peer": "veth1-p"}
    assert recs["vx42"]["info"]["vni"] == 42 and recs["vx42"]["info"]["base"] == "br0"
    assert "rx_over_errors" in recs["veth1"]["stats"]
    table = run_linkctl("show", "--netns", netns)
    assert "NO-CARRIER" in table.stdout
    missing = run_linkctl("show", "nope0", "--netns", netns)
    assert missing.returncode == 1 and f"no such link in netns {netns}: nope0 (Device does not exist)" in missing.stderr


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


def test_try_rolls_back_without_confirmation(netns: str, tmp_path: Path) -> None:
    assert run_linkctl("apply", write(tmp_path, TOPOLOGY), "--netns", netns).returncode == 0
    res = run_linkctl(
        "try",
        write(tmp_path, "interfaces: [{name: veth1, mtu: 1400}]", "t.yml"),
        "--netns",
        netns,
        "--timeout",
        "1",
    )
    assert res.returncode == 3 and "no confirmation" in res.stdout
    assert by_name(netns)["veth1"]["mtu"] == 9000
    # What was held is shown before it is applied, as `apply` shows it.
    shown = res.stdout.index(f"1. set veth1 (netns {netns}): mtu 9000 -> 1400")
    assert shown < res.stdout.index("applied 1 change(s); confirm within 1 s")


def test_try_confirmed_from_another_shell(netns: str, tmp_path: Path) -> None:
    assert run_linkctl("apply", write(tmp_path, TOPOLOGY), "--netns", netns).returncode == 0
    env = {"LINKCTL_RUNTIME_DIR": str(tmp_path / "run"), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    proc = subprocess.Popen(
        [*LINKCTL, "try", write(tmp_path, "interfaces: [{name: veth1, mtu: 1400}]", "t.yml"), "--netns", netns, "--timeout", "60"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        assert "confirm within" in _line_with(proc.stdout, "confirm within")
        # While try holds its change, no other linkctl changes links; reading and planning go on.
        other = write(tmp_path, "interfaces: [{name: veth1, txqueuelen: 3000}]", "o.yml")
        busy = subprocess.run([*LINKCTL, "apply", other, "-n", netns], capture_output=True, text=True, env=env)
        assert busy.returncode == 1
        assert f"`linkctl try` (pid {proc.pid}) is changing links: nothing was read or changed" in busy.stderr
        assert "confirm it with `linkctl confirm`" in busy.stderr
        waited = subprocess.run(
            [*LINKCTL, "apply", other, "-n", netns, "--wait", "0.5"], capture_output=True, text=True, env=env
        )
        assert waited.returncode == 1 and f"(pid {proc.pid}) is still changing links after 0.5 s" in waited.stderr
        assert subprocess.run([*LINKCTL, "plan", other, "-n", netns], env=env, capture_output=True).returncode == 2
        confirm = subprocess.run([*LINKCTL, "confirm"], capture_output=True, text=True, env=env, check=False)
        assert confirm.returncode == 0, confirm.stderr
        out, _err = proc.communicate(timeout=30)
        assert proc.returncode == 0 and "confirmed" in out
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
    assert by_name(netns)["veth1"]["mtu"] == 1400
    # The lock went with the process: the other change goes through now.
    assert subprocess.run([*LINKCTL, "apply", other, "-n", netns], env=env, capture_output=True).returncode == 0


def _line_with(stream: IO[str], text: str) -> str:
    """The first line read that holds `text` (the plan comes first); "" at the end of the stream."""
    for line in iter(stream.readline, ""):
        if text in line:
            return line
    return ""


def _try_while(args: list[str], during: Callable[[], None], env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run `linkctl try ARGS`, call `during` once it holds its change, wait for its end: (exit code, stdout)."""
    proc = subprocess.Popen(
        [*LINKCTL, "try", *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        assert "confirm within" in _line_with(proc.stdout, "confirm within")
        during()
        out, _err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, out


def test_try_stable_for_rolls_back_on_carrier_loss(netns: str, tmp_path: Path) -> None:
    assert run_linkctl("apply", write(tmp_path, TOPOLOGY), "--netns", netns).returncode == 0
    change = write(tmp_path, "interfaces: [{name: veth0, mtu: 1400}, {name: veth0-p, mtu: 1400}]", "t.yml")

    def lose_carrier() -> None:
        time.sleep(0.5)  # let it subscribe; the assertion below does not depend on time
        ip("-n", netns, "link", "set", "veth0-p", "down")

    code, out = _try_while([change, "--netns", netns, "--timeout", "60", "--stable-for", "30"], lose_carrier)
    assert code == 3 and "lost its carrier" in out
    assert by_name(netns)["veth0"]["mtu"] == 9000


def _pair_up(netns: str) -> None:
    ip("-n", netns, "link", "add", "sa", "type", "veth", "peer", "name", "sb")
    ip("-n", netns, "link", "set", "sa", "up")
    ip("-n", netns, "link", "set", "sb", "up")


def test_try_stable_for_rolls_back_a_change_that_cuts_the_carrier_itself(netns: str, tmp_path: Path) -> None:
    # sa had a carrier; the change takes its peer down, so sa has none from the change on:
    # not a loss seen after the change, and yet exactly what --stable-for is for.
    _pair_up(netns)
    text = "interfaces: [{name: sa, state: up, mtu: 1400}, {name: sb, state: down}]"
    res = subprocess.run(
        [*LINKCTL, "try", write(tmp_path, text), "--netns", netns, "--timeout", "60", "--stable-for", "2"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert res.returncode == 3, res.stdout + res.stderr
    assert "sa has had no carrier since the change (2 s): rolling back" in res.stdout
    now = by_name(netns)
    assert is_up(now["sb"]) and now["sa"]["mtu"] == 1500


def test_try_stable_for_lets_a_link_renegotiate(netns: str, tmp_path: Path) -> None:
    # A link without carrier right after the change that regains it within the window is kept.
    _pair_up(netns)
    env = {"LINKCTL_RUNTIME_DIR": str(tmp_path / "run"), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    text = "interfaces: [{name: sa, state: up, mtu: 1400}, {name: sb, state: down}]"

    def renegotiate_then_confirm() -> None:
        ip("-n", netns, "link", "set", "sb", "up")  # the carrier comes back, as after autonegotiation
        time.sleep(3)  # past the window: a link still pending would have rolled the change back by now
        confirm = subprocess.run([*LINKCTL, "confirm"], capture_output=True, text=True, env=env, check=False)
        assert confirm.returncode == 0, confirm.stderr

    args = [write(tmp_path, text), "--netns", netns, "--timeout", "60", "--stable-for", "2"]
    code, out = _try_while(args, renegotiate_then_confirm, env)
    assert code == 0 and "confirmed" in out
    assert by_name(netns)["sa"]["mtu"] == 1400


def test_rehearse_never_touches_the_namespace(netns: str, tmp_path: Path) -> None:
    assert run_linkctl("apply", write(tmp_path, TOPOLOGY), "--netns", netns).returncode == 0
    before = _stable(details(netns))
    namespaces_before = set(netns_mod.list_names())
    ok = run_linkctl(
        "apply",
        write(tmp_path, "interfaces: [{name: veth1, mtu: 1400}]", "ok.yml"),
        "--netns",
        netns,
        "--rehearse",
    )
    assert ok.returncode == 0 and "rehearsal passed" in ok.stdout
    # Its steps are told in the user's namespace, as `plan` would (the throwaway ones are gone);
    # `plan --rehearse` keeps plan's exit codes: 2 when changes are pending.
    planned = run_linkctl("plan", str(tmp_path / "ok.yml"), "--netns", netns, "--rehearse")
    assert planned.returncode == 2 and "rehearsal passed" in planned.stdout
    assert f"set veth1 (netns {netns}): mtu 9000 -> 1400" in planned.stdout
    assert f"$ ip -n {netns} link set dev veth1 mtu 1400" in planned.stdout and "lkr" not in planned.stdout
    base_mac = by_name(netns)["veth0-p"]["address"]
    bad = run_linkctl(
        "plan",
        write(tmp_path, f'interfaces: [{{name: mv0, mac-address: "{base_mac}"}}]', "bad.yml"),
        "--netns",
        netns,
        "--rehearse",
    )
    assert bad.returncode == 1 and "rehearsal FAILED" in bad.stdout and "Address already in use" in bad.stdout
    # What the file can be checked for is refused before any copy is made, naming the base.
    too_big = run_linkctl("plan", write(tmp_path, "interfaces: [{name: mv0, mtu: 9500}]", "big.yml"), "-n", netns)
    assert too_big.returncode == 1
    assert "mv0: mtu: 9500: at most 9000: a mac-vlan link's MTU cannot exceed its base-iface's" in too_big.stderr
    assert _stable(details(netns)) == before
    assert set(netns_mod.list_names()) == namespaces_before


def test_rehearse_copies_a_peer_elsewhere_and_a_vxlan_left_too_big(netns_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    red, blue = netns_factory(), netns_factory()
    # All down: no carrier settles while the copy is made (the comparison is of flags too).
    ip("-n", red, "link", "add", "u0", "type", "veth", "peer", "name", "u0p")
    ip("-n", red, "link", "add", "e1", "type", "veth", "peer", "name", "e1p", "netns", blue)
    ip("-n", red, "link", "add", "vx0", "type", "vxlan", "id", "7", "dev", "u0", "dstport", "4789")
    ip("-n", red, "link", "set", "u0", "mtu", "1400")  # vx0 (1450) left too big by hand
    before = {ns: _stable(details(ns)) for ns in (red, blue)}
    namespaces_before = set(netns_mod.list_names())
    decl = "interfaces: [{name: e1, mtu: 1400}, {name: vx0, type: vxlan, vxlan: {id: 7, learning: false}}]"
    res = run_linkctl("apply", write(tmp_path, decl), "--netns", red, "--rehearse")
    assert res.returncode == 0 and "rehearsal passed: 2 change(s)" in res.stdout, res.stdout + res.stderr
    assert "e1's peer lives outside the rehearsal: played by rh" in res.stdout
    assert "vx0's MTU 1450 does not fit its base u0: the copy has 1350" in res.stdout
    # Only read: not even the peer's namespace got a link.
    after = {ns: _stable(details(ns)) for ns in (red, blue)}
    assert after == before, [set(after[ns]) ^ set(before[ns]) for ns in (red, blue)]
    assert set(netns_mod.list_names()) == namespaces_before


def _stable(links: list[dict[str, object]]) -> list[tuple[object, ...]]:
    """What a change would alter; bridge timers tick on their own."""
    keys = ("ifindex", "ifname", "flags", "mtu", "txqlen", "address", "master", "promiscuity")
    return [tuple(str(d.get(k)) for k in keys) for d in links]


def test_show_names_the_namespace_of_a_peer_like_ip_link_netns(netns_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    red, blue = netns_factory(), netns_factory()
    ip("-n", red, "link", "add", "r0", "type", "veth", "peer", "name", "b0", "netns", blue)
    table = run_linkctl("show", "r0", "-n", red)
    assert table.returncode == 0 and f"peer=b0 peer_netns={blue}" in table.stdout, table.stdout
    shown = run_linkctl("show", "-n", red, "-f", "yaml")
    assert f"peer-netns: {blue}" in shown.stdout
    res = run_linkctl("plan", write(tmp_path, shown.stdout, "state.yml"), "-n", red)
    assert res.returncode == 0 and "no changes" in res.stdout, res.stdout + res.stderr


def test_veth_ends_in_two_namespaces_and_moves(netns_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    red, blue = netns_factory(), netns_factory()
    decl = f"""
interfaces:
- {{name: vr, type: veth, netns: {red}, veth: {{peer: vb, peer-netns: {blue}}}}}
- {{name: vb, type: veth, netns: {blue}, mtu: 1400, veth: {{peer: vr}}}}
"""
    assert run_linkctl("apply", write(tmp_path, decl)).returncode == 0, "apply"
    assert "vr" in by_name(red) and by_name(blue)["vb"]["mtu"] == 1400
    again = run_linkctl("apply", write(tmp_path, decl))
    assert "no changes" in again.stdout, again.stdout + again.stderr
    ip("-n", red, "link", "add", "mover", "type", "veth", "peer", "name", "mover-p")
    ip("-n", red, "link", "add", "bare", "type", "veth", "peer", "name", "bare-p")
    ip("-n", red, "addr", "add", "10.9.0.1/24", "dev", "mover")
    ip("-n", red, "link", "set", "mover", "up")
    ip("-n", red, "addr", "add", "2001:db8::1/64", "dev", "mover")
    move = f"interfaces: [{{name: mover, netns: {blue}}}, {{name: bare, netns: {blue}}}]"
    plan = run_linkctl("plan", write(tmp_path, move, "m.yml"), "--netns", red)
    assert plan.returncode == 2
    # The plan names what the kernel will drop, as read from the namespace (link-local ones it makes anew).
    assert (
        f"move mover (netns {red}) to netns {blue}: the kernel drops its addresses 10.9.0.1/24, 2001:db8::1/64"
        in plan.stdout
    )
    assert f"move bare (netns {red}) to netns {blue}: it carries no addresses to lose" in plan.stdout
    assert run_linkctl("apply", write(tmp_path, move, "m.yml"), "--netns", red).returncode == 0
    assert "mover" in by_name(blue) and "mover" not in by_name(red)
    # The kernel closes a link it moves; it was up and the file did not say otherwise.
    assert is_up(by_name(blue)["mover"]) and not is_up(by_name(blue)["bare"])


def test_a_refusal_after_a_move_puts_the_pair_back_whole(netns_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    red, blue = netns_factory(), netns_factory()
    ip("-n", red, "link", "add", "br0", "up", "type", "bridge")
    ip("-n", red, "link", "add", "e1", "master", "br0", "up", "type", "veth", "peer", "name", "e1p", "netns", blue)
    ip("-n", blue, "link", "set", "e1p", "up")
    before = {ns: by_name(ns) for ns in (red, blue)}
    # e1p moves to red, then a macvlan on it takes its MAC: refused by the kernel at step 2.
    mac = before[blue]["e1p"]["address"]
    failing = f"""
interfaces:
- {{name: e1p, netns: {red}}}
- {{name: mv, type: mac-vlan, netns: {red}, mac-address: "{mac}", mac-vlan: {{base-iface: e1p}}}}
"""
    res = run_linkctl("apply", write(tmp_path, failing), "--netns", blue)
    assert res.returncode == 1 and "rolled back" in res.stderr and "INCOMPLETE" not in res.stderr, res.stderr
    assert "Address already in use. Another link on the same base (or the base itself) has this MAC" in res.stderr
    after = {ns: by_name(ns) for ns in (red, blue)}
    for ns in (red, blue):
        assert set(after[ns]) == set(before[ns]), ns
        for name, was in before[ns].items():
            now = after[ns][name]
            # Not re-created (the same random MAC; a move may renumber it), still enslaved, up as before.
            assert (now["address"], now.get("master"), is_up(now)) == (was["address"], was.get("master"), is_up(was)), (
                name
            )


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


def public_file(text: str) -> str:
    """A file an unprivileged user can read (pytest's tmp_path parents are private)."""
    import tempfile

    fd, path = tempfile.mkstemp(suffix=".yml", dir="/tmp")
    with open(fd, "w") as fh:
        fh.write(text)
    Path(path).chmod(0o644)
    return path


def test_no_traceback_without_privileges(tmp_path: Path) -> None:
    path = public_file("interfaces: [{name: zz0, type: linux-bridge}]")
    res = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m", "linkctl", "apply", path],
        capture_output=True, text=True, check=False, cwd="/",
    )  # fmt: skip
    Path(path).unlink()
    assert res.returncode == 1
    assert "Traceback" not in res.stderr and "needs CAP_NET_ADMIN" in res.stderr and "nothing was changed" in res.stderr


def test_plan_and_show_work_unprivileged(tmp_path: Path) -> None:
    path = public_file("interfaces: [{name: lo}, {name: zz1, type: linux-bridge}]")
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m", "linkctl"]
    plan = subprocess.run([*nobody, "plan", path], capture_output=True, text=True, check=False, cwd="/")
    assert plan.returncode == 2 and "create zz1" in plan.stdout, plan.stderr
    show = subprocess.run([*nobody, "show", "lo", "-f", "json"], capture_output=True, text=True, check=False, cwd="/")
    Path(path).unlink()
    assert show.returncode == 0 and json.loads(show.stdout)[0]["name"] == "lo"


def test_plan_of_a_namespace_unprivileged_says_what_is_missing(netns: str) -> None:
    path = public_file("interfaces: [{name: zz2, type: linux-bridge}]")
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m", "linkctl"]
    plan = subprocess.run([*nobody, "plan", path, "-n", netns], capture_output=True, text=True, check=False, cwd="/")
    Path(path).unlink()
    assert plan.returncode == 1 and "Traceback" not in plan.stderr
    assert f"cannot enter network namespace {netns!r}" in plan.stderr and "CAP_SYS_ADMIN" in plan.stderr


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


def test_try_confirmed_with_enter_on_a_terminal(netns: str, tmp_path: Path) -> None:
    import shutil

    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (scripts/setup.sh --test installs it)")
    ip("-n", netns, "link", "add", "t1", "type", "veth", "peer", "name", "t1p")
    path = write(tmp_path, "interfaces: [{name: t1, mtu: 1400}]")
    session = f"lk{netns}"
    cmd = " ".join([*LINKCTL, "try", path, "--netns", netns, "--timeout", "60", ";", "sleep", "30"])
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "150", "-y", "20", cmd], check=True)
    try:
        screen = _wait_for_screen(session, "confirm within")
        assert "applied 1 change(s)" in screen
        subprocess.run(["tmux", "send-keys", "-t", session, "Enter"], check=True)
        assert "confirmed: the change stays" in _wait_for_screen(session, "confirmed")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)
    assert by_name(netns)["t1"]["mtu"] == 1400


def _wait_for_screen(session: str, text: str) -> str:
    screen = ""
    for _ in range(100):  # bounded: 20 s at most
        screen = subprocess.run(
            ["tmux", "capture-pane", "-pt", session], capture_output=True, text=True, check=False
        ).stdout
        if text in screen:
            return screen
        time.sleep(0.2)
    return screen


def test_rehearse_stands_in_for_a_physical_nic(tmp_path: Path) -> None:
    from linkctl.kinds import kind_of
    from linkctl.model.spec import InterfaceType

    host = read_state([None])
    nics = [lk.name for lk in host if kind_of(lk).type is InterfaceType.ETHERNET]
    if not nics:
        pytest.skip("this machine has no physical NIC to stand in for")
    before = _stable(json.loads(ip("-j", "-d", "link", "show")))
    nic = nics[0]
    decl = f"interfaces: [{{name: mvr0, type: mac-vlan, mac-vlan: {{base-iface: {nic}, mode: bridge}}}}]"
    res = run_linkctl("plan", write(tmp_path, decl), "--rehearse")
    assert res.returncode == 2, res.stdout + res.stderr  # passed, and a change is pending on the host
    assert f"$ ip link add link {nic} name mvr0 up type macvlan mode bridge" in res.stdout
    assert f"stand-in: {nic} (ethernet) is played by a" in res.stdout and "rehearsal passed" in res.stdout
    assert _stable(json.loads(ip("-j", "-d", "link", "show"))) == before


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


def test_show_names_the_kernel_kind_of_a_link_linkctl_does_not_manage(netns: str) -> None:
    ip("-n", netns, "tuntap", "add", "t1", "mode", "tap")
    res = run_linkctl("show", "--netns", netns)
    row = next(line.split() for line in res.stdout.splitlines() if line.startswith("t1 "))
    assert row[1] == "unknown" and "kind=tun" in row


def test_a_link_asked_for_in_the_wrong_namespace_is_pointed_at(netns_factory: Callable[[], str]) -> None:
    here, there = netns_factory(), netns_factory()
    ip("-n", there, "link", "add", "wx0", "type", "veth", "peer", "name", "wx1")
    res = run_linkctl("show", "wx0", "--netns", here)
    assert res.returncode == 1
    assert f"no such link in netns {here}: wx0 (Device does not exist); wx0 is in netns {there} (--netns {there})" in (
        res.stderr
    )
    diag = run_linkctl("diagnose", "wx1", "--netns", here)
    assert diag.returncode == 3 and f"wx1 is in netns {there} (--netns {there})" in diag.stderr, diag.stderr


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


@pytest.mark.parametrize("both", [False, True], ids=["one-end-declared", "both-ends-declared"])
def test_a_pair_whose_ends_share_a_name_in_two_namespaces(
    netns_factory: Callable[[], str], tmp_path: Path, both: bool
) -> None:
    # `peer: x` on x itself is legal with peer-netns; it was taken for its own peer, and the
    # peer was made beside it ("File exists").
    home, other = netns_factory(), f"lkt-{uuid.uuid4().hex[:8]}"
    text = f"interfaces:\n- {{name: x, type: veth, mtu: 1400, veth: {{peer: x, peer-netns: {other}}}}}\n"
    if both:
        text += f"- {{name: x, type: veth, mtu: 1300, netns: {other}, veth: {{peer: x, peer-netns: {home}}}}}\n"
    path = write(tmp_path, text)
    try:
        res = run_linkctl("apply", path, "--netns", home)
        assert res.returncode == 0, res.stderr
        assert by_name(home)["x"]["mtu"] == 1400
        assert by_name(other)["x"]["mtu"] == (1300 if both else 1400)  # an undeclared peer mirrors its end
        assert run_linkctl("plan", path, "--netns", home).returncode == 0
    finally:
        drop_netns(other)


def test_a_misspelt_link_name_is_answered_with_the_closest_one(netns: str) -> None:
    ip("-n", netns, "link", "add", "uplink0", "type", "veth", "peer", "name", "downlink0")
    res = run_linkctl("show", "uplnk0", "--netns", netns)
    assert res.returncode == 1 and res.stderr.rstrip().endswith("(Device does not exist); did you mean uplink0?")
    diag = run_linkctl("diagnose", "uplnk0", "--netns", netns)
    assert diag.returncode == 3 and "no such link in netns" in diag.stderr and "did you mean uplink0?" in diag.stderr


def test_a_tap_is_not_deleted_to_make_a_veth_in_its_place(netns: str, tmp_path: Path) -> None:
    ip("-n", netns, "tuntap", "add", "t1", "mode", "tap")
    res = run_linkctl("apply", write(tmp_path, "interfaces: [{name: t1, type: veth, veth: {peer: t1p}}]"), "-n", netns)
    assert res.returncode == 1 and "t1 is an existing unknown link, which cannot be deleted" in res.stderr
    assert by_name(netns)["t1"]["linkinfo"]["info_kind"] == "tun"  # still the tap it was


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


def test_a_move_into_a_new_namespace_and_a_bridge_there_still_names_the_addresses(netns: str, tmp_path: Path) -> None:
    # The enslavement happens in a namespace the plan creates: reading its addresses must not
    # cost the move its list (it fell back to the general warning).
    other = f"lkt-{uuid.uuid4().hex[:8]}"
    ip("-n", netns, "link", "add", "mv9", "type", "veth", "peer", "name", "mv9p")
    ip("-n", netns, "addr", "add", "10.9.0.1/24", "dev", "mv9")
    text = f"""
interfaces:
- {{name: mv9, netns: {other}}}
- {{name: br9, type: linux-bridge, netns: {other}, bridge: {{port: [{{name: mv9}}]}}}}
"""
    plan = run_linkctl("plan", write(tmp_path, text), "--netns", netns)
    assert plan.returncode == 2, plan.stderr
    assert f"move mv9 (netns {netns}) to netns {other}: the kernel drops its addresses 10.9.0.1/24" in plan.stdout


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


def test_a_veth_peer_sent_to_another_new_namespace_is_made_again_there(
    netns_factory: Callable[[], str], tmp_path: Path
) -> None:
    # The file first puts vb (with a mac-vlan) in blue, then in green: blue is no longer named,
    # so its links are not read. The pair must be made again across red and green, not created
    # a second time beside va ("File exists").
    red, blue, green = netns_factory(), f"lkt-{uuid.uuid4().hex[:8]}", f"lkt-{uuid.uuid4().hex[:8]}"
    text = """
interfaces:
- {{name: va, type: veth, state: up, mtu: 9000, veth: {{peer: vb, peer-netns: {ns}}}}}
- {{name: vb, type: veth, netns: {ns}, state: up, mtu: 9000, txqueuelen: 3000}}
- {{name: mv1, type: mac-vlan, netns: {ns}, mtu: 8000, mac-vlan: {{base-iface: vb, mode: bridge}}}}
"""
    try:
        first = run_linkctl("apply", write(tmp_path, text.format(ns=blue), "blue.yml"), "--netns", red)
        assert first.returncode == 0, first.stderr
        moved = write(tmp_path, text.format(ns=green), "green.yml")
        res = run_linkctl("apply", moved, "--netns", red)
        assert res.returncode == 0, res.stdout + res.stderr
        assert f"re-create: veth.peer-netns (a namespace the file does not name) -> '{green}'" in res.stdout
        assert run_linkctl("plan", moved, "--netns", red).returncode == 0
        assert by_name(green)["vb"]["mtu"] == 9000 and by_name(green)["mv1"]["mtu"] == 8000
        assert set(by_name(blue)) == {"lo"}  # the old end went with its pair, its mac-vlan with it
    finally:
        drop_netns(blue, green)


def test_bridge_stp_timers_and_multicast_snooping_as_nmstate_writes_them(netns: str, tmp_path: Path) -> None:
    text = """
interfaces:
- name: brx
  type: linux-bridge
  bridge:
    options:
      stp: {enabled: true, forward-delay: 4, hello-time: 1, max-age: 6, priority: 4096}
      mac-ageing-time: 120
      multicast-snooping: false
"""
    path = write(tmp_path, text)
    assert run_linkctl("apply", path, "--netns", netns).returncode == 0
    data = by_name(netns)["brx"]["linkinfo"]["info_data"]  # type: ignore[index]
    assert (data["forward_delay"], data["hello_time"], data["max_age"]) == (400, 100, 600)  # type: ignore[index]
    assert (data["priority"], data["ageing_time"], data["mcast_snooping"]) == (4096, 12000, 0)  # type: ignore[index]
    assert run_linkctl("plan", path, "--netns", netns).returncode == 0
    # Changed in place, only what differs; `show -f yaml` says it back as written.
    changed = write(
        tmp_path, text.replace("hello-time: 1", "hello-time: 2").replace("snooping: false", "snooping: true")
    )
    plan = run_linkctl("plan", changed, "--netns", netns)
    assert "bridge.options.stp.hello-time 1 -> 2, bridge.options.multicast-snooping false -> true" in plan.stdout
    assert f"$ ip -n {netns} link set dev brx type bridge hello_time 200 mcast_snooping 1" in plan.stdout
    assert run_linkctl("apply", changed, "--netns", netns).returncode == 0
    shown = run_linkctl("show", "brx", "--netns", netns, "--format", "yaml").stdout
    assert "hello-time: 2\n" in shown and "max-age: 6\n" in shown and "multicast-snooping: true\n" in shown
    # Out of the kernel's range: refused before any change, with the range.
    bad = run_linkctl("plan", write(tmp_path, text.replace("max-age: 6", "max-age: 50"), "bad.yml"), "-n", netns)
    assert (
        bad.returncode == 1 and "bridge.options.stp.max-age: 50: Input should be less than or equal to 40" in bad.stderr
    )


def test_a_base_left_in_another_namespace_is_not_taken_for_a_link_of_the_same_index(
    netns_factory: Callable[[], str], tmp_path: Path
) -> None:
    # A VXLAN and a mac-vlan made on vb in `home`, then moved to `away`: their base is still vb,
    # in `home` (the kernel reports its index there, with IFLA_LINK_NETNSID). A link of `away`
    # that happens to have the same index is not their base.
    home, away = netns_factory(), netns_factory()
    ip("-n", home, "link", "add", "vb", "type", "veth", "peer", "name", "vbp")
    index = str(json.loads(ip("-n", home, "-j", "link", "show", "vb"))[0]["ifindex"])
    ip("-n", home, "link", "add", "vxm", "type", "vxlan", "id", "77", "dev", "vb", "dstport", "4789",
       "local", "198.51.100.1", "remote", "198.51.100.9")  # fmt: skip
    ip("-n", home, "link", "add", "mvm", "link", "vb", "type", "macvlan", "mode", "bridge")
    ip("-n", home, "addr", "add", "198.51.100.1/24", "dev", "vb")
    for name in ("vxm", "mvm"):
        ip("-n", home, "link", "set", name, "netns", away)
    ip("-n", away, "link", "add", "name", "same", "index", index, "type", "veth", "peer", "name", "same-p")
    rows = {line.split()[0]: line for line in run_linkctl("show", "--netns", away).stdout.splitlines()}
    assert f"base=vb@{home}" in rows["vxm"] and f"base=vb@{home}" in rows["mvm"]
    state = run_linkctl("show", "--netns", away, "--format", "yaml").stdout
    assert "base-iface" not in state  # the format names a base of the same namespace only
    path = write(tmp_path, state)
    assert run_linkctl("plan", path, "--netns", away).returncode == 0
    # The VXLAN sends from home's 198.51.100.1: no vxlan-local-not-assigned in `away`.
    findings, _ = run_audit([away, home], between=lambda: None)
    assert not [f for f in findings if f.check.startswith("vxlan-")], findings


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


def test_a_mac_vlan_and_a_vxlan_made_into_another_namespace_on_a_base_of_the_default_one(
    netns_factory: Callable[[], str], tmp_path: Path
) -> None:
    # The container case: mv0 and vx0 live in `ctr`, over up0 of the file's default namespace
    # (`ip link add link up0 name mv0 netns ctr type macvlan`).
    home, ctr = netns_factory(), f"lkt-{uuid.uuid4().hex[:8]}"
    ip("-n", home, "link", "add", "up0", "type", "veth", "peer", "name", "up0p")
    text = f"""
interfaces:
- {{name: mv0, type: mac-vlan, netns: {ctr}, mtu: 1400, mac-vlan: {{base-iface: up0, mode: bridge}}}}
- {{name: vx0, type: vxlan, netns: {ctr}, vxlan: {{id: 5, base-iface: up0, remote: 192.0.2.5, destination-port: 4789}}}}
"""
    path = write(tmp_path, text)
    try:
        plan = run_linkctl("plan", path, "--netns", home)
        assert f"$ ip -n {home} link add link up0 name mv0 mtu 1400 up netns {ctr} type macvlan mode bridge" in (
            plan.stdout
        )
        # Rehearsed, the steps are told in the user's namespaces, the one it is made in too.
        rehearsed = run_linkctl("plan", path, "--netns", home, "--rehearse")
        assert f"$ ip -n {home} link add link up0 name mv0 mtu 1400 up netns {ctr} type macvlan" in rehearsed.stdout
        res = run_linkctl("apply", path, "--netns", home)
        assert res.returncode == 0, res.stdout + res.stderr
        assert "no changes" in run_linkctl("apply", path, "--netns", home).stdout
        rows = {line.split()[0]: line for line in run_linkctl("show", "--netns", ctr).stdout.splitlines()}
        assert f"base=up0@{home}" in rows["mv0"] and f"base=up0@{home}" in rows["vx0"]
        assert by_name(ctr)["mv0"]["mtu"] == 1400
        # A base the file re-makes takes them with it in the kernel: they are made again.
        again = text + "- {name: up0, type: veth, veth: {peer: up0q}}\n- {name: up0p, state: absent}\n"
        again = write(tmp_path, again, "again.yml")
        res = run_linkctl("apply", again, "--netns", home)
        assert res.returncode == 0, res.stdout + res.stderr
        assert f"create mv0 (netns {ctr}): re-create: it goes with up0, which is re-created" in res.stdout
        assert run_linkctl("plan", again, "--netns", home).returncode == 0
        # Neither here nor in the default namespace: refused, saying where it was looked for.
        bad = run_linkctl("plan", write(tmp_path, text.replace("up0", "nope0"), "bad.yml"), "--netns", home)
        assert bad.returncode == 1 and "mac-vlan.base-iface: 'nope0': an interface that exists" in bad.stderr
    finally:
        drop_netns(ctr)


def test_bridge_port_stp_settings_as_nmstate_writes_them(netns: str, tmp_path: Path) -> None:
    from linkctl.engine.receipt import current_digest

    ports = "[{name: pa, stp-priority: 16, stp-path-cost: 50, stp-hairpin-mode: true}, {name: pb}]"
    text = (
        f"interfaces:\n- {{name: brp, type: linux-bridge, bridge: {{options: {{stp: {{enabled: true}}}}, port: {ports}}}}}\n"
        "- {name: pa, type: veth, veth: {peer: pa-x}}\n- {name: pb, type: veth, veth: {peer: pb-x}}\n"
    )
    path = write(tmp_path, text)
    res = run_linkctl("apply", path, "--netns", netns)
    assert res.returncode == 0, res.stdout + res.stderr
    # Set once the port is in the bridge: the kernel takes them only from a port.
    assert f"$ ip -n {netns} link set dev pa type bridge_slave priority 16 cost 50 hairpin on" in res.stdout
    slave = by_name(netns)["pa"]["linkinfo"]["info_slave_data"]  # type: ignore[index]
    assert (slave["priority"], slave["cost"], slave["hairpin"]) == (16, 50, True)  # type: ignore[index]
    assert run_linkctl("plan", path, "--netns", netns).returncode == 0
    # Changed in place, only what differs; `show -f yaml` says every port's settings back.
    changed = write(tmp_path, text.replace("stp-priority: 16", "stp-priority: 20"), "changed.yml")
    plan = run_linkctl("plan", changed, "--netns", netns)
    assert f"set pa (netns {netns}) as a port of brp: stp-priority 16 -> 20" in plan.stdout
    assert run_linkctl("apply", changed, "--netns", netns).returncode == 0
    shown = run_linkctl("show", "brp", "--netns", netns, "--format", "yaml").stdout
    assert "- name: pa\n      stp-priority: 20\n      stp-path-cost: 50\n      stp-hairpin-mode: true\n" in shown
    # A setting changed by hand changes the receipt's fingerprint: no no-op answered from it.
    before = current_digest([netns])
    ip("-n", netns, "link", "set", "dev", "pa", "type", "bridge_slave", "cost", "60")
    assert current_digest([netns]) != before
    assert "stp-path-cost 60 -> 50" in run_linkctl("plan", changed, "--netns", netns).stdout
    bad = run_linkctl("plan", write(tmp_path, text.replace("stp-priority: 16", "stp-priority: 64"), "b.yml"))
    assert (
        bad.returncode == 1 and "bridge.port.0.stp-priority: 64: Input should be less than or equal to 63" in bad.stderr
    )

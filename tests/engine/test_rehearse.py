"""`--rehearse` against the real kernel: the copy is checked, the user's namespaces are never touched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from linkctl.kernel import netns as netns_mod
from linkctl.kernel.state import read_state
from tests.conftest import ip, run_linkctl
from tests.engine.kernel_helpers import TOPOLOGY, by_name, details, write


def test_rehearse_never_touches_the_namespace(netns: str, tmp_path: Path) -> None:
    assert run_linkctl("apply", write(tmp_path, TOPOLOGY), "--netns", netns).returncode == 0
    before = _stable(details(netns))
    namespaces_before = _rehearsal_namespaces()
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
    assert _rehearsal_namespaces() == namespaces_before


def test_rehearse_copies_a_peer_elsewhere_and_a_vxlan_left_too_big(netns_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    red, blue = netns_factory(), netns_factory()
    # All down: no carrier settles while the copy is made (the comparison is of flags too).
    ip("-n", red, "link", "add", "u0", "type", "veth", "peer", "name", "u0p")
    ip("-n", red, "link", "add", "e1", "type", "veth", "peer", "name", "e1p", "netns", blue)
    ip("-n", red, "link", "add", "vx0", "type", "vxlan", "id", "7", "dev", "u0", "dstport", "4789")
    ip("-n", red, "link", "set", "u0", "mtu", "1400")  # vx0 (1450) left too big by hand
    before = {ns: _stable(details(ns)) for ns in (red, blue)}
    namespaces_before = _rehearsal_namespaces()
    decl = "interfaces: [{name: e1, mtu: 1400}, {name: vx0, type: vxlan, vxlan: {id: 7, learning: false}}]"
    res = run_linkctl("apply", write(tmp_path, decl), "--netns", red, "--rehearse")
    assert res.returncode == 0 and "rehearsal passed: 2 change(s)" in res.stdout, res.stdout + res.stderr
    assert "e1's peer lives outside the rehearsal: played by rh" in res.stdout
    assert "vx0's MTU 1450 does not fit its base u0: the copy has 1350" in res.stdout
    # Only read: not even the peer's namespace got a link.
    after = {ns: _stable(details(ns)) for ns in (red, blue)}
    assert after == before, [set(after[ns]) ^ set(before[ns]) for ns in (red, blue)]
    assert _rehearsal_namespaces() == namespaces_before


def _stable(links: list[dict[str, object]]) -> list[tuple[object, ...]]:
    """What a change would alter; bridge timers tick on their own."""
    keys = ("ifindex", "ifname", "flags", "mtu", "txqlen", "address", "master", "promiscuity")
    return [tuple(str(d.get(k)) for k in keys) for d in links]


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


def _rehearsal_namespaces() -> set[str]:
    """The throwaway namespaces a rehearsal makes (engine/rehearse.py names them lkrPID-N): only these,
    since other tests and benchmarks running beside this one make and remove namespaces of their own."""
    return {name for name in netns_mod.list_names() if name.startswith("lkr")}

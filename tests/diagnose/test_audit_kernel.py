"""Each audit finding shown on real links in namespaces made here."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from linkctl.cli import diag
from linkctl.diagnose.audit import run_audit
from linkctl.diagnose.findings import Finding
from linkctl.kernel import netns as netns_mod
from linkctl.model.load import parse_text
from tests.conftest import run_linkctl

from .conftest import ip, kernel

pytestmark = kernel


def _find(findings: list[Finding], check: str, ifname: str) -> Finding:
    hits = [f for f in findings if f.check == check and f.ifname == ifname]
    assert hits, f"no {check} on {ifname}: {[(f.check, f.ifname) for f in findings]}"
    return hits[0]


def _audit(ns: str, between: Callable[[], None] | None = None) -> list[Finding]:
    findings, _ = run_audit([ns], between=between or (lambda: None))
    return findings


def _vxlan_on_under(ns: str, name: str, vni: str, local: str) -> None:
    ip("-n", ns, "link", "add", name, "type", "vxlan", "id", vni, "dev", "under", "dstport", "4789", "local", local)


def test_vxlan_mtu_overhead(make_netns: Callable[[], str]) -> None:
    ns = make_netns()
    ip("-n", ns, "link", "add", "under", "type", "veth", "peer", "name", "under-p")
    _vxlan_on_under(ns, "vx0", "42", "10.0.0.1")
    ip("-n", ns, "link", "set", "under", "mtu", "1400")  # the vxlan keeps 1450
    f = _find(_audit(ns), "vxlan-mtu-overhead", "vx0")
    assert f.severity == "problem"
    assert f.evidence["underlay_mtu"] == 1400 and f.evidence["overhead"] == 50
    assert f.fix.to_json()["declaration"] == {"interfaces": [{"name": "vx0", "netns": ns, "mtu": 1350}]}
    assert f.fix.commands[0] == ("ip", "-n", ns, "link", "set", "dev", "vx0", "mtu", "1350")


def test_vxlan_ipv6_overhead_is_70(make_netns: Callable[[], str]) -> None:
    ns = make_netns()
    ip("-n", ns, "link", "add", "under", "type", "veth", "peer", "name", "under-p")
    _vxlan_on_under(ns, "vx6", "7", "fd00::1")
    ip("-n", ns, "link", "set", "vx6", "mtu", "1430")
    assert not [f for f in _audit(ns) if f.check == "vxlan-mtu-overhead"]
    ip("-n", ns, "link", "set", "under", "mtu", "1480")
    f = _find(_audit(ns), "vxlan-mtu-overhead", "vx6")
    assert f.evidence["overhead"] == 70 and f.evidence["max_overlay_mtu"] == 1410


def test_vxlan_local_not_assigned_without_base_iface_is_fixed_on_the_routed_link(
    make_netns: Callable[[], str],
) -> None:
    """No base-iface: the note said `ip addr add ... dev the underlay link` (not a command) and no
    declaration came; the kernel routes it out of `under`, as the MTU check already reads."""
    from linkctl.engine.apply import Context, apply, prepare

    ns = make_netns()
    ip("-n", ns, "link", "add", "under", "up", "type", "veth", "peer", "name", "under-p")
    ip("-n", ns, "addr", "add", "198.51.100.1/24", "dev", "under")
    ip("-n", ns, "link", "add", "vx8", "type", "vxlan", "id", "8", "dstport", "4789",
       "local", "198.51.100.77", "remote", "198.51.100.2")  # fmt: skip
    f = _find(_audit(ns), "vxlan-local-not-assigned", "vx8")
    assert (
        f.fix.note
        == f"or, if 198.51.100.77 is the address meant, put it on under (`ip -n {ns} addr add 198.51.100.77/24 dev under`)"
    )
    declared = f.fix.to_json()["declaration"]
    assert declared == {
        "interfaces": [{"name": "vx8", "netns": ns, "type": "vxlan", "vxlan": {"id": 8, "local": "198.51.100.1"}}]
    }
    ctx = Context(parse_text(yaml.safe_dump(declared), "fix.yml"), "fix.yml", ns)
    host, plan = prepare(ctx)
    apply(ctx, host, plan)
    assert not [x for x in _audit(ns) if x.check == "vxlan-local-not-assigned"]


def test_vxlan_local_not_assigned_and_its_fix_applied(make_netns: Callable[[], str]) -> None:
    import yaml

    from linkctl.engine.apply import Context, apply, prepare

    ns = make_netns()
    ip("-n", ns, "link", "add", "under", "type", "veth", "peer", "name", "under-p")
    ip("-n", ns, "addr", "add", "198.51.100.1/24", "dev", "under")
    ip("-n", ns, "link", "add", "vx9", "type", "vxlan", "id", "9", "dev", "under", "dstport", "4789",
       "local", "198.51.100.77", "remote", "198.51.100.2")  # fmt: skip
    f = _find(_audit(ns), "vxlan-local-not-assigned", "vx9")
    assert f.severity == "problem" and f.evidence["local"] == "198.51.100.77"
    assert f.evidence["addresses"] == ["198.51.100.1/24"]
    assert f"ip -n {ns} addr add 198.51.100.77/24 dev under" in f.fix.note
    assert f.fix.to_json()["declaration"] == {
        "interfaces": [{"name": "vx9", "netns": ns, "type": "vxlan", "vxlan": {"id": 9, "local": "198.51.100.1"}}]
    }
    # The declaration, applied, re-creates vx9 from the new address, with its remote, base and port kept.
    ctx = Context(parse_text(yaml.safe_dump(f.fix.to_json()["declaration"]), "fix.yml"), "fix.yml", ns)
    host, plan = prepare(ctx)
    apply(ctx, host, plan)
    assert not [x for x in _audit(ns) if x.check == "vxlan-local-not-assigned"]
    data = json.loads(ip("-n", ns, "-j", "-d", "link", "show", "vx9"))[0]["linkinfo"]["info_data"]
    assert (data["local"], data["remote"], data["port"], data["link"]) == (
        "198.51.100.1",
        "198.51.100.2",
        4789,
        "under",
    )


def test_veth_mtu_mismatch_with_the_peer_in_another_namespace(make_netns: Callable[[], str]) -> None:
    ns, other = make_netns(), make_netns()
    ip("-n", ns, "link", "add", "big", "mtu", "9000", "type", "veth", "peer", "name", "small", "netns", other)
    findings, _ = run_audit([ns], between=lambda: None)  # only ns asked for: its peer's namespace is read too
    f = _find(findings, "veth-mtu-mismatch", "big")
    assert f.severity == "problem" and (f.evidence["peer"], f.evidence["peer_mtu"]) == ("small", 1500)
    assert f.fix.to_json()["declaration"] == {"interfaces": [{"name": "small", "netns": other, "mtu": 9000}]}
    assert f.fix.commands == (("ip", "-n", other, "link", "set", "dev", "small", "mtu", "9000"),)
    assert all(x.netns == ns for x in findings)  # the other namespace's own links are not audited
    ip("-n", other, "link", "set", "small", "mtu", "9000")
    assert not [x for x in _audit(ns) if x.check == "veth-mtu-mismatch"]


def _bridge_with_ports(ns: str, *ports: str) -> None:
    """br0 with each port a veth whose other end is PORT-x."""
    ip("-n", ns, "link", "add", "br0", "type", "bridge")
    for port in ports:
        ip("-n", ns, "link", "add", port, "type", "veth", "peer", "name", f"{port}-x")
        ip("-n", ns, "link", "set", port, "master", "br0")


def test_bridge_port_mtu_mismatch(make_netns: Callable[[], str]) -> None:
    ns = make_netns()
    _bridge_with_ports(ns, "p1", "p2")
    ip("-n", ns, "link", "set", "p2", "mtu", "9000")
    findings = _audit(ns)
    f = _find(findings, "bridge-port-mtu-mismatch", "p2")
    assert f.evidence == {"mtu": 9000, "bridge": "br0", "bridge_mtu": 1500}
    assert not [x for x in findings if x.check == "bridge-port-mtu-mismatch" and x.ifname == "p1"]


def test_address_on_a_bridge_port(make_netns: Callable[[], str]) -> None:
    ns = make_netns()
    _bridge_with_ports(ns, "p1", "p2")
    ip("-n", ns, "addr", "add", "10.9.0.1/24", "dev", "p1")
    ip("-n", ns, "addr", "add", "10.9.1.1/24", "dev", "p1-x")  # not a port: its own business
    findings = _audit(ns)
    f = _find(findings, "address-on-port", "p1")
    assert f.evidence == {"master": "br0", "addresses": ["10.9.0.1/24"]}
    assert f.fix.commands == (
        ("ip", "-n", ns, "addr", "del", "10.9.0.1/24", "dev", "p1"),
        ("ip", "-n", ns, "addr", "add", "10.9.0.1/24", "dev", "br0"),
    )
    assert [x.ifname for x in findings if x.check == "address-on-port"] == ["p1"]


def test_no_carrier_veth_peer_down(make_netns: Callable[[], str]) -> None:
    ns = make_netns()
    ip("-n", ns, "link", "add", "va", "type", "veth", "peer", "name", "vb")
    ip("-n", ns, "link", "set", "va", "up")
    f = _find(_audit(ns), "no-carrier", "va")
    assert f.severity == "problem" and f.evidence["peer"] == "vb"
    assert f.fix.to_json()["declaration"] == {"interfaces": [{"name": "vb", "netns": ns, "state": "up"}]}
    ip("-n", ns, "link", "set", "vb", "up")
    assert not [x for x in _audit(ns) if x.check == "no-carrier"]


def test_no_carrier_macvlan_on_dead_lower(make_netns: Callable[[], str]) -> None:
    ns = make_netns()
    ip("-n", ns, "link", "add", "low", "type", "veth", "peer", "name", "low-p")
    ip("-n", ns, "link", "add", "mv0", "link", "low", "type", "macvlan", "mode", "bridge")
    ip("-n", ns, "link", "set", "mv0", "up")
    findings = _audit(ns)
    f = _find(findings, "no-carrier", "mv0")
    assert f.evidence["lower"] == "low"


def test_promisc_by_hand_not_bridge_promiscuity(make_netns: Callable[[], str]) -> None:
    ns = make_netns()
    ip("-n", ns, "link", "add", "br0", "type", "bridge")
    ip("-n", ns, "link", "add", "port", "type", "veth", "peer", "name", "port-x")
    ip("-n", ns, "link", "set", "port", "master", "br0")
    ip("-n", ns, "link", "set", "port-x", "promisc", "on")
    findings = _audit(ns)
    f = _find(findings, "promisc-by-hand", "port-x")
    assert f.fix.to_json()["declaration"] == {
        "interfaces": [{"name": "port-x", "netns": ns, "accept-all-mac-addresses": False}]
    }
    # the bridge raised its port's promiscuity count, which is not a finding
    assert not [x for x in findings if x.check == "promisc-by-hand" and x.ifname == "port"]


def _send_frames(ns: str, ifname: str, count: int) -> None:
    """Frames of an ethertype nothing handles: the receiving end counts them as rx_dropped."""
    frame = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + b"\x88\xb5" + b"linkctl-test" * 4
    with netns_mod.entered(ns):
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    with sock:
        sock.bind((ifname, 0))
        for _ in range(count):
            sock.send(frame)


def test_counters_growing(make_netns: Callable[[], str]) -> None:
    ns = make_netns()
    ip("-n", ns, "link", "add", "tx0", "type", "veth", "peer", "name", "rx0")
    ip("-n", ns, "link", "set", "tx0", "up")
    ip("-n", ns, "link", "set", "rx0", "up")
    f = _find(_audit(ns, lambda: _send_frames(ns, "tx0", 25)), "counters-growing", "rx0")
    assert f.evidence["rx_dropped"]["delta"] == 25
    assert f.severity == "warning"
    assert not [x for x in _audit(ns) if x.check == "counters-growing"]


def test_wrong_netns(make_netns: Callable[[], str], tmp_path: Path) -> None:
    want, actual = make_netns(), make_netns()
    ip("-n", actual, "link", "add", "moved0", "type", "veth", "peer", "name", "moved0-p")
    decl = parse_text(
        f"interfaces:\n- name: moved0\n  type: veth\n  netns: {want}\n  veth: {{peer: moved0-p}}\n", "t.yml"
    )
    findings, _ = run_audit([want], decl, between=lambda: None)
    f = _find(findings, "wrong-netns", "moved0")
    assert f.evidence == {"declared_netns": want, "actual_netns": actual}
    assert f.fix.commands[0] == ("ip", "-n", actual, "link", "set", "dev", "moved0", "netns", want)
    # The way the note tells moves it (the note said `linkctl apply FILE`: that plans a new moved0 in
    # `want`, and the declaration alone, so run, is refused for want of a type).
    assert f"`linkctl apply --netns {actual} FIX` with this declaration moves it" in f.fix.note
    assert f.fix.declaration is not None
    fix = tmp_path / "fix.yml"
    fix.write_text(yaml.safe_dump(f.fix.declaration.to_data()))
    done = run_linkctl("apply", "--netns", actual, str(fix))
    assert done.returncode == 0, done.stderr
    assert json.loads(ip("-n", want, "-j", "link", "show", "moved0"))[0]["ifname"] == "moved0"
    assert all(lk["ifname"] != "moved0" for lk in json.loads(ip("-n", actual, "-j", "link", "show")))


def test_cli_exit_codes_and_json(make_netns: Callable[[], str], tmp_path: Path) -> None:
    app = typer.Typer()
    diag.register(app)
    runner = CliRunner()
    ns = make_netns()
    clean = runner.invoke(app, ["audit", "--netns", ns, "--interval", "0", "--format", "json"])
    assert clean.exit_code == 0 and json.loads(clean.stdout) == []
    ip("-n", ns, "link", "add", "a0", "type", "veth", "peer", "name", "b0")
    ip("-n", ns, "link", "set", "b0", "promisc", "on")
    warn = runner.invoke(app, ["audit", "--netns", ns, "--interval", "0", "--format", "json"])
    assert warn.exit_code == 1
    ip("-n", ns, "link", "set", "a0", "up")
    bad = runner.invoke(app, ["audit", "--netns", ns, "--interval", "0", "--format", "json"])
    assert bad.exit_code == 2
    rows = json.loads(bad.stdout)
    assert {"severity", "check", "ifname", "netns", "evidence", "message", "fix"} <= set(rows[0])
    assert {r["check"] for r in rows} == {"no-carrier", "promisc-by-hand"}
    text = runner.invoke(app, ["audit", "-n", ns, "--interval", "0"])
    assert "ip -n " + ns + " link set dev b0 up" in text.stdout


@pytest.mark.parametrize("missing", ["lkd-does-not-exist"])
def test_unknown_netns_is_an_error(missing: str) -> None:
    from linkctl.errors import LinkctlError

    with pytest.raises(LinkctlError, match="no such network namespace"):
        run_audit([missing], between=lambda: None)

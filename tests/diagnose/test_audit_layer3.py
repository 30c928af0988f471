"""audit's layer 3 findings on real links: a default route out of a link that cannot carry it, an
address on two links, an IPv6 address that failed DAD, an address on a bridge port moved by its fix."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import yaml

from linkctl.diagnose.audit import run_audit
from linkctl.diagnose.findings import Finding
from linkctl.domain.fix import Fix
from linkctl.engine.apply import Context, apply, prepare
from linkctl.model.load import parse_text
from tests.helpers.dad import dad_conflict, wait_for

from .conftest import ip, kernel

pytestmark = kernel

LAYER3 = {"default-route-link-down", "duplicate-address", "dad-failed", "address-on-port"}


def _audit(*namespaces: str) -> list[Finding]:
    findings, _ = run_audit(list(namespaces), between=lambda: None)
    return findings


def _layer3(*namespaces: str) -> list[Finding]:
    return [f for f in _audit(*namespaces) if f.check in LAYER3]


def _run(fix: Fix) -> None:
    for cmd in fix.commands:
        subprocess.run(cmd, check=True, capture_output=True)


def _apply(fix: Fix, ns: str) -> None:
    """The fix's declaration, as `linkctl apply` carries it out."""
    assert fix.declaration is not None
    ctx = Context(parse_text(yaml.safe_dump(fix.to_json()["declaration"]), "fix.yml"), "fix.yml", ns)
    host, plan = prepare(ctx)
    apply(ctx, host, plan)


def _addresses(ns: str, dev: str) -> set[str]:
    out = ip("-n", ns, "-o", "addr", "show", "dev", dev, "scope", "global")
    return {line.split()[3] for line in out.splitlines()}


def _veth_up(ns: str, name: str, peer: str) -> None:
    ip("-n", ns, "link", "add", name, "type", "veth", "peer", "name", peer)
    ip("-n", ns, "link", "set", name, "up")
    ip("-n", ns, "link", "set", peer, "up")


def test_default_routes_out_of_a_link_without_carrier(make_netns: Callable[[], str]) -> None:
    ns = make_netns()
    _veth_up(ns, "up0", "up0-p")
    ip("-n", ns, "addr", "add", "192.0.2.1/24", "dev", "up0")
    ip("-n", ns, "addr", "add", "2001:db8::1/64", "dev", "up0", "nodad")
    ip("-n", ns, "route", "add", "default", "via", "192.0.2.254", "dev", "up0")
    ip("-n", ns, "-6", "route", "add", "default", "via", "2001:db8::fe", "dev", "up0", "proto", "dhcp")
    assert _layer3(ns) == []  # healthy: both routes go out of a link with carrier
    ip("-n", ns, "link", "set", "up0-p", "down")
    found = {str(f.evidence["route"]): f for f in _layer3(ns)}
    assert set(found) == {
        "default via 192.0.2.254 dev up0 table main metric 0",
        "default via 2001:db8::fe dev up0 table main metric 1024",
    }
    v4 = found["default via 192.0.2.254 dev up0 table main metric 0"]
    assert (v4.check, v4.ifname, v4.severity) == ("default-route-link-down", "up0", "problem")
    assert v4.evidence["carrier"] is False and v4.evidence["admin_up"] is True and v4.evidence["protocol"] == "boot"
    assert "has no carrier" in v4.message
    v6 = found["default via 2001:db8::fe dev up0 table main metric 1024"]
    assert v6.evidence["protocol"] == "dhcp" and "where it comes from (dhcp)" in v6.fix.note
    assert f"ip -n {ns} -6 route del default via 2001:db8::fe dev up0 table main metric 1024" in v6.fix.note
    # the fix is the carrier's: the veth peer brought up, as a declaration and as a command
    assert v4.fix.to_json()["declaration"] == {"interfaces": [{"name": "up0-p", "netns": ns, "state": "up"}]}
    assert v4.fix.commands == (("ip", "-n", ns, "link", "set", "dev", "up0-p", "up"),)
    assert f"ip -n {ns} route del default via 192.0.2.254 dev up0 table main metric 0" in v4.fix.note
    _apply(v4.fix, ns)
    assert _layer3(ns) == []


def test_a_next_hop_of_a_default_route_in_another_table_set_down(make_netns: Callable[[], str]) -> None:
    ns = make_netns()
    _veth_up(ns, "left", "left-p")
    _veth_up(ns, "right", "right-p")
    ip("-n", ns, "addr", "add", "10.1.0.1/24", "dev", "left")
    ip("-n", ns, "addr", "add", "10.2.0.1/24", "dev", "right")
    ip("-n", ns, "route", "add", "default", "table", "100",
       "nexthop", "via", "10.1.0.254", "dev", "left", "nexthop", "via", "10.2.0.254", "dev", "right")  # fmt: skip
    assert _layer3(ns) == []
    ip("-n", ns, "link", "set", "right", "down")  # the kernel keeps the route, its hop dead
    (f,) = _layer3(ns)
    assert (f.check, f.ifname, f.severity) == ("default-route-link-down", "right", "warning")
    assert f.evidence["route"] == "default via 10.2.0.254 dev right table 100 metric 0"
    assert f.evidence["admin_up"] is False and f.evidence["other_next_hops_up"] == 1
    assert "which is down" in f.message
    assert f.fix.to_json()["declaration"] == {"interfaces": [{"name": "right", "netns": ns, "state": "up"}]}
    assert f.fix.commands == (("ip", "-n", ns, "link", "set", "dev", "right", "up"),)
    _run(f.fix)
    assert _layer3(ns) == []


def test_the_same_address_on_two_links(make_netns: Callable[[], str]) -> None:
    ns = make_netns()
    _veth_up(ns, "d1", "d1-p")
    _veth_up(ns, "d2", "d2-p")
    ip("-n", ns, "addr", "add", "10.7.0.1/24", "dev", "d1")
    ip("-n", ns, "addr", "add", "10.7.0.2/24", "dev", "d2")
    ip("-n", ns, "addr", "add", "fe80::1/64", "dev", "d2", "nodad")  # link-local: d1 has its own fe80::
    ip("-n", ns, "addr", "add", "fe80::1/64", "dev", "d1", "nodad")
    assert _layer3(ns) == []  # healthy: distinct addresses, link-local ones repeating
    ip("-n", ns, "addr", "add", "10.7.0.1/24", "dev", "d2")
    (f,) = _layer3(ns)
    assert (f.check, f.ifname, f.severity) == ("duplicate-address", "d2", "warning")
    assert f.evidence == {"address": "10.7.0.1", "links": {"d1": "10.7.0.1/24", "d2": "10.7.0.1/24"}}
    assert f.message == "10.7.0.1 is on d1 and d2"
    # taken off the later link, its other address kept: the list is the link's whole set
    assert f.fix.to_json()["declaration"] == {
        "interfaces": [{"name": "d2", "netns": ns, "ipv4": {"address": [{"ip": "10.7.0.2", "prefix-length": 24}]}}]
    }
    assert f.fix.commands == (("ip", "-n", ns, "addr", "del", "10.7.0.1/24", "dev", "d2"),)
    _apply(f.fix, ns)
    assert _layer3(ns) == []
    assert _addresses(ns, "d1") == {"10.7.0.1/24"} and _addresses(ns, "d2") == {"10.7.0.2/24"}


def test_an_ipv6_address_that_failed_dad(make_netns: Callable[[], str]) -> None:
    holder_ns, loser_ns = make_netns(), make_netns()
    dad_conflict(holder_ns, "h0", loser_ns, "l0", "2001:db8:d::1/64")
    assert _layer3(holder_ns) == []  # the holder's address is good
    (f,) = _layer3(loser_ns)  # the peer's namespace is read too: the holder is named
    assert (f.check, f.ifname, f.netns, f.severity) == ("dad-failed", "l0", loser_ns, "problem")
    assert f.evidence == {"address": "2001:db8:d::1/64", "flags": "dadfailed,tentative", "also_on": [f"{holder_ns}/h0"]}
    assert f.message == f"2001:db8:d::1/64 failed duplicate address detection: {holder_ns}/h0 has it"
    assert f.fix.commands == (
        ("ip", "-n", loser_ns, "addr", "del", "2001:db8:d::1/64", "dev", "l0"),
        ("ip", "-n", loser_ns, "addr", "add", "2001:db8:d::1/64", "dev", "l0"),
    )
    ip("-n", holder_ns, "addr", "del", "2001:db8:d::1/64", "dev", "h0")  # the conflict resolved first
    _run(f.fix)
    wait_for(loser_ns, "l0", "2001:db8:d::1", "tentative", False)
    assert _layer3(loser_ns) == []


def test_an_address_on_a_bridge_port_moved_by_its_declared_fix(make_netns: Callable[[], str]) -> None:
    ns = make_netns()
    ip("-n", ns, "link", "add", "br0", "type", "bridge")
    ip("-n", ns, "addr", "add", "10.9.9.1/24", "dev", "br0")
    _veth_up(ns, "p1", "p1-x")
    ip("-n", ns, "link", "set", "p1", "master", "br0")
    ip("-n", ns, "addr", "add", "10.9.0.1/24", "dev", "p1")
    ip("-n", ns, "addr", "add", "2001:db8:5::1/64", "dev", "p1", "nodad")
    (f,) = _layer3(ns)
    assert (f.check, f.ifname) == ("address-on-port", "p1")
    assert f.evidence == {"master": "br0", "addresses": ["10.9.0.1/24", "2001:db8:5::1/64"]}
    assert f.fix.to_json()["declaration"] == {
        "interfaces": [
            {"name": "p1", "netns": ns, "ipv4": {"address": []}, "ipv6": {"address": []}},
            {
                "name": "br0",
                "netns": ns,
                "ipv4": {"address": [{"ip": "10.9.9.1", "prefix-length": 24}, {"ip": "10.9.0.1", "prefix-length": 24}]},
                "ipv6": {"address": [{"ip": "2001:db8:5::1", "prefix-length": 64}]},
            },
        ]
    }
    _apply(f.fix, ns)
    assert _layer3(ns) == []
    assert _addresses(ns, "p1") == set()
    assert _addresses(ns, "br0") == {"10.9.9.1/24", "10.9.0.1/24", "2001:db8:5::1/64"}

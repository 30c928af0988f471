"""Addresses, routes and rules against the real kernel: applied, idempotent, shown, refused, rolled back.

Every check reads the kernel through iproute2 (`ip -j addr`, `ip -j route show table all`, `ip -j rule`).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import ip, run_linkctl
from tests.engine.kernel_helpers import write

PAIR = """
interfaces:
- name: w0
  type: veth
  state: up
  veth: {peer: w1}
  ipv4:
    enabled: true
    dhcp: false
    address:
    - {ip: 192.0.2.1, prefix-length: 24}
    - {ip: 192.0.2.9, prefix-length: 24}
  ipv6:
    enabled: true
    dhcp: false
    autoconf: false
    address:
    - {ip: 2001:db8:1::1, prefix-length: 64}
- name: w1
  type: veth
  state: up
  veth: {peer: w0}
  ipv4: {enabled: true, dhcp: false, address: [{ip: 192.0.2.2, prefix-length: 24}]}
routes:
  config:
  - {destination: 198.51.100.0/24, next-hop-interface: w0, next-hop-address: 192.0.2.254, metric: 100}
  - {destination: 10.9.0.0/16, next-hop-interface: w0, next-hop-address: 192.0.2.3, weight: 3}
  - {destination: 10.9.0.0/16, next-hop-interface: w1, next-hop-address: 192.0.2.4}
  - {destination: 2001:db8:9::/64, next-hop-interface: w0, next-hop-address: 2001:db8:1::fe, table-id: 300}
  - {destination: 203.0.113.0/24, route-type: blackhole}
route-rules:
  config:
  - {ip-from: 192.0.2.0/24, route-table: 300, priority: 1000}
  - {family: ipv6, fwmark: 7, fwmask: 15, route-table: 300, priority: 1001}
"""


def _j(ns: str, *args: str) -> list[dict[str, object]]:
    out = ip("-n", ns, "-j", *args)
    return json.loads(out) if out.strip() else []  # type: ignore[no-any-return]


def addresses(ns: str) -> set[tuple[str, str]]:
    """(link, address/len) of every address but the link-local ones."""
    return {
        (str(link["ifname"]), f"{a['local']}/{a['prefixlen']}")
        for link in _j(ns, "address")
        for a in link["addr_info"]  # type: ignore[attr-defined]
        if a["scope"] != "link"
    }


def routes(ns: str) -> list[str]:
    """Every route a person made (proto boot or static), both families, every table, as `ip` prints them."""
    out = []
    for family in ("-4", "-6"):
        for r in _j(ns, family, "route", "show", "table", "all"):
            if r.get("protocol") in ("boot", "static"):
                out.append(json.dumps({k: v for k, v in r.items() if k not in ("flags", "pref")}, sort_keys=True))
    return sorted(out)


def rules(ns: str) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True) for f in ("-4", "-6") for r in _j(ns, f, "rule"))


def layer3(ns: str) -> tuple[set[tuple[str, str]], list[str], list[str]]:
    return addresses(ns), routes(ns), rules(ns)


def test_apply_makes_what_iproute2_then_shows_and_a_second_apply_sends_nothing(netns: str, tmp_path: Path) -> None:
    path = write(tmp_path, PAIR)
    res = run_linkctl("apply", path, "--netns", netns)
    assert res.returncode == 0, res.stderr
    assert addresses(netns) == {
        ("w0", "192.0.2.1/24"), ("w0", "192.0.2.9/24"), ("w0", "2001:db8:1::1/64"), ("w1", "192.0.2.2/24"),
    }  # fmt: skip
    shown = "\n".join(routes(netns))
    assert '"dst": "198.51.100.0/24", "gateway": "192.0.2.254"' in shown and '"metric": 100' in shown
    ecmp = next(json.loads(r) for r in routes(netns) if '"10.9.0.0/16"' in r)
    assert sorted((h["gateway"], h["weight"]) for h in ecmp["nexthops"]) == [("192.0.2.3", 3), ("192.0.2.4", 1)]
    assert any('"table": "300"' in r and "2001:db8:9::/64" in r for r in routes(netns))
    assert any('"type": "blackhole"' in r for r in routes(netns))
    assert any('"priority": 1000' in r and '"src": "192.0.2.0"' in r for r in rules(netns))
    assert any('"priority": 1001' in r and '"fwmark": "0x7"' in r for r in rules(netns))

    again = run_linkctl("apply", path, "--netns", netns)
    assert again.returncode == 0 and "nothing was sent to the kernel" in again.stdout, again.stdout
    shown_yaml = run_linkctl("show", "--netns", netns, "-f", "yaml")
    assert shown_yaml.returncode == 0 and "192.0.2.9" in shown_yaml.stdout and "route-rules:" in shown_yaml.stdout
    back = run_linkctl("plan", write(tmp_path, shown_yaml.stdout, "shown.yml"), "--netns", netns)
    assert back.returncode == 0 and "no changes" in back.stdout, back.stdout


def test_listed_addresses_are_the_whole_set_and_absent_routes_match_by_any_field(netns: str, tmp_path: Path) -> None:
    assert run_linkctl("apply", write(tmp_path, PAIR), "--netns", netns).returncode == 0
    ip("-n", netns, "address", "add", "192.0.2.77/24", "dev", "w0")
    fewer = """
interfaces:
- name: w0
  type: veth
  ipv4: {enabled: true, dhcp: false, address: [{ip: 192.0.2.1, prefix-length: 24}]}
routes:
  config:
  - {next-hop-interface: w0, state: absent}
"""
    res = run_linkctl("apply", write(tmp_path, fewer, "fewer.yml"), "--netns", netns)
    assert res.returncode == 0, res.stderr
    assert {a for a in addresses(netns) if a[0] == "w0"} == {("w0", "192.0.2.1/24"), ("w0", "2001:db8:1::1/64")}
    left = "\n".join(routes(netns))
    assert "198.51.100.0/24" not in left and "2001:db8:9::/64" not in left
    assert "10.9.0.0/16" not in left  # an ECMP route through w0 (and w1) is a route through w0
    assert "203.0.113.0/24" in left  # not through w0
    kernel = [r for r in _j(netns, "route") if r.get("protocol") == "kernel"]
    assert any(r["dst"] == "192.0.2.0/24" for r in kernel)  # the kernel's own routes are never touched
    assert any(a[0] == "w0" for a in addresses(netns))
    link_local = [a for link in _j(netns, "address", "show", "dev", "w0") for a in link["addr_info"]]  # type: ignore[attr-defined]
    assert any(a["scope"] == "link" for a in link_local)  # fe80:: is never removed


def test_a_refused_route_after_addresses_were_added_puts_everything_back(netns: str, tmp_path: Path) -> None:
    """The kernel refuses the last route ("Gateway can not be a local address"): addresses, routes and
    rules are as before."""
    start = """
interfaces:
- name: w0
  type: veth
  state: up
  veth: {peer: w1}
  ipv4: {enabled: true, dhcp: false, address: [{ip: 192.0.2.1, prefix-length: 24}]}
- {name: w1, type: veth, state: up}
routes:
  config:
  - {destination: 198.51.100.0/24, next-hop-interface: w0, next-hop-address: 192.0.2.254}
route-rules:
  config:
  - {ip-from: 192.0.2.0/24, route-table: 300, priority: 1000}
"""
    assert run_linkctl("apply", write(tmp_path, start, "start.yml"), "--netns", netns).returncode == 0
    before = layer3(netns)
    change = """
interfaces:
- name: w0
  type: veth
  ipv4: {enabled: true, dhcp: false, address: [{ip: 192.0.2.5, prefix-length: 24}, {ip: 10.1.0.1, prefix-length: 16}]}
  ipv6: {enabled: true, dhcp: false, autoconf: false, address: [{ip: 2001:db8:1::1, prefix-length: 64}]}
routes:
  config:
  - {destination: 198.51.100.0/24, state: absent}
  - {destination: 10.2.0.0/16, next-hop-interface: w0, next-hop-address: 10.1.0.254, metric: 5}
  - {destination: 2001:db8:3::/64, next-hop-interface: w0, next-hop-address: '2001:db8:1::1'}
route-rules:
  config:
  - {ip-from: 192.0.2.0/24, state: absent}
  - {ip-to: 10.2.0.0/16, route-table: 301, priority: 900}
"""
    res = run_linkctl("apply", write(tmp_path, change, "change.yml"), "--netns", netns)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "refused by the kernel" in res.stderr and "rolled back" in res.stderr, res.stderr
    assert layer3(netns) == before


def test_an_unreachable_gateway_and_dhcp_are_refused_before_any_change(netns: str, tmp_path: Path) -> None:
    bad = """
interfaces:
- name: br1
  type: linux-bridge
  state: up
  ipv4: {enabled: true, dhcp: false, address: [{ip: 10.0.0.1, prefix-length: 24}]}
- name: w0
  type: veth
  veth: {peer: w1}
  ipv4: {enabled: true, dhcp: true}
routes:
  config:
  - {destination: 0.0.0.0/0, next-hop-interface: br1, next-hop-address: 192.168.100.1}
"""
    res = run_linkctl("apply", write(tmp_path, bad), "--netns", netns)
    assert res.returncode == 1
    assert "192.168.100.1 is in none of br1's subnets after this plan (10.0.0.1/24)" in res.stderr, res.stderr
    assert "ipv4.dhcp" in res.stderr and "not run by linkctl" in res.stderr
    assert "nothing was changed" in res.stderr
    assert [d["ifname"] for d in _j(netns, "link")] == ["lo"]


def test_a_link_made_again_gets_its_addresses_and_routes_back(netns: str, tmp_path: Path) -> None:
    first = """
interfaces:
- name: w0
  type: veth
  state: up
  veth: {peer: w1}
- {name: w1, type: veth, state: up}
- name: vx7
  type: vxlan
  state: up
  vxlan: {id: 7, remote: 192.0.2.50, destination-port: 4789}
  ipv4: {enabled: true, dhcp: false, address: [{ip: 10.7.0.1, prefix-length: 24}]}
routes:
  config:
  - {destination: 10.77.0.0/16, next-hop-interface: vx7, next-hop-address: 10.7.0.254}
"""
    assert run_linkctl("apply", write(tmp_path, first, "first.yml"), "--netns", netns).returncode == 0
    before = layer3(netns)
    # A new VNI is a new link for the kernel: the file says nothing of its addresses or routes.
    remade = "interfaces:\n- {name: vx7, type: vxlan, vxlan: {id: 8, remote: 192.0.2.50, destination-port: 4789}}\n"
    res = run_linkctl("apply", write(tmp_path, remade, "remade.yml"), "--netns", netns)
    assert res.returncode == 0, res.stderr
    assert "add address 10.7.0.1/24 to vx7" in res.stdout and "10.77.0.0/16" in res.stdout
    vx = next(d for d in json.loads(ip("-n", netns, "-j", "-d", "link", "show", "vx7")))
    assert vx["linkinfo"]["info_data"]["id"] == 8
    assert layer3(netns) == before


def test_ipv6_off_and_on_again(netns: str, tmp_path: Path) -> None:
    on = PAIR
    assert run_linkctl("apply", write(tmp_path, on), "--netns", netns).returncode == 0
    off = "interfaces:\n- {name: w1, type: veth, ipv6: {enabled: false}}\n"
    res = run_linkctl("apply", write(tmp_path, off, "off.yml"), "--netns", netns)
    assert res.returncode == 0, res.stderr
    sysctl = ["ip", "netns", "exec", netns, "sysctl", "-n", "net.ipv6.conf.w1.disable_ipv6"]
    assert subprocess.run(sysctl, capture_output=True, text=True, check=True).stdout.strip() == "1"
    assert not [a for link in _j(netns, "-6", "address", "show", "dev", "w1") for a in link["addr_info"]]  # type: ignore[attr-defined]
    again = run_linkctl("apply", write(tmp_path, off, "off.yml"), "--netns", netns)
    assert "nothing was sent" in again.stdout
    shown = run_linkctl("show", "--netns", netns, "-f", "yaml", "w1").stdout
    assert "ipv6:\n    enabled: false" in shown
    back = "interfaces:\n- {name: w1, type: veth, ipv6: {enabled: true, address: [{ip: 2001:db8:2::1, prefix-length: 64}]}}\n"
    assert run_linkctl("apply", write(tmp_path, back, "back.yml"), "--netns", netns).returncode == 0
    assert subprocess.run(sysctl, capture_output=True, text=True, check=True).stdout.strip() == "0"
    assert ("w1", "2001:db8:2::1/64") in addresses(netns)


def test_the_receipt_answers_a_no_op_and_any_layer3_change_takes_the_full_path(netns: str, tmp_path: Path) -> None:
    """The fast path (no pydantic imported) answers only while addresses, routes, rules and the IPv6
    switches are as the receipt saw them; each change by hand is found and put back by the full path."""
    from tests.kernel.test_receipts import apply

    path = write(tmp_path, PAIR)
    first, fast = apply(path, netns)
    assert not fast and "applied and verified" in first.stdout
    second, fast = apply(path, netns)
    assert fast and "nothing was sent" in second.stdout
    changes = [
        ["ip", "-n", netns, "address", "del", "192.0.2.9/24", "dev", "w0"],
        ["ip", "-n", netns, "route", "del", "203.0.113.0/24"],
        ["ip", "-n", netns, "rule", "del", "priority", "1000"],
        [
            "ip",
            "-n",
            netns,
            "route",
            "add",
            "198.51.100.0/24",
            "dev",
            "w1",
            "metric",
            "100",
            "proto",
            "static",
            "table",
            "main",
        ],
        ["ip", "netns", "exec", netns, "sysctl", "-qw", "net.ipv6.conf.w0.disable_ipv6=1"],
    ]
    for change in changes:
        if "198.51.100.0/24" in change:  # a replaced next hop: the route is deleted first
            subprocess.run(["ip", "-n", netns, "route", "del", "198.51.100.0/24", "metric", "100"], check=True)
        subprocess.run(change, check=True)
        res, fast = apply(path, netns)
        assert not fast and "applied and verified" in res.stdout, (change, res.stdout)
        _again, fast = apply(path, netns)
        assert fast, change


def test_every_route_attribute_and_an_ipv6_source_added_by_the_same_file(netns: str, tmp_path: Path) -> None:
    """The route's IPv6 source is an address the same apply adds: added without DAD, or the kernel
    would refuse the route while it is tentative ("Invalid source address")."""
    text = """
interfaces:
- name: w0
  type: veth
  state: up
  veth: {peer: w1}
  ipv6: {enabled: true, dhcp: false, autoconf: false, address: [{ip: '2001:db8:1::1', prefix-length: 64}]}
- {name: w1, type: veth, state: up}
routes:
  config:
  - {destination: '2001:db8:9::/64', next-hop-interface: w0, next-hop-address: '2001:db8:1::fe', source: '2001:db8:1::1',
     cwnd: 10, initcwnd: 20, initrwnd: 20, mtu: 1400, lock-mtu: true, advmss: 1360, quickack: true, table-id: 1000}
route-rules:
  config:
  - {family: ipv6, ip-to: '2001:db8::/32', iif: w1, action: prohibit, priority: 1001}
  - {family: ipv4, ip-from: 192.0.2.0/24, suppress-prefix-length: 0, route-table: 254, priority: 1002}
"""
    path = write(tmp_path, text)
    res = run_linkctl("apply", path, "--netns", netns)
    assert res.returncode == 0, res.stderr
    assert "address add 2001:db8:1::1/64 dev w0 nodad" in res.stdout
    (route,) = [json.loads(r) for r in routes(netns)]
    assert route["prefsrc"] == "2001:db8:1::1" and route["table"] == "1000"
    metrics = {k: v for m in route["metrics"] for k, v in m.items()}
    assert metrics == {"mtu": 1400, "advmss": 1360, "cwnd": 10, "initcwnd": 20, "initrwnd": 20, "quickack": 1}
    text_form = ip("-n", netns, "-6", "route", "show", "table", "1000")
    assert "mtu lock 1400" in text_form, text_form  # `ip -j` leaves the lock out
    shown = rules(netns)
    assert any('"action": "prohibit"' in r and '"iif": "w1"' in r for r in shown), shown
    assert any('"suppress_prefixlen": 0' in r for r in shown), shown
    again = run_linkctl("apply", path, "--netns", netns)
    assert "nothing was sent" in again.stdout, again.stdout
    bad = text.replace("source: '2001:db8:1::1'", "source: '2001:db8:7::7'")
    refused = run_linkctl("apply", write(tmp_path, bad, "bad.yml"), "--netns", netns)
    assert refused.returncode == 1 and "2001:db8:7::7 is on no link of this namespace" in refused.stderr


def test_rehearsal_and_try_carry_layer3(netns: str, tmp_path: Path) -> None:
    """`plan --rehearse` plays the addresses, routes and rules in throwaway namespaces (this one untouched);
    an unconfirmed `try` puts them back as they were at its deadline, checked."""
    start = "interfaces:\n- {name: w0, type: veth, state: up, veth: {peer: w1}, ipv4: {address: [{ip: 192.0.2.7, prefix-length: 24}]}}\n"
    assert run_linkctl("apply", write(tmp_path, start, "start.yml"), "--netns", netns).returncode == 0
    before = layer3(netns)
    path = write(tmp_path, PAIR)
    rehearsed = run_linkctl("plan", path, "--netns", netns, "--rehearse")
    assert rehearsed.returncode == 2, rehearsed.stdout + rehearsed.stderr
    assert "rehearsal passed" in rehearsed.stdout and "add rule priority 1000" in rehearsed.stdout
    assert layer3(netns) == before
    res = run_linkctl("try", path, "--netns", netns, "--timeout", "2", stdin="")
    assert "rolled back" in res.stdout + res.stderr and "checked" in res.stdout + res.stderr, res.stdout + res.stderr
    assert layer3(netns) == before


def test_what_the_kernel_stores_its_own_way_round_trips(netns: str, tmp_path: Path) -> None:
    """A route without a gateway is deleted (IPv4 files it with scope link: a deletion asks for any scope),
    rules of mark 0 and of "from all" apply once and are then no-ops, a route with a TOS (no spelling in
    nmstate's format) is left alone, and a rollback keeps an IPv4 subnet's primary address primary."""
    base = """
interfaces:
- name: w0
  type: veth
  state: up
  veth: {peer: w1}
  ipv4: {address: [{ip: 192.0.2.1, prefix-length: 24}]}
- {name: w1, type: veth, state: up}
routes:
  config:
  - {destination: 198.51.100.0/24, next-hop-interface: w0}
route-rules:
  config:
  - {family: ipv4, fwmark: 0, route-table: 300, priority: 1100}
  - {ip-from: 0.0.0.0/0, route-table: 301, priority: 1101}
"""
    path = write(tmp_path, base)
    first = run_linkctl("apply", path, "--netns", netns)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "nothing was sent" in run_linkctl("apply", path, "--netns", netns).stdout
    ip("-n", netns, "route", "add", "10.60.0.0/16", "tos", "0x10", "via", "192.0.2.7", "dev", "w0")
    ip("-n", netns, "address", "add", "192.0.2.9/24", "dev", "w1")
    ip("-n", netns, "address", "add", "192.0.2.10/24", "dev", "w1")
    primary_before = ip("-n", netns, "-4", "address", "show", "dev", "w1")
    before = routes(netns)
    failing = """
interfaces:
- {name: w0, type: veth, ipv6: {address: [{ip: '2001:db8:1::1', prefix-length: 64}]}}
- {name: w1, type: veth, ipv4: {address: [{ip: 192.0.2.2, prefix-length: 24}]}}
routes:
  config:
  - {destination: 198.51.100.0/24, state: absent}
  - {destination: '2001:db8:3::/64', next-hop-interface: w0, next-hop-address: '2001:db8:1::1'}
"""
    res = run_linkctl("apply", write(tmp_path, failing, "failing.yml"), "--netns", netns)
    assert res.returncode == 1 and "rolled back" in res.stderr and "checked" in res.stderr, res.stdout + res.stderr
    assert routes(netns) == before and "tos 0x10" in ip("-n", netns, "route", "show", "10.60.0.0/16")
    assert ip("-n", netns, "-4", "address", "show", "dev", "w1") == primary_before  # .9 primary, .10 secondary
    gone = "routes:\n  config:\n  - {destination: 198.51.100.0/24, state: absent}\n"
    assert run_linkctl("apply", write(tmp_path, gone, "gone.yml"), "--netns", netns).returncode == 0
    assert "198.51.100.0/24" not in "".join(routes(netns))
    shown = run_linkctl("show", "--netns", netns, "-f", "yaml").stdout
    assert "10.60.0.0/16" not in shown
    back = run_linkctl("plan", write(tmp_path, shown, "shown.yml"), "--netns", netns)
    assert back.returncode == 0 and "no changes" in back.stdout, back.stdout


def test_a_route_gone_with_its_source_address_is_named_and_the_apply_verifies(netns: str, tmp_path: Path) -> None:
    assert run_linkctl("apply", write(tmp_path, PAIR), "--netns", netns).returncode == 0
    ip("-n", netns, "route", "add", "192.0.2.128/25", "via", "192.0.2.254", "dev", "w0", "src", "192.0.2.9")
    fewer = (
        "interfaces:\n- {name: w0, ipv4: {enabled: true, dhcp: false, address: [{ip: 192.0.2.1, prefix-length: 24}]}}\n"
    )
    path = write(tmp_path, fewer, "fewer.yml")
    said = run_linkctl("plan", path, "--netns", netns)
    assert said.returncode == 2 and "route 192.0.2.128/25 via 192.0.2.254 dev w0" in said.stdout, said.stdout
    assert "source address 192.0.2.9" in said.stdout
    res = run_linkctl("apply", path, "--netns", netns)
    assert res.returncode == 0 and "verified" in res.stdout, res.stdout + res.stderr
    assert "192.0.2.128/25" not in "\n".join(routes(netns))  # as the plan said: the kernel took it
    assert run_linkctl("plan", path, "--netns", netns).returncode == 0


def test_a_route_whose_source_changes_prefix_is_put_back(netns: str, tmp_path: Path) -> None:
    assert run_linkctl("apply", write(tmp_path, PAIR), "--netns", netns).returncode == 0
    ip("-n", netns, "route", "add", "192.0.2.128/25", "via", "192.0.2.254", "dev", "w0", "src", "192.0.2.9")
    both = "[{ip: 192.0.2.1, prefix-length: 24}, {ip: 192.0.2.9, prefix-length: 25}]"
    path = write(
        tmp_path, f"interfaces:\n- {{name: w0, ipv4: {{enabled: true, dhcp: false, address: {both}}}}}\n", "p.yml"
    )
    res = run_linkctl("apply", path, "--netns", netns)
    assert res.returncode == 0 and "verified" in res.stdout, res.stdout + res.stderr
    assert "192.0.2.128/25" in "\n".join(routes(netns))  # the kernel took it with 192.0.2.9/24; put back
    assert run_linkctl("plan", path, "--netns", netns).returncode == 0

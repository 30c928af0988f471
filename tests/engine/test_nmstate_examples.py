"""nmstate's example files, as a new user would try them: each applies as written where this kernel has
its kinds, or is refused with the kernel's reason and nothing changed.

The files are written here after what nmstate documents in its `examples/` folder (same keys, same
shapes, our own values), not copied. eth1 and eth2 are played by veth ends, as nmstate's own tests
play NICs: declared `type: ethernet`, they are adopted as the veths they are. Each applicable file:
applied, read back with iproute2, applied again (nothing sent), and its `show -f yaml` planned back
(no changes). Each refused one: the whole namespace read with iproute2 before and after is equal.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ip, run_linkctl
from tests.engine.kernel_helpers import by_name, write
from tests.engine.test_l3_apply import addresses, layer3, routes, rules

Check = Callable[[str], None]


def _stand_ins(ns: str) -> None:
    for nic in ("eth1", "eth2"):
        ip("-n", ns, "link", "add", nic, "type", "veth", "peer", "name", f"{nic}p")
        ip("-n", ns, "link", "set", f"{nic}p", "up")


def _has(*pairs: tuple[str, str]) -> Check:
    def check(ns: str) -> None:
        assert set(pairs) <= addresses(ns), addresses(ns)

    return check


def _routes_say(*words: str) -> Check:
    def check(ns: str) -> None:
        text = "\n".join(routes(ns))
        assert all(w in text for w in words), text

    return check


def _rules_say(*words: str) -> Check:
    def check(ns: str) -> None:
        text = "\n".join(rules(ns))
        assert all(w in text for w in words), text

    return check


def _no_route(*words: str) -> Check:
    """No route (of those a person made) mentions any of these; none at all without words."""

    def check(ns: str) -> None:
        left = routes(ns)
        assert (not left) if not words else not any(w in r for r in left for w in words), left

    return check


def _rules_lack(*words: str) -> Check:
    def check(ns: str) -> None:
        left = rules(ns)
        assert not any(all(w in r for w in words) for r in left), left

    return check


def _port_of(port: str, master: str | None) -> Check:
    def check(ns: str) -> None:
        assert by_name(ns)[port].get("master") == master, by_name(ns)[port]

    return check


def _ipv6_off(link: str) -> Check:
    def check(ns: str) -> None:
        assert ip("netns", "exec", ns, "sysctl", "-n", f"net.ipv6.conf.{link}.disable_ipv6").strip() == "1"

    return check


def _kind(name: str, kind: str | None, present: bool = True) -> Check:
    def check(ns: str) -> None:
        links = by_name(ns)
        assert (name in links) is present, sorted(links)
        if present and kind is not None:
            assert links[name]["linkinfo"]["info_kind"] == kind  # type: ignore[index]

    return check


ETH1_ROUTES = """
interfaces:
- name: eth1
  type: ethernet
  state: up
  ipv4:
    enabled: true
    dhcp: false
    address: [{ip: 192.0.2.251, prefix-length: 24}]
  ipv6:
    enabled: true
    dhcp: false
    autoconf: false
    address: [{ip: '2001:db8:1::f1', prefix-length: 64}]
routes:
  config:
  - {destination: 198.51.100.0/24, metric: 150, next-hop-address: 192.0.2.1, next-hop-interface: eth1, table-id: 254}
  - {destination: '2001:db8:2::/64', metric: 151, next-hop-address: '2001:db8:1::1', next-hop-interface: eth1}
"""

RULES = """
interfaces:
- name: eth1
  type: ethernet
  state: up
  ipv4: {address: [{ip: 192.0.2.251, prefix-length: 24}], dhcp: false, enabled: true}
- name: eth2
  type: ethernet
  state: up
  ipv4: {address: [{ip: 198.51.100.251, prefix-length: 24}], dhcp: false, enabled: true}
route-rules:
  config:
  - {ip-to: 192.0.2.0/24, priority: 1000, route-table: 50}
  - {ip-from: 192.0.2.0/24, priority: 1000, route-table: 50}
  - {ip-to: 198.51.100.0/24, priority: 1000, route-table: 51}
  - {ip-from: 198.51.100.0/24, priority: 1000, route-table: 51}
routes:
  config:
  - {destination: 0.0.0.0/0, metric: 150, next-hop-address: 192.0.2.1, next-hop-interface: eth1, table-id: 50}
  - {destination: 0.0.0.0/0, metric: 150, next-hop-address: 198.51.100.1, next-hop-interface: eth2, table-id: 51}
"""

BRIDGE = """
interfaces:
- name: eth1
  type: ethernet
  state: up
- name: linux-br0
  type: linux-bridge
  state: up
  bridge:
    options:
      group-forward-mask: 0
      mac-ageing-time: 300
      multicast-snooping: true
      stp: {enabled: false, forward-delay: 15, hello-time: 2, max-age: 20, priority: 32768}
    port:
    - {name: eth1, stp-hairpin-mode: false, stp-path-cost: 100, stp-priority: 32}
"""

VETH_ETH_PEER = """
interfaces:
- {name: veth1, type: veth, state: up, veth: {peer: veth1peer}}
- {name: veth1peer, type: ethernet, state: up}
"""


def _up(name: str) -> Check:
    def check(ns: str) -> None:
        assert "UP" in by_name(ns)[name]["flags"], by_name(ns)[name]  # type: ignore[operator]

    return check


def _feature(name: str, line: str) -> Check:
    def check(ns: str) -> None:
        shown = subprocess.run(
            ["ip", "netns", "exec", ns, "ethtool", "-k", name], capture_output=True, text=True, check=True
        ).stdout
        assert line in shown.splitlines(), shown

    return check


# (name, the steps: files applied in turn, the checks after the last)
APPLIES: list[tuple[str, list[str], list[Check]]] = [
    (
        "eth1_add_route",
        [ETH1_ROUTES],
        [
            _has(("eth1", "192.0.2.251/24"), ("eth1", "2001:db8:1::f1/64")),
            _routes_say('"dst": "198.51.100.0/24", "gateway": "192.0.2.1"', '"metric": 150', '"2001:db8:2::/64"'),
        ],
    ),
    (
        "eth1_remove_route",
        [
            ETH1_ROUTES,
            """
interfaces:
- {name: eth1, type: ethernet, state: up}
routes:
  config:
  - {destination: 198.51.100.0/24, next-hop-address: 192.0.2.1, next-hop-interface: eth1, state: absent}
""",
        ],
        [_routes_say("2001:db8:2::/64"), _no_route("198.51.100.0/24")],
    ),
    (
        "eth1_del_all_routes",
        [
            ETH1_ROUTES,
            """
interfaces:
- {name: eth1, type: ethernet, state: up}
routes:
  config:
  - {next-hop-interface: eth1, state: absent}
""",
        ],
        [_no_route()],
    ),
    (
        # nmstate's partial editing: `enabled: true` without `address` leaves the addresses (and so the
        # routes through them) as they are; nmstate.io's VxLAN example writes `ipv6: {enabled: true}` alone.
        "eth1_ip_enabled_only",
        [ETH1_ROUTES, "interfaces:\n- {name: eth1, type: ethernet, ipv4: {enabled: true}, ipv6: {enabled: true}}\n"],
        [
            _has(("eth1", "192.0.2.251/24"), ("eth1", "2001:db8:1::f1/64")),
            _routes_say('"dst": "198.51.100.0/24"', '"2001:db8:2::/64"'),
        ],
    ),
    (
        "eth1_add_route_rule",
        [RULES],
        [
            _rules_say('"dst": "192.0.2.0"', '"src": "198.51.100.0"', '"table": "50"', '"table": "51"'),
            _routes_say('"table": "50"', '"table": "51"', '"metric": 150'),
        ],
    ),
    (
        "eth1_del_all_route_rules",
        [
            RULES.replace("route-table: 51", "route-table: 254"),
            """
interfaces:
- name: eth1
route-rules:
  config:
  - {route-table: 254, state: absent}
""",
        ],
        [
            _rules_say('"table": "50"'),
            _rules_lack('"table": "main"', '"priority": 1000'),
        ],
    ),
    (
        "linuxbrige_eth1_up",
        [BRIDGE],
        [
            _kind("linux-br0", "bridge"),
            _port_of("eth1", "linux-br0"),
        ],
    ),
    (
        "linuxbrige_eth1_absent",
        [BRIDGE, "interfaces:\n- {name: linux-br0, type: linux-bridge, state: absent}\n"],
        [
            _kind("linux-br0", None, present=False),
            _port_of("eth1", None),
        ],
    ),
    (
        # nmstate reads a bridge's port list as `port` or `ports` (linux_bridge.rs, serde alias).
        "linuxbridge_creation_ports",
        [BRIDGE.replace("    port:", "    ports:")],
        [_kind("linux-br0", "bridge"), _port_of("eth1", "linux-br0")],
    ),
    (
        # nmstate's tests/integration/veth_test.py (test_add_veth_with_ethernet_peer): a new pair whose
        # second end is declared `type: ethernet`; and both removed, that end still `type: ethernet`.
        "veth_with_ethernet_peer",
        [VETH_ETH_PEER],
        [_kind("veth1", "veth"), _kind("veth1peer", "veth"), _up("veth1peer")],
    ),
    (
        "veth_with_ethernet_peer_absent",
        [VETH_ETH_PEER, VETH_ETH_PEER.replace("state: up", "state: absent")],
        [_kind("veth1", None, present=False), _kind("veth1peer", None, present=False)],
    ),
    (
        # A feature name with '_', as the kernel spells it and nmstatectl show writes it (nmstate.io's
        # yaml_api.md ethtool example has rx-udp_tunnel-port-offload): refused as misspelt before.
        "ethtool_feature_udp_tnl",
        ["interfaces:\n- {name: eth1, type: ethernet, ethtool: {feature: {tx-udp_tnl-segmentation: false}}}\n"],
        [_feature("eth1", "tx-udp_tnl-segmentation: off")],
    ),
    (
        "mac_vlan_create",
        [
            """
interfaces:
- name: mac0
  type: mac-vlan
  state: up
  mac-vlan: {base-iface: eth1, mode: vepa, promiscuous: true}
"""
        ],
        [_kind("mac0", "macvlan")],
    ),
    (
        "mac_vlan_absent",
        [
            "interfaces:\n- {name: mac0, type: mac-vlan, state: up, mac-vlan: {base-iface: eth1, mode: vepa}}\n",
            "interfaces:\n- {name: mac0, type: mac-vlan, state: absent}\n",
        ],
        [_kind("mac0", None, present=False)],
    ),
    (
        "mac_vtap_create",
        [
            """
interfaces:
- name: mac0
  type: mac-vtap
  state: up
  mac-vtap: {base-iface: eth1, mode: passthru, promiscuous: true}
"""
        ],
        [_kind("mac0", "macvtap")],
    ),
    (
        "mac_vtap_absent",
        [
            "interfaces:\n- {name: mac0, type: mac-vtap, state: up, mac-vtap: {base-iface: eth1, mode: bridge}}\n",
            "interfaces:\n- {name: mac0, type: mac-vtap, state: absent}\n",
        ],
        [_kind("mac0", None, present=False)],
    ),
    (
        "loopback_ipv6_disabled",
        ["interfaces:\n- {name: lo, type: loopback, state: up, ipv6: {enabled: false}}\n"],
        [_ipv6_off("lo")],
    ),
    (
        "dns_edit_eth1",
        [
            """
dns-resolver:
  config:
    search: [example.com, example.org]
    server: ['2001:4860:4860::8888', 8.8.8.8]
interfaces:
- name: eth1
  type: ethernet
  state: up
  ipv4: {address: [{ip: 192.0.2.251, prefix-length: 24}], dhcp: false, enabled: true}
routes:
  config:
  - {destination: 0.0.0.0/0, next-hop-address: 192.0.2.1, next-hop-interface: eth1}
"""
        ],
        [_has(("eth1", "192.0.2.251/24")), _routes_say('"dst": "default", "gateway": "192.0.2.1"')],
    ),
    ("static_hostname", ["hostname:\n  config: linkctl-test\n"], []),
]

# (name, file, what the refusal says)
REFUSED: list[tuple[str, str, str]] = [
    (
        "bond_port_up",
        """
interfaces:
- name: bond99
  type: bond
  state: up
  link-aggregation:
    mode: active-backup
    options: {miimon: 140}
    port: [eth1, eth2]
    ports-config: [{name: eth1, priority: 10}, {name: eth2, priority: 5}]
""",
        "bond",
    ),
    (
        "bond_linuxbridge_vlan_up",
        """
interfaces:
- name: bond0
  type: bond
  state: up
  link-aggregation: {mode: balance-rr, port: [eth1, eth2]}
- name: bond0.101
  type: vlan
  state: up
  vlan: {base-iface: bond0, id: 101}
- name: br101
  type: linux-bridge
  state: up
  bridge: {port: [{name: bond0.101}]}
""",
        "bond",
    ),
    (
        "linuxbrige_eth1_up_port_vlan",
        """
interfaces:
- {name: eth1, type: ethernet, state: up}
- name: linux-br0
  type: linux-bridge
  state: up
  bridge:
    port:
    - name: eth1
      vlan:
        mode: trunk
        trunk-tags: [{id: 101}, {id-range: {min: 500, max: 599}}]
        tag: 100
        enable-native: true
""",
        "Operation not supported",
    ),
    (
        "ipvlan_create",
        """
interfaces:
- name: ipvlan0
  type: ipvlan
  state: up
  ipvlan: {base-iface: eth1, mode: l3, private: false, vepa: false}
""",
        "ipvlan",
    ),
    (
        "eth1_with_sriov",
        """
interfaces:
- name: eth1
  type: ethernet
  state: up
  ethernet:
    sr-iov:
      total-vfs: 2
      vfs: [{id: 0, spoof-check: true, trust: false}]
""",
        "sr-iov",
    ),
]


def _everything(ns: str) -> tuple[object, ...]:
    """The namespace as iproute2 reads it: links (no counters), addresses, routes, rules."""
    links = json.loads(ip("-n", ns, "-j", "-d", "link", "show"))
    return (json.dumps(links, sort_keys=True), *layer3(ns))


@pytest.mark.parametrize(("name", "steps", "checks"), APPLIES, ids=[a[0] for a in APPLIES])
def test_example_applies_as_written(
    netns: str, tmp_path: Path, name: str, steps: list[str], checks: list[Check]
) -> None:
    _stand_ins(netns)
    for i, text in enumerate(steps):
        res = run_linkctl("apply", write(tmp_path, text, f"{name}-{i}.yml"), "--netns", netns)
        assert res.returncode == 0, res.stdout + res.stderr
    for check in checks:
        check(netns)
    last = write(tmp_path, steps[-1], f"{name}-last.yml")
    again = run_linkctl("apply", last, "--netns", netns)
    assert again.returncode == 0 and "nothing was sent" in again.stdout, again.stdout + again.stderr
    shown = run_linkctl("show", "--netns", netns, "-f", "yaml")
    back = run_linkctl("plan", write(tmp_path, shown.stdout, f"{name}-shown.yml"), "--netns", netns)
    assert back.returncode == 0 and "no changes" in back.stdout, back.stdout + back.stderr


@pytest.mark.parametrize(("name", "text", "reason"), REFUSED, ids=[r[0] for r in REFUSED])
def test_example_this_kernel_cannot_carry_is_refused_and_nothing_changes(
    netns: str, tmp_path: Path, name: str, text: str, reason: str
) -> None:
    _stand_ins(netns)
    before = _everything(netns)
    res = run_linkctl("apply", write(tmp_path, text, f"{name}.yml"), "--netns", netns)
    assert res.returncode != 0, res.stdout
    assert reason in res.stderr and "nothing was changed" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr
    assert _everything(netns) == before

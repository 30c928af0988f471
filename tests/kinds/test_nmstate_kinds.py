"""nmstate's mac-vtap, mac-vlan promiscuous, the bridge's multicast options, ipvlan and bond, in a real namespace.

What this kernel has is applied and read back with iproute2; a second apply sends nothing;
`show -f yaml` applies back as a no-op. What it lacks (ipvlan, bonding) is validated in full,
then refused with the kernel's reason, nothing changed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ip, kernel_can_create, run_linkctl

KINDS = """
interfaces:
- name: mvt0
  type: mac-vtap
  state: up
  mac-vtap: {base-iface: vb0, mode: bridge, promiscuous: false}
- name: mvl0
  type: mac-vlan
  state: up
  mac-vlan: {base-iface: vb1, mode: vepa, promiscuous: false}
- name: br7
  type: linux-bridge
  state: up
  bridge:
    options:
      group-forward-mask: 8
      group-addr: 01:80:C2:00:00:0E
      hash-max: 1024
      multicast-router: enabled
      multicast-querier: true
      multicast-query-interval: 12000
      multicast-startup-query-count: 3
"""


def _details(netns: str, name: str) -> dict[str, object]:
    info = json.loads(ip("-n", netns, "-j", "-d", "link", "show", name))[0]["linkinfo"]
    data: dict[str, object] = info["info_data"]
    return data


def _write(tmp_path: Path, text: str, name: str = "f.yml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_macvtap_macvlan_promiscuous_and_bridge_multicast_apply_once_and_round_trip(netns: str, tmp_path: Path) -> None:
    ip("-n", netns, "link", "add", "vb0", "type", "veth", "peer", "name", "vb1")
    path = _write(tmp_path, KINDS)
    plan = run_linkctl("plan", path, "--netns", netns)
    assert plan.returncode in (0, 2), plan.stderr  # 2: changes to make
    assert "type macvtap mode bridge flag nopromisc" in plan.stdout
    assert "group_fwd_mask 8 group_address 01:80:c2:00:00:0e mcast_hash_max 1024 mcast_router 2" in plan.stdout
    res = run_linkctl("apply", path, "--netns", netns)
    assert res.returncode == 0, res.stderr
    assert _details(netns, "mvt0")["mode"] == "bridge"
    assert "nopromisc" in ip("-n", netns, "-d", "link", "show", "mvt0")
    assert "nopromisc" in ip("-n", netns, "-d", "link", "show", "mvl0")
    br = _details(netns, "br7")
    assert (br["group_fwd_mask"], br["group_addr"], br["mcast_hash_max"]) == ("0x8", "01:80:c2:00:00:0e", 1024)
    assert (br["mcast_router"], br["mcast_querier"], br["mcast_query_intvl"]) == (2, 1, 12000)
    again = run_linkctl("apply", path, "--netns", netns, "--debug")
    assert again.returncode == 0 and "no changes" in again.stdout
    assert "RTM_NEWLINK" not in again.stderr  # nothing sent
    shown = run_linkctl("show", "--netns", netns, "-f", "yaml")
    assert shown.returncode == 0, shown.stderr
    assert "mac-vtap:" in shown.stdout and "promiscuous: false" in shown.stdout
    back = run_linkctl("apply", _write(tmp_path, shown.stdout, "shown.yml"), "--netns", netns)
    assert back.returncode == 0, back.stderr
    assert "no changes" in back.stdout


def test_promiscuous_changes_in_place(netns: str, tmp_path: Path) -> None:
    ip("-n", netns, "link", "add", "vb0", "type", "veth", "peer", "name", "vb1")
    ip("-n", netns, "link", "add", "link", "vb0", "name", "mvl0", "type", "macvlan", "mode", "bridge")
    index = json.loads(ip("-n", netns, "-j", "link", "show", "mvl0"))[0]["ifindex"]
    path = _write(
        tmp_path, "interfaces: [{name: mvl0, type: mac-vlan, mac-vlan: {base-iface: vb0, promiscuous: false}}]"
    )
    plan = run_linkctl("plan", path, "--netns", netns)
    assert "mac-vlan.promiscuous" in plan.stdout and "create" not in plan.stdout
    assert run_linkctl("apply", path, "--netns", netns).returncode == 0
    assert "nopromisc" in ip("-n", netns, "-d", "link", "show", "mvl0")
    assert json.loads(ip("-n", netns, "-j", "link", "show", "mvl0"))[0]["ifindex"] == index  # not made again


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            "interfaces: [{name: ipv0, type: ipvlan, ipvlan: {base-iface: vb0, mode: l3s, private: true}}]",
            "this kernel cannot create ipvlan links",
        ),
        (
            "interfaces: [{name: bond0, type: bond, link-aggregation: {mode: 802.3ad, options: {lacp_rate: fast,"
            " ad_select: count, xmit_hash_policy: layer3+4}, ports-config: [{name: vb1, queue-id: 2, priority: 9}]}}]",
            "this kernel cannot create bond links",
        ),
    ],
)
def test_kinds_this_kernel_lacks_are_validated_then_refused_nothing_changed(
    netns: str, tmp_path: Path, text: str, words: str
) -> None:
    kind = "ipvlan" if "ipvlan" in text else "bond"
    if kernel_can_create(kind):
        pytest.skip(f"this kernel has {kind}: the refusal is for kernels without it")
    ip("-n", netns, "link", "add", "vb0", "type", "veth", "peer", "name", "vb1")
    before = ip("-n", netns, "-d", "link", "show")
    res = run_linkctl("apply", _write(tmp_path, text), "--netns", netns)
    assert res.returncode != 0
    assert words in res.stderr and "nothing was changed" in res.stderr
    assert ip("-n", netns, "-d", "link", "show") == before


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ("{mode: active-backup, options: {lacp_rate: fast}}", "option lacp_rate does not belong to mode active-backup"),
        ("{mode: balance-rr, options: {primary: vb0}}", "option primary does not belong to mode balance-rr"),
        ("{mode: 802.3ad, options: {ad_actor_sys_prio: 0}}", "greater than or equal to 1"),
        ("{mode: 802.3ad, options: {xmit_hash_policy: layer5}}", "xmit_hash_policy"),
        ("{mode: balance-rr, options: {miimon: 100, arp_interval: 100}}", "exclude each other"),
        ("{mode: active-backup, options: {miimon: 100, updelay: 250}}", "the kernel would keep 200"),
        ("{mode: balance-rr, ports-config: [{name: vb0, queue-id: 3}, {name: vb1, queue-id: 3}]}", "share queue-id 3"),
    ],
)
def test_bond_options_are_checked_against_their_mode_and_range(tmp_path: Path, options: str, words: str) -> None:
    text = f"interfaces: [{{name: bond0, type: bond, link-aggregation: {options}}}]"
    res = run_linkctl("plan", _write(tmp_path, text))
    assert res.returncode != 0
    assert words in res.stderr, res.stderr


def test_bridge_group_address_and_mask_the_kernel_refuses_are_refused_first(tmp_path: Path) -> None:
    options = "{group-addr: 01:80:C2:00:00:03, group-forward-mask: 1}"
    text = f"interfaces: [{{name: br9, type: linux-bridge, bridge: {{options: {options}}}}}]"
    res = run_linkctl("plan", _write(tmp_path, text))
    assert res.returncode != 0
    assert "802.1X" in res.stderr and "bits 0-2" in res.stderr


def test_bond_plan_spells_ip_and_show_round_trips_without_a_kernel() -> None:
    """The bond's `ip` words, and its section read back from what the kernel would report (no bonding here)."""
    from linkctl.kinds import BY_KERNEL_KIND
    from linkctl.model.load import from_data
    from linkctl.model.sections import BondSection
    from linkctl.model.state import BondPortInfo, Link, NetnsState

    options = {
        "miimon": 100, "lacp_rate": "fast", "ad_select": "bandwidth", "all_slaves_active": "delivered",
        "lacp_active": True, "xmit_hash_policy": "layer3+4", "min_links": 2,
    }  # fmt: skip
    iface = {
        "name": "bond0", "type": "bond",
        "link-aggregation": {"mode": "802.3ad", "port": ["e1"], "ports-config": [{"name": "e1", "queue-id": 2}],
                             "options": options},
    }  # fmt: skip
    spec = from_data({"interfaces": [iface]}, "t").interfaces[0]
    bond = BY_KERNEL_KIND["bond"]
    args = " ".join(bond.ip_args(spec))
    assert "mode 802.3ad miimon 100 ad_select bandwidth all_slaves_active 1 lacp_rate fast" in args
    assert "lacp_active on" in args and "min_links 2" in args and "xmit_hash_policy layer3+4" in args
    backup = {
        "name": "b1",
        "type": "bond",
        "link-aggregation": {"mode": "active-backup", "options": {"peer_notif_delay": 200}},
    }
    assert "peer_notify_delay 200" in " ".join(bond.ip_args(from_data({"interfaces": [backup]}, "t").interfaces[0]))
    data = bond.info_data(spec, lambda name: 0)
    link = Link(ifindex=5, name="bond0", kind="bond", info=bond.decode(data, 0, len(data)))
    port = Link(ifindex=6, name="e1", master_ifindex=5, slave_kind="bond", bond_port=BondPortInfo(queue_id=2))
    ns = NetnsState.of(None, [link, port])
    shown = bond.section_from_link(link, ns, None)
    assert isinstance(shown, BondSection) and shown.ports_config is not None and shown.ports_config[0].queue_id == 2
    again = from_data(
        {
            "interfaces": [
                {
                    "name": "bond0",
                    "type": "bond",
                    "link-aggregation": shown.model_dump(by_alias=True, exclude_none=True, mode="json"),
                }
            ]
        },
        "t",
    ).interfaces[0]
    assert bond.compare(again, link, ns, None).empty
    assert bond.compare(spec, link, ns, None).empty


def test_plan_splits_in_place_from_re_create_for_the_new_keys(netns: str, tmp_path: Path) -> None:
    """A bridge's multicast options and a mac-vtap's mode change in place; a mac-vtap's base re-makes it."""
    ip("-n", netns, "link", "add", "vb0", "type", "veth", "peer", "name", "vb1")
    ip("-n", netns, "link", "add", "br7", "type", "bridge")
    ip("-n", netns, "link", "add", "link", "vb0", "name", "mvt0", "type", "macvtap", "mode", "bridge")
    in_place = """
interfaces:
- {name: br7, type: linux-bridge, bridge: {options: {multicast-router: disabled, hash-max: 2048}}}
- {name: mvt0, type: mac-vtap, mac-vtap: {base-iface: vb0, mode: vepa}}
"""
    plan = run_linkctl("plan", _write(tmp_path, in_place), "--netns", netns)
    assert plan.returncode == 2, plan.stderr
    assert "type bridge mcast_hash_max 2048 mcast_router 0" in plan.stdout
    assert "type macvtap mode vepa" in plan.stdout
    assert "delete" not in plan.stdout and "create" not in plan.stdout
    res = run_linkctl("apply", _write(tmp_path, in_place), "--netns", netns)
    assert res.returncode == 0, res.stderr
    assert _details(netns, "br7")["mcast_router"] == 0 and _details(netns, "mvt0")["mode"] == "vepa"
    moved = "interfaces: [{name: mvt0, type: mac-vtap, mac-vtap: {base-iface: vb1, mode: vepa}}]"
    plan = run_linkctl("plan", _write(tmp_path, moved, "moved.yml"), "--netns", netns)
    assert "mac-vtap.base-iface" in plan.stdout and "link add link vb1 name mvt0" in plan.stdout


def test_a_hash_elasticity_the_kernel_would_not_keep_is_refused(tmp_path: Path) -> None:
    text = "interfaces: [{name: br9, type: linux-bridge, bridge: {options: {hash-elasticity: 8}}}]"
    res = run_linkctl("plan", _write(tmp_path, text))
    assert res.returncode == 1 and "only 16" in res.stderr


def test_a_multicast_timer_the_kernel_rounds_to_its_tick_applies_once(netns: str, tmp_path: Path) -> None:
    """nmstate's 3125 (its default startup query interval) is kept as 3124 by a kernel with HZ=250:
    as close as that kernel gets, so applied once and then seen as done."""
    text = "interfaces: [{name: br8, type: linux-bridge, bridge: {options: {multicast-startup-query-interval: 3125}}}]"
    path = _write(tmp_path, text)
    res = run_linkctl("apply", path, "--netns", netns)
    assert res.returncode == 0, res.stderr
    assert _details(netns, "br8")["mcast_startup_query_intvl"] in (3124, 3125)
    again = run_linkctl("plan", path, "--netns", netns)
    assert again.returncode == 0 and "no changes" in again.stdout


def test_a_mac_vtap_with_a_mac_another_macvlan_on_its_base_holds_is_refused(netns: str, tmp_path: Path) -> None:
    ip("-n", netns, "link", "add", "vb0", "type", "veth", "peer", "name", "vb1")
    ip("-n", netns, "link", "add", "link", "vb0", "name", "mvl9", "type", "macvlan")
    mac = json.loads(ip("-n", netns, "-j", "link", "show", "mvl9"))[0]["address"]
    text = f'interfaces: [{{name: mvt0, type: mac-vtap, mac-address: "{mac}", mac-vtap: {{base-iface: vb0}}}}]'
    res = run_linkctl("apply", _write(tmp_path, text), "--netns", netns)
    assert res.returncode == 1 and "mvl9, on the same base-iface vb0, has it" in res.stderr
    assert "mvt0" not in ip("-n", netns, "link", "show")

"""nmstate's sections linkctl does not manage: named and left, or refused with --strict; never a secret shown.

Pure: the loader on text (model/load.py, model/unmanaged.py). The command's whole output is
checked for the secret in tests/engine/test_nmstate_links.py.
"""

from __future__ import annotations

import pytest

from linkctl.errors import ValidationFailed
from linkctl.model.load import SchemaFailed, parse_text
from linkctl.model.spec import Declaration, LinkStateName
from linkctl.model.unmanaged import iface_keys, other_types, top_keys

SECRET = "hunter2-Zq9"

NMSTATE_FILE = f"""
hostname: {{config: host1.example.org}}
dns-resolver:
  config: {{server: [192.0.2.53], search: [example.org]}}
ovs-db: {{external_ids: {{hostname: host1}}}}
interfaces:
- name: eth1
  type: ethernet
  state: up
  mtu: 1500
  min-mtu: 68
  max-mtu: 9000
  permanent-mac-address: 02:00:00:00:00:11
  wait-ip: any
  lldp: {{enabled: true}}
  802.1x:
    identity: alice
    eap-methods: [peap]
    password: {SECRET}
    private-key-password: {SECRET}
  ethernet:
    speed: 1000
    sr-iov: {{total-vfs: 0}}
- name: br-ex
  type: ovs-bridge
  state: up
  bridge: {{port: [{{name: eth2}}]}}
- name: v0
  type: veth
  veth: {{peer: v0p}}
"""


def load(text: str, strict: bool = False) -> tuple[Declaration, list[str]]:
    notes: list[str] = []
    return parse_text(text, "f.yml", strict, notes), notes


def refused(text: str, strict: bool = False) -> list[str]:
    with pytest.raises(ValidationFailed) as info:
        load(text, strict)
    return [str(p) for p in info.value.problems]


def test_an_nmstate_file_loads_with_what_linkctl_leaves_named_once() -> None:
    decl, notes = load(NMSTATE_FILE)
    assert [s.name for s in decl.interfaces] == ["eth1", "v0"]  # the OVS bridge is not linkctl's
    eth1 = decl.interfaces[0]
    assert eth1.mtu == 1500 and eth1.ethernet is not None and eth1.ethernet.speed == 1000
    assert notes == [
        "f.yml: hostname: not managed by linkctl, left as the system has it",
        "f.yml: dns-resolver: not managed by linkctl, left as the system has it",
        "f.yml: ovs-db: not managed by linkctl, left as the system has it",
        "f.yml: interface eth1: min-mtu: shown by nmstate, ignored when applying (as nmstate does)",
        "f.yml: interface eth1: max-mtu: shown by nmstate, ignored when applying (as nmstate does)",
        "f.yml: interface eth1: permanent-mac-address: shown by nmstate, ignored when applying (as nmstate does)",
        "f.yml: interface eth1: wait-ip: not managed by linkctl, left as the system has it",
        "f.yml: interface eth1: lldp: not managed by linkctl, left as the system has it",
        "f.yml: interface eth1: 802.1x: not managed by linkctl, left as the system has it",
        "f.yml: interface eth1: ethernet.sr-iov: not managed by linkctl, left as the system has it",
        "f.yml: interface br-ex: type ovs-bridge: not managed by linkctl, left as the system has it",
    ]
    assert SECRET not in "".join(notes)


def test_a_key_on_many_interfaces_is_named_once_with_them() -> None:
    entries = "".join(f"- {{name: e{i}, type: ethernet, lldp: {{enabled: false}}}}\n" for i in range(5))
    _decl, notes = load("interfaces:\n" + entries)
    assert notes == ["f.yml: interfaces e0, e1, e2 and 2 more: lldp: not managed by linkctl, left as the system has it"]


def test_strict_refuses_each_unmanaged_section_but_not_what_nmstate_only_shows() -> None:
    found = refused(NMSTATE_FILE, strict=True)
    assert all("--strict refuses" in p for p in found), found
    assert [p.split(": ")[1] if p.count(": interface") == 0 else p.split(": ")[2] for p in found] == [
        "hostname",
        "dns-resolver",
        "ovs-db",
        "wait-ip",
        "lldp",
        "802.1x",
        "ethernet.sr-iov",
        "type ovs-bridge",
    ]
    assert not any(SECRET in p for p in found)


def test_strict_takes_a_file_linkctl_manages_whole() -> None:
    decl, notes = load("interfaces: [{name: v0, type: veth, veth: {peer: v0p}, mtu: 1400}]", strict=True)
    assert decl.interfaces[0].mtu == 1400 and notes == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dns-reslover: {}\ninterfaces: []", "dns-reslover: {}: unknown key: did you mean `dns-resolver`?"),
        ("hostnme: {config: h}\ninterfaces: []", "unknown key: did you mean `hostname`?"),
        ("interfaces: [{name: e0, lldpp: {enabled: true}}]", "unknown key: did you mean `lldp`?"),
        ("interfaces: [{name: e0, bridge: {controller: br0}}]", "a port names its controller on its own entry"),
        ("interfaces: [{name: e0, type: ovs-bridg}]", "type: 'ovs-bridg': Input should be"),
    ],
)
def test_a_misspelling_stays_a_misspelling(text: str, expected: str) -> None:
    found = refused(text)
    assert any(expected in p for p in found), found


@pytest.mark.parametrize(
    "section",
    [
        f"802.1X: {{identity: alice, password: {SECRET}}}",  # misspelt: an unknown key
        f"lldp: {{enabled: true}}, 802.1x: {{password: {SECRET}}}, mtu: 1",  # known, with a fault beside it
        f"ieee-802-1x: {{psk: {SECRET}}}, mtu: 1",
        f"macsec: {{mka-cak: {SECRET}, mka-ckn: 01}}",
        f"802.1x: [{{private-key-password: {SECRET}}}], mtu: 1",
    ],
)
@pytest.mark.parametrize("strict", [False, True])
def test_a_secret_is_never_in_a_message(section: str, strict: bool) -> None:
    text = f"interfaces:\n- {{name: e0, type: ethernet, {section}}}\n"
    notes: list[str] = []
    with pytest.raises(ValidationFailed) as info:
        parse_text(text, "f.yml", strict, notes)
    assert SECRET not in str(info.value) + "".join(notes)


def test_sr_iov_that_makes_virtual_functions_is_refused_with_how() -> None:
    found = refused("interfaces: [{name: e0, type: ethernet, ethernet: {sr-iov: {total-vfs: 4}}}]")
    assert any("ethernet.sr-iov" in p and "sriov_numvfs" in p for p in found), found


def test_state_ignore_is_taken_out_and_remembered() -> None:
    decl, _notes = load(
        "interfaces:\n- {name: eth3, state: ignore}\n- {name: eth4, state: ignore, netns: ns1}\n"
        "- {name: v0, type: veth, veth: {peer: v0p}}\n"
    )
    assert [s.name for s in decl.interfaces] == ["v0"]
    assert decl.ignored == {(None, "eth3"), ("ns1", "eth4")}
    assert LinkStateName("ignore") is LinkStateName.IGNORE


def test_the_format_s_problems_carry_what_parsed() -> None:
    text = (
        "interfaces:\n- {name: v0, type: veth, mtu: 99999, veth: {peer: v0p}}\n"
        "- {name: bad/name, type: veth}\n- {name: e1, type: ethernet, descripton: x}\n"
    )
    with pytest.raises(SchemaFailed) as info:
        load(text)
    assert len(info.value.problems) == 3
    partial = info.value.partial
    assert partial is not None
    # Each entry without its faulty keys; one whose name is faulty is left out.
    assert [(s.name, s.mtu) for s in partial.interfaces] == [("v0", None), ("e1", None)]


@pytest.mark.parametrize(
    ("value", "fault"),
    [("x" * 256, "at most 255 bytes"), ("two\nlines", "printable text")],
)
def test_a_description_the_kernel_cannot_keep_is_refused(value: str, fault: str) -> None:
    found = refused(f"interfaces: [{{name: e0, description: {value!r}}}]".replace("'", '"').replace("\n", "\\n"))
    assert any("description" in p and fault in p for p in found), found


def test_the_lists_leave_what_linkctl_manages() -> None:
    managed_top = {"interfaces", "routes", "route-rules"}
    assert not managed_top & set(top_keys())
    assert not {"ipv4", "ipv6", "description", "copy-mac-from", "mtu"} & set(iface_keys())
    assert "veth" not in other_types() and "ovs-bridge" in other_types()


# An address as `nmstatectl show` writes it (InterfaceIpAddr in nmstate's ip.rs: mptcp-flags and the
# lifetimes "query only, ignored when applying"); nmstate.io's yaml_api.md "IP" example carries
# mptcp-flags. linkctl refused them as unknown keys.
SHOWN_ADDRESSES = """
interfaces:
- name: eth1
  type: ethernet
  state: up
  ipv4:
    enabled: true
    dhcp: false
    address:
    - {ip: 192.0.2.252, prefix-length: 24, mptcp-flags: [signal, subflow]}
    - {ip: 192.0.2.251, prefix-length: 24, valid-life-time: forever, preferred-lft: forever}
  ipv6:
    enabled: true
    address:
    - {ip: '2001:db8:2::1', prefix-length: 64, mptcp-flags: [signal]}
"""


def test_what_nmstatectl_show_writes_on_an_address_is_named_and_ignored() -> None:
    decl, notes = load(SHOWN_ADDRESSES)
    eth1 = decl.interfaces[0]
    assert eth1.ipv4 is not None and [a.cidr for a in eth1.ipv4.addresses()] == ["192.0.2.252/24", "192.0.2.251/24"]
    assert eth1.ipv6 is not None and [a.cidr for a in eth1.ipv6.addresses()] == ["2001:db8:2::1/64"]
    shown = "shown by nmstate, ignored when applying"
    assert f"f.yml: interface eth1: ipv4.address mptcp-flags: {shown} (as nmstate does)" in notes, notes
    assert any("ipv4.address valid-life-time" in n for n in notes) and any(
        "ipv6.address mptcp-flags" in n for n in notes
    )
    assert load(SHOWN_ADDRESSES, strict=True)[0].interfaces[0].ipv4 is not None  # --strict: nmstate only shows them


def test_an_address_lifetime_linkctl_would_not_keep_is_refused_with_how() -> None:
    problems = refused(SHOWN_ADDRESSES.replace("valid-life-time: forever", "valid-life-time: 32sec"))
    assert any("ipv4.address.1.valid-life-time: '32sec'" in p and "give `forever`" in p for p in problems), problems


def test_the_ring_maxima_nmstatectl_show_writes_are_named_and_ignored() -> None:
    """EthtoolRingConfig in nmstate's ethtool.rs carries rx-max ... tx-max: the driver's, never set."""
    text = "interfaces:\n- {name: eth1, type: ethernet, ethtool: {ring: {rx: 512, rx-max: 4096, tx-max: 4096}}}\n"
    decl, notes = load(text)
    ring = decl.interfaces[0].ethtool.ring  # type: ignore[union-attr]
    assert ring is not None and (ring.rx, ring.tx) == (512, None)
    assert any("ethtool.ring rx-max: shown by nmstate, ignored when applying" in n for n in notes), notes
    assert load(text, strict=True)[0].interfaces[0].ethtool is not None


def test_a_feature_name_as_the_kernel_spells_it_with_an_underscore() -> None:
    text = "interfaces:\n- {name: eth1, ethtool: {feature: {rx-udp_tunnel-port-offload: true, Bad: true}}}\n"
    problems = refused(text)
    assert len(problems) == 1 and "'Bad'" in problems[0] and "'_'" in problems[0], problems


def test_virtual_links_declared_down_are_said_kept_where_nmstate_removes_them() -> None:
    # nmstate removes a virtual interface declared `down` (nmstate.io's examples: "For virtual
    # ifaces, it removes the iface"); linkctl sets it down and keeps it, and says so once.
    notes: list[str] = []
    parse_text(
        "interfaces:\n- {name: v1, type: veth, state: down, veth: {peer: v2}}\n"
        "- {name: br1, type: linux-bridge, state: down}\n- {name: eth1, type: ethernet, state: down}\n"
        "- {name: br2, type: linux-bridge, state: up}\n",
        "f.yml",
        notes=notes,
    )
    assert notes == [
        "f.yml: interfaces v1, br1: `state: down` sets a link down and keeps it, "
        "where nmstate removes a virtual one (`state: absent` removes it)"
    ]
    quiet: list[str] = []
    parse_text("interfaces:\n- {name: eth1, type: ethernet, state: down}\n", "f.yml", notes=quiet)
    assert quiet == []

"""Every refusal names the interface, the field, the value and what is allowed."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from linkctl.errors import ValidationFailed
from linkctl.model.load import parse_text
from linkctl.model.state import HostState
from linkctl.plan.validate import validate
from tests.helpers.states import decl, link, topology


def test_the_loopback_keeps_its_own_mtu_of_65536() -> None:
    validate(parse_text("interfaces: [{name: lo, mtu: 65536}]", "f.yml"), topology(), "f.yml")  # no refusal


def problems(text: str) -> list[str]:
    with pytest.raises(ValidationFailed) as info:
        d = parse_text(text, "f.yml")
        validate(d, topology(), "f.yml", creatable=frozenset({"veth", "bridge", "vxlan", "macvlan"}))
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "interfaces: [{name: a, type: veth, veth: {peer: b}, mtuu: 5}]",
            "interface a: mtuu: 5: unknown key",
        ),
        ("interfaces: [{name: toolongname12345, type: dummy}]", "1 to 15 bytes"),
        ("interfaces: [{name: 'a b', type: dummy}]", "may not contain"),
        ("interfaces: [{name: 'a/b', type: dummy}]", "may not contain"),
        ("interfaces: [{name: a, type: dummy, mtu: 67}]", "interface a: mtu: 67"),
        ("interfaces: [{name: a, type: dummy, mtu: 70000}]", "interface a: mtu: 70000"),
        (
            "interfaces: [{name: a, type: dummy, mtu: 65536}]",
            "interface a: mtu: 65536: 68 to 65535 for a new dummy link",
        ),
        ("interfaces: [{name: eth0, mtu: 65536}]", "interface eth0: mtu: 65536: 68 to 65535 for this device"),
        ("interfaces: [{name: a, type: dummy, mac-address: '03:00:00:00:00:01'}]", "unicast"),
        ("interfaces: [{name: a, type: dummy, mac-address: 'zz'}]", "six hex octets"),
        ("interfaces: [{name: a, type: vxlan, vxlan: {id: 0}}]", "vxlan.id: 0"),
        ("interfaces: [{name: a, type: vxlan, vxlan: {id: 16777216}}]", "vxlan.id: 16777216"),
        (
            "interfaces: [{name: a, type: vxlan, vxlan: {id: 5, destination-port: 70000}}]",
            "destination-port: 70000",
        ),
        ("interfaces: [{name: a, type: vxlan, vxlan: {id: 5, remote: nope}}]", "IPv4 or IPv6"),
        ("interfaces: [{name: a, type: warp}]", "interface a: type: 'warp'"),
        ("interfaces: [{name: a, state: sideways}]", "state: 'sideways'"),
        ("interfaces: {name: a}", "interfaces"),
        ("- just a list", "a mapping with an `interfaces:` list"),
        ("interfaces: [{name: a,", "YAML"),
        # A misspelt key gets the nearest one the format has at that place.
        ("interfaces: [{name: a, type: dummy, mtuu: 5}]", "mtuu: 5: unknown key: did you mean `mtu`?"),
        ("interfaces: [{name: '..', type: dummy}]", "name: '..': '.' and '..' are not interface names"),
        ("interfaces: [{name: all, type: dummy}]", "name: 'all': 'all' is not an interface name: /proc/sys/net/"),
        ("interfaces: [{name: veth0, type: veth, veth: {peer: default}}]", "veth.peer: 'default': 'default' is not"),
        (
            "interfaces: [{name: a, type: vxlan, vxlan: {id: 5, dstport: 1}}]",
            "vxlan.dstport: 1: unknown key: `ip link` says dstport, this format says `destination-port`",
        ),
        (
            "interfaces: [{name: a, type: veth, promisc: true, veth: {peer: b}}]",
            "promisc: true: unknown key: `ip link` says promisc, this format says `accept-all-mac-addresses`",
        ),
        ("interfaces: [{name: a, address: '02:00:00:00:00:01'}]", "this format says `mac-address`"),
        ("interfaces: [{name: a, type: mac-vlan, mac-vlan: {dev: eth0}}]", "this format says `base-iface`"),
        ("interfaces: [{name: a, master: br0}]", "(`controller: br0`, nmstate's), or is listed by it: `bridge: {port:"),
        (
            "interfaces: [{name: a, type: bridge}]",
            "type: 'bridge': `ip link` says bridge, this format says `linux-bridge`",
        ),
        (
            "interfaces: [{name: b, bridge: {options: {stpp: true}}}]",
            "bridge.options.stpp: true: unknown key: did you mean `stp`?",
        ),
        (
            "interfaces: [{name: b, bridge: {port: [{nam: x}]}}]",
            "bridge.port.0.nam: 'x': unknown key: did you mean `name`?",
        ),
        ("interfaces: [{name: a, ethtool: {coalesce: {rx-usec: 3}}}]", "did you mean `rx-usecs`?"),
        ("intrefaces: []", "intrefaces: []: unknown key: did you mean `interfaces`?"),
        ("interfaces: [{name: a, zzzzzz: 1}]", "zzzzzz: 1: unknown key: check its spelling"),
        (
            "interfaces: [{name: a, type: mac-vlan, mac-vlan: {base-iface: b, mode: brigde}}]",
            "'passthru' or 'source' (did you mean `bridge`?)",
        ),
        ("interfaces: [{name: a, type: linux-brdge}]", "(did you mean `linux-bridge`?)"),
        (
            "interfaces: [{name: a, state: upp}]",
            "state: 'upp': Input should be 'up', 'down', 'absent' or 'ignore' (did you",
        ),
        # A missing key: said as missing, not as pydantic's whole enclosing mapping.
        (
            "interfaces: [{name: a, type: vxlan, vxlan: {remote: 192.0.2.1}}]",
            "vxlan.id: (not given): this key is required: a VNI",
        ),
        ("interfaces: [{type: dummy}]", "interfaces[0]: name: (not given): this key is required"),
    ],
)
def test_schema_errors(text: str, expected: str) -> None:
    found = problems(text)
    assert any(expected in p for p in found), found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("interfaces: [{name: a, type: dummy}, {name: a, type: dummy}]", "appears 2 times"),
        ("interfaces: [{name: n}]", "type is needed"),
        ("interfaces: [{name: a, type: veth}]", "veth: (not given): required to create a veth"),
        ("interfaces: [{name: n}]", "type: (not given): no link n exists to take its type from; a type is needed"),
        (
            "interfaces: [{name: a, type: mac-vlan, mac-vlan: {base-iface: nope}}]",
            "mac-vlan.base-iface: 'nope'",
        ),
        ("interfaces: [{name: br1, type: linux-bridge, bridge: {port: [{name: ghost}]}}]", "port: 'ghost'"),
        (
            "interfaces: [{name: br1, type: linux-bridge, bridge: {port: [{name: br0}]}}]",
            "does not nest bridges",
        ),
        (
            "interfaces: [{name: b1, type: linux-bridge, bridge: {port: [{name: veth0-p}]}}, "
            "{name: b2, type: linux-bridge, bridge: {port: [{name: veth0-p}]}}]",
            "also listed by b1",
        ),
        (
            "interfaces: [{name: v9, type: vxlan, vxlan: {id: 42, destination-port: 4789}}]",
            "vx42 already uses VNI 42",
        ),
        (
            "interfaces: [{name: v9, type: vxlan, mtu: 1480, vxlan: {id: 7, base-iface: eth0}}]",
            "raise eth0's mtu to 1530",
        ),
        (
            "interfaces: [{name: v9, type: vxlan, mtu: 1480, vxlan: {id: 7, base-iface: eth0, remote: '2001:db8::1'}}]",
            "needs 70 bytes",
        ),
        ("interfaces: [{name: eth0, state: absent}]", "cannot be deleted"),
        ("interfaces: [{name: eth9, type: ethernet}]", "must already exist"),
        ("interfaces: [{name: d0, type: dummy}]", "modprobe dummy"),
        ("interfaces: [{name: b0, type: bond}]", "modprobe bonding"),
        ("interfaces: [{name: v10, type: vlan, vlan: {base-iface: eth0, id: 10}}]", "modprobe 8021q"),
        ("interfaces: [{name: x, type: veth, veth: {peer: veth0}}]", "File exists"),
        ("interfaces: [{name: x, type: veth, vxlan: {id: 3}, veth: {peer: y}}]", "belongs to type vxlan"),
    ],
)
def test_whole_file_checks(text: str, expected: str) -> None:
    found = problems(text)
    assert any(expected in p for p in found), found


def _with_eth0_mtu(mtu: int) -> HostState:
    h = topology()
    eth0 = h.find("eth0", None)
    assert eth0 is not None
    h.ns(None).links["eth0"] = replace(eth0, mtu=mtu)
    return h


def _problems_on(host: HostState, *interfaces: dict[str, Any]) -> list[str]:
    try:
        validate(decl(*interfaces), host, "f.yml", creatable=frozenset({"veth", "bridge", "vxlan", "macvlan", "vlan"}))
    except ValidationFailed as exc:
        return [str(p) for p in exc.problems]
    return []


def test_an_existing_vxlan_declared_without_its_section_is_judged_on_the_base_it_keeps() -> None:
    # `{name: vx42, mtu: 1500}`: vx42 keeps its base eth0 (1500). Only the kernel refused it, half-way,
    # with a bare 'Invalid argument', and the change was rolled back.
    assert _problems_on(topology(), {"name": "vx42", "mtu": 1500}) == [
        "f.yml: interface vx42: mtu: 1500: at most 1450: base-iface eth0 has MTU 1500 and VXLAN over IPv4 "
        "needs 50 bytes; raise eth0's mtu to 1550 or lower this one"
    ]
    assert _problems_on(topology(), {"name": "vx42", "type": "vxlan", "mtu": 1500})[0].startswith(
        "f.yml: interface vx42: mtu: 1500: at most 1450"
    )
    # Its base lowered beside it, vx42 declared as it is: refused on the base, as when vx42 is left out.
    assert _problems_on(topology(), {"name": "eth0", "mtu": 1400}, {"name": "vx42", "mtu": 1450}) == [
        "f.yml: interface eth0: mtu: 1400: at least 1500: vx42 (MTU 1450) runs over eth0 and VXLAN over IPv4 "
        "needs 50 bytes; give eth0 an mtu of 1500 or more, or declare vx42 with mtu 1350 or less"
    ]
    assert _problems_on(topology(), {"name": "vx42", "mtu": 1450}) == []
    assert _problems_on(topology(), {"name": "eth0", "mtu": 1550}, {"name": "vx42", "mtu": 1500}) == []


def test_lowering_a_base_under_its_vxlan_is_refused_on_the_base() -> None:
    # vx42 (MTU 1450) runs over eth0 (1500); the file lowers eth0 and leaves vx42 undeclared.
    found = _problems_on(topology(), {"name": "eth0", "mtu": 1400})
    assert found == [
        "f.yml: interface eth0: mtu: 1400: at least 1500: vx42 (MTU 1450) runs over eth0 and VXLAN over IPv4 "
        "needs 50 bytes; give eth0 an mtu of 1500 or more, or declare vx42 with mtu 1350 or less"
    ]
    # Declared without an MTU, vx42 keeps the one it has: the same refusal.
    vx42 = {"name": "vx42", "type": "vxlan", "vxlan": {"id": 42, "base-iface": "eth0", "remote": "192.0.2.10"}}
    assert len(_problems_on(topology(), {"name": "eth0", "mtu": 1400}, vx42)) == 1


def test_a_macvlan_or_vlan_above_its_base_mtu_is_refused_before_the_kernel_says_invalid_argument() -> None:
    mv = {"name": "mv1", "type": "mac-vlan", "mtu": 9000, "mac-vlan": {"base-iface": "eth0"}}
    assert _problems_on(topology(), mv) == [
        "f.yml: interface mv1: mtu: 9000: at most 1500: a mac-vlan link's MTU cannot exceed its base-iface's "
        "(eth0 has 1500); raise eth0's mtu to 9000 or lower this one"
    ]
    assert _problems_on(topology(), mv, {"name": "eth0", "mtu": 9000}) == []
    # Adopted without its section, a mac-vlan is still measured against the base it stands on.
    h = topology()
    h.ns(None).links["mv0"] = link(9, "mv0", kind="macvlan", link_ifindex=2)
    found = _problems_on(h, {"name": "mv0", "mtu": 9000})
    assert found and "a mac-vlan link's MTU cannot exceed its base-iface's (eth0 has 1500)" in found[0], found
    vlan = {"name": "eth0.10", "type": "vlan", "mtu": 1504, "vlan": {"base-iface": "eth0", "id": 10}}
    found = _problems_on(topology(), vlan)
    assert any("a vlan link's MTU cannot exceed its base-iface's (eth0 has 1500)" in p for p in found), found


def test_a_macvlan_and_a_bridge_port_cannot_share_a_link() -> None:
    # The kernel answers only 'Device or resource busy' to either order.
    mv = {"name": "mv1", "type": "mac-vlan", "mac-vlan": {"base-iface": "veth0"}}
    assert _problems_on(topology(), mv) == [
        "f.yml: interface mv1: mac-vlan.base-iface: 'veth0': a link that is not a bridge or bond port: veth0 is a "
        "port of br0; put the mac-vlan on br0 itself, or take veth0 out of br0"
    ]
    # br0 declared with a port list that leaves veth0 out releases it: then it may carry one.
    assert _problems_on(topology(), mv, {"name": "br0", "bridge": {"port": []}}) == []
    # A VRF does not take its ports' receive hook: a mac-vlan on a VRF port is the kernel's to accept.
    vrf = topology()
    vrf.ns(None).links["veth0"] = replace(vrf.ns(None).links["veth0"], slave_kind="vrf")
    assert _problems_on(vrf, mv) == []
    h = topology()
    h.ns(None).links["mv0"] = link(9, "mv0", kind="macvlan", link_ifindex=2)
    found = _problems_on(h, {"name": "br0", "bridge": {"port": [{"name": "veth0"}, {"name": "eth0"}]}})
    assert found == [
        "f.yml: interface br0: port: 'eth0': a link that carries no mac-vlan: mv0 runs over eth0; "
        "delete mv0 (state: absent) or leave this port out"
    ]


def test_a_base_and_its_vxlan_lowered_together_pass() -> None:
    vx42 = {"name": "vx42", "type": "vxlan", "mtu": 1350, "vxlan": {"id": 42, "base-iface": "eth0"}}
    assert _problems_on(topology(), {"name": "eth0", "mtu": 1400}, vx42) == []


def test_a_new_vxlan_without_mtu_takes_its_base_s_and_passes() -> None:
    new = {"name": "vx7", "type": "vxlan", "vxlan": {"id": 7, "base-iface": "eth0"}}
    assert _problems_on(_with_eth0_mtu(1400), new) == []


def test_a_misfit_the_file_leaves_as_it_is_is_not_refused() -> None:
    # eth0 was lowered by hand under vx42: `show -f yaml` of that host must apply as a no-op
    # (the misfit is `linkctl audit`'s finding, not a reason to refuse the file).
    vx42 = {"name": "vx42", "type": "vxlan", "mtu": 1450, "vxlan": {"id": 42, "base-iface": "eth0"}}
    assert _problems_on(_with_eth0_mtu(1400), {"name": "eth0", "mtu": 1400}, vx42) == []
    # A step towards the fix is not blocked, even one that does not get there.
    assert _problems_on(_with_eth0_mtu(1400), {"name": "eth0", "mtu": 1450}) == []
    assert _problems_on(_with_eth0_mtu(1400), {**vx42, "mtu": 1420}) == []
    # Raising the VXLAN further is a change the file makes: refused.
    vx42["mtu"] = 1460
    assert "raise eth0's mtu to 1510" in _problems_on(_with_eth0_mtu(1400), vx42)[0]


def test_a_link_without_type_in_a_namespace_that_does_not_exist_hints_at_a_typo() -> None:
    def problem(default_netns: str | None) -> str:
        with pytest.raises(ValidationFailed) as exc:
            validate(decl({"name": "eth9", "mtu": 1400}), topology(), "f.yml", default_netns)
        (only,) = exc.value.problems
        return str(only)

    assert problem("blu").endswith("(netns blu does not exist yet: is it spelt right?)")  # --netns blu
    assert "does not exist yet" not in problem(None)


def test_every_problem_is_reported_at_once() -> None:
    found = problems(
        "interfaces: [{name: a, type: mac-vlan, mac-vlan: {base-iface: x}}, {name: b, type: mac-vlan, mac-vlan: {base-iface: y}}]"
    )
    assert len(found) == 2


def test_valid_declaration_passes() -> None:
    d = decl(
        {"name": "br1", "type": "linux-bridge", "bridge": {"port": [{"name": "v1"}]}},
        {"name": "v1", "type": "veth", "veth": {"peer": "v1-p"}},
        {"name": "mv1", "type": "mac-vlan", "mac-vlan": {"base-iface": "v1-p"}},
        {"name": "vx9", "type": "vxlan", "mtu": 1450, "vxlan": {"id": 9, "base-iface": "eth0"}},
    )
    validate(d, topology(), "f.yml", creatable=frozenset({"veth", "bridge", "vxlan", "macvlan"}))


def test_ranges_are_said_plainly() -> None:
    found = problems("interfaces: [{name: a, type: vxlan, mtu: 40, vxlan: {id: 0, destination-port: 0}}]")
    assert "f.yml: interface a: mtu: 40: 68 to 65536 (and within the device's own min/max, see `linkctl show`)" in found
    assert any("vxlan.id: 0: a VNI from 1 to 16777215" in p for p in found)
    assert any("vxlan.destination-port: 0: a UDP port from 1 to 65535" in p for p in found)


def test_an_unquoted_kvm_mac_is_a_mac_not_a_base_60_number() -> None:
    # YAML 1.1 reads 52:54:00:12:34:56 as 41135085296; the file means the MAC address.
    d = parse_text("interfaces: [{name: br7, type: linux-bridge, mac-address: 52:54:00:12:34:56, mtu: 9000}]", "f")
    (spec,) = d.interfaces
    assert (spec.mac_address, spec.mtu) == ("52:54:00:12:34:56", 9000)


def test_a_veth_end_named_by_its_peer_needs_no_section_of_its_own() -> None:
    d = parse_text(
        "interfaces: [{name: a, type: veth, veth: {peer: b}}, {name: b, type: veth, mtu: 1400, netns: far}]", "f.yml"
    )
    validate(d, topology(), "f.yml", creatable=frozenset({"veth"}))  # no refusal
    b = d.interfaces[1]
    assert (b.veth.peer if b.veth else None, b.mtu, b.netns) == ("a", 1400, "far")


@pytest.mark.parametrize(
    "text",
    [
        # two ends name b: which pair b belongs to is the file's to say
        "interfaces: [{name: a, type: veth, veth: {peer: b}}, {name: c, type: veth, veth: {peer: b}}, "
        "{name: b, type: veth}]",
        # the end naming b is being removed
        "interfaces: [{name: a, type: veth, state: absent, veth: {peer: b}}, {name: b, type: veth}]",
        # a names b in another namespace than the one b is declared in
        "interfaces: [{name: a, type: veth, veth: {peer: b, peer-netns: x}}, {name: b, type: veth}]",
    ],
    ids=["two-claimants", "claimant-absent", "other-namespace"],
)
def test_a_veth_end_is_completed_only_when_one_peer_names_it(text: str) -> None:
    assert any("veth: (not given): required to create a veth" in p for p in problems(text))


def test_a_veth_peer_declared_absent_while_its_other_end_stays_is_refused() -> None:
    found = problems("interfaces: [{name: a, type: veth, veth: {peer: b}}, {name: b, type: veth, state: absent}]")
    assert found == [
        "f.yml: interface b: state: 'absent': not absent while a names it as its veth peer (a pair is made and "
        "removed whole): declare a absent too, or leave b out"
    ]


def test_both_ends_absent_are_fine() -> None:
    d = parse_text(
        "interfaces: [{name: a, type: veth, state: absent, veth: {peer: b}}, {name: b, type: veth, state: absent}]",
        "f.yml",
    )
    validate(d, topology(), "f.yml")  # no refusal


def test_a_typeless_end_named_as_a_peer_is_told_its_type() -> None:
    found = problems("interfaces: [{name: a, type: veth, veth: {peer: b}}, {name: b, mtu: 1400}]")
    assert any(p.endswith("(a names it as its veth peer: type: veth)") for p in found), found


def test_a_veth_named_as_its_own_peer_is_refused_unless_the_peer_lives_elsewhere() -> None:
    found = problems("interfaces: [{name: a, type: veth, veth: {peer: a}}]")
    assert found == [
        "f.yml: interface a: veth.peer: 'a': a name other than the link's own: both ends would live in one "
        "namespace (the same name is allowed with peer-netns)"
    ]
    d = parse_text("interfaces: [{name: eth9, type: veth, veth: {peer: eth9, peer-netns: c1}}]", "f.yml")
    validate(d, topology(), "f.yml", creatable=frozenset({"veth"}))  # no refusal


def test_an_empty_interfaces_key_says_what_it_needs() -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_text("interfaces:\n", "f.yml")
    assert [str(p) for p in info.value.problems] == [
        "f.yml: interfaces: (empty): a list of interfaces (`interfaces: []` for none)"
    ]


def test_an_alias_bomb_is_refused_quickly_with_short_quotes() -> None:
    # Nine lists of nine of ... : a few hundred bytes of YAML, 9**11 items if printed in full.
    text = "x0: &x0 [a, a, a, a, a, a, a, a, a]\n"
    text += "".join(f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 9)}]\n" for i in range(1, 12))
    text += "interfaces: *x11\n"
    with pytest.raises(ValidationFailed) as info:
        parse_text(text, "bomb.yml")
    lines = str(info.value).splitlines()
    assert lines[1].startswith("  - bomb.yml:7:5: YAML: 'aliases': aliases that add at most 1,000,000 items")
    assert max(len(line) for line in lines) < 250


@pytest.mark.parametrize(
    ("entry", "field"),
    [("{name: a, type: veth, veth: {peer: b}, netns: 1234}", "netns"),
     ("{name: a, type: veth, veth: {peer: b, peer-netns: 1234}}", "veth.peer-netns")],
)  # fmt: skip
def test_a_process_id_for_a_namespace_is_told_how_to_name_it(entry: str, field: str) -> None:
    # `ip link set dev X netns 1234` takes a pid; a declaration takes `ip netns` names.
    found = problems(f"interfaces: [{entry}]")
    assert found == [
        f'f.yml: interface a: {field}: 1234: an `ip netns` name (quote it if it is a number: "1234"); '
        "to use process 1234's namespace, give it a name first: ip netns attach NAME 1234"
    ]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            "{name: eth0, type: linux-bridge}",
            "f.yml: interface eth0: type: 'linux-bridge': eth0 is an existing ethernet link, which cannot be "
            "deleted to make a linux-bridge in its place: declare it with type ethernet (or no type), or give "
            "the linux-bridge another name (to bridge eth0, list it as a port: bridge: {port: [{name: eth0}]})",
        ),
        (
            "{name: lo, type: veth, veth: {peer: lo-p}}",
            "f.yml: interface lo: type: 'veth': lo is an existing loopback link, which cannot be deleted to make "
            "a veth in its place: declare it with type loopback (or no type), or give the veth another name",
        ),
        (
            "{name: eth0, type: veth, state: absent}",
            "f.yml: interface eth0: state: 'absent': an ethernet link cannot be deleted; use state: down",
        ),
    ],
    ids=["nic-as-bridge", "loopback-as-veth", "nic-absent-as-veth"],
)
def test_a_link_linkctl_cannot_make_is_never_replaced(entry: str, expected: str) -> None:
    # The plan deleted the NIC to create the bridge in its place (the kernel then refused the delete).
    assert problems(f"interfaces: [{entry}]") == [expected]


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        (
            "{name: mv, type: mac-vlan, mac-vlan: {base-iface: mv}}",
            "f.yml: interface mv: mac-vlan.base-iface: 'mv': a link this one does not stand on: mv -> mv is a loop",
        ),
        (
            "{name: a1, type: vxlan, vxlan: {id: 1, base-iface: b1}}, "
            "{name: b1, type: mac-vlan, mac-vlan: {base-iface: c1}}, {name: c1, type: mac-vlan, mac-vlan: {base-iface: a1}}",
            "f.yml: interface a1: vxlan.base-iface: 'b1': a link this one does not stand on: a1 -> b1 -> c1 -> a1 is a loop",
        ),
    ],
    ids=["itself", "three"],
)
def test_a_link_standing_on_itself_is_refused_once(entries: str, expected: str) -> None:
    # The plan created them in some order and the kernel refused the first ("No such device").
    assert problems(f"interfaces: [{entries}]") == [expected]


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        (
            "{name: br9, type: linux-bridge}, {name: v1, type: veth, veth: {peer: br9}}",
            "f.yml: interface v1: veth.peer: 'br9': a name no other link takes: br9 is declared as a "
            "linux-bridge (RTNETLINK would answer: File exists)",
        ),
        (
            "{name: v1, type: veth, veth: {peer: p}}, {name: v2, type: veth, veth: {peer: p}}",
            "f.yml: interface v2: veth.peer: 'p': a peer of this pair alone: v1 names p as its peer too",
        ),
    ],
    ids=["peer-named-like-a-bridge", "one-peer-two-ends"],
)
def test_a_veth_peer_name_taken_in_the_file_is_refused(entries: str, expected: str) -> None:
    # The plan made both and the kernel refused the second ("File exists").
    assert problems(f"interfaces: [{entries}]") == [expected]


def test_same_peer_name_in_two_namespaces_is_fine() -> None:
    d = parse_text(
        "interfaces: [{name: v1, type: veth, veth: {peer: p, peer-netns: red}}, "
        "{name: v2, type: veth, veth: {peer: p, peer-netns: blue}}]",
        "f.yml",
    )
    validate(d, topology(), "f.yml", creatable=frozenset({"veth"}))  # no refusal


def test_a_vxlan_as_big_as_the_new_link_it_runs_over_is_refused_before_any_change() -> None:
    # The mission's first misconfiguration: a new veth (1500, the kernel's default) under a VXLAN of 1500;
    # the kernel would clamp vx100 to 1450 and the verification would fail after the changes.
    veth = {"name": "veth9", "type": "veth", "veth": {"peer": "veth9-p"}}
    vx = {"name": "vx100", "type": "vxlan", "mtu": 1500, "vxlan": {"id": 100, "base-iface": "veth9"}}
    assert _problems_on(topology(), veth, vx) == [
        "f.yml: interface vx100: mtu: 1500: at most 1450: base-iface veth9 has MTU 1500 and VXLAN over IPv4 "
        "needs 50 bytes; raise veth9's mtu to 1550 or lower this one"
    ]
    assert _problems_on(topology(), {**veth, "mtu": 1550}, vx) == []
    # A macvlan above a new veth's default MTU: the kernel's bare 'Invalid argument', told before.
    mv = {"name": "mv9", "type": "mac-vlan", "mtu": 9000, "mac-vlan": {"base-iface": "veth9"}}
    assert "(veth9 has 1500)" in _problems_on(topology(), veth, mv)[0]
    # A new bridge takes its smallest port's MTU as they join, 1500 without ports.
    br = {"name": "br9", "type": "linux-bridge"}
    vx_on_br = {**vx, "vxlan": {"id": 100, "base-iface": "br9"}}
    assert "base-iface br9 has MTU 1500" in _problems_on(topology(), br, vx_on_br)[0]
    big = {**veth, "mtu": 9000}
    with_port = {**br, "bridge": {"port": [{"name": "veth9"}]}}
    assert _problems_on(topology(), with_port, big, vx_on_br) == []
    assert "base-iface br9 has MTU 1500" in _problems_on(topology(), with_port, veth, vx_on_br)[0]


def test_a_mac_vlan_with_its_base_s_or_a_sibling_s_mac_is_refused_before_address_already_in_use() -> None:
    h = topology()
    eth0 = h.find("eth0", None)
    assert eth0 is not None and eth0.mac is not None
    mv = {"name": "mv1", "type": "mac-vlan", "mac-address": eth0.mac.upper(), "mac-vlan": {"base-iface": "eth0"}}
    assert _problems_on(h, mv) == [
        f"f.yml: interface mv1: mac-address: '{eth0.mac}': a MAC of its own: its base-iface eth0 has it; "
        "pick another, or leave mac-address out for a random one"
    ]
    # passthru takes its base's MAC by design
    assert _problems_on(h, {**mv, "mac-vlan": {"base-iface": "eth0", "mode": "passthru"}}) == []
    # Two mac-vlans of the file on one base with one MAC: the second is told about the first.
    mine = {"name": "mv1", "type": "mac-vlan", "mac-address": "02:00:00:00:00:09", "mac-vlan": {"base-iface": "eth0"}}
    found = _problems_on(h, mine, {**mine, "name": "mv2"})
    assert "mv2, on the same base-iface eth0, has it" in found[0] and len(found) == 2
    # The base given another MAC by the same file frees the old one.
    assert _problems_on(h, mv, {"name": "eth0", "mac-address": "02:00:00:00:00:01"}) == []


def test_a_nic_that_is_not_there_is_not_created() -> None:
    found = _problems_on(topology(), {"name": "eth9", "type": "ethernet"})
    assert found == [
        "f.yml: interface eth9: type: 'ethernet': an ethernet link must already exist: "
        "linkctl adopts it but cannot create one"
    ]


def test_an_entry_with_netns_may_stand_on_a_base_of_the_file_s_default_namespace() -> None:
    mv = {"name": "mv0", "type": "mac-vlan", "netns": "ctr", "mtu": 1400, "mac-vlan": {"base-iface": "eth0"}}
    assert _problems_on(topology(), mv) == []
    # Measured against that base: above its MTU, refused as on its own namespace.
    assert "(eth0 has 1500)" in _problems_on(topology(), {**mv, "mtu": 9000})[0]
    found = _problems_on(topology(), {**mv, "mac-vlan": {"base-iface": "nope0"}})
    assert found == [
        "f.yml: interface mv0: mac-vlan.base-iface: 'nope0': an interface that exists in the file or the kernel, "
        "in the same namespace (an entry with netns: may also stand on one of the file's default namespace: "
        "it is made there, then moved)"
    ]
    # Without netns: its own namespace only (the default one is its own).
    vx = {"name": "vx9", "type": "vxlan", "vxlan": {"id": 9, "base-iface": "eth0"}}
    assert _problems_on(topology(), vx) == []


def test_bridges_that_list_each_other_as_ports_are_refused_not_a_recursion_error() -> None:
    """A VXLAN on one of two bridges listing each other: the MTU check followed the ports for ever
    ("internal error: RecursionError")."""
    found = problems(
        "interfaces:\n- {name: bra, type: linux-bridge, bridge: {port: [{name: brb}]}}\n"
        "- {name: brb, type: linux-bridge, bridge: {port: [{name: bra}]}}\n"
        "- {name: vxa, type: vxlan, vxlan: {id: 5, base-iface: bra, remote: 192.0.2.1}}\n"
    )
    assert any("the kernel does not nest bridges" in p for p in found), found

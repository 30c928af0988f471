"""nmstate's other names for a key or a value, as its files and its docs write them.

nmstate reads a bridge's and a bond's port list as `port` or `ports` (serde aliases in
rust/src/lib/ifaces/linux_bridge.rs and bond.rs), a bond's port list also as `slaves` (its name before
1.0: nmstate's examples/bond_linuxbridge_vlan_up.yml and the bond of nmstate.io's examples page still
write it), a bond's mode as `lacp` for 802.3ad, and a bond's mode and its enumerated options as the
kernel's numbers (`mode: 1`, `lacp_rate: 0`: NumberAsString there). linkctl refused all of them as
unknown keys or values. The files below have those files' shapes, written here.
"""

from __future__ import annotations

import pytest

from linkctl.errors import LinkctlError
from linkctl.model.load import parse_text
from linkctl.model.sections import AdSelect, ArpValidate, BondMode, FailOverMac, LacpRate, PrimaryReselect

# examples/bond_linuxbridge_vlan_up.yml's shape: a bond whose ports are `slaves`, a vlan on it, bridges.
BOND_SLAVES = """
interfaces:
  - {name: vlan29, type: vlan, state: up, vlan: {base-iface: bond0, id: 29}}
  - {name: br29, type: linux-bridge, state: up, bridge: {port: [{name: vlan29}]}}
  - {name: br0, type: linux-bridge, state: up, bridge: {port: [{name: bond0}]}}
  - name: bond0
    type: bond
    state: up
    link-aggregation:
      mode: active-backup
      slaves: [eth1, eth2]
  - {name: eth1, type: ethernet, state: up}
  - {name: eth2, type: ethernet, state: up}
"""

# nmstate.io examples.md "Interfaces: bond": `slaves`, and miimon as a string.
DOC_BOND = """
interfaces:
- name: bond99
  type: bond
  state: up
  link-aggregation:
    mode: balance-rr
    options: {miimon: '140'}
    slaves: [eth3, eth2]
"""


def _iface(text: str, name: str):  # type: ignore[no-untyped-def]
    return next(i for i in parse_text(text, "f.yml").interfaces if i.name == name)


def test_a_bond_s_slaves_are_its_ports() -> None:
    bond = _iface(BOND_SLAVES, "bond0").link_aggregation
    assert bond is not None and bond.port == ["eth1", "eth2"]
    doc = _iface(DOC_BOND, "bond99").link_aggregation
    assert doc is not None and doc.port == ["eth3", "eth2"] and doc.options is not None
    assert doc.options.miimon == 140


def test_ports_is_port_for_a_bond_and_a_bridge() -> None:
    bond = _iface("interfaces: [{name: b0, type: bond, link-aggregation: {mode: 802.3ad, ports: [e1, e2]}}]", "b0")
    assert bond.link_aggregation is not None and bond.link_aggregation.port == ["e1", "e2"]
    assert bond.port_names == ["e1", "e2"]
    br = _iface("interfaces: [{name: br0, type: linux-bridge, bridge: {ports: [{name: e1, stp-priority: 3}]}}]", "br0")
    assert br.bridge is not None and br.bridge.port is not None
    assert [(p.name, p.stp_priority) for p in br.bridge.port] == [("e1", 3)]
    assert br.port_names == ["e1"]


@pytest.mark.parametrize(
    "section",
    [
        "link-aggregation: {mode: balance-rr, port: [e1], ports: [e2]}",
        "link-aggregation: {mode: balance-rr, ports: [e1], slaves: [e2]}",
        "bridge: {port: [], ports: [{name: e1}]}",
    ],
)
def test_both_names_at_once_are_refused_naming_both(section: str) -> None:
    kind = "bond" if "aggregation" in section else "linux-bridge"
    with pytest.raises(LinkctlError) as err:
        parse_text(f"interfaces: [{{name: x0, type: {kind}, {section}}}]", "f.yml")
    assert "are one setting" in str(err.value) and "give one" in str(err.value), str(err.value)


@pytest.mark.parametrize(
    ("mode", "meant"),
    [("lacp", BondMode.LACP), (0, BondMode.BALANCE_RR), (1, BondMode.ACTIVE_BACKUP), ("4", BondMode.LACP),
     (6, BondMode.BALANCE_ALB)],
)  # fmt: skip
def test_a_bond_mode_by_nmstate_s_other_name_or_the_kernel_s_number(mode: object, meant: BondMode) -> None:
    bond = _iface(f"interfaces: [{{name: b0, type: bond, link-aggregation: {{mode: {mode!r}}}}}]", "b0")
    assert bond.link_aggregation is not None and bond.link_aggregation.mode is meant


def test_bond_options_by_the_kernel_s_numbers() -> None:
    options = "{lacp_rate: 1, ad_select: '2', fail_over_mac: 2, primary_reselect: 1, arp_validate: 0}"
    bond = _iface(f"interfaces: [{{name: b0, type: bond, link-aggregation: {{options: {options}}}}}]", "b0")
    opts = bond.link_aggregation.options  # type: ignore[union-attr]
    assert opts is not None
    assert (opts.lacp_rate, opts.ad_select, opts.fail_over_mac) == (LacpRate.FAST, AdSelect.COUNT, FailOverMac.FOLLOW)
    assert (opts.primary_reselect, opts.arp_validate) == (PrimaryReselect.BETTER, ArpValidate.NONE)


@pytest.mark.parametrize("mode", [7, -1, "'lacp2'", True])
def test_a_number_past_the_kernel_s_modes_is_still_refused(mode: object) -> None:
    with pytest.raises(LinkctlError) as err:
        parse_text(f"interfaces: [{{name: b0, type: bond, link-aggregation: {{mode: {str(mode).lower()}}}}}]", "f.yml")
    assert "link-aggregation.mode" in str(err.value) and "802.3ad" in str(err.value), str(err.value)

"""Bridge VLAN requests and dumps (kernel/brvlan.py) against pyroute2's codec, and the VLAN filtering probe.

This kernel lacks CONFIG_BRIDGE_VLAN_FILTERING: the requests' bytes are held to pyroute2's
encoder so the path is right where a kernel has it; a file asking for VLANs is refused here
with the kernel's reason before any change.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyroute2.netlink import NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

from linkctl.kernel import brvlan
from linkctl.kernel.probe import bridge_vlan_filtering
from linkctl.model.bridge_sections import PortVlan
from tests.conftest import ip, run_linkctl

PVID_UNTAGGED = 6


def _pyroute2(mtype: int, flags: int, index: int, infos: list[dict[str, int]], seq: int = 4) -> bytes:
    msg = ifinfmsg()
    msg["family"] = 7  # AF_BRIDGE
    msg["index"] = index
    msg["attrs"] = [("IFLA_AF_SPEC", {"attrs": [("IFLA_BRIDGE_VLAN_INFO", info) for info in infos]})]
    msg["header"]["type"] = mtype
    msg["header"]["flags"] = flags
    msg["header"]["sequence_number"] = seq
    msg.encode()
    return bytes(msg.data)


@pytest.mark.parametrize(("add", "mtype"), [(True, 19), (False, 17)])
def test_vlan_add_and_del_are_pyroute2s_bytes(add: bool, mtype: int) -> None:
    mine = brvlan.vlan_request(4, 5, [(10, PVID_UNTAGGED)], add=add)
    assert mine == _pyroute2(mtype, NLM_F_REQUEST | NLM_F_ACK, 5, [{"flags": PVID_UNTAGGED, "vid": 10}])


def test_a_run_of_ids_goes_as_one_range_and_decodes_back() -> None:
    mine = brvlan.vlan_request(4, 5, [(v, 0) for v in range(100, 106)] + [(7, PVID_UNTAGGED)])
    ref = _pyroute2(19, NLM_F_REQUEST | NLM_F_ACK, 5, [
        {"flags": PVID_UNTAGGED, "vid": 7}, {"flags": 8, "vid": 100}, {"flags": 16, "vid": 105},
    ])  # fmt: skip
    assert mine == ref
    index, vlans = brvlan.decode_vlans(mine[16:])
    assert index == 5 and vlans == [(7, PVID_UNTAGGED), *((v, 0) for v in range(100, 106))]


def test_dump_request_asks_for_brvlan() -> None:
    msg = ifinfmsg(brvlan.dump_request(3))
    msg.decode()
    assert msg["family"] == 7 and msg["header"]["flags"] == NLM_F_REQUEST | NLM_F_DUMP
    assert msg.get_attr("IFLA_EXT_MASK") == 2  # RTEXT_FILTER_BRVLAN


def test_port_vlan_sections_to_vlans() -> None:
    trunk = PortVlan.model_validate(
        {"mode": "trunk", "trunk-tags": [{"id": 101}, {"id-range": {"min": 200, "max": 202}}], "tag": 100,
         "enable-native": True}
    )  # fmt: skip
    assert brvlan.port_vlans(trunk) == [(100, PVID_UNTAGGED), (101, 0), (200, 0), (201, 0), (202, 0)]
    access = PortVlan.model_validate({"mode": "access", "tag": 300})
    assert brvlan.port_vlans(access) == [(300, PVID_UNTAGGED)]


VLAN_FILE = """
interfaces:
- name: br0
  type: linux-bridge
  state: up
  bridge:
    options: {vlan-protocol: 802.1q, vlan-default-pvid: 1}
    port:
    - name: vp0
      vlan: {mode: trunk, trunk-tags: [{id: 101}, {id-range: {min: 200, max: 299}}], tag: 100, enable-native: true}
"""


def test_a_file_with_bridge_vlans_is_refused_with_the_kernels_reason_nothing_changed(
    netns: str, tmp_path: Path
) -> None:
    reason = bridge_vlan_filtering()
    if reason is None:
        pytest.skip("this kernel filters VLANs on bridges: the refusal is for kernels without it")
    ip("-n", netns, "link", "add", "vp0", "type", "veth", "peer", "name", "vp1")
    before = ip("-n", netns, "-d", "link", "show")
    path = tmp_path / "vlans.yml"
    path.write_text(VLAN_FILE)
    res = run_linkctl("apply", str(path), "--netns", netns)
    assert res.returncode != 0
    assert "bridge VLAN filtering" in res.stderr and reason in res.stderr, res.stderr
    assert "nothing was changed" in res.stderr
    assert ip("-n", netns, "-d", "link", "show") == before


def test_the_af_bridge_dump_lists_the_ports_of_this_kernel(netns: str) -> None:
    """The dump request runs on this kernel: each bridge port is listed (its VLANs only where the
    kernel filters them, so none here without CONFIG_BRIDGE_VLAN_FILTERING)."""
    from linkctl.kernel import linkdump
    from linkctl.kernel import netns as netns_mod

    ip("-n", netns, "link", "add", "brd0", "type", "bridge")
    ip("-n", netns, "link", "add", "vp0", "type", "veth", "peer", "name", "vp1")
    ip("-n", netns, "link", "set", "vp0", "master", "brd0")
    port_index = int(ip("-n", netns, "-o", "link", "show", "vp0").split(":")[0])
    with netns_mod.entered(netns), linkdump.RouteSocket() as sock:
        sock.send(brvlan.dump_request(1))
        messages = linkdump.collect_dump(sock)
    ports = dict(brvlan.decode_vlans(m) for m in messages)
    assert port_index in ports
    if bridge_vlan_filtering() is not None:
        assert ports[port_index] == []


def test_where_the_kernel_filters_vlans_a_ports_vlan_is_refused_not_left_undone() -> None:
    """The planner does not plan `bridge vlan` requests yet: a file with a port's vlan is refused
    (on this kernel the probe's reason comes first; this is the rule for kernels that have it)."""
    from linkctl.errors import ValidationFailed
    from linkctl.kernel.probe import _refuse_port_vlans
    from linkctl.model.load import from_data

    decl = from_data({"interfaces": [yaml_entry()]}, "f.yml")
    with pytest.raises(ValidationFailed) as refused:
        _refuse_port_vlans(list(decl.interfaces), "f.yml")
    assert "bridge.port.vp0.vlan" in str(refused.value) and "bridge vlan add" in str(refused.value)


def yaml_entry() -> dict[str, object]:
    port = {"name": "vp0", "vlan": {"mode": "access", "tag": 10}}
    return {"name": "br0", "type": "linux-bridge", "bridge": {"port": [port]}}

"""Declarations the kernel refused at step N (after every earlier change was made), refused by
validation before the first change, each naming the field, the value and a fix that can be done."""

from __future__ import annotations

import errno
from typing import Any

from linkctl.engine.errors import explain
from linkctl.errors import ValidationFailed
from linkctl.kernel.netlink import Ack
from linkctl.model.state import HostState, MacvlanInfo
from linkctl.plan.ops import SetMaster
from linkctl.plan.validate import validate
from tests.helpers.states import decl, host, link, topology

_KINDS = frozenset({"veth", "bridge", "vxlan", "macvlan", "macvtap"})


def _problems(host: HostState, *interfaces: dict[str, Any]) -> list[str]:
    try:
        validate(decl(*interfaces), host, "f.yml", creatable=_KINDS)
    except ValidationFailed as exc:
        return [str(p) for p in exc.problems]
    return []


def _mv(name: str, base: str, mode: str, key: str = "mac-vlan") -> dict[str, Any]:
    return {"name": name, "type": key, key: {"base-iface": base, "mode": mode}}


_B0 = {"name": "b0", "type": "veth", "veth": {"peer": "c0"}}


def test_the_loopback_as_a_bridge_port_is_refused_on_the_port_list() -> None:
    found = _problems(topology(), {"name": "br9", "type": "linux-bridge", "bridge": {"port": [{"name": "lo"}]}})
    assert found == [
        "f.yml: interface br9: port: 'lo': an Ethernet link: the kernel takes no loopback into a bridge (it answers "
        "only 'Invalid argument'); leave lo out of the port list"
    ]


def test_two_passthru_mac_vlans_on_one_base_refuse_the_second() -> None:
    found = _problems(topology(), _B0, _mv("m1", "b0", "passthru"), _mv("m2", "b0", "passthru"))
    assert found == [
        "f.yml: interface m2: mac-vlan.mode: 'passthru': passthru only for the one mac-vlan on its base: m1 also "
        "runs over b0; give m2 another mode, or another base-iface"
    ]
    # Each on its own base: nothing to say.
    b1 = {"name": "b1", "type": "veth", "veth": {"peer": "c1"}}
    assert _problems(topology(), _B0, b1, _mv("m1", "b0", "passthru"), _mv("m2", "b1", "passthru")) == []


def _with_macvlan_on_eth0(mode: str) -> HostState:
    """topology() and pt, a mac-vlan on eth0 in `mode`."""
    pt = link(9, "pt", kind="macvlan", link_ifindex=2, info=MacvlanInfo(mode, 0))
    return host(*topology().namespaces[None].links.values(), pt)


def test_a_mac_vlan_on_the_base_of_an_existing_passthru_one_is_refused() -> None:
    """The passthru mac-vlan is read from the kernel's state: the file does not name it."""
    found = _problems(_with_macvlan_on_eth0("passthru"), _mv("m3", "eth0", "bridge"))
    assert found == [
        "f.yml: interface m3: mac-vlan.base-iface: 'eth0': a base with no passthru mac-vlan: pt runs over eth0 in "
        "passthru mode, which takes it for one mac-vlan alone; put m3 on another base, or give pt another mode"
    ]
    # And a new passthru one on a base already carrying a mac-vlan, the existing one named.
    state = _with_macvlan_on_eth0("bridge")
    assert "m3 another mode" in _problems(state, _mv("m3", "eth0", "passthru"))[0]
    # The existing one going away (state: absent) frees the base.
    assert _problems(state, _mv("m3", "eth0", "passthru"), {"name": "pt", "state": "absent"}) == []


def test_a_mac_vlan_on_a_mac_vtap_is_refused_with_the_base_the_kernel_would_use() -> None:
    found = _problems(topology(), _B0, _mv("mt", "b0", "bridge", "mac-vtap"), _mv("m1", "mt", "bridge"))
    assert found == [
        "f.yml: interface m1: mac-vlan.base-iface: 'mt': a base that is no mac-vlan or mac-vtap: mt is one, and the "
        "kernel makes m1 on b0, its own base; name b0 as base-iface"
    ]


def test_a_vxlan_too_big_for_any_base_is_told_a_fix_that_can_be_done() -> None:
    """65535 + 50 is past every device's largest MTU: 'raise br0's mtu to 65585' cannot be done."""
    b0 = {**_B0, "mtu": 65535}
    br = {"name": "br9", "type": "linux-bridge", "mtu": 65535, "bridge": {"port": [{"name": "b0"}]}}
    vx = {"name": "vx", "type": "vxlan", "mtu": 65535, "vxlan": {"id": 9, "base-iface": "br9", "remote": "192.0.2.1"}}
    (found,) = _problems(topology(), b0, br, vx)
    assert "65585" not in found
    assert found.endswith(
        "lower this one's mtu to 65485 (br9's MTU goes no higher than 65535: a VXLAN on it can have at most 65485, "
        "its largest MTU less the 50 bytes)"
    )


def test_the_kernels_message_is_pointed_at_only_when_it_gave_one() -> None:
    op = SetMaster("lo", None, master="br9")
    assert "message above" not in explain(Ack(1, errno.EINVAL), op)
    assert "no reason beyond" in explain(Ack(1, errno.EINVAL), op)
    with_text = Ack(1, errno.EINVAL, "Device can not be enslaved while up")
    assert "message above" in explain(with_text, op)
    assert "Device can not be enslaved while up" in with_text.describe()  # the line above it

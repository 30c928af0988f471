"""The rules a kind module owns, asked directly: validation, plan notes and audit word them."""

from __future__ import annotations

import pytest

from linkctl.kinds import ALL, BY_TYPE
from linkctl.kinds.base import LinkKind, OnBase
from linkctl.kinds.bridge import PortMtu
from linkctl.kinds.veth import VETH, PairMtu, is_peer_entry, peer_netns
from linkctl.kinds.vxlan import VXLAN, MtuFit, mtu_fit
from linkctl.model.spec import InterfaceSpec, InterfaceType, VethSection
from linkctl.model.state import NetnsState, VethInfo, VxlanInfo
from tests.helpers.states import link


def test_a_vxlan_fits_on_its_base_with_the_encapsulation() -> None:
    fit = mtu_fit(1450, 1500, "192.0.2.1", None)
    assert fit.fits and fit.room == 1450 and fit.base_needed == 1500
    assert fit.needs == "VXLAN over IPv4 needs 50 bytes"
    over = mtu_fit(1500, 1500, None, "2001:db8::1")
    assert not over.fits and over.room == 1430 and over.base_needed == 1570 and over.family == "IPv6"


def test_a_vxlan_room_is_its_kind_s_answer_for_a_re_created_link() -> None:
    vx = link(6, "vx42", kind="vxlan", mtu=1450, info=VxlanInfo(42, "2001:db8::2", None, 2, 4789, True))
    assert VXLAN.mtu_room(vx, 9000) == MtuFit(1450, 9000, 70).room == 8930
    assert BY_TYPE[InterfaceType.VLAN].mtu_room(vx, 9000) == 9000  # no encapsulation: the base's MTU


def test_veth_ends_and_bridge_ports_want_one_mtu() -> None:
    assert PairMtu(1500, 1500).matches
    wide = PairMtu(9000, 1500)
    assert not wide.matches and wide.peer_drops and wide.dropped_over == 1500
    assert not PairMtu(1500, 9000).peer_drops and PairMtu(1500, 9000).dropped_over == 1500
    assert PortMtu(1500, 9000).port_drops and not PortMtu(9000, 1500).port_drops
    assert not PortMtu(9000, 1500).matches and PortMtu(1500, 1500).matches


@pytest.mark.parametrize("kind", ALL, ids=lambda k: k.type.value)
def test_what_an_mtu_fits_on_is_fixed_at_creation(kind: LinkKind) -> None:
    # The planner looks for a changed base or encapsulation among the re-creation's reasons only.
    assert all(f.startswith(f"{kind.section_key}.".replace("_", "-")) for f in kind.recreate_fields)
    assert set(kind.mtu_fit_fields) <= set(kind.recreate_fields)


@pytest.mark.parametrize(
    ("kind", "section"),
    [("vlan", {"base-iface": "eth0", "id": 10}), ("ipvlan", {"base-iface": "eth0"}),
     ("mac-vlan", {"base-iface": "eth0"}), ("mac-vtap", {"base-iface": "eth0"})],
)  # fmt: skip
def test_a_kind_made_on_a_base_names_it_in_ifla_link_and_in_its_references(kind: str, section: object) -> None:
    spec = InterfaceSpec.model_validate({"name": "up0", "type": kind, kind: section})
    on = BY_TYPE[InterfaceType(kind)]
    assert isinstance(on, OnBase)
    assert on.ifla_link(spec) == on.declared_base(spec) == "eth0"
    assert on.references(spec) == [(f"{kind}.base-iface", "eth0")]
    assert on.lower_ifindex(link(7, "up0", link_ifindex=2)) == 2
    assert on.references(InterfaceSpec.model_validate({"name": "up0", "type": kind})) == []


def test_a_vxlan_diff_is_sorted_by_its_recreate_fields() -> None:
    vx = link(6, "vx42", kind="vxlan", info=VxlanInfo(42, None, "192.0.2.10", 2, 4789, True))
    spec = InterfaceSpec.model_validate(
        {"name": "vx42", "type": "vxlan", "vxlan": {"id": 43, "remote": "192.0.2.10", "learning": False}}
    )
    diff = VXLAN.compare(spec, vx, NetnsState.of(None, [vx]), None)
    assert [d.field for d in diff.recreate] == ["vxlan.id"]
    assert [d.field for d in diff.in_place] == ["vxlan.learning"]


def test_a_veth_peer_is_compared_by_index_and_worded_as_plans_say_it() -> None:
    end = link(4, "v0", kind="veth", info=VethInfo(5))
    peer = link(5, "v0q", kind="veth", info=VethInfo(4))
    want = VethSection(peer="v0p", peer_netns="ns1")
    diff = VETH.compare_peer(want, end, peer, None, "ns1")
    assert [str(d) for d in diff.recreate] == ["veth.peer 'v0q' -> 'v0p'", "veth.peer-netns None -> 'ns1'"]
    assert VETH.compare_peer(want, end, peer, "ns1", "ns1").recreate[0].field == "veth.peer"
    unread = link(4, "v0", kind="veth", info=VethInfo(5, 3))
    assert [str(d) for d in VETH.compare_peer(want, unread, None, None, "ns1").recreate] == [
        "veth.peer-netns (a namespace the file does not name) -> 'ns1'"
    ]
    assert VETH.compare_peer(want, end, None, None, "ns1").empty


def test_a_peer_entry_names_its_end_back_where_the_end_puts_it() -> None:
    end = InterfaceSpec.model_validate({"name": "a", "type": "veth", "veth": {"peer": "b", "peer-netns": "ns1"}})
    back = InterfaceSpec.model_validate({"name": "b", "type": "veth", "veth": {"peer": "a"}})
    other = InterfaceSpec.model_validate({"name": "b", "type": "veth", "veth": {"peer": "c"}})
    assert is_peer_entry(end, back, "ns1")
    assert not is_peer_entry(end, back, None)  # not in the peer-netns the end names
    assert not is_peer_entry(end, other, "ns1") and not is_peer_entry(end, end, "ns1")
    assert (
        peer_netns(VethSection(peer="b"), "ns2") == "ns2"
        and peer_netns(VethSection(peer="b", peer_netns="x"), None) == "x"
    )

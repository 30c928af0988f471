"""Properties of the planner over generated kernel states (hypothesis)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from linkctl.model.load import from_data
from linkctl.model.spec import dump_spec
from linkctl.model.state import BridgeInfo, HostState, IfFlag, Link, MacvlanInfo, NetnsState, VethInfo, VxlanInfo
from linkctl.plan.convert import declaration_of
from linkctl.plan.ops import CreateLink, DeleteLink, SetLink, SetMaster
from linkctl.plan.planner import make_plan
from tests.helpers.states import UP, link


@st.composite
def states(draw: st.DrawFn) -> HostState:
    """A namespace with a NIC, bridges, veth pairs (some enslaved), vxlans and macvlans."""
    links: list[Link] = [link(1, "eth0", parent_bus="pci", mtu=draw(st.integers(1500, 9000)))]
    index = 2
    bridges = []
    for b in range(draw(st.integers(0, 2))):
        links.append(
            link(
                index,
                f"br{b}",
                kind="bridge",
                mtu=draw(st.integers(1280, 9000)),
                info=BridgeInfo(stp=draw(st.booleans()), forward_delay=1500, priority=32768, ageing_time=30000),
            )
        )
        bridges.append(index)
        index += 1
    for v in range(draw(st.integers(0, 3))):
        a, b = index, index + 1
        master = draw(st.sampled_from([None, *bridges]))
        up = draw(st.booleans())
        flags = UP if up else IfFlag.BROADCAST | IfFlag.MULTICAST
        mtu = draw(st.integers(1280, 9000))
        links.append(
            link(
                a,
                f"v{v}",
                kind="veth",
                link_ifindex=b,
                info=VethInfo(b),
                master_ifindex=master,
                flags=flags,
                mtu=mtu,
                txqlen=draw(st.integers(0, 5000)),
            )
        )
        links.append(link(b, f"v{v}p", kind="veth", link_ifindex=a, info=VethInfo(a), flags=flags, mtu=mtu))
        index += 2
    for x in range(draw(st.integers(0, 2))):
        links.append(
            link(
                index,
                f"vx{x}",
                kind="vxlan",
                mtu=1450,
                info=VxlanInfo(100 + x, None, "192.0.2.1", 1, 4789, draw(st.booleans())),
            )
        )
        index += 1
    if draw(st.booleans()):
        links.append(
            link(
                index,
                "mv0",
                kind="macvlan",
                link_ifindex=1,
                info=MacvlanInfo(draw(st.sampled_from(["bridge", "vepa", "private"]))),
            )
        )
    host = HostState()
    host.namespaces[None] = NetnsState.of(None, [replace(lk, netns=None) for lk in links])
    return host


@settings(max_examples=150, deadline=None)
@given(states())
def test_show_then_plan_is_empty(host: HostState) -> None:
    assert make_plan(declaration_of(host), host).ops == []


@settings(max_examples=150, deadline=None)
@given(states())
def test_declaration_survives_the_yaml_form(host: HostState) -> None:
    decl = declaration_of(host)
    again = from_data({"interfaces": [dump_spec(s) for s in decl.interfaces]}, "t")
    assert make_plan(again, host).ops == []


@settings(max_examples=150, deadline=None)
@given(states(), st.integers(1280, 9000))
def test_one_mtu_change_is_one_set(host: HostState, mtu: int) -> None:
    names = [lk.name for lk in host if lk.kind == "veth"]
    if not names:
        return
    name = names[0]
    current = host.find(name, None)
    assert current is not None
    plan = make_plan(from_data({"interfaces": [{"name": name, "mtu": mtu}]}, "t"), host)
    if current.mtu == mtu:
        assert plan.ops == []
    else:
        (op,) = plan.ops
        assert isinstance(op, SetLink) and op.props.mtu == mtu and op.name == name


@settings(max_examples=150, deadline=None)
@given(states())
def test_deleting_everything_creatable_deletes_each_once_and_never_a_nic(host: HostState) -> None:
    specs = [{"name": lk.name, "state": "absent"} for lk in host]
    plan = make_plan(from_data({"interfaces": specs}, "t"), host)
    deleted = [op.name for op in plan.ops if isinstance(op, DeleteLink)]
    assert "eth0" not in deleted
    assert len(deleted) == len(set(deleted))
    assert not any(isinstance(op, CreateLink | SetMaster) for op in plan.ops)
    # One request per veth pair: the kernel deletes both ends.
    pairs = {lk.name for lk in host if lk.kind == "veth" and not lk.name.endswith("p")}
    assert pairs <= set(deleted)

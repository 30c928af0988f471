"""Validation and plan notes of VXLANs without base-iface, on underlays given as data (plan/ reads nothing)."""

from __future__ import annotations

import pytest

from linkctl.errors import ValidationFailed
from linkctl.kinds.vxlan import Underlay
from linkctl.model.load import from_data
from linkctl.model.spec import Declaration
from linkctl.model.state import HostState, Link, NetnsState, VxlanInfo
from linkctl.plan.check_mtu import misfit_notes, underlay_queries
from linkctl.plan.validate import validate

KEY = (None, "192.0.2.1", "192.0.2.2")
ROUTE = Underlay("route to 192.0.2.2 from 192.0.2.1", "eth0", 1500)


def _decl(**vx0: object) -> Declaration:
    entry = {"name": "vx0", "type": "vxlan", "vxlan": {"id": 10, "local": "192.0.2.1", "remote": "192.0.2.2"}}
    return from_data({"interfaces": [{**entry, **vx0}]}, "d.yml")


def _host(vx0_mtu: int | None = None) -> HostState:
    links = [Link(2, "eth0", mtu=1500)]
    if vx0_mtu is not None:
        links.append(Link(3, "vx0", kind="vxlan", mtu=vx0_mtu, info=VxlanInfo(10, "192.0.2.1", "192.0.2.2")))
    return HostState({None: NetnsState.of(None, links)})


def _problems(decl: Declaration, host: HostState, under: Underlay | None = ROUTE) -> list[str]:
    try:
        validate(decl, host, "d.yml", underlays={KEY: under})
    except ValidationFailed as exc:
        return [str(p) for p in exc.problems]
    return []


def test_the_engine_is_asked_for_the_declared_and_the_existing_vxlans_without_base() -> None:
    assert underlay_queries(_decl(), _host(), None) == [KEY]
    assert underlay_queries(Declaration(), _host(1500), None) == [KEY]
    with_base = from_data(
        {"interfaces": [{"name": "vx0", "type": "vxlan", "vxlan": {"id": 1, "base-iface": "eth0"}}]}, "d"
    )
    assert underlay_queries(with_base, _host(), None) == []


def test_a_new_vxlan_without_mtu_is_refused_naming_route_link_mtu_and_fix() -> None:
    (problem,) = _problems(_decl(), _host())
    assert "interface vx0" in problem and "at most 1450: made without mtu it gets 1500" in problem
    assert "route to 192.0.2.2 from 192.0.2.1, out of eth0 (MTU 1500)" in problem
    assert "lower this one's mtu to 1450 or raise eth0's mtu to 1550" in problem


def test_a_fitting_mtu_or_an_unknown_route_passes() -> None:
    assert _problems(_decl(mtu=1450), _host()) == []
    assert _problems(_decl(), _host(), None) == []


def test_raising_an_existing_one_is_refused_leaving_it_is_noted() -> None:
    assert "at most 1450" in _problems(_decl(mtu=1480), _host(1450))[0]
    assert _problems(_decl(), _host(1500)) == []  # left as it is: audit's finding and plan's note
    (note,) = misfit_notes(_decl(), _host(1500), None, {KEY: ROUTE})
    assert note.startswith("vx0 keeps MTU 1500, too big for the route to 192.0.2.2 from 192.0.2.1, out of eth0")
    assert note.endswith("declare vx0 with mtu 1450, or raise eth0's mtu to 1550")


def test_lowering_the_underlay_in_the_file_is_refused_on_it() -> None:
    decl = from_data(
        {
            "interfaces": [
                {"name": "eth0", "mtu": 1400},
                {
                    "name": "vx0",
                    "type": "vxlan",
                    "mtu": 1450,
                    "vxlan": {"id": 10, "local": "192.0.2.1", "remote": "192.0.2.2"},
                },
            ]
        },
        "d.yml",
    )
    (problem,) = _problems(decl, _host(1450))
    assert "interface eth0: mtu: 1400: at least 1500" in problem
    assert "the route to 192.0.2.2 from 192.0.2.1 goes out of it" in problem


def test_a_route_metric_below_the_link_names_the_metric_as_the_fix() -> None:
    (problem,) = _problems(_decl(mtu=1450), _host(), Underlay("route to 192.0.2.2", "eth0", 1500, 1400))
    assert "at most 1350" in problem and "raise the route to 192.0.2.2's mtu metric (1400) to 1500" in problem


@pytest.mark.parametrize("mtu", [1450, 1400])
def test_nothing_is_noted_for_a_fitting_vxlan(mtu: int) -> None:
    assert misfit_notes(_decl(), _host(mtu), None, {KEY: ROUTE}) == []

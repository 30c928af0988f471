"""audit's vxlan-mtu-overhead for a VXLAN without base-iface, its underlay read by a stand-in."""

from __future__ import annotations

from linkctl.diagnose.audit import AuditContext, run_checks
from linkctl.kinds.vxlan import Underlay
from linkctl.model.state import HostState, Link, NetnsState, VxlanInfo

Query = tuple[str | None, str | None, str | None]


def _host(mtu: int, base: int | None = None) -> HostState:
    links = [
        Link(2, "eth0", mtu=1500),
        Link(3, "vx0", kind="vxlan", mtu=mtu, info=VxlanInfo(10, "192.0.2.1", "192.0.2.2", base, 4789)),
    ]
    return HostState({None: NetnsState.of(None, links)})


def _audit(host: HostState, under: Underlay | None, asked: list[Query] | None = None) -> AuditContext:
    def read(queries: list[Query]) -> dict[Query, Underlay | None]:
        if asked is not None:
            asked.extend(queries)
        return dict.fromkeys(queries, under)

    return AuditContext(host, read_underlays=read)


def test_a_vxlan_without_base_sized_1500_on_a_1500_route_is_found_with_its_route() -> None:
    asked: list[Query] = []
    ctx = _audit(_host(1500), Underlay("route to 192.0.2.2 from 192.0.2.1", "eth0", 1500), asked)
    (f,) = [f for f in run_checks(ctx) if f.check == "vxlan-mtu-overhead"]
    assert asked == [(None, "192.0.2.1", "192.0.2.2")]
    assert f.ifname == "vx0"
    assert f.evidence["route"] == "route to 192.0.2.2 from 192.0.2.1"
    assert f.evidence["underlay"] == "eth0" and f.evidence["underlay_mtu"] == 1500
    assert f.evidence["max_overlay_mtu"] == 1450
    assert "the kernel sends it by the route to 192.0.2.2 from 192.0.2.1, out of eth0 (MTU 1500)" in f.message
    assert f.fix.commands[0] == ("ip", "link", "set", "dev", "vx0", "mtu", "1450")
    assert "mtu 1550 on eth0" in f.fix.note


def test_a_route_metric_below_the_link_is_what_must_be_fitted_and_raised() -> None:
    ctx = _audit(_host(1450), Underlay("route to 192.0.2.2", "eth0", 1500, 1400, "192.0.2.254"))
    (f,) = [f for f in run_checks(ctx) if f.check == "vxlan-mtu-overhead"]
    assert f.evidence["underlay_mtu"] == 1400 and f.evidence["route_mtu"] == 1400
    assert f.evidence["gateway"] == "192.0.2.254"
    assert "mtu metric to 1500" in f.fix.note


def test_a_fitting_vxlan_and_one_without_route_are_not_found() -> None:
    assert not [
        f for f in run_checks(_audit(_host(1450), Underlay("r", "eth0", 1500))) if f.check == "vxlan-mtu-overhead"
    ]
    assert not [f for f in run_checks(_audit(_host(1500), None)) if f.check == "vxlan-mtu-overhead"]


def test_a_vxlan_with_base_is_judged_on_its_base_not_a_route() -> None:
    asked: list[Query] = []
    ctx = _audit(_host(1500, base=2), Underlay("r", "eth0", 9000), asked)
    (f,) = [f for f in run_checks(ctx) if f.check == "vxlan-mtu-overhead"]
    assert asked == [] and f.evidence["underlay"] == "eth0" and "route" not in f.evidence


def test_an_unreadable_route_is_said_not_raised() -> None:
    def read(queries: list[Query]) -> dict[Query, Underlay | None]:
        raise OSError(13, "Permission denied")

    ctx = AuditContext(_host(1500), read_underlays=read)
    assert not [f for f in run_checks(ctx) if f.check == "vxlan-mtu-overhead"]
    assert "routes" in ctx.unreadable

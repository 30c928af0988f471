"""audit's layer 3 checks on a hand-made namespace, its layer 3 given by a stand-in reader: what the
kernel cannot be made to show here (a VRF), and a namespace whose layer 3 could not be read."""

from __future__ import annotations

from linkctl.diagnose.audit import AuditContext, run_checks
from linkctl.diagnose.audit.context import Layer3
from linkctl.model.l3_state import Address, NextHop, Route
from linkctl.model.state import HostState, IfFlag, Link, NetnsName, NetnsState

UP = IfFlag.UP | IfFlag.LOWER_UP
LAYER3 = {"default-route-link-down", "duplicate-address", "dad-failed", "address-on-port", "vxlan-local-not-assigned"}


def _host(*links: Link) -> HostState:
    return HostState({None: NetnsState.of(None, list(links))})


def _checks(host: HostState, layer3: Layer3) -> tuple[list[str], AuditContext]:
    asked: list[NetnsName] = []

    def read(netns: NetnsName) -> Layer3:
        asked.append(netns)
        return layer3

    ctx = AuditContext(host, read_layer3=read)
    found = [f"{f.check} {f.ifname}" for f in run_checks(ctx) if f.check in LAYER3]
    assert asked == [None]  # read once for every check
    return found, ctx


def test_links_in_two_vrfs_may_hold_the_same_address_links_in_one_may_not() -> None:
    host = _host(
        Link(2, "red", kind="vrf", flags=UP),
        Link(3, "blue", kind="vrf", flags=UP),
        Link(4, "e1", flags=UP, master_ifindex=2),
        Link(5, "e2", flags=UP, master_ifindex=3),
        Link(6, "e3", flags=UP, master_ifindex=3),
    )
    apart = Layer3((Address(4, "10.0.0.1", 24, 4), Address(5, "10.0.0.1", 24, 4)))
    assert _checks(host, apart)[0] == []
    together = Layer3((Address(5, "10.0.0.1", 24, 4), Address(6, "10.0.0.1", 24, 4)))
    assert _checks(host, together)[0] == ["duplicate-address e3"]


def test_a_default_route_via_a_link_of_no_carrier_is_found_and_one_without_next_hop_is_not() -> None:
    host = _host(Link(2, "up0", flags=IfFlag.UP), Link(3, "ok0", flags=UP))
    routes = (
        Route(4, "0.0.0.0/0", 254, 0, nexthops=(NextHop(2, "192.0.2.254"),)),
        Route(6, "::/0", 254, 1024, nexthops=(NextHop(3, "2001:db8::fe"),)),
        Route(4, "0.0.0.0/0", 100, 0, type=6),  # blackhole: no link to be down
    )
    found, _ = _checks(host, Layer3((), routes))
    assert found == ["default-route-link-down up0"]


def test_layer3_that_cannot_be_read_is_named_not_judged() -> None:
    host = _host(Link(2, "br0", kind="bridge", flags=UP), Link(3, "p1", flags=UP, master_ifindex=2))

    def refused(netns: NetnsName) -> Layer3:
        raise PermissionError(13, "Permission denied")

    ctx = AuditContext(host, read_layer3=refused)
    assert [f for f in run_checks(ctx) if f.check in LAYER3] == []
    assert ctx.unreadable == {"layer 3": "[Errno 13] Permission denied"}

"""The fleet review's findings, each asserting the promise (tests/fleet_repro/ shows each before its fix)."""

from __future__ import annotations

from .admin_down_link_pages import rendered


# Found by the fleet review: linkctl_network_up is 0 for a link set down by hand as for one that
# lost its carrier, and no series said which: LinkDown (critical) paged for every admin-down link.
def test_a_link_set_down_by_hand_can_be_told_from_a_lost_carrier() -> None:
    text = rendered()
    eth1 = [line for line in text.splitlines() if 'device="eth1"' in line and not line.startswith("#")]
    assert any(line.startswith("linkctl_network_admin_up") and line.endswith(" 0.0") for line in eth1), eth1

"""Why an up link has no carrier, and whether a link is a NIC with a cable at all: what audit's
no-carrier check and diagnose's evidence both weigh, below both of them."""

from __future__ import annotations

from dataclasses import dataclass, field

from linkctl.diagnose.findings import Severity, ip
from linkctl.domain.fix import Fix, Fragment
from linkctl.kinds import kind_of
from linkctl.kinds.simple import ETHERNET
from linkctl.model.state import BridgeInfo, HostState, Link, VethInfo

# A lower link's lower link, and so on: a chain longer than this is not followed (nor a loop).
_MAX_DEPTH = 4


def is_physical(link: Link) -> bool:
    """A NIC on a bus: what has a cable, a PHY and a driver's power saving to blame."""
    return kind_of(link) is ETHERNET and bool(link.parent_bus)


@dataclass(frozen=True)
class CarrierCause:
    """Why an up link has no carrier, the fix, and what was read of the links it depends on."""

    severity: Severity
    message: str
    fix: Fix
    read: dict[str, object] = field(default_factory=dict)


def carrier_cause(host: HostState, link: Link) -> CarrierCause:
    found = dependency_cause(host, link)
    if found is not None:
        return found
    return CarrierCause(
        Severity.PROBLEM,
        "NO-CARRIER: up, but the physical layer reports no link",
        Fix(
            commands=(("linkctl", "diagnose", link.name, *(("--netns", link.netns) if link.netns else ())),),
            note="check the cable, the SFP module and the switch port (only a person can); "
            "a duplex or speed forced on one end only can also keep the link down",
        ),
    )


def dependency_cause(host: HostState, link: Link, depth: int = 0) -> CarrierCause | None:
    """A missing carrier the links this one depends on explain: its veth peer, bridge ports, lower link.
    A lower link that is up without a carrier is followed to what it waits for (a macvlan on a veth
    whose peer is down): setting up a link that is up already fixes nothing."""
    if isinstance(link.info, VethInfo):
        peer = host.peer_of(link)
        if peer is not None and not peer.admin_up:
            return CarrierCause(
                Severity.PROBLEM,
                f"NO-CARRIER: its veth peer {peer.name} is down",
                _bring_up(peer),
                {"peer": peer.name, "peer_netns": peer.netns, "peer_admin_up": False},
            )
    if isinstance(link.info, BridgeInfo):
        ports = host.ns(link.netns).ports_of(link.name)
        if not ports:
            return CarrierCause(
                Severity.INFO,
                "NO-CARRIER: a bridge without ports has no carrier",
                Fix(note="add a port, or set the bridge down until it has one"),
                {"ports": ports},
            )
        return CarrierCause(
            Severity.WARNING,
            "NO-CARRIER: none of the bridge's ports has a carrier",
            Fix(note=f"check the ports: {', '.join(ports)}"),
            {"ports": ports},
        )
    lower = host.in_link_net(link, link.link_ifindex)
    if lower is None or lower.name == link.name or not (lower.no_carrier or not lower.admin_up):
        return None
    read: dict[str, object] = {"lower": lower.name, "lower_admin_up": lower.admin_up}
    if not lower.admin_up:
        return CarrierCause(
            Severity.PROBLEM, f"NO-CARRIER: its lower link {lower.name} is down", _bring_up(lower), read
        )
    deeper = dependency_cause(host, lower, depth + 1) if depth < _MAX_DEPTH else None
    if deeper is not None:
        why = deeper.message.removeprefix("NO-CARRIER: ")
        return CarrierCause(
            deeper.severity, f"NO-CARRIER: its lower link {lower.name} has none: {why}", deeper.fix, read | deeper.read
        )
    return CarrierCause(
        Severity.PROBLEM,
        f"NO-CARRIER: its lower link {lower.name} is up but has none",
        Fix(
            commands=(("linkctl", "diagnose", lower.name, *(("--netns", lower.netns) if lower.netns else ())),),
            note=f"{lower.name} is up already: see why it has no carrier (its own no-carrier finding)",
        ),
        read,
    )


def _bring_up(other: Link, note: str = "") -> Fix:
    """Set up the link this one depends on: as a declaration and as its `ip` command."""
    return Fix(
        Fragment.interface(other.name, other.netns, state="up"),
        (ip(other.netns, "link", "set", "dev", other.name, "up"),),
        note,
    )

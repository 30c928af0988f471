"""veth: a pair of links; what enters one end leaves the other.

Created in one request with its peer (VETH_INFO_PEER carries the peer's own
ifinfomsg and attributes, including its namespace). The kernel pairs the ends
by index, not by name: a peer renamed or moved is still the peer, and is
renamed or moved back in place (plan/veth_match.py) rather than made again.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

from linkctl.kinds.base import ETH_DATA_LEN, NO_DIFF, KindDiff, LinkKind
from linkctl.model.spec import InterfaceSpec, InterfaceType, VethSection
from linkctl.model.state import KindInfo, Link, NetnsState, VethInfo

VETH_INFO_PEER = 1


class PairMtu(NamedTuple):  # not a dataclass: the kinds load on every command's path
    """The MTUs of a pair's two ends. Each end drops what arrives over its own MTU, so the frames
    the larger end sends over the smaller's are lost; plan notes and audit word that each their way."""

    mtu: int
    peer_mtu: int

    @property
    def matches(self) -> bool:
        return self.mtu == self.peer_mtu

    @property
    def dropped_over(self) -> int:
        """The size over which frames between the ends are dropped."""
        return min(self.mtu, self.peer_mtu)

    @property
    def peer_drops(self) -> bool:
        """The peer drops the larger frames this end sends (said by this end, so a mismatch is said once)."""
        return self.mtu > self.peer_mtu


class Veth(LinkKind):
    type = InterfaceType.VETH
    kernel_kind = "veth"
    module = "veth"
    created_mtu = ETH_DATA_LEN
    section_key = "veth"
    recreate_fields: ClassVar[tuple[str, ...]] = ("veth.peer", "veth.peer-netns")

    def decode(self, buf: bytes, off: int, end: int) -> KindInfo:
        # The kernel reports the peer through IFLA_LINK, not inside IFLA_INFO_DATA.
        return VethInfo()

    def compare(self, spec: InterfaceSpec, link: Link, ns: NetnsState, base: str | None) -> KindDiff:
        # The peer's identity is compared by the planner, which sees every namespace.
        return NO_DIFF

    def ip_args(self, spec: InterfaceSpec, only: frozenset[str] | None = None) -> list[str]:
        assert spec.veth is not None
        args = ["type", "veth", "peer", "name", spec.veth.peer]
        if spec.veth.peer_netns:
            args += ["netns", spec.veth.peer_netns]
        return args

    def section_from_link(self, link: Link, ns: NetnsState, base: str | None) -> VethSection | None:
        return None  # filled by the state->spec conversion, which can name the peer anywhere


VETH = Veth()

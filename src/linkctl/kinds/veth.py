"""veth: a pair of links; what enters one end leaves the other.

Created in one request with its peer (VETH_INFO_PEER carries the peer's own
ifinfomsg and attributes, including its namespace). The kernel pairs the ends
by index, not by name: a peer renamed or moved is still the peer, and is
renamed or moved back in place (plan/veth_match.py) rather than made again.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

from linkctl.kinds.base import ETH_DATA_LEN, NO_DIFF, FieldDiff, KindDiff, LinkKind
from linkctl.model.spec import InterfaceSpec, InterfaceType, VethSection
from linkctl.model.state import KindInfo, Link, NetnsName, NetnsState, VethInfo

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


def peer_netns(veth: VethSection, own: NetnsName) -> NetnsName:
    """Where the file puts the peer: in peer-netns, or beside its end when that is not given."""
    return veth.peer_netns if veth.peer_netns is not None else own


def is_peer_entry(end: InterfaceSpec, other: InterfaceSpec, other_ns: NetnsName) -> bool:
    """Whether `other`, declared in `other_ns`, is the entry for `end`'s peer: named as the peer, not
    `end` itself (`peer: x` on x, with peer-netns elsewhere), in peer-netns when that is given, and
    naming `end` back."""
    want = end.veth
    if want is None or other is end or other.name != want.peer or other.veth is None:
        return False
    return (want.peer_netns is None or other_ns == want.peer_netns) and other.veth.peer == end.name


class _Unread:
    def __repr__(self) -> str:
        return "(a namespace the file does not name)"


UNREAD = _Unread()  # where a peer is that the kernel reports in a namespace the plan did not read


class _PeerDiff(FieldDiff):
    def __str__(self) -> str:
        # Plans have always written both sides of a peer's change as repr, the host namespace as None.
        return f"{self.field} {self.current!r} -> {self.desired!r}"


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
        # The peer's identity is compared in compare_peer, with what the planner sees in every namespace.
        return NO_DIFF

    def compare_peer(
        self, want: VethSection, end: Link, peer: Link | None, peer_ns: NetnsName, want_ns: NetnsName
    ) -> KindDiff:
        """The end's peer against the one the file names. The kernel pairs ends by index, so another
        peer, or the peer left in another namespace, means the pair is made again.

        `peer`: the end's peer as read (None: none, or in a namespace not read); `peer_ns`: where it is
        once the plan's moves are done (a peer moved back is no reason to re-create); `want_ns`: where
        the file wants it."""
        if peer is None:
            # Taken for "fine", a peer in a namespace the plan did not read had the pair created again
            # beside the end that is there ("File exists"): it is not in `want_ns`, which the plan read.
            info = end.info
            if not isinstance(info, VethInfo) or info.peer_ifindex is None or info.peer_netnsid is None:
                return NO_DIFF
            return self.split(_PeerDiff("veth.peer-netns", UNREAD, want_ns))
        return self.split(
            _PeerDiff("veth.peer", peer.name, want.peer) if peer.name != want.peer else None,
            _PeerDiff("veth.peer-netns", peer.netns, want_ns) if peer_ns != want_ns else None,
        )

    def ip_args(self, spec: InterfaceSpec, only: frozenset[str] | None = None) -> list[str]:
        assert spec.veth is not None
        args = ["type", "veth", "peer", "name", spec.veth.peer]
        if spec.veth.peer_netns:
            args += ["netns", spec.veth.peer_netns]
        return args

    def section_from_link(self, link: Link, ns: NetnsState, base: str | None) -> VethSection | None:
        return None  # filled by the state->spec conversion, which can name the peer anywhere


VETH = Veth()

"""vxlan: an L2 overlay in UDP (RFC 7348), bound to a VNI and a UDP port.

The kernel refuses changes to a VXLAN's identity once it exists (vxlan_changelink
rejects VNI, port, local address and lower device changes), so any of those in a
declaration means delete and create again. `learning` changes in place.
"""

from __future__ import annotations

import ipaddress
from typing import Any, ClassVar, NamedTuple

from linkctl.kinds.base import NO_DIFF, KindDiff, LinkKind, Resolver, differ
from linkctl.model.spec import InterfaceSpec, InterfaceType, VxlanSection
from linkctl.model.state import KindInfo, Link, NetnsName, NetnsState, VxlanInfo
from linkctl.nla.ifla import VXLAN as TABLE

LINUX_DEFAULT_PORT = 8472  # what the kernel picks when no port is given (IANA's is 4789)
OVERHEAD_V4 = 50  # outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8
OVERHEAD_V6 = 70  # the IPv6 header is 20 bytes longer


def overhead(local: str | None, remote: str | None) -> int:
    """Bytes the encapsulation adds to each frame: the underlay's MTU must leave room for them."""
    v6 = any(addr is not None and ":" in addr for addr in (local, remote))
    return OVERHEAD_V6 if v6 else OVERHEAD_V4


class MtuFit(NamedTuple):  # not a dataclass: the kinds load on every command's path
    """A VXLAN's MTU on its base's: each frame, with the encapsulation's bytes, must fit on the base,
    or the base drops (or fragments) it. Validation, plan and audit each word a misfit for their reader."""

    mtu: int
    base_mtu: int
    overhead: int

    @property
    def fits(self) -> bool:
        return self.mtu + self.overhead <= self.base_mtu

    @property
    def room(self) -> int:
        """The largest MTU that fits on this base."""
        return self.base_mtu - self.overhead

    @property
    def base_needed(self) -> int:
        """The smallest base MTU that carries this MTU."""
        return self.mtu + self.overhead

    @property
    def family(self) -> str:
        return "IPv6" if self.overhead == OVERHEAD_V6 else "IPv4"

    @property
    def needs(self) -> str:
        return f"VXLAN over {self.family} needs {self.overhead} bytes"


def mtu_fit(mtu: int, base_mtu: int, local: str | None, remote: str | None) -> MtuFit:
    """A VXLAN of `mtu`, encapsulating from `local` to `remote`, on a base of `base_mtu`."""
    return MtuFit(mtu, base_mtu, overhead(local, remote))


class Underlay(NamedTuple):
    """Where a VXLAN without a base-iface sends: the kernel routes each encapsulated packet when it
    sends it (to `remote`, or the multicast group; from the link holding `local` when that is all
    there is), so the MTU its frames must fit is the route's, not a base's it was sized against."""

    route: str  # how it was found: "route to 192.0.2.2", "link holding local 192.0.2.1"
    dev: str  # the output link
    dev_mtu: int
    route_mtu: int | None = None  # the route's mtu metric (or a path MTU the kernel learnt)
    gateway: str | None = None

    @property
    def mtu(self) -> int:
        # A metric above the device's still meets the device, which drops what exceeds its own MTU.
        return min(self.dev_mtu, self.route_mtu) if self.route_mtu else self.dev_mtu

    def describe(self) -> str:
        via = f" via {self.gateway}" if self.gateway else ""
        metric = f", mtu {self.route_mtu} on the route" if self.route_mtu else ""
        return f"{self.route}{via}, out of {self.dev} (MTU {self.dev_mtu}{metric})"


UnderlayQuery = tuple[NetnsName, str | None, str | None]
"""What finds a VXLAN's underlay: the namespace it sends from (the one it was made in), local, remote."""


class Vxlan(LinkKind):
    type = InterfaceType.VXLAN
    kernel_kind = "vxlan"
    module = "vxlan"
    section_key = "vxlan"
    dies_with_lower = True
    mtu_fit_fields: ClassVar[tuple[str, ...]] = ("vxlan.base-iface", "vxlan.local", "vxlan.remote")
    recreate_fields: ClassVar[tuple[str, ...]] = (
        "vxlan.id",
        "vxlan.base-iface",
        "vxlan.local",
        "vxlan.remote",
        "vxlan.destination-port",
    )

    def decode(self, buf: bytes, off: int, end: int) -> KindInfo:
        d: dict[str, Any] = TABLE.decode(buf, off, end)
        learning = d.get("learning")
        return VxlanInfo(
            vni=d.get("id"),
            local=_addr(d.get("local6", d.get("local"))),
            remote=_addr(d.get("group6", d.get("group"))),
            base_ifindex=d.get("link") or None,
            port=d.get("port"),
            learning=None if learning is None else bool(learning),
        )

    def reported_lower(self, link: Link) -> int | None:
        return link.info.base_ifindex if isinstance(link.info, VxlanInfo) else None

    def mtu_room(self, link: Link, base_mtu: int) -> int:
        info = link.info
        local, remote = (info.local, info.remote) if isinstance(info, VxlanInfo) else (None, None)
        return mtu_fit(link.mtu, base_mtu, local, remote).room

    def declared_base(self, spec: InterfaceSpec) -> str | None:
        return spec.vxlan.base_iface if spec.vxlan else None

    def references(self, spec: InterfaceSpec) -> list[tuple[str, str]]:
        base = spec.vxlan.base_iface if spec.vxlan else None
        return [("vxlan.base-iface", base)] if base else []

    def compare(self, spec: InterfaceSpec, link: Link, ns: NetnsState, base: str | None) -> KindDiff:
        want = spec.vxlan
        have = link.info if isinstance(link.info, VxlanInfo) else VxlanInfo()
        if want is None:
            return NO_DIFF
        return self.split(
            differ("vxlan.id", have.vni, want.id),
            differ("vxlan.base-iface", base, want.base_iface),
            differ("vxlan.local", have.local, want.local),
            differ("vxlan.remote", have.remote, want.remote),
            differ("vxlan.destination-port", have.port, want.destination_port),
            differ("vxlan.learning", have.learning, want.learning),
        )

    def info_data(self, spec: InterfaceSpec, resolve: Resolver, only: frozenset[str] | None = None) -> bytes:
        want = spec.vxlan
        assert want is not None
        if only is not None:  # only `learning` changes in place
            return TABLE.one("learning", int(bool(want.learning)))
        return TABLE.encode(
            (
                ("id", want.id),
                ("link", resolve(want.base_iface) if want.base_iface else None),
                (_family("local", want.local), want.local),
                (_family("group", want.remote), want.remote),
                ("port", want.destination_port or None),
                ("learning", None if want.learning is None else int(want.learning)),
            )
        )

    def ip_args(self, spec: InterfaceSpec, only: frozenset[str] | None = None) -> list[str]:
        want = spec.vxlan
        assert want is not None
        learning = ["learning" if want.learning else "nolearning"]
        if only is not None:
            return ["type", "vxlan", *learning]
        args = ["type", "vxlan", "id", str(want.id)]
        if want.base_iface:
            args += ["dev", want.base_iface]
        if want.remote:
            args += ["remote", want.remote]
        if want.local:
            args += ["local", want.local]
        if want.destination_port:
            args += ["dstport", str(want.destination_port)]
        if want.learning is not None:
            args += learning
        return args

    def section_from_link(self, link: Link, ns: NetnsState, base: str | None) -> VxlanSection | None:
        info = link.info
        if not isinstance(info, VxlanInfo) or info.vni is None:
            return None
        return VxlanSection(
            id=info.vni,
            base_iface=base,
            local=info.local,
            remote=info.remote,
            destination_port=info.port,
            learning=info.learning,
        )


def _addr(text: object) -> str | None:
    if not isinstance(text, str):
        return None
    return None if ipaddress.ip_address(text).is_unspecified else text


def _family(name: str, address: str | None) -> str:
    """IFLA_VXLAN_LOCAL or _LOCAL6 (GROUP, GROUP6): the attribute says the address's family."""
    return name + "6" if address is not None and ":" in address else name


VXLAN = Vxlan()

"""What every link kind module provides: its section, codec, and what forces re-creation.

A kind module answers four questions for the planner and the kernel adapter:
what the kind's section of a declaration looks like, how its IFLA_INFO_DATA is
encoded and decoded, which of its properties the kernel can change in place and
which need the link deleted and created again (`recreate_fields`, read by `split`),
and how `ip` spells the same thing.

A kind's rules that validation, plan notes and audit each word for their reader are
written once in its module: a VXLAN's fit on its base (vxlan.MtuFit), a veth pair's
MTUs and which entry is an end's peer (veth.py), a bridge port's MTU (bridge.PortMtu).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from linkctl.errors import quoted
from linkctl.model.spec import InterfaceSpec, InterfaceType, Section
from linkctl.model.state import BondPortInfo, BridgePortInfo, KindInfo, Link, NetnsState

Resolver = Callable[[str], int]
"""Name of a link in the same namespace -> its ifindex (raises KeyError if unknown)."""


@dataclass(frozen=True)
class FieldDiff:
    field: str
    current: object
    desired: object

    def __str__(self) -> str:
        if self.current is None:  # nothing yet (a link created by this plan, a key the kernel left unset)
            return f"{self.field} {quoted(self.desired)}"
        return f"{self.field} {quoted(self.current)} -> {quoted(self.desired)}"


@dataclass(frozen=True)
class KindDiff:
    recreate: tuple[FieldDiff, ...] = ()
    in_place: tuple[FieldDiff, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.recreate and not self.in_place


NO_DIFF = KindDiff()  # what most comparisons return: one shared instance, not thousands


def differ(field: str, current: object, desired: object) -> FieldDiff | None:
    """A difference only where the user wrote a value (None = leave as the kernel has it)."""
    if desired is None or current == desired:
        return None
    return FieldDiff(field, current, desired)


def collect(*diffs: FieldDiff | None) -> tuple[FieldDiff, ...]:
    return tuple(d for d in diffs if d is not None)


ETH_DATA_LEN = 1500  # the MTU ether_setup() gives a new Ethernet-like link


class LinkKind:
    """Base: a kind with no data of its own (dummy, and adopt-only kinds)."""

    type: ClassVar[InterfaceType]
    kernel_kind: ClassVar[str | None] = None
    module: ClassVar[str | None] = None  # the kernel module that provides the kind
    creatable: ClassVar[bool] = True
    section_key: ClassVar[str | None] = None  # attribute of InterfaceSpec holding the section
    # Section fields that the kernel cannot change on an existing link: a difference in one makes the
    # plan delete the link and create it again (split() sorts compare()'s differences by them).
    recreate_fields: ClassVar[tuple[str, ...]] = ()
    # The kernel deletes a link of this kind when its lower (base) device is deleted.
    dies_with_lower: ClassVar[bool] = False
    # The kernel refuses an MTU above the lower device's (and lowers this one when the lower's drops).
    mtu_bounded_by_lower: ClassVar[bool] = False
    # The fields its MTU's fit on its base depends on (the base, a VXLAN's encapsulation); empty for a
    # kind whose MTU is not tied to a base's.
    mtu_fit_fields: ClassVar[tuple[str, ...]] = ()
    # The MTU a new link of this kind gets when none is given (ether_setup's 1500); None where the
    # kernel derives it from other links (a bridge from its ports, a stacked link from its base).
    created_mtu: ClassVar[int | None] = None

    def section(self, spec: InterfaceSpec) -> Section | None:
        return getattr(spec, self.section_key) if self.section_key else None

    def decode(self, buf: bytes, off: int, end: int) -> KindInfo:
        return None

    def decode_port(self, buf: bytes, off: int, end: int) -> BridgePortInfo | BondPortInfo | None:
        """A port's settings (IFLA_INFO_SLAVE_DATA) under a controller of this kind; None: none read."""
        return None

    def reported_lower(self, link: Link) -> int | None:
        """The ifindex of the device this link is stacked on, as the kernel reports it: an index of
        the namespace IFLA_LINK_NETNSID names, when the link has one (an underlay left behind by a move)."""
        return None

    def mtu_room(self, link: Link, base_mtu: int) -> int:
        """The largest MTU `link` can have on a base of `base_mtu` (asked of kinds with mtu_fit_fields)."""
        return base_mtu

    def lower_ifindex(self, link: Link) -> int | None:
        """The base device this link is stacked on, in its own namespace (None: none, or elsewhere)."""
        return None if link.link_netnsid is not None else self.reported_lower(link)

    def ifla_link(self, spec: InterfaceSpec) -> str | None:
        """The lower device named in IFLA_LINK at creation (`ip link add link BASE`)."""
        return None

    def declared_base(self, spec: InterfaceSpec) -> str | None:
        """The base-iface the entry names (IFLA_LINK, or a VXLAN's underlay in its own data)."""
        return self.ifla_link(spec)

    def references(self, spec: InterfaceSpec) -> list[tuple[str, str]]:
        """(field, interface name) pairs this spec points at in its own namespace."""
        return []

    def compare(self, spec: InterfaceSpec, link: Link, ns: NetnsState, base: str | None) -> KindDiff:
        """What differs between the file's entry and the link: in place, or needing re-creation.

        `base`: the name of the link this one stands on, when that is where the file's rule looks
        for it (model/placement.py); None when it stands on none, or on one elsewhere."""
        return NO_DIFF

    def split(self, *diffs: FieldDiff | None) -> KindDiff:
        """The differences found, sorted into those needing re-creation (recreate_fields) and the rest."""
        found = collect(*diffs)
        if not found:
            return NO_DIFF
        fixed = self.recreate_fields
        return KindDiff(tuple(d for d in found if d.field in fixed), tuple(d for d in found if d.field not in fixed))

    def info_data(self, spec: InterfaceSpec, resolve: Resolver, only: frozenset[str] | None = None) -> bytes:
        """IFLA_INFO_DATA payload; `only` limits it to the named fields (in-place change)."""
        return b""

    def ip_args(self, spec: InterfaceSpec, only: frozenset[str] | None = None) -> list[str]:
        return []

    def section_from_link(self, link: Link, ns: NetnsState, base: str | None) -> Section | None:
        return None


class OnBase(LinkKind):
    """A kind made on a base interface named in IFLA_LINK (`ip link add link BASE`), which the kernel
    reports back the same way: vlan, mac-vlan, mac-vtap, ipvlan. (A VXLAN names its underlay in its
    own data, vxlan.py.) Its section's `base-iface` is that base."""

    key: ClassVar[str]  # the section's key in the file, as plans name its fields ("mac-vlan")

    def base_iface(self, spec: InterfaceSpec) -> str | None:
        base: str | None = getattr(self.section(spec), "base_iface", None)
        return base

    def reported_lower(self, link: Link) -> int | None:
        return link.link_ifindex

    def ifla_link(self, spec: InterfaceSpec) -> str | None:
        return self.base_iface(spec)

    def references(self, spec: InterfaceSpec) -> list[tuple[str, str]]:
        base = self.base_iface(spec)
        return [(f"{self.key}.base-iface", base)] if base else []

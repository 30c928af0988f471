"""ipvlan: links sharing their lower device's MAC, told apart by IP address (l2, l3 or l3s).

The lower device is fixed at creation; the mode and the flags change in place
(ipvlan_nl_changelink). `private` and `vepa` are IFLA_IPVLAN_FLAGS bits; neither is
the kernel's default, bridge.
"""

from __future__ import annotations

from typing import ClassVar

from linkctl.kinds.base import NO_DIFF, KindDiff, OnBase, Resolver, differ
from linkctl.model.spec import InterfaceSpec, InterfaceType, IpvlanMode, IpvlanSection
from linkctl.model.state import IpvlanInfo, KindInfo, Link, NetnsState
from linkctl.nla.ifla import IPVLAN as TABLE

MODES = (IpvlanMode.L2, IpvlanMode.L3, IpvlanMode.L3S)  # the kernel's numbering
PRIVATE, VEPA = 1, 2  # IPVLAN_F_PRIVATE, IPVLAN_F_VEPA


class Ipvlan(OnBase):
    type = InterfaceType.IPVLAN
    kernel_kind = "ipvlan"
    module = "ipvlan"
    section_key = "ipvlan"
    key = "ipvlan"
    dies_with_lower = True
    mtu_bounded_by_lower = True
    mtu_fit_fields: ClassVar[tuple[str, ...]] = ("ipvlan.base-iface",)
    recreate_fields: ClassVar[tuple[str, ...]] = ("ipvlan.base-iface",)

    def decode(self, buf: bytes, off: int, end: int) -> KindInfo:
        data = TABLE.decode(buf, off, end)
        return IpvlanInfo(data.get("mode"), data.get("flags"))  # type: ignore[arg-type]

    def compare(self, spec: InterfaceSpec, link: Link, ns: NetnsState, base: str | None) -> KindDiff:
        want = spec.ipvlan
        if want is None:
            return NO_DIFF
        have = _section(link, base or "")
        return self.split(
            differ("ipvlan.base-iface", base, want.base_iface),
            differ("ipvlan.mode", have.mode and have.mode.value, want.mode and want.mode.value),
            differ("ipvlan.private", have.private, want.private),
            differ("ipvlan.vepa", have.vepa, want.vepa),
        )

    def info_data(self, spec: InterfaceSpec, resolve: Resolver, only: frozenset[str] | None = None) -> bytes:
        want = spec.ipvlan
        assert want is not None
        flags = None
        if want.private is not None or want.vepa is not None:
            flags = (PRIVATE if want.private else 0) | (VEPA if want.vepa else 0)
        return TABLE.encode((("mode", MODES.index(want.mode) if want.mode else None), ("flags", flags)))

    def ip_args(self, spec: InterfaceSpec, only: frozenset[str] | None = None) -> list[str]:
        want = spec.ipvlan
        assert want is not None
        args = ["type", "ipvlan"]
        if want.mode:
            args += ["mode", want.mode.value]
        if want.private or want.vepa:
            args += ["private" if want.private else "vepa"]
        elif want.private is False or want.vepa is False:
            args += ["bridge"]
        return args

    def section_from_link(self, link: Link, ns: NetnsState, base: str | None) -> IpvlanSection | None:
        return _section(link, base) if base is not None else None


def _section(link: Link, base: str) -> IpvlanSection:
    info = link.info if isinstance(link.info, IpvlanInfo) else IpvlanInfo()
    mode = MODES[info.mode] if info.mode is not None and info.mode < len(MODES) else None
    flags = info.flags
    return IpvlanSection.model_construct(
        base_iface=base,
        mode=mode,
        private=None if flags is None else bool(flags & PRIVATE),
        vepa=None if flags is None else bool(flags & VEPA),
    )


IPVLAN = Ipvlan()

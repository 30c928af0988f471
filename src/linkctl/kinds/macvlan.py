"""mac-vlan: extra MAC addresses on a lower device, each its own link.

The lower device is fixed at creation; the mode changes in place
(macvlan_changelink accepts IFLA_MACVLAN_MODE).
"""

from __future__ import annotations

from typing import ClassVar

from linkctl.kinds.base import NO_DIFF, KindDiff, LinkKind, Resolver, differ
from linkctl.model.spec import InterfaceSpec, InterfaceType, MacvlanMode, MacvlanSection
from linkctl.model.state import KindInfo, Link, MacvlanInfo, NetnsState
from linkctl.nla import U32, attr_u32, iter_attrs

IFLA_MACVLAN_MODE = 1
MODES = {
    MacvlanMode.PRIVATE: 1,
    MacvlanMode.VEPA: 2,
    MacvlanMode.BRIDGE: 4,
    MacvlanMode.PASSTHRU: 8,
    MacvlanMode.SOURCE: 16,
}
MODE_NAMES = {v: k.value for k, v in MODES.items()}


class Macvlan(LinkKind):
    type = InterfaceType.MAC_VLAN
    kernel_kind = "macvlan"
    module = "macvlan"
    section_key = "mac_vlan"
    dies_with_lower = True
    mtu_bounded_by_lower = True
    mtu_fit_fields: ClassVar[tuple[str, ...]] = ("mac-vlan.base-iface",)
    recreate_fields: ClassVar[tuple[str, ...]] = ("mac-vlan.base-iface",)

    def decode(self, buf: bytes, off: int, end: int) -> KindInfo:
        mode = None
        for atype, s, _e in iter_attrs(buf, off, end):
            if atype == IFLA_MACVLAN_MODE:
                mode = MODE_NAMES.get(U32.unpack_from(buf, s)[0])
        return MacvlanInfo(mode)

    def reported_lower(self, link: Link) -> int | None:
        return link.link_ifindex

    def ifla_link(self, spec: InterfaceSpec) -> str | None:
        return spec.mac_vlan.base_iface if spec.mac_vlan else None

    def references(self, spec: InterfaceSpec) -> list[tuple[str, str]]:
        return [("mac-vlan.base-iface", spec.mac_vlan.base_iface)] if spec.mac_vlan else []

    def compare(self, spec: InterfaceSpec, link: Link, ns: NetnsState, base: str | None) -> KindDiff:
        want = spec.mac_vlan
        if want is None:
            return NO_DIFF
        mode = link.info.mode if isinstance(link.info, MacvlanInfo) else None
        return self.split(
            differ("mac-vlan.base-iface", base, want.base_iface),
            differ("mac-vlan.mode", mode, want.mode and want.mode.value),
        )

    def info_data(self, spec: InterfaceSpec, resolve: Resolver, only: frozenset[str] | None = None) -> bytes:
        want = spec.mac_vlan
        assert want is not None
        return attr_u32(IFLA_MACVLAN_MODE, MODES[want.mode]) if want.mode else b""

    def ip_args(self, spec: InterfaceSpec, only: frozenset[str] | None = None) -> list[str]:
        want = spec.mac_vlan
        assert want is not None
        args = ["type", "macvlan"]
        if want.mode:
            args += ["mode", want.mode.value]
        return args

    def section_from_link(self, link: Link, ns: NetnsState, base: str | None) -> MacvlanSection | None:
        if base is None:
            return None
        mode = link.info.mode if isinstance(link.info, MacvlanInfo) else None
        return MacvlanSection(base_iface=base, mode=MacvlanMode(mode) if mode else None)


MACVLAN = Macvlan()

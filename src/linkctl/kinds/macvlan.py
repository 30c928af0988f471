"""mac-vlan and mac-vtap: extra MAC addresses on a lower device, each its own link.

mac-vtap is a mac-vlan with a character device (/dev/tapN) that a VM reads its
frames from; the kernel shares one netlink layout between them (macvtap.c reuses
macvlan's rtnl_link_ops). The lower device is fixed at creation; the mode and the
flags change in place (macvlan_changelink accepts IFLA_MACVLAN_MODE and _FLAGS).
`promiscuous: false` is the NOPROMISC flag: the lower device is not put in
promiscuous mode for this link. Passthru is the exception: macvlan_changelink refuses
to set or clear it (EINVAL), so a mode change into or out of passthru re-creates the link.
"""

from __future__ import annotations

from typing import ClassVar

from linkctl.kinds.base import NO_DIFF, KindDiff, OnBase, Resolver, differ
from linkctl.model.spec import InterfaceSpec, InterfaceType, MacvlanMode, MacvlanSection, MacvtapSection
from linkctl.model.state import KindInfo, Link, MacvlanInfo, NetnsState
from linkctl.nla.ifla import MACVLAN as TABLE

NOPROMISC = 1  # MACVLAN_FLAG_NOPROMISC
SectionClass = type[MacvlanSection]  # named here: inside a kind's class body `type` is the kind's type
MODES = {
    MacvlanMode.PRIVATE: 1,
    MacvlanMode.VEPA: 2,
    MacvlanMode.BRIDGE: 4,
    MacvlanMode.PASSTHRU: 8,
    MacvlanMode.SOURCE: 16,
}
MODE_NAMES = {v: k.value for k, v in MODES.items()}
_PASSTHRU = MacvlanMode.PASSTHRU.value


class Macvlan(OnBase):
    type = InterfaceType.MAC_VLAN
    kernel_kind = "macvlan"
    module = "macvlan"
    section_key = "mac_vlan"
    dies_with_lower = True
    mtu_bounded_by_lower = True
    mtu_fit_fields: ClassVar[tuple[str, ...]] = ("mac-vlan.base-iface",)
    recreate_fields: ClassVar[tuple[str, ...]] = ("mac-vlan.base-iface",)
    key = "mac-vlan"

    def decode(self, buf: bytes, off: int, end: int) -> KindInfo:
        data = TABLE.decode(buf, off, end)
        mode, flags = data.get("mode"), data.get("flags")
        return MacvlanInfo(MODE_NAMES.get(mode) if isinstance(mode, int) else None, flags)  # type: ignore[arg-type]

    def want(self, spec: InterfaceSpec) -> MacvlanSection | None:
        section: MacvlanSection | None = getattr(spec, self.section_key or "")
        return section

    def compare(self, spec: InterfaceSpec, link: Link, ns: NetnsState, base: str | None) -> KindDiff:
        want = self.want(spec)
        if want is None:
            return NO_DIFF
        info = link.info if isinstance(link.info, MacvlanInfo) else MacvlanInfo()
        mode = differ(f"{self.key}.mode", info.mode, want.mode and want.mode.value)
        found = self.split(
            differ(f"{self.key}.base-iface", base, want.base_iface),
            mode,
            differ(f"{self.key}.promiscuous", _promiscuous(info), want.promiscuous),
        )
        if mode is not None and _PASSTHRU in (info.mode, want.mode):
            return KindDiff(found.recreate + found.in_place)
        return found

    def info_data(self, spec: InterfaceSpec, resolve: Resolver, only: frozenset[str] | None = None) -> bytes:
        want = self.want(spec)
        assert want is not None
        mode = MODES[want.mode] if want.mode and (only is None or f"{self.key}.mode" in only) else None
        flags = None
        if want.promiscuous is not None and (only is None or f"{self.key}.promiscuous" in only):
            flags = 0 if want.promiscuous else NOPROMISC
        return TABLE.encode((("mode", mode), ("flags", flags)))

    def ip_args(self, spec: InterfaceSpec, only: frozenset[str] | None = None) -> list[str]:
        want = self.want(spec)
        assert want is not None
        args = ["type", str(self.kernel_kind)]
        if want.mode and (only is None or f"{self.key}.mode" in only):
            args += ["mode", want.mode.value]
        if want.promiscuous is not None and (only is None or f"{self.key}.promiscuous" in only):
            args += ["flag", "null" if want.promiscuous else "nopromisc"]
        return args

    def section_from_link(self, link: Link, ns: NetnsState, base: str | None) -> MacvlanSection | None:
        if base is None:
            return None
        info = link.info if isinstance(link.info, MacvlanInfo) else MacvlanInfo()
        mode = MacvlanMode(info.mode) if info.mode else None
        section: MacvlanSection = self.section_class(base_iface=base, mode=mode, promiscuous=_promiscuous(info))
        return section

    section_class: ClassVar[SectionClass] = MacvlanSection


class Macvtap(Macvlan):
    type = InterfaceType.MAC_VTAP
    kernel_kind = "macvtap"
    module = "macvtap"
    section_key = "mac_vtap"
    key = "mac-vtap"
    mtu_fit_fields: ClassVar[tuple[str, ...]] = ("mac-vtap.base-iface",)
    recreate_fields: ClassVar[tuple[str, ...]] = ("mac-vtap.base-iface",)
    section_class: ClassVar[SectionClass] = MacvtapSection


def _promiscuous(info: MacvlanInfo) -> bool | None:
    return None if info.flags is None else not info.flags & NOPROMISC


MACVLAN = Macvlan()
MACVTAP = Macvtap()

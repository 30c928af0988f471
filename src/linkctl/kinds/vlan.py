"""vlan: an 802.1Q (or 802.1ad) tagged sub-interface of a lower device.

The VLAN id, protocol and lower device are fixed at creation: a change means
re-creation (the kernel's vlan_changelink only changes flags and QoS maps).
"""

from __future__ import annotations

from typing import ClassVar

from linkctl.kinds.base import NO_DIFF, KindDiff, OnBase, Resolver, differ
from linkctl.model.spec import InterfaceSpec, InterfaceType, VlanProtocol, VlanSection
from linkctl.model.state import KindInfo, Link, NetnsState, VlanInfo
from linkctl.nla.ifla import VLAN as TABLE

PROTOCOLS = {VlanProtocol.Q: 0x8100, VlanProtocol.AD: 0x88A8}
PROTOCOL_NAMES = {v: k.value for k, v in PROTOCOLS.items()}


class Vlan(OnBase):
    type = InterfaceType.VLAN
    kernel_kind = "vlan"
    module = "8021q"
    section_key = "vlan"
    key = "vlan"
    dies_with_lower = True
    mtu_bounded_by_lower = True
    mtu_fit_fields: ClassVar[tuple[str, ...]] = ("vlan.base-iface",)
    recreate_fields: ClassVar[tuple[str, ...]] = ("vlan.id", "vlan.base-iface", "vlan.protocol")

    def decode(self, buf: bytes, off: int, end: int) -> KindInfo:
        data = TABLE.decode(buf, off, end)
        proto = data.get("protocol")
        return VlanInfo(data.get("id"), PROTOCOL_NAMES.get(proto) if isinstance(proto, int) else None)  # type: ignore[arg-type]

    def compare(self, spec: InterfaceSpec, link: Link, ns: NetnsState, base: str | None) -> KindDiff:
        want = spec.vlan
        if want is None:
            return NO_DIFF
        have = link.info if isinstance(link.info, VlanInfo) else VlanInfo()
        return self.split(
            differ("vlan.id", have.vid, want.id),
            differ("vlan.base-iface", base, want.base_iface),
            differ("vlan.protocol", have.protocol, want.protocol and want.protocol.value),
        )

    def info_data(self, spec: InterfaceSpec, resolve: Resolver, only: frozenset[str] | None = None) -> bytes:
        want = spec.vlan
        assert want is not None
        return TABLE.encode((("id", want.id), ("protocol", PROTOCOLS[want.protocol] if want.protocol else None)))

    def ip_args(self, spec: InterfaceSpec, only: frozenset[str] | None = None) -> list[str]:
        want = spec.vlan
        assert want is not None
        args = ["type", "vlan", "id", str(want.id)]
        if want.protocol:
            args += ["protocol", want.protocol.value]
        return args

    def section_from_link(self, link: Link, ns: NetnsState, base: str | None) -> VlanSection | None:
        info = link.info
        if base is None or not isinstance(info, VlanInfo) or info.vid is None:
            return None
        proto = VlanProtocol(info.protocol) if info.protocol else None
        return VlanSection(base_iface=base, id=info.vid, protocol=proto)


VLAN = Vlan()

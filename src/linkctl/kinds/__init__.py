"""One module per link kind; this registry maps declaration types and kernel kinds to them."""

from __future__ import annotations

from linkctl.kinds.base import LinkKind
from linkctl.kinds.bond import BOND
from linkctl.kinds.bridge import BRIDGE
from linkctl.kinds.ipvlan import IPVLAN
from linkctl.kinds.macvlan import MACVLAN, MACVTAP
from linkctl.kinds.simple import DUMMY, ETHERNET, LOOPBACK, UNKNOWN
from linkctl.kinds.veth import VETH
from linkctl.kinds.vlan import VLAN
from linkctl.kinds.vxlan import VXLAN
from linkctl.model.spec import InterfaceType
from linkctl.model.state import Link

ALL: tuple[LinkKind, ...] = (
    VETH, BRIDGE, VXLAN, MACVLAN, MACVTAP, IPVLAN, VLAN, BOND, DUMMY, ETHERNET, LOOPBACK, UNKNOWN,
)  # fmt: skip
BY_TYPE: dict[InterfaceType, LinkKind] = {k.type: k for k in ALL}
BY_KERNEL_KIND: dict[str, LinkKind] = {k.kernel_kind: k for k in ALL if k.kernel_kind}


def kind_of(link: Link) -> LinkKind:
    """The kind module for a link the kernel reported."""
    if link.kind:
        return BY_KERNEL_KIND.get(link.kind, UNKNOWN)
    if link.is_loopback:
        return LOOPBACK
    # A link without IFLA_INFO_KIND but with a parent bus (pci, usb, vmbus...) is a NIC.
    if link.parent_bus or link.mac:
        return ETHERNET
    return UNKNOWN


__all__ = ["ALL", "BY_KERNEL_KIND", "BY_TYPE", "LinkKind", "kind_of"]

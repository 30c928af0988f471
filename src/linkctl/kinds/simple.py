"""Kinds without data of their own: dummy (creatable), and the adopt-only ones.

`ethernet` (a physical NIC), `loopback` and `unknown` (tun, ifb, macvtap, ... that
linkctl does not create) can be declared to set their common properties, never created
or deleted. The ethernet section (speed, duplex, auto-negotiation) is carried out
through the ethtool adapter, not RTNETLINK.
"""

from __future__ import annotations

from linkctl.kinds.base import ETH_DATA_LEN, LinkKind
from linkctl.model.spec import InterfaceType


class Dummy(LinkKind):
    """A link that drops what it is sent: a stand-in for a NIC in rehearsals."""

    type = InterfaceType.DUMMY
    kernel_kind = "dummy"
    module = "dummy"
    created_mtu = ETH_DATA_LEN


class Ethernet(LinkKind):
    type = InterfaceType.ETHERNET
    creatable = False
    section_key = "ethernet"


class Loopback(LinkKind):
    type = InterfaceType.LOOPBACK
    creatable = False


class Unknown(LinkKind):
    type = InterfaceType.UNKNOWN
    creatable = False


DUMMY = Dummy()
ETHERNET = Ethernet()
LOOPBACK = Loopback()
UNKNOWN = Unknown()

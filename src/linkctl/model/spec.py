"""The declarative format: nmstate's YAML for links, plus linkctl's own keys.

linkctl's additions to nmstate's schema are `txqueuelen` and `netns` on an
interface, and `peer-netns` in the veth section. A key the user did not write
is None here and means "leave it as the kernel has it".
"""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    Field,
    PrivateAttr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from linkctl.domain.events import Duplex
from linkctl.model.bridge_sections import BridgeOptions, BridgePort, BridgeSection, StpOptions  # re-exported
from linkctl.model.bridge_sections import _refuse_internal as refuse_internal
from linkctl.model.bridge_sections import _without_internal as without_internal
from linkctl.model.ethtool_spec import EthtoolSection, KernelModuleSpec
from linkctl.model.l3 import IpSection, RouteRulesSection, RoutesSection
from linkctl.model.sections import (  # the kind sections with many keys (re-exported: spelt spec.X)
    BondMode,
    BondOptions,
    BondPortConfig,
    BondSection,
    IpvlanMode,
    IpvlanSection,
    MacvlanMode,
    MacvlanSection,
    MacvtapSection,
)
from linkctl.model.spec_base import Section

IFNAME_MAX = 15
_BAD_NAME = re.compile(r"[/\s:]")
_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")


# The context a file is read under (model/load.py): names a person wrote, held to what a person can
# read back. A name the kernel reports (plan/convert.py, a rollback's restore) is taken as it is.
_FILE = "linkctl-file"
FROM_FILE = {_FILE: True}


def check_ifname(value: str, info: ValidationInfo | None = None) -> str:
    raw = value.encode()
    if not 1 <= len(raw) <= IFNAME_MAX:
        raise ValueError(f"an interface name has 1 to {IFNAME_MAX} bytes, this one {len(raw)}")
    if value in (".", ".."):  # /sys/class/net/. would be the directory itself
        raise ValueError("'.' and '..' are not interface names (the kernel refuses them)")
    if value in ("all", "default"):  # /proc/sys/net/ipv4/conf/all is every link's setting, not a link's
        raise ValueError(
            f"'{value}' is not an interface name: /proc/sys/net/*/conf/{value} holds the namespace's settings "
            "(the kernel answers Invalid argument)"
        )
    if _BAD_NAME.search(value):
        raise ValueError("an interface name may not contain '/', ':' or white space")
    if not value.isprintable() and info is not None and info.context and info.context.get(_FILE):
        # The kernel takes them, but every message naming the link would carry them to a terminal
        # (an ESC [8m hid the rest of a plan), and no one types them back in `ip link set dev`.
        raise ValueError(
            "an interface name may not contain control characters (escaped here as Python writes them): "
            "write it in printable characters; a link made with such a name can be renamed with "
            "`ip link set dev OLD name NEW`"
        )
    if "%" in value:
        # The kernel takes a name with '%d' as a template and picks the first free number: `v%d`
        # with peer `p%d` made v2 and p0 (dev_alloc_name). A file names each link outright.
        raise ValueError(
            "an interface name may not contain '%': the kernel reads NAME%d as a template and picks a free "
            "number itself; write the name out (v0, v1, ...)"
        )
    return value


NETNS_MAX = 255  # a name under /run/netns: NAME_MAX


def check_netns(value: str | None) -> str | None:
    if value is None:
        return value
    if not value or "/" in value or value in (".", ".."):
        raise ValueError("an `ip netns` name: no '/', not empty")
    if len(value.encode()) > NETNS_MAX:
        raise ValueError(f"an `ip netns` name has at most {NETNS_MAX} bytes (it is a file in /run/netns)")
    return value


def _ifname_or_none(value: str | None, info: ValidationInfo | None = None) -> str | None:
    return None if value is None else check_ifname(value, info)


IfName = Annotated[str, Field(min_length=1)]


class InterfaceType(StrEnum):
    ETHERNET = "ethernet"
    VETH = "veth"
    LINUX_BRIDGE = "linux-bridge"
    VXLAN = "vxlan"
    MAC_VLAN = "mac-vlan"
    MAC_VTAP = "mac-vtap"
    IPVLAN = "ipvlan"
    VLAN = "vlan"
    BOND = "bond"
    DUMMY = "dummy"
    LOOPBACK = "loopback"
    UNKNOWN = "unknown"


class LinkStateName(StrEnum):
    UP = "up"
    DOWN = "down"
    ABSENT = "absent"
    IGNORE = "ignore"  # nmstate's: left alone entirely, as a port too (taken out of the file by model/load.py)


class VethSection(Section):
    peer: str
    peer_netns: str | None = None

    _peer = field_validator("peer")(classmethod(lambda cls, v, info: check_ifname(v, info)))
    _peer_netns = field_validator("peer_netns")(classmethod(lambda cls, v: check_netns(v)))


class VxlanSection(Section):
    id: int = Field(ge=1, le=16_777_215)
    base_iface: str | None = None
    local: str | None = None
    remote: str | None = None
    destination_port: int | None = Field(default=None, ge=1, le=65535)
    learning: bool | None = None

    # A base's name is quoted in messages: held to what a link's name can be.
    _base = field_validator("base_iface")(classmethod(lambda cls, v, info: _ifname_or_none(v, info)))

    @field_validator("local", "remote")
    @classmethod
    def _ip(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            return str(ipaddress.ip_address(v))
        except ValueError:
            raise ValueError("an IPv4 or IPv6 address, such as 192.0.2.1") from None


class VlanProtocol(StrEnum):
    Q = "802.1q"
    AD = "802.1ad"


class VlanSection(Section):
    base_iface: str
    id: int = Field(ge=0, le=4094)
    protocol: VlanProtocol | None = None

    _base = field_validator("base_iface")(classmethod(lambda cls, v, info: check_ifname(v, info)))


# A declaration sets full or half; "unknown" is only ever read from a driver.
SETTABLE_DUPLEX = (Duplex.FULL, Duplex.HALF)


def check_duplex(value: object) -> object:
    """Refuse what `ethtool -s` cannot set, before the enum (which also holds "unknown") sees it."""
    if value is None or value in SETTABLE_DUPLEX:
        return value
    if value == Duplex.UNKNOWN:
        raise ValueError(
            "what a driver reports when it cannot tell, not a setting: declare full or half, "
            "or leave duplex out to keep the link's"
        )
    raise ValueError("Input should be 'full' or 'half'")


class EthernetSection(Section):
    speed: int | None = Field(default=None, gt=0)
    duplex: Duplex | None = None
    auto_negotiation: bool | None = None

    _duplex = field_validator("duplex", mode="before")(classmethod(lambda cls, v: check_duplex(v)))


MTU_MIN, MTU_MAX = 68, 65536
IFALIAS_MAX = 255  # IFALIASZ - 1: the kernel's room for a link's alias (ip link set dev X alias ...)


def check_description(value: str | None) -> str | None:
    if value is None:
        return value
    if len(value.encode()) > IFALIAS_MAX:
        raise ValueError(f"at most {IFALIAS_MAX} bytes (the kernel's ifalias), this one {len(value.encode())}")
    if not value.isprintable():
        raise ValueError("printable text: no newline, tab or other control character (`ip link` prints it)")
    return value


class InterfaceSpec(Section):
    name: str
    type: InterfaceType | None = None
    state: LinkStateName | None = None
    # 65536: the loopback's own MTU (nmstate shows it so); other devices are held to their max_mtu.
    mtu: int | None = Field(default=None, ge=MTU_MIN, le=MTU_MAX)
    mac_address: str | None = None
    copy_mac_from: str | None = None  # nmstate's: another link's MAC, resolved when planning
    # nmstate's (2.2.2+): the bridge or bond this link is to be a port of, "" for none; merged into that
    # controller's port list when planning (plan/controllers.py), never read back from the kernel.
    controller: str | None = None
    description: str | None = None  # the kernel's ifalias; "" clears it
    accept_all_mac_addresses: bool | None = None
    txqueuelen: int | None = Field(default=None, ge=0, le=2**32 - 1)
    netns: str | None = None
    veth: VethSection | None = None
    bridge: BridgeSection | None = None
    vxlan: VxlanSection | None = None
    mac_vlan: MacvlanSection | None = None
    mac_vtap: MacvtapSection | None = None
    ipvlan: IpvlanSection | None = None
    vlan: VlanSection | None = None
    link_aggregation: BondSection | None = None
    bond: BondSection | None = None
    ethernet: EthernetSection | None = None
    ethtool: EthtoolSection | None = None
    ipv4: IpSection | None = None
    ipv6: IpSection | None = None
    # linkctl's own (never in a file, never shown), as BridgePort.raw_vlans: (the namespace,) its base
    # was read in, when that is another than its own. The format's rule finds a base only in the link's
    # namespace or the file's default one; a rollback must make a mac-vlan or VXLAN moved away from its
    # base again on that very base (plan/convert.py sets it for the restore declaration only).
    base_netns: tuple[str | None] | None = None

    _name = field_validator("name")(classmethod(lambda cls, v, info: check_ifname(v, info)))

    @model_validator(mode="before")
    @classmethod
    def _own_fields(cls, data: object, info: ValidationInfo) -> object:
        return refuse_internal(cls, data, info, ("base_netns",))

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> dict[str, Any]:
        return without_internal(handler(self), info, ("base_netns",))

    _copy_mac = field_validator("copy_mac_from")(classmethod(lambda cls, v, info: _ifname_or_none(v, info)))
    _controller = field_validator("controller")(
        classmethod(lambda cls, v, info: v if v == "" else _ifname_or_none(v, info))
    )
    _description = field_validator("description")(classmethod(lambda cls, v: check_description(v)))

    @field_validator("mac_address")
    @classmethod
    def _mac(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not _MAC.match(v):
            raise ValueError("six hex octets separated by ':', such as 02:00:00:00:00:01")
        if int(v[:2], 16) & 1:
            raise ValueError("a unicast MAC address (the first octet must be even)")
        if v == "00:00:00:00:00:00":
            raise ValueError("a unicast MAC address, not all zeros")
        return v.lower()

    _netns = field_validator("netns")(classmethod(lambda cls, v: check_netns(v)))

    @model_validator(mode="after")
    def _bond_alias(self) -> InterfaceSpec:
        # nmstate spells the bond section `link-aggregation`; `bond` is accepted too.
        if self.bond is not None and self.link_aggregation is None:
            object.__setattr__(self, "link_aggregation", self.bond)
            object.__setattr__(self, "bond", None)
        return self

    @property
    def absent(self) -> bool:
        return self.state is LinkStateName.ABSENT

    @property
    def port_names(self) -> list[str] | None:
        """The ports a bridge or bond declares (None: no port list, its ports are left as they are)."""
        if self.bridge is not None and self.bridge.port is not None:
            return [p.name for p in self.bridge.port]
        if self.link_aggregation is not None and self.link_aggregation.port is not None:
            return list(self.link_aggregation.port)
        return None


class Declaration(Section):
    """A whole file: the interfaces to make true, in any order."""

    interfaces: list[InterfaceSpec] = Field(default_factory=list)
    kernel_modules: dict[str, KernelModuleSpec] | None = None
    routes: RoutesSection | None = None
    route_rules: RouteRulesSection | None = None
    # (netns, name) of the entries written `state: ignore`, taken out of `interfaces` by model/load.py:
    # never a key of the file.
    _ignored: frozenset[tuple[str | None, str]] = PrivateAttr(default=frozenset())

    @property
    def ignored(self) -> frozenset[tuple[str | None, str]]:
        return self._ignored

    def with_ignored(self, ignored: frozenset[tuple[str | None, str]]) -> Declaration:
        copy = self.model_copy()
        copy._ignored = ignored
        return copy

    def by_key(self) -> dict[tuple[str | None, str], InterfaceSpec]:
        return {(i.netns, i.name): i for i in self.interfaces}


_SECOND_END = (InterfaceType.VETH, InterfaceType.ETHERNET)


def complete_veth_peers(decl: Declaration) -> Declaration:
    """A veth end written without its `veth:` section is the peer of the one end that names it.

    nmstate wants `veth: {peer: ...}` on both ends of a pair; a file that gives
    the second end only its own settings (`netns`, `mtu`, `state`), or declares it
    `type: ethernet` as nmstate allows, says the same thing, and is completed
    rather than refused.
    """
    naming: dict[str, list[InterfaceSpec]] = {}
    for spec in decl.interfaces:
        if spec.veth is not None and not spec.absent:
            naming.setdefault(spec.veth.peer, []).append(spec)
    out, changed = [], False
    for spec in decl.interfaces:
        ends = [e for e in naming.get(spec.name, ()) if e.veth and e.veth.peer_netns in (None, spec.netns)]
        if spec.type in _SECOND_END and spec.veth is None and not spec.absent and len(ends) == 1:
            # `type: ethernet` too: nmstate takes a veth end as an ethernet (its veth_test.py's
            # test_add_veth_with_ethernet_peer declares the new pair's second end so).
            spec = spec.model_copy(update={"veth": VethSection(peer=ends[0].name), "type": InterfaceType.VETH})
            changed = True
        out.append(spec)
    return decl.model_copy(update={"interfaces": out}) if changed else decl


def dump_spec(spec: InterfaceSpec) -> dict[str, Any]:
    """The YAML-ready form, with only the keys that are set, in nmstate's spelling."""
    data = spec.model_dump(by_alias=True, exclude_none=True, mode="json")
    data.pop("bond", None)
    if data.get("description") == "":  # no ifalias: as nmstate shows it, left out
        del data["description"]
    return data


__all__ = [
    "BondMode",
    "BondOptions",
    "BondPortConfig",
    "BondSection",
    "BridgeOptions",
    "BridgePort",
    "BridgeSection",
    "Declaration",
    "InterfaceSpec",
    "InterfaceType",
    "IpvlanMode",
    "IpvlanSection",
    "LinkStateName",
    "MacvlanMode",
    "MacvlanSection",
    "MacvtapSection",
    "Section",
    "StpOptions",
    "complete_veth_peers",
    "dump_spec",
]

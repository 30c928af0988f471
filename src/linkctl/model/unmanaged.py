"""nmstate's sections that linkctl does not manage: named, taken out of the file, the rest applied.

An nmstate file carries more than links: the host name, DNS, Open vSwitch's
database, LLDP and 802.1X on a NIC, interfaces of types linkctl does not make
(an OVS bridge, a team). A key nmstate knows and linkctl does not manage is
not a misspelling: it is taken out of the data before the schema sees it and
named once ("dns-resolver: not managed by linkctl, left as the system has it"),
and the rest of the file applies; `--strict` refuses such a file instead. A
key neither knows stays a misspelling, with its spelling hint (model/load.py).

What linkctl manages is read from the format itself (spec.py's fields and
types): a section another part of linkctl comes to manage (addresses, routes,
a kind) leaves this list by being declared there. `routes`, `route-rules`,
`ipv4` and `ipv6` are never here: they are linkctl's to manage, not to skip.

Values are never quoted: an 802.1X section holds passwords.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from linkctl.errors import Problem, quoted
from linkctl.model.spec import Declaration, EthernetSection, InterfaceSpec, InterfaceType

# nmstate's top-level keys (NetworkState in nmstate's net_state.rs), less the ones linkctl manages.
NMSTATE_TOP = ("hostname", "dns-resolver", "ovs-db", "ovn", "dispatch")
# An interface's keys (BaseInterface in nmstate's ifaces/base.rs) that configure something else than
# the link: the network backend's profile, supplicants, daemons.
NMSTATE_IFACE = (
    "lldp",
    "802.1x",
    "ieee-802-1x",
    "ovs-db",
    "mptcp",
    "wait-ip",
    "profile-name",
    "identifier",
    "pci-address",
    "dispatch",
    "ipsec",
)
# Shown by `nmstatectl show`, ignored by nmstate when applying: ignored here too.
QUERY_ONLY = ("permanent-mac-address", "min-mtu", "max-mtu")
# An address's keys `nmstatectl show` writes (InterfaceIpAddr in nmstate's ip.rs, with their other
# names): ignored when applying, the lifetimes as long as they say what a static address has (forever).
ADDRESS_SHOWN = ("mptcp-flags",)
ADDRESS_LIFETIMES = (
    "valid-life-time",
    "valid-left",
    "valid-lft",
    "preferred-life-time",
    "preferred-left",
    "preferred-lft",
)
_ADDRESS_KEYS = frozenset((*ADDRESS_SHOWN, *ADDRESS_LIFETIMES))
# The ring maxima `nmstatectl show` writes (EthtoolRingConfig in nmstate's ethtool.rs): the driver's, never set.
RING_MAXIMA = frozenset(("rx-max", "rx-jumbo-max", "rx-mini-max", "tx-max"))
_LIFETIME = (
    "linkctl adds permanent addresses: give `forever` (as nmstatectl show writes a static address), or leave it out"
)
# nmstate's interface types (InterfaceType in nmstate's iface.rs); those spec.py has are linkctl's.
NMSTATE_TYPES = (
    "ovs-bridge",
    "ovs-interface",
    "team",
    "infiniband",
    "vrf",
    "macsec",
    "hsr",
    "ipsec",
    "xfrm",
    "tun",
    "mac-vtap",
    "ipvlan",
    "ip-tunnel",
    "dispatch",
)

LEFT = "not managed by linkctl, left as the system has it"
STRICT = (
    "not managed by linkctl, and --strict refuses what it would leave as the system has it: "
    "take the section out, or apply without --strict"
)
_VFS = (
    "linkctl does not make SR-IOV virtual functions: create them first "
    "(echo N > /sys/class/net/NAME/device/sriov_numvfs), then leave `sr-iov` out"
)


@dataclass(frozen=True)
class Unmanaged:
    """One key taken out: where (the file, or `interface NAME`), which key, and whether nmstate
    itself only shows it (min-mtu ...), rather than configures something linkctl leaves alone."""

    source: str
    name: str | None  # the interface's, None for a top-level key
    key: str
    query_only: bool = False

    @property
    def where(self) -> str:
        return f"{self.source}: interface {quoted(self.name, bare=True)}" if self.name is not None else self.source


def _keys(model: Any) -> set[str]:
    return {f.alias or name.replace("_", "-") for name, f in model.model_fields.items()}


def top_keys() -> tuple[str, ...]:
    """nmstate's top-level keys linkctl leaves alone (for a spelling hint too)."""
    return tuple(k for k in NMSTATE_TOP if k not in _keys(Declaration))


def iface_keys() -> tuple[str, ...]:
    managed = _keys(InterfaceSpec)
    return tuple(k for k in (*NMSTATE_IFACE, *QUERY_ONLY) if k not in managed)


def other_types() -> tuple[str, ...]:
    managed = {t.value for t in InterfaceType}
    return tuple(t for t in NMSTATE_TYPES if t not in managed)


def split(data: dict[str, Any], source: str) -> tuple[dict[str, Any], list[Unmanaged], list[Problem]]:
    """`data` without what linkctl does not manage; what was taken out; problems (SR-IOV VFs asked for).

    The data is copied only where something is taken out: a file of links alone costs a look at
    each entry's keys."""
    found: list[Unmanaged] = []
    problems: list[Problem] = []
    top = [k for k in top_keys() if k in data]
    if top:
        data = {k: v for k, v in data.items() if k not in top}
        found += [Unmanaged(source, None, k) for k in top]
    items = data.get("interfaces")
    if isinstance(items, list):
        kept = _interfaces(items, source, found, problems)
        if kept is not items:
            data = {**data, "interfaces": kept}
    return data, found, problems


def _interfaces(items: list[Any], source: str, found: list[Unmanaged], problems: list[Problem]) -> list[Any]:
    skip_keys, skip_types = frozenset(iface_keys()), frozenset(other_types())
    sriov = "sr-iov" not in _keys(EthernetSection)
    look = skip_keys | {"ethernet"} if sriov else skip_keys
    out: list[Any] | None = None  # made at the first entry that changes: most files have none
    for index, entry in enumerate(items):
        # A set's isdisjoint over a dict's keys runs in C: 2000 entries cost ~0.3 ms.
        plain = type(entry) is not dict or (
            look.isdisjoint(entry) and not _other_type(entry, skip_types) and not _shown_keys(entry)
        )
        if plain and out is None:
            continue
        if out is None:
            out = list(items[:index])
        kept = entry if plain else _entry(entry, index, source, skip_keys, skip_types, sriov, found, problems)
        if kept is not None:
            out.append(kept)
    return items if out is None else out


def _other_type(entry: dict[str, Any], skip_types: frozenset[str]) -> bool:
    kind = entry.get("type")
    return isinstance(kind, str) and kind in skip_types


def _entry(
    entry: dict[str, Any],
    index: int,
    source: str,
    skip_keys: frozenset[str],
    skip_types: frozenset[str],
    sriov: bool,
    found: list[Unmanaged],
    problems: list[Problem],
) -> dict[str, Any] | None:
    """One interface without what linkctl leaves; None for an interface of a type it does not make."""
    name = entry.get("name")
    name = name if isinstance(name, str) and name else f"interfaces[{index}]"
    if _other_type(entry, skip_types):
        found.append(Unmanaged(source, name, f"type {entry['type']}"))
        return None
    extra = [k for k in entry if k in skip_keys]
    found += [Unmanaged(source, name, k, k in QUERY_ONLY) for k in extra]
    entry = {k: v for k, v in entry.items() if k not in extra}
    eth = entry.get("ethernet")
    if sriov and isinstance(eth, dict) and "sr-iov" in eth:
        if _asks_for_vfs(eth["sr-iov"]):
            problems.append(
                Problem(f"{source}: interface {quoted(name, bare=True)}", "ethernet.sr-iov", "(section)", _VFS)
            )
        else:
            found.append(Unmanaged(source, name, "ethernet.sr-iov"))
        entry["ethernet"] = {k: v for k, v in eth.items() if k != "sr-iov"}
    for family in ("ipv4", "ipv6"):
        section = entry.get(family)
        if isinstance(section, dict) and _shown_in(section):
            where = f"{source}: interface {quoted(name, bare=True)}"
            entry[family] = _address_keys_out(section, family, where, found, problems, source, name)
    ring = _ring(entry)
    if ring is not None and not RING_MAXIMA.isdisjoint(ring):
        found += [Unmanaged(source, name, f"ethtool.ring {k}", True) for k in ring if k in RING_MAXIMA]
        ring = {k: v for k, v in ring.items() if k not in RING_MAXIMA}
        entry["ethtool"] = {**entry["ethtool"], "ring": ring}
    return entry


def _ring(entry: dict[str, Any]) -> dict[str, Any] | None:
    ethtool = entry.get("ethtool")
    ring = ethtool.get("ring") if isinstance(ethtool, dict) else None
    return ring if isinstance(ring, dict) else None


def _shown_in(section: object) -> bool:
    addrs = section.get("address") if isinstance(section, dict) else None
    return isinstance(addrs, list) and any(isinstance(a, dict) and not _ADDRESS_KEYS.isdisjoint(a) for a in addrs)


def _shown_keys(entry: dict[str, Any]) -> bool:
    """Whether an address or the ethtool ring carries what `nmstatectl show` writes and nmstate ignores."""
    if ("ipv4" in entry or "ipv6" in entry) and (_shown_in(entry.get("ipv4")) or _shown_in(entry.get("ipv6"))):
        return True
    ring = _ring(entry) if "ethtool" in entry else None
    return ring is not None and not RING_MAXIMA.isdisjoint(ring)


def _address_keys_out(
    section: dict[str, Any],
    family: str,
    where: str,
    found: list[Unmanaged],
    problems: list[Problem],
    source: str,
    name: str,
) -> dict[str, Any]:
    """The section with its addresses' shown-only keys taken out, each key named once."""
    addrs, seen = [], set()
    for i, addr in enumerate(section["address"]):
        if not isinstance(addr, dict):
            addrs.append(addr)
            continue
        for key in _ADDRESS_KEYS.intersection(addr):
            value = addr[key]
            if key in ADDRESS_LIFETIMES and value != "forever":
                problems.append(Problem(where, f"{family}.address.{i}.{key}", value, _LIFETIME))
            seen.add(key)
        addrs.append({k: v for k, v in addr.items() if k not in _ADDRESS_KEYS})
    found += [Unmanaged(source, name, f"{family}.address {key}", True) for key in sorted(seen)]
    return {**section, "address": addrs}


def _asks_for_vfs(section: object) -> bool:
    """An `sr-iov` section that makes virtual functions (total-vfs above 0, or VFs listed)."""
    if not isinstance(section, dict):
        return section is not None
    total = section.get("total-vfs")
    return bool(section.get("vfs")) or (total is not None and total != 0)


def notes(found: list[Unmanaged]) -> list[str]:
    """Each key named once, with the entries it was on ("lldp on interface eth1, eth2: ...")."""
    by_key: dict[tuple[str, str, bool], list[Unmanaged]] = {}
    for item in found:
        by_key.setdefault((item.source, item.key, item.query_only), []).append(item)
    lines = []
    for (_source, key, query_only), items in by_key.items():
        why = "shown by nmstate, ignored when applying (as nmstate does)" if query_only else LEFT
        lines.append(f"{_places(items)}: {key}: {why}")
    return lines


def _places(items: list[Unmanaged]) -> str:
    if len(items) == 1:
        return items[0].where
    names = [str(i.name) for i in items]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"{items[0].source}: interfaces {shown}"


def strict_problems(found: list[Unmanaged]) -> list[Problem]:
    """What `--strict` refuses: every key taken out but those nmstate itself only shows."""
    return [Problem(item.where, item.key, "(section)", STRICT) for item in found if not item.query_only]


# nmstate's virtual kinds: a virtual interface nmstate is told is `down` it removes ("For virtual
# ifaces, it removes the iface", nmstate.io's examples); linkctl keeps it, set down, as `ip link set
# down` and `show -f yaml` (which writes a down link as `state: down`) mean it.
_VIRTUAL = frozenset(InterfaceType) - {InterfaceType.ETHERNET, InterfaceType.LOOPBACK, InterfaceType.UNKNOWN}
_DOWN_KEPT = (
    "`state: down` sets a link down and keeps it, where nmstate removes a virtual one (`state: absent` removes it)"
)


def down_notes(decl: Declaration, source: str) -> list[str]:
    """One line naming the virtual interfaces declared `down`, which nmstate would remove."""
    down = [Unmanaged(source, s.name, "state") for s in decl.interfaces if s.state == "down" and s.type in _VIRTUAL]
    if not down:
        return []
    return [f"{_places(down)}: {_DOWN_KEPT}"]

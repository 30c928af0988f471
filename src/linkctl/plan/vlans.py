"""Bridge VLAN filtering: a port's `vlan` section planned into `bridge vlan` steps, and the bridge's
vlan_filtering switch nmstate derives from the ports.

A port's VLANs are the whole set its section asks for (brvlan's wire, plan side): an access port
has its one VLAN untagged and as PVID; a trunk has its trunk-tags tagged and, with enable-native,
its `tag` untagged as PVID. What else the port carries goes, the default VLAN the kernel gives a
joining port (the bridge's vlan-default-pvid, 1 unless set) with it. NetworkManager, nmstate's
usual backend, keeps that default VLAN on a port with no PVID of its own, and nmstate's reading
hides a lone VLAN 1; linkctl's reading hides nothing, so what it sets is what `show` reports.

The bridge filters when any of its ports has a non-empty `vlan`; declared with a port list and
none, it does not; declared without one, it keeps what it has (nmstate's vlan_filtering_is_enabled).
A state re-declared (plan/convert.py: a rollback's state before) says more than the format can: the
filtering it had, and each port's exact set (BridgePort.raw_vlans), which are then what is wanted.
One step per port deletes the VLANs not wanted and adds (or re-flags) the wanted ones, after the
port has joined; the switch is turned on after the ports' VLANs are set, as NetworkManager does (no
frame is filtered against a port's old list meanwhile).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from linkctl.model.bridge_sections import BridgePort, BridgeSection, PortVlan, TrunkTag, VlanIdRange, VlanMode
from linkctl.model.spec import Declaration, InterfaceType
from linkctl.model.state import BridgeInfo, Link, NetnsName, NetnsState
from linkctl.nla.ifla import BRIDGE, BRIDGE_VLAN_INFO_PVID, BRIDGE_VLAN_INFO_UNTAGGED
from linkctl.plan.ops import Op

if TYPE_CHECKING:
    from linkctl.plan.match import Matcher, Target

Vlan = tuple[int, int]  # (vid, BRIDGE_VLAN_INFO_* flags), as kernel/brvlan.py sends and reads them
PVID, UNTAGGED = BRIDGE_VLAN_INFO_PVID, BRIDGE_VLAN_INFO_UNTAGGED
NATIVE = PVID | UNTAGGED
DEFAULT_PVID = 1  # the kernel's vlan_default_pvid of a new bridge


# --- what a section asks for ------------------------------------------------------------------


def declares(conf: PortVlan | None) -> bool:
    """A `vlan` with something in it: nmstate reads `vlan: {}` as no VLAN configuration."""
    return conf is not None and conf.mode is not None  # the model refuses a non-empty one without its mode


def wanted_vlans(conf: PortVlan) -> dict[int, int]:
    """vid -> flags: the port's whole set of VLANs as its section asks for them."""
    if conf.mode is VlanMode.ACCESS:
        assert conf.tag is not None
        return {conf.tag: NATIVE}
    out = {vid: 0 for tag in conf.trunk_tags or () for vid in tag.ids()}
    if conf.tag is not None and conf.enable_native:
        out[conf.tag] = NATIVE
    return dict(sorted(out.items()))


def has_port_vlans(decl: Declaration) -> bool:
    """Whether a file declares a port's VLANs: then every read takes the ports' VLAN lists, and a receipt
    holds them (kernel/state.py, fastpath/receipt.py)."""
    return any(
        declares(p.vlan) or p.raw_vlans is not None
        for s in decl.interfaces
        if s.bridge is not None and not s.absent
        for p in s.bridge.port or ()
    )


def filtering_wanted(section: BridgeSection | None, now: bool) -> bool:
    """The bridge's vlan_filtering once the plan is carried out (`now`: what it has, False when new)."""
    if section is not None and section.filtering_read is not None:
        return section.filtering_read
    if section is None or section.port is None:
        return now
    return any(declares(p.vlan) for p in section.port)


def restores_sets(section: BridgeSection | None) -> bool:
    """A re-declared state with its ports' exact sets: put back, the bridge filtering or not."""
    return section is not None and any(p.raw_vlans is not None for p in section.port or ())


def filters(link: Link | None) -> bool:
    return link is not None and isinstance(link.info, BridgeInfo) and bool(link.info.data.get("vlan_filtering"))


def default_pvid(link: Link | None) -> int:
    """A bridge's vlan_default_pvid now (1 where the kernel does not say: new, or without filtering)."""
    value = link.info.data.get("vlan_default_pvid") if link is not None and isinstance(link.info, BridgeInfo) else None
    return value if isinstance(value, int) else DEFAULT_PVID


# --- what a port has, and the state back as a section -------------------------------------------


def after_pvid_change(have: dict[int, int], old: int, new: int) -> dict[int, int]:
    """A port's VLANs once its bridge's vlan_default_pvid goes from `old` to `new`: the kernel moves a
    port still on the old default (its PVID, untagged) to the new one, unless it has that VLAN
    already (__br_vlan_set_default_pvid; 0 takes the default away: br_vlan_disable_default_pvid)."""
    on_default = old != 0 and have.get(old, 0) == NATIVE
    if old == new or (old != 0 and not on_default) or (new != 0 and new in have):
        return have
    out = {vid: flags for vid, flags in have.items() if vid != old or not on_default}
    if new != 0:
        out = {vid: flags & ~PVID for vid, flags in out.items()} | {new: NATIVE}
    return dict(sorted(out.items()))


def section_of(vlans: tuple[Vlan, ...]) -> PortVlan | None:
    """A port's VLANs as its `vlan` section, when the format can say them: access for one untagged
    PVID VLAN alone, else trunk (the untagged PVID one as native). None for no VLANs, or a VLAN that is
    untagged without being the PVID (or the reverse): nmstate has no words for those."""
    if not vlans or any(flags not in (0, NATIVE) for _vid, flags in vlans):
        return None
    native = [vid for vid, flags in vlans if flags == NATIVE]
    tagged = [vid for vid, flags in vlans if flags == 0]
    if not tagged:
        return PortVlan(mode=VlanMode.ACCESS, tag=native[0])
    return PortVlan(
        mode=VlanMode.TRUNK,
        trunk_tags=[_tag(first, last) for first, last in runs(tagged)],
        tag=native[0] if native else None,
        enable_native=bool(native),
    )


def with_port_vlans(section: BridgeSection, link: Link, ns: NetnsState) -> BridgeSection:
    """The bridge's section as the state has it: the filtering it has, and each port's VLANs (those read)
    as its exact set and, on a filtering bridge, as its `vlan` where the format can say them (what
    `show -f yaml` prints; the rest is linkctl's own, for a rollback). Where the kernel has no VLAN
    filtering, there is nothing to say: it sends IFLA_BR_VLAN_FILTERING (0) all the same, but not
    IFLA_BR_VLAN_DEFAULT_PVID (br_fill_info), and lists every port with no VLANs, which a port re-made
    could not be given back (its default VLAN would be deleted: refused)."""
    if not isinstance(link.info, BridgeInfo) or "vlan_default_pvid" not in link.info.data:
        return section
    on = filters(link)
    ports = [
        p.model_copy(update={"raw_vlans": vlans, "vlan": section_of(vlans) if on else None})
        if (vlans := ns.links[p.name].vlans) is not None
        else p
        for p in section.port or ()
    ]
    return section.model_copy(update={"port": ports if section.port is not None else None, "filtering_read": on})


def _tag(first: int, last: int) -> TrunkTag:
    return TrunkTag(id=first) if first == last else TrunkTag(id_range=VlanIdRange(min=first, max=last))


def runs(vids: list[int]) -> list[tuple[int, int]]:
    """Sorted ids as (first, last) runs of consecutive ones."""
    out: list[tuple[int, int]] = []
    for vid in vids:
        if out and vid == out[-1][1] + 1:
            out[-1] = (out[-1][0], vid)
        else:
            out.append((vid, vid))
    return out


# --- the steps ----------------------------------------------------------------------------------


def _bridge(netns: NetnsName) -> list[str]:
    return ["bridge", "-n", netns] if netns else ["bridge"]


def _words(vid_first: int, vid_last: int, flags: int) -> list[str]:
    vid = str(vid_first) if vid_first == vid_last else f"{vid_first}-{vid_last}"
    return ["vid", vid, *(["pvid"] if flags & PVID else []), *(["untagged"] if flags & UNTAGGED else [])]


def _groups(vlans: tuple[Vlan, ...]) -> list[tuple[int, int, int]]:
    """(first, last, flags): runs of consecutive ids with the same flags (a PVID alone), as `bridge vlan` takes them."""
    out: list[tuple[int, int, int]] = []
    for vid, flags in vlans:
        if out and vid == out[-1][1] + 1 and flags == out[-1][2] and not flags & PVID:
            out[-1] = (out[-1][0], vid, flags)
        else:
            out.append((vid, vid, flags))
    return out


def _said(vlans: tuple[Vlan, ...]) -> str:
    flag_words = {0: "", UNTAGGED: " untagged", PVID: " pvid", NATIVE: " pvid untagged"}
    return ", ".join((str(a) if a == b else f"{a}-{b}") + flag_words[f] for a, b, f in _groups(vlans))


@dataclass(frozen=True)
class SetPortVlans(Op):
    """A port's VLANs made the set its section asks for: `delete` (ids) goes first, then `add` (ids with
    their flags: new ones, and those whose flags change)."""

    master: str = ""
    add: tuple[Vlan, ...] = ()
    delete: tuple[int, ...] = ()
    verb = "set vlans"

    def describe(self) -> str:
        parts = [f"delete {_said(tuple((v, 0) for v in self.delete))}"] if self.delete else []
        parts += [f"add {_said(self.add)}"] if self.add else []
        return f"set the VLANs of {self.where()} on {self.master}: {'; '.join(parts)}"

    def ip_command(self) -> list[str]:
        return self.ip_commands()[0]

    def ip_commands(self) -> list[list[str]]:
        gone = _groups(tuple((v, 0) for v in self.delete))
        cmds = [[*_bridge(self.netns), "vlan", "del", "dev", self.name, *_words(a, b, 0)] for a, b, _f in gone]
        return cmds + [[*_bridge(self.netns), "vlan", "add", "dev", self.name, *_words(*g)] for g in _groups(self.add)]


@dataclass(frozen=True)
class SetVlanFiltering(Op):
    """A bridge's vlan_filtering on or off (IFLA_BR_VLAN_FILTERING)."""

    on: bool = True
    verb = "set"

    @property
    def data(self) -> bytes:
        """The IFLA_INFO_DATA of the request."""
        return BRIDGE.one("vlan_filtering", int(self.on))

    def describe(self) -> str:
        change = "off -> on" if self.on else "on -> off"
        return f"set {self.where()}: vlan-filtering {change}" + (f" ({self.reason})" if self.reason else "")

    def ip_command(self) -> list[str]:
        ip = ["ip", "-n", self.netns] if self.netns else ["ip"]
        return [*ip, "link", "set", "dev", self.name, "type", "bridge", "vlan_filtering", "1" if self.on else "0"]


def port_step(
    name: str, netns: NetnsName, master: str, want: dict[int, int], have: dict[int, int] | None
) -> SetPortVlans | None:
    """The step making a staying port's VLANs `want` from `have` (None: not read, which a file with
    port VLANs always has them: every wanted VLAN is sent, none deleted)."""
    known = have if have is not None else {}
    delete = tuple(vid for vid in known if vid not in want)
    add = tuple((vid, flags) for vid, flags in want.items() if have is None or known.get(vid) != flags)
    if not delete and not add:
        return None
    return SetPortVlans(name, netns, master=master, add=add, delete=delete)


# --- the pass -----------------------------------------------------------------------------------


def plan_port_vlans(p: Matcher) -> None:
    """The planner's pass, once ports have joined and their settings are set: each bridge's ports'
    VLANs, with its vlan_filtering switch (on after them, off where nothing asks for it)."""
    for t in p.ordered():
        if t.kind.type is not InterfaceType.LINUX_BRIDGE or t.absent:
            continue
        now = filters(t.current) and not t.creates
        want = filtering_wanted(t.spec.bridge, filters(t.current))
        if now and not want:
            p.plan.ops.append(SetVlanFiltering(t.spec.name, t.netns, _why_off(t.spec.bridge), on=False))
        if want or restores_sets(t.spec.bridge):
            _ports(p, t)
        if want and not now:
            p.plan.ops.append(SetVlanFiltering(t.spec.name, t.netns, "a port has a vlan section", on=True))
    _remade_ports(p)


def _why_off(section: BridgeSection | None) -> str:
    restored = section is not None and section.filtering_read is False
    return "it did not filter" if restored else "no port has a vlan section"


def _ports(p: Matcher, t: Target) -> None:
    section = t.spec.bridge
    pvid_before = default_pvid(t.current)
    declared = section.options.vlan_default_pvid if section is not None and section.options is not None else None
    pvid_after = declared if declared is not None else (pvid_before if t.current is not None else DEFAULT_PVID)
    for port in _port_entries(p, t):
        key = (t.netns, port.name)
        link = p.host.find(port.name, t.netns)
        pt = p.targets.get(key)
        if key in p.gone and not (pt is not None and pt.creates):
            continue
        was_here = t.current is not None and link is not None and link.master_ifindex == t.current.ifindex
        joins = t.creates or key in p.peers_created or (pt is not None and pt.creates) or not was_here
        want = _wanted(port, link, was_here, joins)
        if want is None:
            continue
        if joins:
            step = joined_step(port.name, t.netns, t.spec.name, want, pvid_after)
        else:
            assert link is not None
            have = None if link.vlans is None else after_pvid_change(dict(link.vlans), pvid_before, pvid_after)
            step = port_step(port.name, t.netns, t.spec.name, want, have)
        if step is not None:
            p.plan.ops.append(step)


def joined_step(name: str, netns: NetnsName, master: str, want: dict[int, int], pvid: int) -> SetPortVlans | None:
    """The step for a port joining now: the kernel gives it the bridge's default VLAN (`pvid`, untagged,
    as its PVID; none for 0), which goes unless wanted; every wanted VLAN is sent."""
    delete = (pvid,) if pvid and pvid not in want else ()
    add = tuple(want.items())
    return SetPortVlans(name, netns, master=master, add=add, delete=delete) if add or delete else None


def _remade_ports(p: Matcher) -> None:
    """A port re-made that rejoins a filtering bridge the file leaves alone keeps its VLANs."""
    for t in p.ordered():
        kept = p.kept_master(t) if t.current is not None and t.recreate and not t.absent else None
        if kept is None or (t.netns, kept) in p.targets:  # a declared bridge's pass has it
            continue
        bridge = p.host.find(kept, t.netns)
        if t.current is not None and t.current.vlans is not None and filters(bridge):
            step = joined_step(t.spec.name, t.netns, kept, dict(t.current.vlans), default_pvid(bridge))
            if step is not None:
                p.plan.ops.append(step)


def _port_entries(p: Matcher, t: Target) -> list[BridgePort]:
    """The bridge's declared port entries; without a port list, its ports as they are (their VLANs kept
    where the bridge is re-made)."""
    if t.spec.bridge is not None and t.spec.bridge.port is not None:
        return list(t.spec.bridge.port)
    if t.current is None:
        return []
    return [BridgePort(name=n) for n in p.host.ns(t.current.netns).ports_of(t.current.name)]


def _wanted(port: BridgePort, link: Link | None, was_here: bool, joins: bool) -> dict[int, int] | None:
    """What the port's VLANs are to be: its section's; without one, what it had here when it joins
    again (a port re-made, or on a bridge re-made); None: left alone, as the kernel leaves it. A set
    read (a state re-declared) is what is wanted, over the `vlan` that says it where it can."""
    if port.raw_vlans is not None:
        return dict(port.raw_vlans)
    if declares(port.vlan):
        assert port.vlan is not None
        return wanted_vlans(port.vlan)
    if link is not None and link.vlans is not None and was_here and joins:
        return dict(link.vlans)
    return None

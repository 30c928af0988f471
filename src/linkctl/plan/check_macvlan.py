"""mac-vlan checks the kernel would otherwise answer at step N: a passthru mac-vlan shares its base
with no other mac-vlan, and a mac-vlan's base is no mac-vlan itself.

The kernel answers a second mac-vlan on a passthru one's base (or a passthru one on a base already
carrying one) with a bare 'Invalid argument' after every earlier step was made; and it makes a
mac-vlan asked on a mac-vlan or mac-vtap on that link's own base instead, which verification then
finds differing. Both are said here, before the first change."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from linkctl.kinds import kind_of
from linkctl.model.spec import InterfaceSpec, InterfaceType, MacvlanMode, MacvlanSection
from linkctl.model.state import Link, MacvlanInfo, NetnsName
from linkctl.plan.checks import Scope

_MACVLANS = (InterfaceType.MAC_VLAN, InterfaceType.MAC_VTAP)
_PASSTHRU = MacvlanMode.PASSTHRU.value


@dataclass(frozen=True)
class _OnBase:
    """A mac-vlan or mac-vtap once the file is applied: on which base, in which mode."""

    name: str
    mode: str | None
    spec: InterfaceSpec | None  # None: an existing one the file does not declare
    existing: bool  # there now on this base: it came first, a later one is the one refused


class MacvlanChecks:
    def __init__(self, scope: Scope, looped: set[tuple[NetnsName, str]]) -> None:
        self.s = scope
        self.looped = looped  # links standing on themselves: refused once, by validate.py

    def run(self) -> None:
        self._bases_that_are_macvlans()
        self._passthru_alone()

    def _bases_that_are_macvlans(self) -> None:
        for spec, section in self._declared():
            base_ns = self.s.base_ns(spec)
            if (self.s.netns(spec), spec.name) in self.looped or self._type(
                section.base_iface, base_ns
            ) not in _MACVLANS:
                continue
            root = self._root(section.base_iface, base_ns)
            instead = f"{root}, its own base" if root is not None else "its own base"
            fix = f"name {root} as base-iface" if root is not None else "name that base as base-iface"
            self.s.add(
                spec, f"{_key(spec)}.base-iface", section.base_iface,
                f"a base that is no mac-vlan or mac-vtap: {section.base_iface} is one, and the kernel makes "
                f"{spec.name} on {instead}; {fix}",
            )  # fmt: skip

    def _passthru_alone(self) -> None:
        """passthru gives the base to one mac-vlan alone (macvlan_common_newlink refuses any other)."""
        groups: dict[tuple[NetnsName, str], list[_OnBase]] = {}
        for key, one in self._after():
            groups.setdefault(key, []).append(one)
        for (_ns, base), ones in groups.items():
            ones.sort(key=lambda o: not o.existing)  # stable: then in the file's order
            for i, one in enumerate(ones[1:], start=1):
                if one.spec is None:
                    continue
                earlier = ones[:i]
                if one.mode == _PASSTHRU:
                    names = ", ".join(o.name for o in earlier)
                    self.s.add(
                        one.spec, f"{_key(one.spec)}.mode", _PASSTHRU,
                        f"passthru only for the one mac-vlan on its base: {names} also runs over {base}; "
                        f"give {one.name} another mode, or another base-iface",
                    )  # fmt: skip
                elif (held := next((o for o in earlier if o.mode == _PASSTHRU), None)) is not None:
                    self.s.add(
                        one.spec, f"{_key(one.spec)}.base-iface", base,
                        f"a base with no passthru mac-vlan: {held.name} runs over {base} in passthru mode, "
                        f"which takes it for one mac-vlan alone; put {one.name} on another base, or give "
                        f"{held.name} another mode",
                    )  # fmt: skip

    def _after(self) -> Iterator[tuple[tuple[NetnsName, str], _OnBase]]:
        """Each mac-vlan once the file is applied, with its (base's netns, base)."""
        said: set[tuple[NetnsName, str]] = set()
        for spec, section in self._declared():
            said.add((self.s.netns(spec), spec.name))
            cur = self.s.current(spec)
            on_base = cur is not None and self._now_on(cur, section.base_iface)
            mode = section.mode.value if section.mode is not None else _mode(cur) if on_base else None
            yield (self.s.base_ns(spec), section.base_iface), _OnBase(spec.name, mode, spec, on_base)
        for link in self.s.host:
            if link.kind not in ("macvlan", "macvtap") or (link.netns, link.name) in said:
                continue
            entry = self.s.declared(link.name, link.netns)  # declared without its section, or not at all
            base = self._base_of(link.name, link.netns)
            if base is not None and (entry is None or not entry.absent):
                yield (link.netns, base), _OnBase(link.name, _mode(link), entry, True)

    def _root(self, base: str, netns: NetnsName) -> str | None:
        """The first base down from `base` that is no mac-vlan: the one the kernel stacks on."""
        seen: set[str] = set()
        at: str | None = base
        while at is not None and at not in seen and self._type(at, netns) in _MACVLANS:
            seen.add(at)
            at = self._base_of(at, netns)
        return at

    def _now_on(self, link: Link, base: str) -> bool:
        """A mac-vlan there now on `base` (kept by the plan: one re-made elsewhere is not)."""
        kind = kind_of(link)
        return kind.type in _MACVLANS and self.s.lower_name(kind, link) == base

    def _declared(self) -> Iterator[tuple[InterfaceSpec, MacvlanSection]]:
        for spec in self.s.decl.interfaces:
            section = spec.mac_vlan or spec.mac_vtap  # one layout in the kernel
            if section is not None and not spec.absent and section.base_iface:
                yield spec, section

    def _type(self, name: str, netns: NetnsName) -> InterfaceType | None:
        spec = self.s.declared(name, netns)
        if spec is not None and spec.type is not None:
            return spec.type
        link = self.s.host.find(name, netns)
        return kind_of(link).type if link is not None else None

    def _base_of(self, name: str, netns: NetnsName) -> str | None:
        """The base a mac-vlan stands on once the file is applied: the one its entry names, or its own."""
        spec = self.s.declared(name, netns)
        section = (spec.mac_vlan or spec.mac_vtap) if spec is not None else None
        if section is not None and section.base_iface:
            return section.base_iface
        link = self.s.host.find(name, netns)
        return self.s.lower_name(kind_of(link), link) if link is not None else None


def _mode(link: Link | None) -> str | None:
    return link.info.mode if link is not None and isinstance(link.info, MacvlanInfo) else None


def _key(spec: InterfaceSpec) -> str:
    return "mac-vtap" if spec.mac_vtap is not None else "mac-vlan"

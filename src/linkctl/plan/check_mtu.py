"""MTU checks: the kernel's bounds, a stacked link's MTU under its base's, a VXLAN's
encapsulation fitting on its base before and after the declaration."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from linkctl.errors import NOT_GIVEN
from linkctl.kinds import BY_TYPE, vxlan
from linkctl.kinds.base import ETH_DATA_LEN
from linkctl.model.spec import MTU_MIN, Declaration, InterfaceSpec, InterfaceType
from linkctl.model.state import HostState, Link, NetnsName, VxlanInfo
from linkctl.plan.checks import Scope

ETH_MAX_MTU = 65535  # include/uapi/linux/if_ether.h


class MtuChecks:
    """The MTU pass: the kernel's bounds, a stacked link under its base, a VXLAN's encapsulation."""

    def __init__(self, scope: Scope) -> None:
        self.s = scope

    def bounds(self, spec: InterfaceSpec, current: Link | None) -> None:
        if spec.mtu is None:
            return
        if current is None:
            # Every kind linkctl creates stops at ETH_MAX_MTU; only the loopback goes past it.
            if spec.mtu > ETH_MAX_MTU:
                what = f"a new {spec.type.value} link" if spec.type else "a new link"
                self.s.add(spec, "mtu", spec.mtu, f"{MTU_MIN} to {ETH_MAX_MTU} for {what}")
            return
        lo = current.min_mtu or 0
        hi = current.max_mtu or 0
        if hi and not lo <= spec.mtu <= hi:
            self.s.add(spec, "mtu", spec.mtu, f"{lo} to {hi} for this device")

    def under_lower(
        self, spec: InterfaceSpec, itype: InterfaceType, lower: str | None, lower_ns: NetnsName, current: Link | None
    ) -> None:
        """A mac-vlan's or vlan's MTU above its base's: the kernel would answer only 'Invalid argument'."""
        if spec.mtu is None or lower is None or (current is not None and current.mtu == spec.mtu):
            return
        base_mtu = self._desired_mtu(lower, lower_ns)
        if base_mtu is not None and spec.mtu > base_mtu:
            self.s.add(
                spec, "mtu", spec.mtu,
                f"at most {base_mtu}: a {itype.value} link's MTU cannot exceed its base-iface's ({lower} has "
                f"{base_mtu}); raise {lower}'s mtu to {spec.mtu} or lower this one",
            )  # fmt: skip

    def vxlan_fit(self, fit: _VxlanFit) -> None:
        """Refuse a declaration that leaves a VXLAN's frames too big for its base-iface or underlay.

        Only a misfit this declaration makes worse is refused (it raises the
        VXLAN's MTU, makes it anew, or lowers the base's): one it leaves as it is,
        or lessens, stays `linkctl audit`'s finding and plan's note, so that
        `show -f yaml` of such a host still applies as a no-op and a step towards
        the fix is not blocked.
        """
        if fit.mtu_after is None or fit.base_after is None:
            return
        after = vxlan.MtuFit(fit.mtu_after, fit.base_after, fit.overhead)
        if after.fits:
            return
        raised = fit.mtu_now is None or fit.mtu_after > fit.mtu_now
        under = fit.underlay
        if fit.spec is not None and raised and under is not None:
            given = fit.spec.mtu is not None
            self.s.add(
                fit.spec, "mtu", fit.spec.mtu if given else NOT_GIVEN,
                f"at most {after.room}: " + ("" if given else f"made without mtu it gets {fit.mtu_after}, and ")
                + f"without a base-iface the kernel sends it by the {under.describe()}, where {after.needs}; "
                f"lower this one's mtu to {after.room}{self._or_raise(fit, after)}",
            )  # fmt: skip
        elif fit.spec is not None and fit.spec.mtu is not None and raised:
            fix = (
                f"raise {fit.base}'s mtu to {after.base_needed} or lower this one"
                if self._raisable(fit, after)
                else f"lower this one's mtu to {after.room}{self._or_raise(fit, after)}"
            )
            self.s.add(
                fit.spec, "mtu", fit.mtu_after,
                f"at most {after.room}: base-iface {fit.base} has MTU {fit.base_after} and {after.needs}; {fix}",
            )  # fmt: skip
        elif (fit.base_now is None or fit.base_after < fit.base_now) and (
            base := self.s.declared(fit.base, fit.netns)
        ) is not None:
            over = fit.base if under is None else f"{fit.base} (the {under.route} goes out of it)"
            self.s.add(
                base, "mtu", fit.base_after,
                f"at least {after.base_needed}: {fit.name} (MTU {fit.mtu_after}) runs over {over} and "
                f"{after.needs}; " + (
                    f"give {fit.base} an mtu of {after.base_needed} or more, or " if self._raisable(fit, after) else ""
                ) + f"declare {fit.name} with mtu {after.room} or less",
            )  # fmt: skip

    def misfit_notes(self) -> Iterator[str]:
        """Each VXLAN the file leaves too big (validation refused those it makes so): said before the apply
        as audit will say it after."""
        for fit in self.vxlan_fits():
            if fit.mtu_after is None or fit.base_after is None:
                continue
            after = vxlan.MtuFit(fit.mtu_after, fit.base_after, fit.overhead)
            if after.fits:
                continue
            by = f"its base-iface {fit.base}" if fit.underlay is None else f"the {fit.underlay.describe()}"
            yield (
                f"{fit.name} keeps MTU {fit.mtu_after}, too big for {by}: {after.needs} and frames over "
                f"{after.room} bytes will be dropped or fragmented; declare {fit.name} with mtu {after.room}"
                + self._or_raise(fit, after, ", or raise ")
            )

    def _raisable(self, fit: _VxlanFit, after: vxlan.MtuFit) -> bool:
        """Whether the base can carry this MTU at all: no device goes past its max_mtu (65535 at most)."""
        base = self.s.host.find(fit.base, fit.netns)
        return after.base_needed <= (base.max_mtu if base is not None and base.max_mtu else ETH_MAX_MTU)

    def _or_raise(self, fit: _VxlanFit, after: vxlan.MtuFit, joint: str = " or raise ") -> str:
        """The other fix, raising what carries the VXLAN, where that is possible; else why it is not."""
        if self._raisable(fit, after):
            return joint + _raise(fit, after)
        base = self.s.host.find(fit.base, fit.netns)
        top = base.max_mtu if base is not None and base.max_mtu else ETH_MAX_MTU
        return (
            f" ({fit.base}'s MTU goes no higher than {top}: a VXLAN on it can have at most {top - after.overhead}, "
            f"its largest MTU less the {after.overhead} bytes)"
        )

    def vxlan_fits(self) -> Iterator[_VxlanFit]:
        """Each VXLAN with a base-iface: the declared ones, then the existing ones the file leaves alone."""
        for spec in self.s.decl.interfaces:
            if spec.vxlan is None or spec.absent or spec.vxlan.base_iface is None:
                continue
            netns, base = self.s.base_ns(spec), spec.vxlan.base_iface  # the fit is judged where the base is
            current = self.s.current(spec)
            now = current.mtu if current is not None and isinstance(current.info, VxlanInfo) else None
            rebased = current is None or self.s.base_name(current) != base
            # Created (or re-created on another base) without an MTU, the kernel derives it from the base.
            after = spec.mtu if spec.mtu is not None else (None if rebased else now)
            yield self._fit(spec.name, netns, spec, base, spec.vxlan.local, spec.vxlan.remote, now, after)
        for spec in self.s.decl.interfaces:
            if (fit := self._routed_fit(spec) or self._kept_base_fit(spec)) is not None:
                yield fit
        for link in self.s.host:
            info = link.info
            if not isinstance(info, VxlanInfo) or self.s.declared(link.name, link.netns) is not None:
                continue
            if (lower := self.s.base_name(link)) is not None:
                yield self._fit(link.name, link.netns, None, lower, info.local, info.remote, link.mtu, link.mtu)
            elif info.base_ifindex is None and (sent := self.s.host.link_net(link))[0]:
                key = (sent[1], info.local, info.remote)
                if (under := self.s.underlays.get(key)) is not None:
                    yield self._routed(link.name, sent[1], None, under, info.local, info.remote, link.mtu, link.mtu)

    def _routed_fit(self, spec: InterfaceSpec) -> _VxlanFit | None:
        """A declared VXLAN that has or gets no base-iface, on the underlay the engine read for it."""
        if (found := self.without_base(spec)) is None:
            return None
        current, have, local, remote = found
        netns = self.s.netns(spec)
        under = self.s.underlays.get((netns, local, remote))
        if under is None:
            return None
        now = current.mtu if current is not None and have is not None else None
        # Made anew, or re-made sending elsewhere, a VXLAN without base gets 1500 whatever carries it.
        moved = have is None or (have.local, have.remote) != (local, remote)
        after = spec.mtu if spec.mtu is not None else (ETH_DATA_LEN if moved else now)
        return self._routed(spec.name, netns, spec, under, local, remote, now, after)

    def _kept_base_fit(self, spec: InterfaceSpec) -> _VxlanFit | None:
        """A declared VXLAN whose entry names no base-iface (`{name: vxlan0, mtu: 1500}`) on a link that
        has one: it keeps that base, so it is judged on it (the kernel would answer 'Invalid argument')."""
        if spec.absent or spec.type not in (None, InterfaceType.VXLAN):
            return None
        if spec.vxlan is not None and spec.vxlan.base_iface is not None:
            return None
        current = self.s.current(spec)
        if current is None or current.netns != self.s.netns(spec) or not isinstance(current.info, VxlanInfo):
            return None
        if (base := self.s.base_name(current)) is None:
            return None
        want, have = spec.vxlan, current.info
        local = want.local if want is not None and want.local is not None else have.local
        remote = want.remote if want is not None and want.remote is not None else have.remote
        after = spec.mtu if spec.mtu is not None else current.mtu
        return self._fit(spec.name, current.netns, spec, base, local, remote, current.mtu, after)

    def without_base(self, spec: InterfaceSpec) -> tuple[Link | None, VxlanInfo | None, str | None, str | None] | None:
        """A declared VXLAN left or made without base-iface: (link now, its VXLAN info, local, remote after)."""
        if spec.absent or spec.type not in (None, InterfaceType.VXLAN):
            return None
        current = self.s.current(spec)
        have = current.info if current is not None and isinstance(current.info, VxlanInfo) else None
        want = spec.vxlan
        if (want is None and have is None) or (want is not None and want.base_iface is not None):
            return None
        if have is not None and have.base_ifindex is not None:
            return None  # a section without base-iface keeps the base: judged on it
        # What the file leaves out, a re-made VXLAN keeps (plan/build.py _kept_section).
        local = want.local if want is not None and want.local is not None else (have.local if have else None)
        remote = want.remote if want is not None and want.remote is not None else (have.remote if have else None)
        return current, have, local, remote

    def _routed(
        self, name: str, netns: NetnsName, spec: InterfaceSpec | None, under: vxlan.Underlay,
        local: str | None, remote: str | None, now: int | None, after: int | None,
    ) -> _VxlanFit:  # fmt: skip
        declared = self.s.declared(under.dev, netns)
        dev_after = declared.mtu if declared is not None and declared.mtu is not None else under.dev_mtu
        base_after = vxlan.Underlay(under.route, under.dev, dev_after, under.route_mtu).mtu
        overhead = vxlan.overhead(local, remote)
        return _VxlanFit(name, netns, spec, under.dev, overhead, now, after, under.mtu, base_after, under)

    def _fit(
        self, name: str, netns: NetnsName, spec: InterfaceSpec | None, base: str,
        local: str | None, remote: str | None, now: int | None, after: int | None,
    ) -> _VxlanFit:  # fmt: skip
        base_link = self.s.host.find(base, netns)
        base_now = base_link.mtu if base_link is not None else None
        overhead = vxlan.overhead(local, remote)
        return _VxlanFit(name, netns, spec, base, overhead, now, after, base_now, self._desired_mtu(base, netns))

    def _desired_mtu(self, name: str, netns: NetnsName, seen: frozenset[str] = frozenset()) -> int | None:
        if name in seen:
            return None  # bridges that list each other as ports: validation refuses the loop itself
        seen = seen | {name}
        spec = self.s.declared(name, netns)
        if spec is not None and spec.mtu is not None:
            return spec.mtu
        link = self.s.host.find(name, netns)
        if link is not None and spec is not None and spec.type is InterfaceType.LINUX_BRIDGE and spec.port_names:
            # A bridge whose MTU nobody set follows its ports (br_mtu_auto_adjust): the smallest of those
            # the file gives it ("br1 1500 with no port, v5 joining at 9000" makes it 9000).
            ports = [self._desired_mtu(p, netns, seen) for p in spec.port_names]
            return min((m for m in ports if m is not None), default=link.mtu)
        if link is not None:
            return link.mtu
        if spec is None or spec.type is None or spec.absent:
            return None
        if spec.type is InterfaceType.LINUX_BRIDGE:
            # A new bridge takes its smallest port's MTU as they join (1500 without ports).
            ports = [self._desired_mtu(p, netns, seen) for p in spec.port_names or []]
            return min((m for m in ports if m is not None), default=ETH_DATA_LEN)
        # Created by this file without an MTU: what the kernel gives its kind, where that is fixed.
        return BY_TYPE[spec.type].created_mtu


@dataclass(frozen=True)
class _VxlanFit:
    """A VXLAN and its base-iface, before and after the declaration (None: unknown or kernel-derived)."""

    name: str
    netns: NetnsName
    spec: InterfaceSpec | None
    base: str
    overhead: int
    mtu_now: int | None
    mtu_after: int | None
    base_now: int | None
    base_after: int | None
    underlay: vxlan.Underlay | None = None  # no base-iface: what the kernel routes it through


def _raise(fit: _VxlanFit, after: vxlan.MtuFit) -> str:
    """The other fix: the underlay's MTU (or the route's mtu metric, when that is what limits it)."""
    under = fit.underlay
    if under is not None and under.route_mtu is not None and under.route_mtu < under.dev_mtu:
        return f"the {under.route}'s mtu metric ({under.route_mtu}) to {after.base_needed}"
    return f"{fit.base}'s mtu to {after.base_needed}"


def misfit_notes(
    decl: Declaration,
    host: HostState,
    default_netns: NetnsName,
    underlays: dict[vxlan.UnderlayQuery, vxlan.Underlay | None],
) -> list[str]:
    """plan's notes of the VXLANs the file leaves too big for what carries them."""
    return list(MtuChecks(Scope(decl, host, "", default_netns, underlays=underlays)).misfit_notes())


def underlay_queries(decl: Declaration, host: HostState, default_netns: NetnsName) -> list[vxlan.UnderlayQuery]:
    """What the engine must read (kernel/routes.py) for the VXLANs without base-iface, declared or existing."""
    checks = MtuChecks(Scope(decl, host, "", default_netns))
    out: list[vxlan.UnderlayQuery] = []
    for spec in decl.interfaces:
        found = checks.without_base(spec)
        if found is not None and (found[2] is not None or found[3] is not None):
            out.append((checks.s.netns(spec), found[2], found[3]))
    for link in host:
        info = link.info
        if isinstance(info, VxlanInfo) and info.base_ifindex is None and (info.local or info.remote):
            known, netns = host.link_net(link)
            if known:
                out.append((netns, info.local, info.remote))
    return list(dict.fromkeys(out))

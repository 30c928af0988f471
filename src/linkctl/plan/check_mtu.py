"""MTU checks: the kernel's bounds, a stacked link's MTU under its base's, a VXLAN's
encapsulation fitting on its base before and after the declaration."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from linkctl.kinds import BY_TYPE, vxlan
from linkctl.kinds.base import ETH_DATA_LEN
from linkctl.model.spec import MTU_MIN, InterfaceSpec, InterfaceType
from linkctl.model.state import Link, NetnsName, VxlanInfo
from linkctl.plan.checks import Checks, _port_names

ETH_MAX_MTU = 65535  # include/uapi/linux/if_ether.h


class MtuChecks(Checks):
    def _mtu(self, spec: InterfaceSpec, current: Link | None) -> None:
        if spec.mtu is None:
            return
        if current is None:
            # Every kind linkctl creates stops at ETH_MAX_MTU; only the loopback goes past it.
            if spec.mtu > ETH_MAX_MTU:
                what = f"a new {spec.type.value} link" if spec.type else "a new link"
                self._add(spec, "mtu", spec.mtu, f"{MTU_MIN} to {ETH_MAX_MTU} for {what}")
            return
        lo = current.min_mtu or 0
        hi = current.max_mtu or 0
        if hi and not lo <= spec.mtu <= hi:
            self._add(spec, "mtu", spec.mtu, f"{lo} to {hi} for this device")

    def _mtu_under_lower(
        self, spec: InterfaceSpec, itype: InterfaceType, lower: str | None, lower_ns: NetnsName, current: Link | None
    ) -> None:
        """A mac-vlan's or vlan's MTU above its base's: the kernel would answer only 'Invalid argument'."""
        if spec.mtu is None or lower is None or (current is not None and current.mtu == spec.mtu):
            return
        base_mtu = self._desired_mtu(lower, lower_ns)
        if base_mtu is not None and spec.mtu > base_mtu:
            self._add(
                spec, "mtu", spec.mtu,
                f"at most {base_mtu}: a {itype.value} link's MTU cannot exceed its base-iface's ({lower} has "
                f"{base_mtu}); raise {lower}'s mtu to {spec.mtu} or lower this one",
            )  # fmt: skip

    def _vxlan_fit(self, fit: _VxlanFit) -> None:
        """Refuse a declaration that leaves a VXLAN's frames too big for its base-iface.

        Only a misfit this declaration makes worse is refused (it raises the
        VXLAN's MTU, or lowers the base's): one it leaves as it is, or lessens,
        stays `linkctl audit`'s finding, so that `show -f yaml` of such a host
        still applies as a no-op and a step towards the fix is not blocked.
        """
        if fit.mtu_after is None or fit.base_after is None:
            return
        after = vxlan.MtuFit(fit.mtu_after, fit.base_after, fit.overhead)
        if after.fits:
            return
        raised = fit.mtu_now is None or fit.mtu_after > fit.mtu_now
        if fit.spec is not None and fit.spec.mtu is not None and raised:
            self._add(
                fit.spec, "mtu", fit.mtu_after,
                f"at most {after.room}: base-iface {fit.base} has MTU {fit.base_after} and {after.needs}; "
                f"raise {fit.base}'s mtu to {after.base_needed} or lower this one",
            )  # fmt: skip
        elif (fit.base_now is None or fit.base_after < fit.base_now) and (
            base := self._declared(fit.base, fit.netns)
        ) is not None:
            self._add(
                base, "mtu", fit.base_after,
                f"at least {after.base_needed}: {fit.name} (MTU {fit.mtu_after}) runs over {fit.base} and "
                f"{after.needs}; give {fit.base} an mtu of {after.base_needed} or more, or declare {fit.name} "
                f"with mtu {after.room} or less",
            )  # fmt: skip

    def _vxlan_fits(self) -> Iterator[_VxlanFit]:
        """Each VXLAN with a base-iface: the declared ones, then the existing ones the file leaves alone."""
        for spec in self.decl.interfaces:
            if spec.vxlan is None or spec.absent or spec.vxlan.base_iface is None:
                continue
            netns, base = self._base_ns(spec), spec.vxlan.base_iface  # the fit is judged where the base is
            current = self._current(spec)
            now = current.mtu if current is not None and isinstance(current.info, VxlanInfo) else None
            rebased = current is None or self._base_name(current) != base
            # Created (or re-created on another base) without an MTU, the kernel derives it from the base.
            after = spec.mtu if spec.mtu is not None else (None if rebased else now)
            yield self._fit(spec.name, netns, spec, base, spec.vxlan.local, spec.vxlan.remote, now, after)
        for link in self.host:
            info = link.info
            if not isinstance(info, VxlanInfo) or self._declared(link.name, link.netns) is not None:
                continue
            if (lower := self._base_name(link)) is not None:
                yield self._fit(link.name, link.netns, None, lower, info.local, info.remote, link.mtu, link.mtu)

    def _fit(
        self, name: str, netns: NetnsName, spec: InterfaceSpec | None, base: str,
        local: str | None, remote: str | None, now: int | None, after: int | None,
    ) -> _VxlanFit:  # fmt: skip
        base_link = self.host.find(base, netns)
        base_now = base_link.mtu if base_link is not None else None
        overhead = vxlan.overhead(local, remote)
        return _VxlanFit(name, netns, spec, base, overhead, now, after, base_now, self._desired_mtu(base, netns))

    def _desired_mtu(self, name: str, netns: NetnsName) -> int | None:
        spec = self._declared(name, netns)
        if spec is not None and spec.mtu is not None:
            return spec.mtu
        link = self.host.find(name, netns)
        if link is not None:
            return link.mtu
        if spec is None or spec.type is None or spec.absent:
            return None
        if spec.type is InterfaceType.LINUX_BRIDGE:
            # A new bridge takes its smallest port's MTU as they join (1500 without ports).
            ports = [self._desired_mtu(p, netns) for p in _port_names(spec) or []]
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

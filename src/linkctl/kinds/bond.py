"""bond: link aggregation; `active-backup` is the fallback for a flapping NIC.

The mode can only change on a bond that is down and has no ports, so a mode
change means re-creation. miimon, updelay, downdelay and primary change in
place. Ports are enslaved by the planner (IFLA_MASTER), down first, as the
bonding driver requires.
"""

from __future__ import annotations

from typing import ClassVar

from linkctl.kinds.base import ETH_DATA_LEN, NO_DIFF, KindDiff, LinkKind, Resolver, differ
from linkctl.model.spec import BondMode, BondOptions, BondSection, InterfaceSpec, InterfaceType
from linkctl.model.state import BondInfo, KindInfo, Link, NetnsState
from linkctl.nla import U8, U32, attr_u8, attr_u32, iter_attrs

IFLA_BOND_MODE = 1
IFLA_BOND_MIIMON = 3
IFLA_BOND_UPDELAY = 4
IFLA_BOND_DOWNDELAY = 5
IFLA_BOND_PRIMARY = 11
MODES = list(BondMode)  # the kernel's numbering is the order of BondMode


class Bond(LinkKind):
    type = InterfaceType.BOND
    kernel_kind = "bond"
    module = "bonding"
    created_mtu = ETH_DATA_LEN
    section_key = "link_aggregation"
    recreate_fields: ClassVar[tuple[str, ...]] = ("link-aggregation.mode",)

    def decode(self, buf: bytes, off: int, end: int) -> KindInfo:
        values: dict[int, int] = {}
        for atype, s, _e in iter_attrs(buf, off, end):
            if atype == IFLA_BOND_MODE:
                values[atype] = U8.unpack_from(buf, s)[0]
            elif atype in (IFLA_BOND_MIIMON, IFLA_BOND_UPDELAY, IFLA_BOND_DOWNDELAY, IFLA_BOND_PRIMARY):
                values[atype] = U32.unpack_from(buf, s)[0]
        mode = values.get(IFLA_BOND_MODE)
        return BondInfo(
            mode=MODES[mode].value if mode is not None and mode < len(MODES) else None,
            miimon=values.get(IFLA_BOND_MIIMON),
            updelay=values.get(IFLA_BOND_UPDELAY),
            downdelay=values.get(IFLA_BOND_DOWNDELAY),
            primary_ifindex=values.get(IFLA_BOND_PRIMARY) or None,
        )

    def references(self, spec: InterfaceSpec) -> list[tuple[str, str]]:
        opts = spec.link_aggregation.options if spec.link_aggregation else None
        return [("link-aggregation.options.primary", opts.primary)] if opts and opts.primary else []

    def compare(self, spec: InterfaceSpec, link: Link, ns: NetnsState, base: str | None) -> KindDiff:
        want = spec.link_aggregation
        if want is None:
            return NO_DIFF
        have = link.info if isinstance(link.info, BondInfo) else BondInfo()
        opts = want.options or BondOptions()
        return self.split(
            differ("link-aggregation.mode", have.mode, want.mode and want.mode.value),
            differ("link-aggregation.options.miimon", have.miimon, opts.miimon),
            differ("link-aggregation.options.updelay", have.updelay, opts.updelay),
            differ("link-aggregation.options.downdelay", have.downdelay, opts.downdelay),
            differ("link-aggregation.options.primary", ns.name_of(have.primary_ifindex), opts.primary),
        )

    def info_data(self, spec: InterfaceSpec, resolve: Resolver, only: frozenset[str] | None = None) -> bytes:
        want = spec.link_aggregation
        assert want is not None
        opts = want.options or BondOptions()
        out = []
        if only is None and want.mode:
            out.append(attr_u8(IFLA_BOND_MODE, MODES.index(want.mode)))
        for field, atype, value in (
            ("miimon", IFLA_BOND_MIIMON, opts.miimon),
            ("updelay", IFLA_BOND_UPDELAY, opts.updelay),
            ("downdelay", IFLA_BOND_DOWNDELAY, opts.downdelay),
        ):
            if value is not None and (only is None or f"link-aggregation.options.{field}" in only):
                out.append(attr_u32(atype, value))
        # The primary must already be a port: it is set in place after enslaving.
        if opts.primary and only is not None and "link-aggregation.options.primary" in only:
            out.append(attr_u32(IFLA_BOND_PRIMARY, resolve(opts.primary)))
        return b"".join(out)

    def ip_args(self, spec: InterfaceSpec, only: frozenset[str] | None = None) -> list[str]:
        want = spec.link_aggregation
        assert want is not None
        opts = want.options or BondOptions()
        args = ["type", "bond"]
        if only is None and want.mode:
            args += ["mode", want.mode.value]
        for field, value in (
            ("miimon", opts.miimon),
            ("updelay", opts.updelay),
            ("downdelay", opts.downdelay),
            ("primary", opts.primary),
        ):
            if value is not None and (only is None or f"link-aggregation.options.{field}" in only):
                args += [field, str(value)]
        return args

    def section_from_link(self, link: Link, ns: NetnsState, base: str | None) -> BondSection:
        info = link.info if isinstance(link.info, BondInfo) else BondInfo()
        return BondSection(
            mode=BondMode(info.mode) if info.mode else None,
            port=ns.ports_of(link.name),
            options=BondOptions(
                miimon=info.miimon,
                updelay=info.updelay,
                downdelay=info.downdelay,
                primary=ns.name_of(info.primary_ifindex),
            ),
        )


BOND = Bond()

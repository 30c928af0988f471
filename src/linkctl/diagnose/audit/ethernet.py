"""Checks of physical NICs from what ethtool reports: duplex, autonegotiation, speed, EEE on a flapping link."""

from __future__ import annotations

from collections.abc import Iterator

from linkctl.diagnose import flapping
from linkctl.diagnose.audit.context import AuditContext
from linkctl.diagnose.findings import Finding, Severity
from linkctl.domain.fix import Fix, Fragment


def half_duplex(ctx: AuditContext) -> Iterator[Finding]:
    for link in ctx.physical():
        st = ctx.settings(link)
        if st is None or st.duplex != "half" or not st.link_detected:
            continue
        yield Finding(
            "half-duplex",
            Severity.PROBLEM,
            link.name,
            link.netns,
            f"running at {st.speed} Mb/s half duplex",
            "no switch port of this century wants half duplex: it usually means one end "
            "is forced and the other autonegotiates (a duplex mismatch), which loses frames "
            "under load as late collisions and CRC errors",
            {"speed": st.speed, "duplex": st.duplex, "autoneg": st.autoneg, "partner_modes": list(st.partner_modes)},
            Fix(
                Fragment.interface(link.name, link.netns, ethernet={"auto-negotiation": True}),
                (("ethtool", "-s", link.name, "autoneg", "on"),),
                "let both ends autonegotiate; if the switch port is forced, set it to auto too",
            ),
        )


def autoneg_off(ctx: AuditContext) -> Iterator[Finding]:
    for link in ctx.physical():
        st = ctx.settings(link)
        if st is None or st.autoneg is not False or st.supports_autoneg is False:
            continue
        yield Finding(
            "autoneg-off",
            Severity.WARNING,
            link.name,
            link.netns,
            f"autonegotiation is off (forced {st.speed} Mb/s {st.duplex})",
            "a forced end makes an autonegotiating partner fall back to half duplex; "
            "1000BASE-T requires autonegotiation",
            {"autoneg": False, "speed": st.speed, "duplex": st.duplex},
            Fix(
                Fragment.interface(link.name, link.netns, ethernet={"auto-negotiation": True}),
                (("ethtool", "-s", link.name, "autoneg", "on"),),
                "change both ends in the same maintenance window: the link renegotiates",
            ),
        )


def speed_below_advertised(ctx: AuditContext) -> Iterator[Finding]:
    for link in ctx.physical():
        st = ctx.settings(link)
        best = st.best_common() if st else None
        if st is None or best is None or st.speed is None or st.speed >= best[0]:
            continue
        yield Finding(
            "speed-below-advertised",
            Severity.WARNING,
            link.name,
            link.netns,
            f"running at {st.speed} Mb/s although both ends advertise {best[0]} Mb/s",
            "a link that negotiates down usually has a damaged pair in the cable or a bad "
            "port: gigabit needs all four pairs, 100 Mb/s only two",
            {
                "speed": st.speed,
                "best_common": best[0],
                "advertised": list(st.advertised_modes),
                "partner": list(st.partner_modes),
            },
            Fix(
                commands=(("ethtool", "-r", link.name),),
                note="restart autonegotiation; if it comes back slow again, replace the "
                "cable or try another switch port (a person has to)",
            ),
        )


def eee_on_flapping_link(ctx: AuditContext) -> Iterator[Finding]:
    for link in ctx.physical():
        if not flapping.by_counter(link.carrier_down_count):
            continue
        downs = link.carrier_down_count or 0
        eee = ctx.eee(link)
        if eee is None or not eee.enabled:
            continue
        yield Finding(
            "eee-on-flapping-link",
            Severity.WARNING,
            link.name,
            link.netns,
            f"Energy-Efficient Ethernet is on and the link lost carrier {downs} times",
            "EEE low-power idle is a known cause of links that drop when idle and "
            "renegotiate (e1000e/I219 and some switches disagree about wake times)",
            {
                "eee_enabled": eee.enabled,
                "eee_active": eee.active,
                "carrier_down_count": downs,
                "carrier_changes": link.carrier_changes,
            },
            Fix(
                Fragment.interface(link.name, link.netns, ethtool={"eee": {"enabled": False}}),
                (("ethtool", "--set-eee", link.name, "eee", "off"),),
                "the link renegotiates once; watch whether the flaps stop "
                f"(`linkctl diagnose {link.name}` ranks the other causes)",
            ),
        )

"""Checks of what the link does with frames: promiscuous by hand, error and drop counters that grow."""

from __future__ import annotations

from collections.abc import Iterator

from linkctl.diagnose.audit.context import AuditContext, flag_names
from linkctl.diagnose.findings import Finding, Severity, ip
from linkctl.domain.fix import Fix, Fragment
from linkctl.model.state import Link, Stats

ERROR_COUNTERS = (
    "rx_errors",
    "rx_crc_errors",
    "rx_frame_errors",
    "tx_errors",
    "tx_carrier_errors",
    "collisions",
)
LOSS_COUNTERS = (
    "rx_dropped",
    "tx_dropped",
    "rx_over_errors",
    "rx_fifo_errors",
    "tx_fifo_errors",
    "rx_missed_errors",
)


def promisc_by_hand(ctx: AuditContext) -> Iterator[Finding]:
    for link in ctx.host:
        if not link.promisc:
            continue
        yield Finding(
            "promisc-by-hand",
            Severity.WARNING,
            link.name,
            link.netns,
            "promiscuous mode was set by hand (IFF_PROMISC)",
            "the link passes every frame on the wire up the stack: CPU cost, and traffic for "
            "other hosts becomes visible to this one (bridges and packet captures raise the "
            "promiscuity count themselves and do not need it)",
            {"flags": flag_names(link), "promiscuity": link.promiscuity},
            Fix(
                Fragment.interface(link.name, link.netns, **{"accept-all-mac-addresses": False}),
                (ip(link.netns, "link", "set", "dev", link.name, "promisc", "off"),),
            ),
        )


def counters_growing(ctx: AuditContext) -> Iterator[Finding]:
    if ctx.before is None:
        return
    for link in ctx.host:
        old = ctx.before.find(link.name, link.netns)
        if old is None or old.ifindex != link.ifindex or not old.stats or not link.stats:
            continue
        grown = _grown(old.stats, link.stats)
        if grown:
            yield _growth_finding(ctx, link, grown)


def _grown(old: Stats, new: Stats) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for name in (*ERROR_COUNTERS, *LOSS_COUNTERS):
        before, after = getattr(old, name), getattr(new, name)
        if after > before:
            out[name] = {"before": before, "after": after, "delta": after - before}
    return out


def _growth_finding(ctx: AuditContext, link: Link, grown: dict[str, dict[str, int]]) -> Finding:
    errors = any(n in ERROR_COUNTERS for n in grown)
    names = ", ".join(f"{n} +{v['delta']}" for n, v in grown.items())
    fix = Fix(
        commands=(ip(link.netns, "-s", "-s", "link", "show", "dev", link.name),),
        note="rx_dropped also counts frames of protocols nothing listens to (LLDP, STP): "
        "look for a steady rate before tuning",
    )
    if any(n in ("rx_fifo_errors", "rx_over_errors", "rx_missed_errors") for n in grown) and link.parent_bus:
        fix = Fix(
            Fragment.interface(link.name, link.netns, ethtool={"ring": {"rx": 4096}}),
            (("ethtool", "-G", link.name, "rx", "4096"),),
            "the NIC ran out of receive descriptors: a larger rx ring (up to the "
            "maximum `ethtool -g` shows) absorbs bursts",
        )
    return Finding(
        "counters-growing",
        Severity.PROBLEM if errors else Severity.WARNING,
        link.name,
        link.netns,
        f"counters grew during the audit: {names}",
        "errors mean damaged frames (cable, duplex, driver); drops and overruns mean frames "
        "lost for want of buffers or CPU",
        {"seconds": ctx.interval, **{n: v for n, v in grown.items()}},
        fix,
    )

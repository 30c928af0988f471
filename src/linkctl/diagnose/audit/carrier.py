"""The no-carrier check; why an up link has no carrier is diagnose/carrier's (diagnose weighs the same cause)."""

from __future__ import annotations

from collections.abc import Iterator

from linkctl.diagnose.audit.context import AuditContext, flag_names
from linkctl.diagnose.carrier import carrier_cause
from linkctl.diagnose.findings import Finding


def no_carrier(ctx: AuditContext) -> Iterator[Finding]:
    for link in ctx.host:
        if link.is_loopback or not link.no_carrier:
            continue
        cause = carrier_cause(ctx.host, link)
        yield Finding(
            "no-carrier",
            cause.severity,
            link.name,
            link.netns,
            cause.message,
            "the link is administratively up but passes no traffic: whatever uses it "
            "(addresses, routes, bridge ports) is cut off",
            {
                "flags": flag_names(link),
                "operstate": link.operstate.label,
                "carrier": link.carrier,
                "carrier_changes": link.carrier_changes,
                **cause.read,
            },
            cause.fix,
        )

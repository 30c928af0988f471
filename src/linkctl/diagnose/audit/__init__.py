"""`linkctl audit`: configuration problems of every link at once.

Each check is a small function with a stable id (the `check` of its findings). The
input is two dumps of the links (for growing counters), an optional declaration (for
links in the wrong namespace), each namespace's addresses and routes and, for physical NICs only,
what ethtool reports.

The checks live by concern: `mtu`, `placement` (addresses and namespaces), `layer3` (default
routes, duplicate addresses), `carrier`, `traffic` (promiscuity, growing counters) and `ethernet`
(what ethtool reports of NICs); what they read is `context.AuditContext`. This module runs them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from linkctl.diagnose.audit.carrier import no_carrier
from linkctl.diagnose.audit.context import AuditContext, Check
from linkctl.diagnose.audit.ethernet import autoneg_off, eee_on_flapping_link, half_duplex, speed_below_advertised
from linkctl.diagnose.audit.layer3 import dad_failed, default_route_link_down, duplicate_address
from linkctl.diagnose.audit.mtu import bridge_port_mtu_mismatch, veth_mtu_mismatch, vxlan_mtu_overhead
from linkctl.diagnose.audit.placement import address_on_port, vxlan_local_not_assigned, wrong_netns
from linkctl.diagnose.audit.traffic import counters_growing, promisc_by_hand
from linkctl.diagnose.findings import Finding
from linkctl.diagnose.reachable import reachable, read_reachable
from linkctl.errors import LinkctlError
from linkctl.kernel import netns as netns_mod
from linkctl.kernel.ethtool import Runner, run_program
from linkctl.kernel.state import read_state
from linkctl.model.spec import Declaration
from linkctl.model.state import NetnsName

__all__ = [
    "CHECKS",
    "AuditContext",
    "Check",
    "audit_namespaces",
    "run_audit",
    "run_checks",
]


CHECKS: dict[str, Check] = {
    "vxlan-mtu-overhead": vxlan_mtu_overhead,
    "veth-mtu-mismatch": veth_mtu_mismatch,
    "bridge-port-mtu-mismatch": bridge_port_mtu_mismatch,
    "vxlan-local-not-assigned": vxlan_local_not_assigned,
    "address-on-port": address_on_port,
    "default-route-link-down": default_route_link_down,
    "duplicate-address": duplicate_address,
    "dad-failed": dad_failed,
    "no-carrier": no_carrier,
    "promisc-by-hand": promisc_by_hand,
    "counters-growing": counters_growing,
    "half-duplex": half_duplex,
    "autoneg-off": autoneg_off,
    "speed-below-advertised": speed_below_advertised,
    "eee-on-flapping-link": eee_on_flapping_link,
    "wrong-netns": wrong_netns,
}


def run_checks(ctx: AuditContext, only: list[str] | None = None) -> list[Finding]:
    findings: list[Finding] = []
    for name, check in CHECKS.items():
        if only is None or name in only:
            findings.extend(check(ctx))
    return sorted(findings, key=lambda f: (-f.severity.rank, f.netns or "", f.ifname, f.check))


def audit_namespaces(netns: NetnsName | None, all_netns: bool) -> list[NetnsName]:
    if not all_netns:
        return [netns]
    return [None, *netns_mod.list_names()]


def run_audit(
    namespaces: list[NetnsName],
    declaration: Declaration | None = None,
    interval: float = 1.0,
    between: Callable[[], None] | None = None,
    runner: Runner = run_program,
    default_netns: NetnsName = None,
) -> tuple[list[Finding], AuditContext]:
    """Two dumps `interval` apart (or around `between`), then every check."""
    for name in namespaces:
        if not netns_mod.exists(name):
            raise LinkctlError(f"--netns {name}: no such network namespace (see `ip netns list`)")
    wanted = list(namespaces)
    if declaration is not None:
        wanted += [None, *netns_mod.list_names()]
    wanted, refused = reachable(namespaces, wanted)
    # The namespaces their veth peers and underlays live in are read too (a check may need the
    # other end); findings are kept for the namespaces asked for.
    before = read_reachable(wanted, refused, stats=True)
    wanted = list(before.namespaces)
    started = time.monotonic()
    if between is not None:
        between()
    else:
        time.sleep(interval)
    after = read_state(wanted, stats=True)
    elapsed = round(time.monotonic() - started, 3)
    ctx = AuditContext(after, before, declaration, default_netns, runner, elapsed)
    ctx.unreadable.update((f"netns {name}", why) for name, why in refused.items())
    findings = run_checks(ctx)
    keep = set(namespaces)
    # a link in the wrong namespace is reported wherever it is found
    return [f for f in findings if f.netns in keep or f.check == "wrong-netns"], ctx

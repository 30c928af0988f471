"""The `ethtool:`, `ethernet:` and `kernel-modules:` sections through the engine: the settings
planner (plan/settings.py) given what kernel/settings_io.py reads, and each of its ops carried
out for the one executor (engine/executor.py).

What happens around them is the links' own: `apply` plans them again once the links are verified
(links created just now can only be read once they exist), journals the values they find
(engine/journal.py) before the first of them, runs them through the executor and verifies them
by planning again (a second plan is empty); every rollback (a failure, `try`, its guardian,
`recover`) puts the found values back and checks them (engine/rollback.py).

/etc and /sys come from `sysinfo.Roots`, so tests work in temp trees; the ops carry the paths.
"""

from __future__ import annotations

from pathlib import Path

from linkctl.engine.errors import RemediationFailed as RemediationFailed
from linkctl.kernel import modules, settings_io, sysinfo
from linkctl.kernel.ethtool import Runner, run_program
from linkctl.model.spec import Declaration
from linkctl.model.state import HostState, NetnsName
from linkctl.plan.settings import RELOAD_NOTE as RELOAD_NOTE
from linkctl.plan.settings import SettingsPlan, plan_settings, query, redeclare, redeclared_query
from linkctl.plan.settings import render_modprobe as render_modprobe
from linkctl.plan.settings_ops import SetEthtool, SetModuleParam, SettingOp, WriteModprobe

RemediationPlan = SettingsPlan  # the name engine/apply and the CLI know it by


def plan_remediation(
    decl: Declaration,
    host: HostState,
    default_netns: NetnsName = None,
    runner: Runner = run_program,
    roots: sysinfo.Roots = sysinfo.ROOTS,
    source: str = "declaration",
) -> SettingsPlan:
    """What `apply` would change in ethtool settings and module parameters; reads only.
    Raises ValidationFailed, naming every field that cannot be carried out."""
    state = settings_io.read(query(decl, host, default_netns), runner, roots)
    return plan_settings(decl, host, state, default_netns, source)


def carry_out(op: SettingOp) -> None:
    """One settings op, for the executor (raises EthtoolError or OSError when refused)."""
    if isinstance(op, SetEthtool):
        settings_io.set_ethtool(op.name, op.netns, op.section, dict(op.after))
    elif isinstance(op, WriteModprobe):
        modules.put(Path(op.path), op.new)
    elif isinstance(op, SetModuleParam):
        modules.write_param(Path(op.path), op.new)
    else:  # pragma: no cover - every SettingOp subclass is handled above
        raise TypeError(op)


def differing(targets: list[SettingOp]) -> tuple[list[SettingOp], list[str]]:
    """The ops that would give each target's setting its value now (none: as declared), and the
    settings that cannot be read to tell: a rollback's plan, and its check."""
    return redeclare(targets, settings_io.read(redeclared_query(targets)))

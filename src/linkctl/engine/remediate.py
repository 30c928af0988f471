"""Plan and apply the `ethtool:` and `ethernet:` sections and `kernel-modules:`.

- ethtool settings go through the ethtool adapter (`linkctl.kernel.ethtool`); only the
  keys that differ are sent, each change is verified by reading it back, and on any
  failure the changes already made are undone in reverse order.
- `kernel-modules: {DRIVER: {parameters: {...}}}` is rendered to
  /etc/modprobe.d/linkctl-DRIVER.conf (written atomically), and each parameter is set at
  runtime through /sys/module/DRIVER/parameters/NAME where the module made it writable.
  Otherwise the plan says it takes effect after the module reloads. A module is never
  reloaded here: that takes its links down, which is the operator's call.
- Idempotent: when nothing differs the plan is empty and nothing is written.
- /etc and /sys come from `sysinfo.Roots`, so tests work in temp trees.

What to change is decided here; the steps and carrying them out are in
`engine/remediate_steps.py`, the files and programs in `kernel/modules.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from linkctl.engine.errors import RemediationFailed as RemediationFailed
from linkctl.engine.remediate_steps import (
    READERS,
    Change,
    EthtoolChange,
    ModprobeFile,
    ModuleParam,
    RemediationPlan,
    RemediationResult,
    apply_remediation,
    norm,
    same,
    undo_remediation,
)
from linkctl.errors import Problem, ValidationFailed
from linkctl.kernel import modules, sysinfo
from linkctl.kernel.ethtool import Ethtool, EthtoolError, Runner, Unsupported, run_program
from linkctl.kernel.ethtool_settings import feature_key
from linkctl.model.ethtool_spec import MODULE_NAME, ParamValue, render_param
from linkctl.model.spec import Declaration, InterfaceSpec
from linkctl.model.state import HostState, NetnsName

# engine/apply and the tests reach the steps and their execution through this module.
__all__ = [
    "RELOAD_NOTE",
    "Change",
    "EthtoolChange",
    "ModprobeFile",
    "ModuleParam",
    "RemediationFailed",
    "RemediationPlan",
    "RemediationResult",
    "apply_remediation",
    "modprobe_path",
    "plan_remediation",
    "render_modprobe",
    "undo_remediation",
]

RELOAD_NOTE = (
    "takes effect after the module reloads (`modprobe -r {d} && modprobe {d}`, which takes "
    "its links down) or at the next boot; linkctl never reloads a module"
)


# -- ethtool sections -------------------------------------------------------------------


def _wanted(spec: InterfaceSpec) -> dict[str, dict[str, Any]]:
    """The declared ethtool keys per section, in ethtool's own spelling."""
    out: dict[str, dict[str, Any]] = {}
    et = spec.ethtool
    if et is not None:
        if et.eee is not None and et.eee.enabled is not None:
            out["eee"] = {"enabled": et.eee.enabled}
        for name, sub in (("pause", et.pause), ("coalesce", et.coalesce), ("ring", et.ring)):
            if sub is not None:
                values = sub.model_dump(by_alias=True, exclude_none=True)
                if values:
                    out[name] = values
        if et.feature:
            out["feature"] = dict(et.feature)
    eth = spec.ethernet
    if eth is not None:
        values = {}
        if eth.speed is not None:
            values["speed"] = eth.speed
        if eth.duplex is not None:
            values["duplex"] = eth.duplex.value
        if eth.auto_negotiation is not None:
            values["autoneg"] = eth.auto_negotiation
        if values:
            out["ethernet"] = values
    return out


def _ethtool_plan(
    spec: InterfaceSpec, netns: NetnsName, runner: Runner, plan: RemediationPlan, problems: list[Problem], where: str
) -> None:
    et = Ethtool(spec.name, netns, runner)
    for section, want in _wanted(spec).items():
        try:
            have = READERS[section](et, list(want))
        except Unsupported:
            problems.append(
                Problem(
                    where,
                    _field(section),
                    want,
                    "the driver does not support this (`ethtool` answers 'Operation not supported'): remove the key",
                )
            )
            continue
        except EthtoolError as exc:
            problems.append(Problem(where, _field(section), want, str(exc)))
            continue
        diff = _check_section(section, want, have, et, where, problems)
        if diff:
            before = {k: have.get(k) for k in diff}
            plan.changes.append(EthtoolChange(spec.name, netns, section, before, diff, runner))


def _field(section: str) -> str:
    return "ethernet" if section == "ethernet" else f"ethtool.{section}"


def _check_section(
    section: str, want: dict[str, Any], have: dict[str, Any], et: Ethtool, where: str, problems: list[Problem]
) -> dict[str, Any]:
    if section == "eee" and have.get("enabled") is None:
        problems.append(
            Problem(where, "ethtool.eee.enabled", want["enabled"], "the driver has no EEE support: remove the key")
        )
        return {}
    if section == "feature":
        return _feature_diff(want, et, where, problems)
    if section == "ring":
        _ring_limits(want, et, where, problems)
    diff: dict[str, Any] = {}
    for key, value in want.items():
        if key not in have and section in ("coalesce", "ring"):
            problems.append(
                Problem(
                    where, f"{_field(section)}.{key}", value, "the driver does not report this setting: remove the key"
                )
            )
        elif not same(have.get(key), value):
            diff[key] = value
    return diff


def _feature_diff(want: dict[str, Any], et: Ethtool, where: str, problems: list[Problem]) -> dict[str, Any]:
    feats = et.features()
    diff: dict[str, Any] = {}
    for name, value in want.items():
        feat = feats.get(feature_key(name))
        if feat is None:
            problems.append(
                Problem(where, f"ethtool.feature.{name}", value, "a feature `ethtool -k` lists for this link")
            )
        elif feat.active != value and feat.fixed:
            problems.append(
                Problem(
                    where,
                    f"ethtool.feature.{name}",
                    value,
                    f"fixed {'on' if feat.active else 'off'} by the driver: remove the key",
                )
            )
        elif feat.active != value:
            diff[name] = value
    return diff


def _ring_limits(want: dict[str, Any], et: Ethtool, where: str, problems: list[Problem]) -> None:
    maximum = et.rings().maximum
    for key, value in want.items():
        top = maximum.get(key)
        if top is not None and value > top:
            problems.append(Problem(where, f"ethtool.ring.{key}", value, f"at most {top} on this NIC"))


# -- kernel modules ---------------------------------------------------------------------


def render_modprobe(driver: str, params: Mapping[str, ParamValue]) -> str:
    words = " ".join(f"{k}={render_param(v)}" for k, v in sorted(params.items()))
    return (
        "# Written by linkctl from the `kernel-modules:` section of a declaration.\n"
        "# Edit the declaration and apply it again; changes made here are overwritten.\n"
        f"options {driver} {words}\n"
    )


def modprobe_path(driver: str, roots: sysinfo.Roots) -> Path:
    return modules.conf_dir(roots) / f"linkctl-{driver}.conf"


def _module_plan(
    driver: str,
    params: Mapping[str, ParamValue],
    roots: sysinfo.Roots,
    plan: RemediationPlan,
    problems: list[Problem],
    source: str,
) -> None:
    where = f"{source}: kernel-modules"
    if not MODULE_NAME.match(driver):
        problems.append(Problem(where, driver, driver, "a module name as `lsmod` prints it"))
        return
    unknown = _unknown_params(driver, params)
    for name in unknown:
        problems.append(
            Problem(
                where,
                f"{driver}.parameters.{name}",
                params[name],
                f"a parameter of {driver} (see `modinfo -p {driver}`)",
            )
        )
    if unknown:
        return
    path = modprobe_path(driver, roots)
    old = modules.read(path)
    new = render_modprobe(driver, params) if params else None
    if old != new:
        plan.changes.append(ModprobeFile(driver, path, old, new))
        if new is not None:
            plan.notes.append(
                f"if {driver} loads from the initramfs, rebuild it (update-initramfs -u "
                "or dracut -f) so the options apply at boot"
            )
    _runtime_plan(driver, params, roots, plan)
    _conflicts(driver, params, path, roots, plan)


def _runtime_plan(driver: str, params: Mapping[str, ParamValue], roots: sysinfo.Roots, plan: RemediationPlan) -> None:
    if not modules.loaded(driver, roots):
        if params:
            plan.notes.append(f"{driver} is not loaded: its options apply when it loads")
        return
    now = sysinfo.module_params(driver, roots)
    for name, value in sorted(params.items()):
        want = render_param(value)
        cur = now.get(name)
        if cur is not None and norm(cur.value) == norm(want):
            continue
        if cur is not None and cur.writable and cur.value is not None:
            plan.changes.append(ModuleParam(driver, name, cur.value, want, roots))
        else:
            why = "read-only" if cur is not None else "not exposed in /sys"
            plan.notes.append(f"{driver}.{name}={want} ({why} at runtime): " + RELOAD_NOTE.format(d=driver))


def _unknown_params(driver: str, params: Mapping[str, ParamValue]) -> list[str]:
    """Names `modinfo -p` does not list; [] when modinfo cannot tell (no module files)."""
    if not params:
        return []
    known = modules.known_params(driver)
    if known is None:
        return []
    return [n for n in params if n not in known]


def _conflicts(
    driver: str, params: Mapping[str, ParamValue], ours: Path, roots: sysinfo.Roots, plan: RemediationPlan
) -> None:
    confs = modules.conf_files(roots)
    if confs is None:
        return
    for other in (p for p in confs if p != ours):
        for line in (modules.read(other) or "").splitlines():
            words = line.split()
            if len(words) > 2 and words[0] == "options" and words[1] == driver:
                clash = [w for w in words[2:] if w.split("=", 1)[0] in params]
                if clash:
                    plan.notes.append(
                        f"{other} also sets {' '.join(clash)}: modprobe reads both files; "
                        "remove it there to keep one source"
                    )


# -- entry points ---------------------------------------------------------------------


def plan_remediation(
    decl: Declaration,
    host: HostState,
    default_netns: NetnsName = None,
    runner: Runner = run_program,
    roots: sysinfo.Roots = sysinfo.ROOTS,
    source: str = "declaration",
) -> RemediationPlan:
    """What `apply` would change in ethtool settings and module parameters; reads only.
    Raises ValidationFailed, naming every field that cannot be carried out."""
    plan = RemediationPlan()
    problems: list[Problem] = []
    for driver, mod in sorted((decl.kernel_modules or {}).items()):
        _module_plan(driver, mod.parameters or {}, roots, plan, problems, source)
    for spec in decl.interfaces:
        if spec.absent or not _wanted(spec):
            continue
        netns = spec.netns if spec.netns is not None else default_netns
        if host.find(spec.name, netns) is None:
            plan.notes.append(f"{spec.name}: does not exist yet; its ethtool settings are planned once it does")
            continue
        _ethtool_plan(spec, netns, runner, plan, problems, f"{source}: interface {spec.name}")
    if problems:
        raise ValidationFailed(problems)
    return plan

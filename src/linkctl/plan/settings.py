"""The settings planner: the `ethtool:` and `ethernet:` sections of interfaces and the top-level
`kernel-modules:` section, against the system as read (model/settings_state.py), to ops
(plan/settings_ops.py). Pure: kernel/settings_io.py reads what `query` asks for.

- ethtool: only the keys that differ are set, one op per section of a link.
- `kernel-modules: {DRIVER: {parameters: {...}}}` is linkctl's modprobe.d file for DRIVER (its
  whole text), and each parameter is set at runtime where the module made it writable;
  otherwise a note says it takes effect after the module reloads. A module is never reloaded:
  that takes its links down, which is the operator's call.
- Nothing differs, no op: verification is a second plan that is empty, and a rollback is the
  found values re-declared (`redeclare`), checked the same way.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from linkctl.errors import Problem, ValidationFailed
from linkctl.model.ethtool_spec import MODULE_NAME, ParamValue, render_param
from linkctl.model.settings_state import (
    ModuleReading,
    SectionKey,
    SectionReading,
    SettingsQuery,
    SettingsState,
    feature_key,
)
from linkctl.model.spec import Declaration, InterfaceSpec
from linkctl.model.state import HostState, NetnsName
from linkctl.plan.settings_ops import SetEthtool, SetModuleParam, SettingOp, WriteModprobe, values

RELOAD_NOTE = (
    "takes effect after the module reloads (`modprobe -r {d} && modprobe {d}`, which takes "
    "its links down) or at the next boot; linkctl never reloads a module"
)


@dataclass
class SettingsPlan:
    ops: list[SettingOp] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.ops

    def lines(self) -> list[str]:
        """One entry per op, its command on a second line, then the notes (the plan's `extra`)."""
        out = [f"{op.describe()}\n    {shlex.join(op.ip_command())}" for op in self.ops]
        return out + [f"note: {n}" for n in self.notes]

    def undo(self) -> list[SettingOp]:
        """The values found, re-declared: what puts them back, newest first."""
        return [op.undo() for op in reversed(self.ops)]


def has_settings(decl: Declaration) -> bool:
    """ethtool, ethernet or kernel-modules sections: carried out by ethtool and /sys, not netlink."""
    return bool(decl.kernel_modules) or any(s.ethtool or s.ethernet for s in decl.interfaces)


# -- what to read -----------------------------------------------------------------------


def query(decl: Declaration, host: HostState, default_netns: NetnsName = None) -> SettingsQuery:
    """What `plan_settings` needs read for this declaration."""
    sections = [
        (netns, spec.name, section)
        for spec, netns in _links(decl, host, default_netns)
        if host.find(spec.name, netns) is not None
        for section in wanted(spec)
    ]
    modules = [
        (driver, bool(mod.parameters))
        for driver, mod in sorted((decl.kernel_modules or {}).items())
        if MODULE_NAME.match(driver)
    ]
    return SettingsQuery(sections=tuple(sections), modules=tuple(modules))


def redeclared_query(targets: list[SettingOp]) -> SettingsQuery:
    """What `redeclare` needs read: each target's own setting."""
    return SettingsQuery(
        sections=tuple((op.netns, op.name, op.section) for op in targets if isinstance(op, SetEthtool)),
        files=tuple(op.path for op in targets if isinstance(op, WriteModprobe)),
        params=tuple(op.path for op in targets if isinstance(op, SetModuleParam)),
    )


def _links(decl: Declaration, host: HostState, default_netns: NetnsName) -> list[tuple[InterfaceSpec, NetnsName]]:
    return [
        (spec, spec.netns if spec.netns is not None else default_netns)
        for spec in decl.interfaces
        if not spec.absent and wanted(spec)
    ]


def wanted(spec: InterfaceSpec) -> dict[str, dict[str, Any]]:
    """The declared ethtool keys per section, in ethtool's own spelling."""
    out: dict[str, dict[str, Any]] = {}
    et = spec.ethtool
    if et is not None:
        if et.eee is not None and et.eee.enabled is not None:
            out["eee"] = {"enabled": et.eee.enabled}
        for name, sub in (("pause", et.pause), ("coalesce", et.coalesce), ("ring", et.ring)):
            if sub is not None:
                found = sub.model_dump(by_alias=True, exclude_none=True)
                if found:
                    out[name] = found
        if et.feature:
            out["feature"] = dict(et.feature)
    eth = spec.ethernet
    if eth is not None:
        link: dict[str, Any] = {}
        if eth.speed is not None:
            link["speed"] = eth.speed
        if eth.duplex is not None:
            link["duplex"] = eth.duplex.value
        if eth.auto_negotiation is not None:
            link["autoneg"] = eth.auto_negotiation
        if link:
            out["ethernet"] = link
    return out


# -- the plan ---------------------------------------------------------------------------


def plan_settings(
    decl: Declaration,
    host: HostState,
    state: SettingsState,
    default_netns: NetnsName = None,
    source: str = "declaration",
) -> SettingsPlan:
    """What `apply` would change in ethtool settings and module parameters.
    Raises ValidationFailed, naming every field that cannot be carried out."""
    plan = SettingsPlan()
    problems: list[Problem] = []
    for driver, mod in sorted((decl.kernel_modules or {}).items()):
        _module_plan(driver, mod.parameters or {}, state, plan, problems, source)
    for spec, netns in _links(decl, host, default_netns):
        if host.find(spec.name, netns) is None:
            plan.notes.append(f"{spec.name}: does not exist yet; its ethtool settings are planned once it does")
            continue
        where = f"{source}: interface {spec.name}"
        for section, want in wanted(spec).items():
            reading = state.sections[(netns, spec.name, section)]
            diff = _section_diff(section, want, reading, where, problems)
            if diff:
                before = {k: reading.value(section, k) for k in diff}
                plan.ops.append(
                    SetEthtool(spec.name, netns, section=section, before=values(before), after=values(diff))
                )
    if problems:
        raise ValidationFailed(problems)
    return plan


def _field(section: str) -> str:
    return "ethernet" if section == "ethernet" else f"ethtool.{section}"


def _section_diff(
    section: str, want: dict[str, Any], reading: SectionReading, where: str, problems: list[Problem]
) -> dict[str, Any]:
    if reading.unsupported:
        fix = "the driver does not support this (`ethtool` answers 'Operation not supported'): remove the key"
        problems.append(Problem(where, _field(section), want, fix))
        return {}
    if reading.error is not None:
        problems.append(Problem(where, _field(section), want, reading.error))
        return {}
    if section == "eee" and reading.values.get("enabled") is None:
        problems.append(
            Problem(where, "ethtool.eee.enabled", want["enabled"], "the driver has no EEE support: remove the key")
        )
        return {}
    if section == "feature":
        return _feature_diff(want, reading, where, problems)
    if section == "ring":
        _ring_limits(want, reading, where, problems)
    diff: dict[str, Any] = {}
    for key, value in want.items():
        if not reading.has(section, key) and section in ("coalesce", "ring"):
            problems.append(
                Problem(
                    where, f"{_field(section)}.{key}", value, "the driver does not report this setting: remove the key"
                )
            )
        elif not same(reading.value(section, key), value):
            diff[key] = value
    return diff


def _feature_diff(want: dict[str, Any], reading: SectionReading, where: str, problems: list[Problem]) -> dict[str, Any]:
    diff: dict[str, Any] = {}
    for name, value in want.items():
        active = reading.value("feature", name)
        if active is None:
            problems.append(
                Problem(where, f"ethtool.feature.{name}", value, "a feature `ethtool -k` lists for this link")
            )
        elif active != value and feature_key(name) in reading.fixed:
            problems.append(
                Problem(
                    where,
                    f"ethtool.feature.{name}",
                    value,
                    f"fixed {'on' if active else 'off'} by the driver: remove the key",
                )
            )
        elif active != value:
            diff[name] = value
    return diff


def _ring_limits(want: dict[str, Any], reading: SectionReading, where: str, problems: list[Problem]) -> None:
    for key, value in want.items():
        top = reading.maximum.get(key)
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


def _module_plan(
    driver: str,
    params: Mapping[str, ParamValue],
    state: SettingsState,
    plan: SettingsPlan,
    problems: list[Problem],
    source: str,
) -> None:
    where = f"{source}: kernel-modules"
    if not MODULE_NAME.match(driver):
        problems.append(Problem(where, driver, driver, "a module name as `lsmod` prints it"))
        return
    mod = state.modules[driver]
    # Names `modinfo -p` does not list (none when modinfo cannot tell: no module files).
    unknown = [n for n in params if mod.known is not None and n not in mod.known]
    for name in unknown:
        problems.append(
            Problem(
                where,
                f"{driver}.parameters.{name}",
                params[name],
                f"a parameter of {driver} (see `modinfo -p {driver}`)",
            )
        )
    if unknown or _builtin_refused(driver, params, mod, where, problems):
        return
    new = render_modprobe(driver, params) if params else None
    if mod.conf_text != new:
        plan.ops.append(WriteModprobe(driver, None, path=mod.conf_path, old=mod.conf_text, new=new))
        if new is not None:
            plan.notes.append(
                f"if {driver} loads from the initramfs, rebuild it (update-initramfs -u "
                "or dracut -f) so the options apply at boot"
            )
    _runtime_plan(driver, params, mod, plan)
    _conflicts(driver, params, mod, plan)


def _builtin_refused(
    driver: str, params: Mapping[str, ParamValue], mod: ModuleReading, where: str, problems: list[Problem]
) -> bool:
    """A built-in module's parameters that /sys does not let be written now: no modprobe.d file and
    no reload ever sets them (the kernel command line does)."""
    if not mod.builtin:
        return False
    fixed = [n for n in params if (cur := mod.params.get(n)) is None or not cur.writable]
    for name in fixed:
        problems.append(
            Problem(where, f"{driver}.parameters.{name}", params[name], _builtin_why(driver, name, params, mod))
        )
    return bool(fixed)


def _builtin_why(driver: str, name: str, params: Mapping[str, ParamValue], mod: ModuleReading) -> str:
    boot = f"{driver}.{name}={render_param(params[name])}"
    if not mod.present:  # a kernel without modules, and no /sys/module/DRIVER: not built in either
        return (
            f"this kernel loads no modules and has no {mod.param_dir.removesuffix('/parameters')}: {driver} is "
            f"not in it (or built in without parameters), so nothing here takes {name}; remove it here (on a "
            f"kernel with {driver} built in, boot with {boot} on the kernel command line)"
        )
    return (
        f"{driver} is built into the kernel (it never loads, so modprobe.d does not apply) and /sys "
        f"does not let it be set at runtime: boot with {boot} on the kernel command line instead, and remove it here"
    )


def _runtime_plan(driver: str, params: Mapping[str, ParamValue], mod: ModuleReading, plan: SettingsPlan) -> None:
    if not mod.loaded:
        if params:
            plan.notes.append(f"{driver} is not loaded: its options apply when it loads")
        return
    for name, value in sorted(params.items()):
        want = render_param(value)
        cur = mod.params.get(name)
        if cur is not None and norm(cur.value) == norm(want):
            continue
        if cur is not None and cur.writable and cur.value is not None:
            path = f"{mod.param_dir}/{name}"
            plan.ops.append(SetModuleParam(driver, None, param=name, path=path, old=cur.value, new=want))
        else:
            why = "read-only" if cur is not None else "not exposed in /sys"
            plan.notes.append(f"{driver}.{name}={want} ({why} at runtime): " + RELOAD_NOTE.format(d=driver))


def _conflicts(driver: str, params: Mapping[str, ParamValue], mod: ModuleReading, plan: SettingsPlan) -> None:
    for other, text in mod.others or ():
        for line in (text or "").splitlines():
            words = line.split()
            if len(words) > 2 and words[0] == "options" and words[1] == driver:
                clash = [w for w in words[2:] if w.split("=", 1)[0] in params]
                if clash:
                    plan.notes.append(
                        f"{other} also sets {' '.join(clash)}: modprobe reads both files; "
                        "remove it there to keep one source"
                    )


# -- a rollback: the values found, declared again ---------------------------------------


def redeclare(targets: list[SettingOp], state: SettingsState) -> tuple[list[SettingOp], list[str]]:
    """The ops that give each target's setting the value the target sets, as the settings are now
    (none where it has it already), and what cannot be read to tell."""
    ops: list[SettingOp] = []
    unreadable: list[str] = []
    for target in targets:
        if isinstance(target, SetEthtool):
            op = _ethtool_back(target, state.sections.get(_key(target)), unreadable)
        elif isinstance(target, WriteModprobe):
            now = state.files.get(target.path)
            op = (
                None
                if now == target.new
                else WriteModprobe(target.name, None, path=target.path, old=now, new=target.new)
            )
        elif isinstance(target, SetModuleParam):
            found = state.params.get(target.path)
            op = None if norm(found) == norm(target.new) else _param_op(target, found)
        else:  # pragma: no cover - every SettingOp subclass is handled above
            raise TypeError(target)
        if op is not None:
            ops.append(op)
    return ops, unreadable


def _key(op: SetEthtool) -> SectionKey:
    return (op.netns, op.name, op.section)


def _ethtool_back(target: SetEthtool, reading: SectionReading | None, unreadable: list[str]) -> SettingOp | None:
    if reading is None or reading.unsupported or reading.error is not None:
        why = reading.error if reading is not None and reading.error else "cannot be read"
        unreadable.append(f"ethtool {target.section} of {target.where()}: {why}")
        return None
    diff = {k: v for k, v in target.after if not same(reading.value(target.section, k), v)}
    if not diff:
        return None
    before = values({k: reading.value(target.section, k) for k in diff})
    return SetEthtool(target.name, target.netns, section=target.section, before=before, after=values(diff))


def _param_op(target: SetModuleParam, found: str | None) -> SettingOp:
    return SetModuleParam(target.name, None, param=target.param, path=target.path, old=found, new=target.new)


# -- comparing values as the system spells them ------------------------------------------


def same(have: Any, want: Any) -> bool:
    return have == want or (isinstance(have, str) and str(want).lower() == have.lower())


def norm(value: str | None) -> str | None:
    """sysfs prints bool parameters as Y/N; modprobe and linkctl write 1/0."""
    return {"Y": "1", "N": "0"}.get(value, value) if value is not None else None

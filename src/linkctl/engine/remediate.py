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
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linkctl import interrupts
from linkctl.engine.errors import RemediationFailed as RemediationFailed
from linkctl.errors import LinkctlError, Problem, ValidationFailed
from linkctl.kernel import sysinfo
from linkctl.kernel.ethtool import Ethtool, EthtoolError, Runner, Unsupported, feature_key, run_program
from linkctl.model.ethtool_spec import MODULE_NAME, ParamValue, render_param
from linkctl.model.spec import Declaration, InterfaceSpec
from linkctl.model.state import HostState, NetnsName

RELOAD_NOTE = (
    "takes effect after the module reloads (`modprobe -r {d} && modprobe {d}`, which takes "
    "its links down) or at the next boot; linkctl never reloads a module"
)


class Change:
    """One write, with the command a person would type and how to undo it."""

    def describe(self) -> str:
        raise NotImplementedError

    def command(self) -> list[str]:
        raise NotImplementedError

    def apply(self) -> None:
        raise NotImplementedError

    def undo(self) -> None:
        raise NotImplementedError


@dataclass
class EthtoolChange(Change):
    ifname: str
    netns: NetnsName
    section: str  # eee, pause, feature, coalesce, ring, ethernet
    before: dict[str, Any]
    after: dict[str, Any]
    runner: Runner = run_program

    def _et(self) -> Ethtool:
        return Ethtool(self.ifname, self.netns, self.runner)

    def describe(self) -> str:
        where = f"{self.ifname} (netns {self.netns})" if self.netns else self.ifname
        diffs = ", ".join(f"{k} {self.before.get(k)} -> {v}" for k, v in self.after.items())
        return f"set ethtool {self.section} of {where}: {diffs}"

    def command(self) -> list[str]:
        return self._et().command(_args(self.section, self.ifname, self.after))

    def apply(self) -> None:
        _SETTERS[self.section](self._et(), self.after)
        self.verify()

    def undo(self) -> None:
        _SETTERS[self.section](self._et(), _undo_values(self.section, self.before))

    def verify(self) -> None:
        now = _READERS[self.section](self._et(), list(self.after))
        wrong = {k: (v, now.get(k)) for k, v in self.after.items() if not _same(now.get(k), v)}
        if wrong:
            text = ", ".join(f"{k}: wanted {w}, driver has {h}" for k, (w, h) in wrong.items())
            raise EthtoolError(f"{self.ifname}: ethtool {self.section} did not take: {text}")


@dataclass
class ModprobeFile(Change):
    driver: str
    path: Path
    old: str | None
    new: str | None

    def describe(self) -> str:
        if self.new is None:
            return f"remove {self.path} (no parameters declared for {self.driver})"
        verb = "write" if self.old is None else "rewrite"
        return f"{verb} {self.path}: {self.new.strip().splitlines()[-1]}"

    def command(self) -> list[str]:
        if self.new is None:
            return ["rm", str(self.path)]
        return ["tee", str(self.path)]

    def apply(self) -> None:
        _put(self.path, self.new)

    def undo(self) -> None:
        _put(self.path, self.old)


@dataclass
class ModuleParam(Change):
    driver: str
    name: str
    old: str
    new: str
    roots: sysinfo.Roots = sysinfo.ROOTS

    def describe(self) -> str:
        return f"set {self.driver} parameter {self.name} at runtime: {self.old} -> {self.new}"

    def command(self) -> list[str]:
        return ["tee", str(self.roots.sys / "module" / self.driver / "parameters" / self.name)]

    def apply(self) -> None:
        sysinfo.write_param(self.driver, self.name, self.new, self.roots)
        now = sysinfo.module_params(self.driver, self.roots).get(self.name)
        if now is None or _norm(now.value) != _norm(self.new):
            got = now.value if now else None
            raise RemediationFailed(f"{self.driver}.{self.name}: wrote {self.new}, reads back {got}")

    def undo(self) -> None:
        sysinfo.write_param(self.driver, self.name, self.old, self.roots)


def _put(path: Path, text: str | None) -> None:
    """Atomic replace (or removal) of a small file."""
    if text is None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.linkctl-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


@dataclass
class RemediationPlan:
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.changes

    def lines(self) -> list[str]:
        out = [f"{c.describe()}\n    {shlex.join(c.command())}" for c in self.changes]
        return out + [f"note: {n}" for n in self.notes]


# -- ethtool sections -------------------------------------------------------------------


def _args(section: str, ifname: str, values: Mapping[str, Any]) -> list[str]:
    if section == "eee":
        return ["--set-eee", ifname, "eee", "on" if values["enabled"] else "off"]
    flag = {"pause": "-A", "feature": "-K", "coalesce": "-C", "ring": "-G", "ethernet": "-s"}[section]
    words: list[str] = []
    for key, value in values.items():
        words += [key, ("on" if value else "off") if isinstance(value, bool) else str(value)]
    return [flag, ifname, *words]


_SETTERS: dict[str, Callable[[Ethtool, Mapping[str, Any]], list[str]]] = {
    "eee": lambda e, v: e.set_eee(bool(v["enabled"])),
    "pause": lambda e, v: e.set_pause(v),
    "feature": lambda e, v: e.set_features(v),
    "coalesce": lambda e, v: e.set_coalesce(v),
    "ring": lambda e, v: e.set_rings(v),
    "ethernet": lambda e, v: e.set_link(v),
}


def _read_eee(e: Ethtool, keys: list[str]) -> dict[str, Any]:
    return {"enabled": e.eee().enabled}


def _read_pause(e: Ethtool, keys: list[str]) -> dict[str, Any]:
    p = e.pause()
    return {"autoneg": p.autoneg, "rx": p.rx, "tx": p.tx}


def _read_features(e: Ethtool, keys: list[str]) -> dict[str, Any]:
    feats = e.features()
    return {k: feats[feature_key(k)].active for k in keys if feature_key(k) in feats}


def _read_ethernet(e: Ethtool, keys: list[str]) -> dict[str, Any]:
    st = e.settings()
    return {"speed": st.speed, "duplex": st.duplex, "autoneg": st.autoneg}


_READERS: dict[str, Callable[[Ethtool, list[str]], dict[str, Any]]] = {
    "eee": _read_eee,
    "pause": _read_pause,
    "feature": _read_features,
    "coalesce": lambda e, k: dict(e.coalesce()),
    "ring": lambda e, k: dict(e.rings().current),
    "ethernet": _read_ethernet,
}


def _undo_values(section: str, before: dict[str, Any]) -> dict[str, Any]:
    if section == "ethernet" and before.get("autoneg"):
        return {"autoneg": True}  # restoring autonegotiation restores what it picks
    return before


def _same(have: Any, want: Any) -> bool:
    return have == want or (isinstance(have, str) and str(want).lower() == have.lower())


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
            have = _READERS[section](et, list(want))
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
        elif not _same(have.get(key), value):
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
    return roots.etc / "modprobe.d" / f"linkctl-{driver}.conf"


def _norm(value: str | None) -> str | None:
    return {"Y": "1", "N": "0"}.get(value, value) if value is not None else None


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
    old = _read(path)
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
    if not (roots.sys / "module" / driver).is_dir():
        if params:
            plan.notes.append(f"{driver} is not loaded: its options apply when it loads")
        return
    now = sysinfo.module_params(driver, roots)
    for name, value in sorted(params.items()):
        want = render_param(value)
        cur = now.get(name)
        if cur is not None and _norm(cur.value) == _norm(want):
            continue
        if cur is not None and cur.writable and cur.value is not None:
            plan.changes.append(ModuleParam(driver, name, cur.value, want, roots))
        else:
            why = "read-only" if cur is not None else "not exposed in /sys"
            plan.notes.append(f"{driver}.{name}={want} ({why} at runtime): " + RELOAD_NOTE.format(d=driver))


def _unknown_params(driver: str, params: Mapping[str, ParamValue]) -> list[str]:
    """Names `modinfo -p` does not list; [] when modinfo cannot tell (no module files)."""
    if not params or shutil.which("modinfo") is None:
        return []
    try:
        proc = subprocess.run(["modinfo", "-p", driver], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if proc.returncode != 0 or not proc.stdout.strip():
        return []
    known = {line.split(":", 1)[0].strip() for line in proc.stdout.splitlines()}
    return [n for n in params if n not in known]


def _conflicts(
    driver: str, params: Mapping[str, ParamValue], ours: Path, roots: sysinfo.Roots, plan: RemediationPlan
) -> None:
    base = roots.etc / "modprobe.d"
    try:
        others = sorted(p for p in base.iterdir() if p.suffix == ".conf" and p != ours)
    except OSError:
        return
    for other in others:
        for line in (_read(other) or "").splitlines():
            words = line.split()
            if len(words) > 2 and words[0] == "options" and words[1] == driver:
                clash = [w for w in words[2:] if w.split("=", 1)[0] in params]
                if clash:
                    plan.notes.append(
                        f"{other} also sets {' '.join(clash)}: modprobe reads both files; "
                        "remove it there to keep one source"
                    )


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


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


@dataclass
class RemediationResult:
    done: list[str] = field(default_factory=list)


def apply_remediation(plan: RemediationPlan) -> RemediationResult:
    """Carry the changes out in order; on a failure undo those made, newest first."""
    result = RemediationResult()
    done: list[Change] = []
    for change in plan.changes:
        try:
            change.apply()
        except (LinkctlError, OSError) as exc:
            # The failed step may have half-happened (set, then not verified): undo it too,
            # but a failure to undo what never happened is no news.
            with contextlib.suppress(LinkctlError, OSError):
                change.undo()
            note = _rollback(done)
            raise RemediationFailed(f"{change.describe()}: failed: {exc}\n{note}") from None
        except BaseException:
            # A signal (engine/interrupts) half-way: what was set goes back before it goes on,
            # and no second signal cuts that short.
            with interrupts.held():
                with contextlib.suppress(LinkctlError, OSError):
                    change.undo()
                _rollback(done)
            raise
        done.append(change)
        result.done.append(change.describe())
    return result


def undo_remediation(plan: RemediationPlan) -> str:
    """Undo a plan that was carried out whole (`try` without confirmation)."""
    return _rollback(plan.changes)


def _rollback(changes: list[Change]) -> str:
    failed: list[str] = []
    for change in reversed(changes):
        try:
            change.undo()
        except (LinkctlError, OSError) as exc:
            failed.append(f"{change.describe()}: {exc}")
    if failed:
        return "ROLLBACK INCOMPLETE: could not undo: " + "; ".join(failed)
    return f"rolled back: {len(changes)} earlier change(s) undone, as they were before."

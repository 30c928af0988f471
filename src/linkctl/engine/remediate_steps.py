"""The steps a remediation plan is made of (an ethtool section, a modprobe.d file, a module
parameter at runtime), each with its command, its undo and its check, and carrying them out:
in order, undone newest first on a failure. What to change is `engine/remediate`'s.
"""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linkctl import interrupts
from linkctl.engine.errors import RemediationFailed
from linkctl.errors import LinkctlError
from linkctl.kernel import modules, sysinfo
from linkctl.kernel.ethtool import Ethtool, EthtoolError, Runner, run_program
from linkctl.kernel.ethtool_settings import feature_key
from linkctl.model.state import NetnsName


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
        now = READERS[self.section](self._et(), list(self.after))
        wrong = {k: (v, now.get(k)) for k, v in self.after.items() if not same(now.get(k), v)}
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
        modules.put(self.path, self.new)

    def undo(self) -> None:
        modules.put(self.path, self.old)


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
        if now is None or norm(now.value) != norm(self.new):
            got = now.value if now else None
            raise RemediationFailed(f"{self.driver}.{self.name}: wrote {self.new}, reads back {got}")

    def undo(self) -> None:
        sysinfo.write_param(self.driver, self.name, self.old, self.roots)


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


# -- ethtool sections: commands, setters, read-back --------------------------------------


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


READERS: dict[str, Callable[[Ethtool, list[str]], dict[str, Any]]] = {
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


def same(have: Any, want: Any) -> bool:
    return have == want or (isinstance(have, str) and str(want).lower() == have.lower())


def norm(value: str | None) -> str | None:
    return {"Y": "1", "N": "0"}.get(value, value) if value is not None else None


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

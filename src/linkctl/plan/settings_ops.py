"""The changes of the settings planner (plan/settings.py): an ethtool section of a link, a
modprobe.d file, a module parameter at runtime.

Ops of plan/ops.py's protocol (`describe()`, `ip_command()`: the command a person would type),
carried out by the one executor (engine/executor.py, through kernel/settings_io.py and
kernel/modules.py). Each holds the value it found beside the one it sets, so `undo()` is the op
that puts the found value back: what the change journal keeps, and what every rollback
re-declares (engine/rollback.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from linkctl.errors import quoted
from linkctl.plan.ops import Op

Values = tuple[tuple[str, Any], ...]  # (key, value) pairs, in the declaration's order


def values(mapping: Mapping[str, Any]) -> Values:
    return tuple(mapping.items())


@dataclass(frozen=True)
class SettingOp(Op):
    """A change outside RTNETLINK: a program run or a file written."""

    def undo(self) -> SettingOp:
        """The op that puts back what this one found."""
        raise NotImplementedError

    def key(self) -> tuple[object, ...]:
        """Which setting it changes: two ops of one key change the same thing."""
        raise NotImplementedError

    def to_json(self) -> dict[str, object]:
        return {"op": type(self).__name__, **asdict(self)}


@dataclass(frozen=True)
class SetEthtool(SettingOp):
    section: str = ""  # eee, pause, feature, coalesce, ring, ethernet (model/settings_state.SECTIONS)
    before: Values = ()
    after: Values = ()
    verb = "set ethtool"

    def describe(self) -> str:
        found = dict(self.before)
        diffs = ", ".join(f"{k} {quoted(found.get(k))} -> {quoted(v)}" for k, v in self.after)
        return f"set ethtool {self.section} of {self.where()}: {diffs}"

    def ip_command(self) -> list[str]:
        argv = ["ethtool", *ethtool_args(self.section, self.name, dict(self.after))]
        return ["ip", "netns", "exec", self.netns, *argv] if self.netns else argv

    def undo(self) -> SetEthtool:
        back = dict(self.before)
        if self.section == "ethernet" and back.get("autoneg"):
            back = {"autoneg": True}  # restoring autonegotiation restores what it picks
        return SetEthtool(self.name, self.netns, section=self.section, before=self.after, after=values(back))

    def key(self) -> tuple[object, ...]:
        return ("ethtool", self.netns, self.name, self.section)


@dataclass(frozen=True)
class WriteModprobe(SettingOp):
    """linkctl's modprobe.d file of one module (`name`), written whole or removed (`new` None)."""

    path: str = ""
    old: str | None = None
    new: str | None = None
    verb = "write"

    def describe(self) -> str:
        if self.new is None:
            return f"remove {self.path} (no parameters declared for {self.name})"
        verb = "write" if self.old is None else "rewrite"
        lines = self.new.strip().splitlines()
        return f"{verb} {self.path}: {lines[-1] if lines else '(empty)'}"

    def ip_command(self) -> list[str]:
        return ["rm", self.path] if self.new is None else ["tee", self.path]

    def undo(self) -> WriteModprobe:
        return WriteModprobe(self.name, None, path=self.path, old=self.new, new=self.old)

    def key(self) -> tuple[object, ...]:
        return ("file", self.path)


@dataclass(frozen=True)
class SetModuleParam(SettingOp):
    """One parameter of a loaded module (`name`), written to /sys/module/NAME/parameters/PARAM."""

    param: str = ""
    path: str = ""
    old: str | None = None  # None: it could not be read
    new: str = ""
    verb = "set module parameter"

    def describe(self) -> str:
        return f"set {self.name} parameter {self.param} at runtime: {self.old} -> {self.new}"

    def ip_command(self) -> list[str]:
        return ["tee", self.path]

    def undo(self) -> SetModuleParam:
        if self.old is None:  # the planner sets only parameters it could read
            raise ValueError(f"{self.describe()}: nothing to put back")
        return SetModuleParam(self.name, None, param=self.param, path=self.path, old=self.new, new=self.old)

    def key(self) -> tuple[object, ...]:
        return ("param", self.path)


_KINDS: dict[str, type[SettingOp]] = {k.__name__: k for k in (SetEthtool, WriteModprobe, SetModuleParam)}


def from_json(data: Mapping[str, Any]) -> SettingOp:
    """An op as `to_json` wrote it (the journal's JSON turned its pairs into lists)."""
    fields = dict(data)
    kind = _KINDS[fields.pop("op")]
    for name in ("before", "after"):
        if name in fields:
            fields[name] = tuple((str(k), v) for k, v in fields[name])
    return kind(**fields)


def ethtool_args(section: str, ifname: str, wanted: Mapping[str, Any]) -> list[str]:
    """The ethtool words that set `wanted` in `section` (after the program's name)."""
    if section == "eee":
        return ["--set-eee", ifname, "eee", "on" if wanted["enabled"] else "off"]
    flag = {"pause": "-A", "feature": "-K", "coalesce": "-C", "ring": "-G", "ethernet": "-s"}[section]
    words: list[str] = []
    for key, value in wanted.items():
        words += [key, ("on" if value else "off") if isinstance(value, bool) else str(value)]
    return [flag, ifname, *words]

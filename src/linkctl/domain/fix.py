"""A fix: the change that would mend what a check found, as a declaration fragment and commands.

Audit's findings and diagnose's ranked causes both propose fixes; this is the one type for
both. A fix diagnose ranks carries its `risk` and the `text` saying what it does; an audit
finding's fix carries a `note` (a caution or the alternative). The JSON each has had is kept:
scripts read `fixes_by_risk` and a finding's `fix` under those keys.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum

# A value in the declaration file's own spelling ("auto-negotiation", "kernel-modules"):
# the fragment is written out as YAML for `linkctl apply`, so it keeps the file's keys.
FileValue = str | int | float | bool | None | Sequence["FileValue"] | Mapping[str, "FileValue"]

Command = tuple[str, ...]


class Risk(IntEnum):
    NONE = 0  # reads or a person's check
    LOW = 1  # reversible at once, at most one renegotiation
    MEDIUM = 2  # costs CPU or needs a module reload to take full effect
    HIGH = 3  # can take the link down or needs hardware changes

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class InterfaceChange:
    """One `interfaces:` entry: the link it names and the settings it declares."""

    name: str
    netns: str | None = None
    settings: Mapping[str, FileValue] = field(default_factory=dict)

    def to_data(self) -> dict[str, FileValue]:
        entry: dict[str, FileValue] = {"name": self.name}
        if self.netns:  # "" and None both mean the host's: the file leaves it out
            entry["netns"] = self.netns
        entry.update(self.settings)
        return entry


@dataclass(frozen=True)
class ModuleChange:
    """One `kernel-modules:` entry: parameters that take effect when the module loads."""

    module: str
    parameters: Mapping[str, str | int]

    def to_data(self) -> dict[str, FileValue]:
        return {"parameters": dict(self.parameters)}


@dataclass(frozen=True)
class Fragment:
    """A piece of a declaration file: what `--write-fix` merges and `linkctl apply` reads."""

    interfaces: tuple[InterfaceChange, ...] = ()
    modules: tuple[ModuleChange, ...] = ()

    @classmethod
    def interface(cls, name: str, netns: str | None, **settings: FileValue) -> Fragment:
        """One link's settings, keyword names being the file's keys (`**{"accept-all-mac-addresses": ...}`)."""
        return cls(interfaces=(InterfaceChange(name, netns, settings),))

    @classmethod
    def module(cls, module: str, **parameters: str | int) -> Fragment:
        return cls(modules=(ModuleChange(module, parameters),))

    def to_data(self) -> dict[str, FileValue]:
        data: dict[str, FileValue] = {}
        if self.interfaces:
            data["interfaces"] = [i.to_data() for i in self.interfaces]
        if self.modules:
            data["kernel-modules"] = {m.module: m.to_data() for m in self.modules}
        return data


@dataclass(frozen=True)
class Fix:
    """The change as a declaration fragment and as the equivalent commands."""

    declaration: Fragment | None = None
    commands: tuple[Command, ...] = ()
    note: str = ""
    # Set on the fixes diagnose ranks, lowest risk first; an audit finding has one fix, unranked.
    risk: Risk | None = None
    text: str = ""

    @property
    def risk_rank(self) -> Risk:
        """Its risk for ordering; a fix nobody ranked (an audit finding's) orders as a read would."""
        return Risk.NONE if self.risk is None else self.risk

    def ranked(self, risk: Risk, text: str) -> Fix:
        return Fix(self.declaration, self.commands, self.note, risk, text)

    def to_json(self) -> dict[str, object]:
        declaration = self.declaration.to_data() if self.declaration is not None else None
        commands = [shlex.join(c) for c in self.commands]
        if self.risk is None:
            return {"declaration": declaration, "commands": commands, "note": self.note}
        return {"risk": self.risk.label, "text": self.text, "commands": commands, "declaration": declaration}

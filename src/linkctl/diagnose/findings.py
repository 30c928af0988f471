"""A finding: one check's verdict on one link, with the values read and the fix."""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import yaml


class Severity(StrEnum):
    PROBLEM = "problem"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"problem": 2, "warning": 1, "info": 0}[self.value]


@dataclass(frozen=True)
class Fix:
    """The change as a declaration fragment and as the equivalent commands."""

    declaration: dict[str, Any] | None = None
    commands: tuple[tuple[str, ...], ...] = ()
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "declaration": self.declaration,
            "commands": [shlex.join(c) for c in self.commands],
            "note": self.note,
        }

    def text(self, indent: str = "    ") -> list[str]:
        lines: list[str] = []
        if self.declaration is not None:
            lines.append(f"{indent}declare:")
            body = yaml.safe_dump(self.declaration, sort_keys=False).rstrip().splitlines()
            lines += [f"{indent}  {line}" for line in body]
        for cmd in self.commands:
            lines.append(f"{indent}run:   {shlex.join(cmd)}")
        if self.note:
            lines.append(f"{indent}note:  {self.note}")
        return lines


def iface_fix(name: str, netns: str | None, **keys: Any) -> dict[str, Any]:
    """A one-interface declaration fragment in the file format's spelling."""
    entry: dict[str, Any] = {"name": name}
    if netns:
        entry["netns"] = netns
    entry.update(keys)
    return {"interfaces": [entry]}


def ip(netns: str | None, *args: str) -> tuple[str, ...]:
    return ("ip", "-n", netns, *args) if netns else ("ip", *args)


@dataclass(frozen=True)
class Finding:
    check: str
    severity: Severity
    ifname: str
    netns: str | None
    message: str
    why: str
    evidence: dict[str, Any] = field(default_factory=dict)
    fix: Fix = field(default_factory=Fix)

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity.value,
            "check": self.check,
            "ifname": self.ifname,
            "netns": self.netns,
            "evidence": self.evidence,
            "message": self.message,
            "why": self.why,
            "fix": self.fix.to_json(),
        }

    def text(self) -> list[str]:
        where = f"{self.ifname} (netns {self.netns})" if self.netns else self.ifname
        lines = [f"{self.severity.value.upper():8} {self.check}  {where}: {self.message}"]
        lines.append(f"    why:   {self.why}")
        values = ", ".join(f"{k}={v}" for k, v in self.evidence.items())
        lines.append(f"    read:  {values}")
        return lines + self.fix.text()


def exit_code(severities: Iterable[Severity]) -> int:
    """0 nothing found, 1 warnings, 2 problems; info alone counts as nothing."""
    worst = max((s.rank for s in severities), default=0)
    return worst

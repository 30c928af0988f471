"""A finding: one check's verdict on one link, with the values read and the fix."""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

import yaml

from linkctl.domain.fix import Fix


class Severity(StrEnum):
    PROBLEM = "problem"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"problem": 2, "warning": 1, "info": 0}[self.value]


def fix_lines(fix: Fix, indent: str = "    ") -> list[str]:
    """A finding's fix as the text report prints it: the fragment to declare, then the commands."""
    lines: list[str] = []
    if fix.declaration is not None:
        lines.append(f"{indent}declare:")
        body = yaml.safe_dump(fix.declaration.to_data(), sort_keys=False).rstrip().splitlines()
        lines += [f"{indent}  {line}" for line in body]
    for cmd in fix.commands:
        lines.append(f"{indent}run:   {shlex.join(cmd)}")
    if fix.note:
        lines.append(f"{indent}note:  {fix.note}")
    return lines


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
    evidence: dict[str, object] = field(default_factory=dict)
    fix: Fix = field(default_factory=Fix)

    def to_json(self) -> dict[str, object]:
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
        return lines + fix_lines(self.fix)


def exit_code(severities: Iterable[Severity]) -> int:
    """0 nothing found, 1 warnings, 2 problems; info alone counts as nothing."""
    worst = max((s.rank for s in severities), default=0)
    return worst

"""Errors that reach the user as a message, never as a traceback."""

from __future__ import annotations

from dataclasses import dataclass, field


class LinkctlError(Exception):
    """An error the front ends print as it is, with exit code 1."""

    exit_code = 1


@dataclass(frozen=True)
class Problem:
    """One validation problem: where it is, what was found, what is allowed."""

    where: str
    field: str
    value: object
    allowed: str

    def __str__(self) -> str:
        return f"{self.where}: {self.field}: {self.value!r}: {self.allowed}"


@dataclass
class ValidationFailed(LinkctlError):
    """The declaration is refused before anything is sent to the kernel."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"{len(self.problems)} problem(s) found, nothing was changed:"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)

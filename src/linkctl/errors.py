"""Errors that reach the user as a message, never as a traceback."""

from __future__ import annotations

import reprlib
from dataclasses import dataclass, field


class LinkctlError(Exception):
    """An error the front ends print as it is, with exit code 1."""

    exit_code = 1


class _NotGiven:
    """The value of a key the file does not have (None would read as a YAML `null`)."""

    def __repr__(self) -> str:
        return "(not given)"


NOT_GIVEN = _NotGiven()


class _Empty:
    """The value of a key written with nothing after it (YAML's null)."""

    def __repr__(self) -> str:
        return "(empty)"


EMPTY = _Empty()


# A value quoted in a message is cut short: a YAML alias bomb (nine lists of nine of ...) is a
# few hundred bytes of file and billions of items to print in full.
class _Quote(reprlib.Repr):
    """Python's repr, but for the scalars a YAML file spells otherwise (`true`, not `True`)."""

    def repr_bool(self, x: bool, level: int) -> str:
        return "true" if x else "false"

    def repr_NoneType(self, x: None, level: int) -> str:  # reprlib looks up repr_<type name>
        return "null"


_QUOTE = _Quote()
_QUOTE.maxlevel, _QUOTE.maxstring, _QUOTE.maxother = 2, 80, 80
_QUOTE.maxlist = _QUOTE.maxtuple = _QUOTE.maxdict = _QUOTE.maxset = 4
_QUOTE_MAX = 100


def quoted(value: object) -> str:
    """repr(value), at most about a line of it."""
    text = _QUOTE.repr(value)
    return text if len(text) <= _QUOTE_MAX else text[: _QUOTE_MAX - 3] + "..."


@dataclass(frozen=True)
class Problem:
    """One validation problem: where it is, what was found, what is allowed."""

    where: str
    field: str
    value: object
    allowed: str

    def __str__(self) -> str:
        return f"{self.where}: {self.field}: {quoted(self.value)}: {self.allowed}"


@dataclass
class ValidationFailed(LinkctlError):
    """The declaration is refused before anything is sent to the kernel."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"{len(self.problems)} problem(s) found, nothing was changed:"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)

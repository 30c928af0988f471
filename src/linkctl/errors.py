"""Errors that reach the user as a message, never as a traceback."""

from __future__ import annotations

import itertools
import re
import reprlib
from dataclasses import dataclass, field

from linkctl.error_base import LinkctlError as LinkctlError  # defined on its own for the fast path


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
# few hundred bytes of file and billions of items to print in full, and a 50 MB name would
# make a 50 MB message. Every value a message shows goes through `quoted`.
QUOTE_MAX = 80
HIDDEN = "(secret, not shown)"

# Keys whose values are credentials (nmstate's 802.1x and MACsec keys, tokens, ...): their values
# are never printed. Keys that say where a secret is kept (`password_file`, `secret_env`) are not
# secrets themselves, and the path is what a person needs to see when it is wrong.
_SECRET = re.compile(r"pass(word|wd|phrase)|secret|token|psk|mka-cak|private-key|api-?key|credential")
_SECRET_SOURCE = re.compile(r"-(file|env|path)$")


def is_secret(key: object) -> bool:
    """Whether a mapping key names a secret (`password`, `private-key-password`, `psk`, `mka-cak`...)."""
    if not isinstance(key, str):
        return False
    word = key.lower().replace("_", "-")
    return _SECRET.search(word) is not None and _SECRET_SOURCE.search(word) is None


class _Quote(reprlib.Repr):
    """Python's repr, but for the scalars a YAML file spells otherwise (`true`, not `True`)."""

    def repr_bool(self, x: bool, level: int) -> str:
        return "true" if x else "false"

    def repr_NoneType(self, x: None, level: int) -> str:  # reprlib looks up repr_<type name>
        return "null"

    def repr_dict(self, x: dict[object, object], level: int) -> str:
        # reprlib's own sorts the keys; a file's order reads better, and secrets stay hidden.
        if not x:
            return "{}"
        if level <= 0:
            return "{...}"
        pieces = [
            f"{self.repr1(k, level - 1)}: {HIDDEN if is_secret(k) else self.repr1(v, level - 1)}"
            for k, v in itertools.islice(x.items(), self.maxdict)
        ]
        return "{" + ", ".join(pieces + (["..."] if len(x) > self.maxdict else [])) + "}"


_QUOTE = _Quote()
_QUOTE.maxlevel, _QUOTE.maxstring, _QUOTE.maxother, _QUOTE.maxlong = 2, QUOTE_MAX, QUOTE_MAX, QUOTE_MAX
_QUOTE.maxlist = _QUOTE.maxtuple = _QUOTE.maxdict = _QUOTE.maxset = 4


def quoted(value: object, bare: bool = False, limit: int = QUOTE_MAX) -> str:
    """At most `limit` characters of `value` for a message: its repr, or with `bare` a string as it is
    (a name in "interface NAME"; repr still, if it holds a newline or other control character);
    secrets in a mapping are hidden."""
    text = value[: limit + 1] if bare and isinstance(value, str) and value[:limit].isprintable() else _QUOTE.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# What a terminal acts on rather than shows: C0 (but the newline a message breaks its lines with), DEL,
# C1, and the bidirectional overrides that reorder what follows them. The kernel takes all of them in
# a link's name; an ESC [8m there hid the rest of a plan.
_UNPRINTABLE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` with what a terminal would act on escaped as Python spells it (ESC as \\x1b), as `show`
    prints such a name: each line of a message reaches the reader as the characters it holds."""
    if text.isascii() and text.isprintable():  # nearly every message: no scan
        return text
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def secret_field(field: str) -> bool:
    """Whether a dotted field (`802.1x.password`, `interfaces.0.psk`) lies under a secret key."""
    return any(is_secret(part) for part in field.split("."))


@dataclass(frozen=True)
class Problem:
    """One validation problem: where it is, what was found, what is allowed."""

    where: str
    field: str
    value: object
    allowed: str

    def __str__(self) -> str:
        return f"{self.where}: {self.brief()}"

    def brief(self) -> str:
        """`field: value: allowed`, the value cut short, or hidden under a secret-looking key."""
        field = quoted(self.field, bare=True, limit=2 * QUOTE_MAX)  # a path of keys the file spelt
        value = HIDDEN if secret_field(self.field) else quoted(self.value)
        return f"{field}: {value}: {self.allowed}"


# A file of 80,000 faulty entries (or one entry aliased 80,000 times) has 400,000 problems: a
# person reads the first ones, and the rest is a 100 MB message.
SHOWN_PROBLEMS = 100


@dataclass
class ValidationFailed(LinkctlError):
    """The declaration is refused before anything is sent to the kernel."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"{len(self.problems)} problem(s) found, nothing was changed:"]
        lines += [f"  - {p}" for p in self.problems[:SHOWN_PROBLEMS]]
        if len(self.problems) > SHOWN_PROBLEMS:
            lines.append(f"  ... and {len(self.problems) - SHOWN_PROBLEMS:,} more (the first ones fixed, run it again)")
        return "\n".join(lines)

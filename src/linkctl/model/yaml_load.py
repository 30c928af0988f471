"""The loader of declaration files: PyYAML's safe loader, without YAML 1.1's base-60 numbers.

YAML 1.1, which PyYAML implements, reads `52:54:00:12:34:56` (the prefix of every
QEMU/KVM MAC address) as the base-60 integer 41135085296, and `1:30.5` as a
float; YAML 1.2, and nmstate with it, read both as strings. A MAC address
written without quotes must mean what it says, so this loader resolves numbers
as PyYAML does except for the base-60 forms. Everything else is PyYAML's (safe
constructors, libyaml's parser when it is there).

Imports PyYAML and the standard library only: cli/prefetch.py's child uses it.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import yaml

_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"

# PyYAML's own patterns (yaml/resolver.py), less the `(:[0-5]?[0-9])+` alternatives.
_INT_RE = re.compile(
    r"""^(?:[-+]?0b[0-1_]+
    |[-+]?0[0-7_]+
    |[-+]?(?:0|[1-9][0-9_]*)
    |[-+]?0x[0-9a-fA-F_]+)$""",
    re.X,
)
_FLOAT_RE = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)


class DeclarationLoader(_BASE):  # type: ignore[misc,valid-type]
    """Safe loading, numbers as YAML 1.2 reads them (no base 60)."""

    yaml_implicit_resolvers: ClassVar[dict[str | None, list[tuple[str, re.Pattern[str]]]]] = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT, _FLOAT)]
        for first, resolvers in _BASE.yaml_implicit_resolvers.items()
    }


DeclarationLoader.add_implicit_resolver(_FLOAT, _FLOAT_RE, list("-+0123456789."))
DeclarationLoader.add_implicit_resolver(_INT, _INT_RE, list("-+0123456789"))


def load(text: str) -> Any:
    """The data of one YAML document (raises yaml.YAMLError)."""
    return yaml.load(text, Loader=DeclarationLoader)  # a subclass of the safe loader: safe

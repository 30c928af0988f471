"""The loader of declaration files: PyYAML's safe loader, without YAML 1.1's base-60 numbers.

YAML 1.1, which PyYAML implements, reads `52:54:00:12:34:56` (the prefix of every
QEMU/KVM MAC address) as the base-60 integer 41135085296, and `1:30.5` as a
float; YAML 1.2, and nmstate with it, read both as strings. A MAC address
written without quotes must mean what it says, so this loader resolves numbers
as PyYAML does except for the base-60 forms. Everything else is PyYAML's (safe
constructors, libyaml's parser when it is there).

Speed: PyYAML's resolver and constructor are Python, and on a 2000-link file
they cost more than libyaml's parsing (callgrind: 763 M instructions to load,
of which 324 M construct the data). So scalars are resolved once per distinct
text, and a document made only of mappings, sequences, strings, integers,
floats, booleans and nulls (every declaration) is built in one walk of the
node tree; a document with anything else (tags, anchors shared, merge keys,
timestamps) or anything odd is built by PyYAML's constructor, which also
words its errors.

Imports PyYAML and the standard library only: cli/prefetch.py's child uses it.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"

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

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._tags: dict[str, str] = {}

    def resolve(self, kind: type[Node], value: Any, implicit: Any) -> str:
        # Without path resolvers (none are added here) a plain scalar's tag depends on its text only.
        if kind is ScalarNode and implicit[0] and not self.yaml_path_resolvers:
            tag = self._tags.get(value)
            if tag is None:
                tag = self._tags[value] = super().resolve(kind, value, implicit)
            return tag
        return super().resolve(kind, value, implicit)  # type: ignore[no-any-return]

    def construct_document(self, node: Node) -> Any:
        try:
            return _Plain(self).build(node)
        except Exception:  # PyYAML's constructor builds it, or says what is wrong
            return super().construct_document(node)


DeclarationLoader.add_implicit_resolver(_FLOAT, _FLOAT_RE, list("-+0123456789."))
DeclarationLoader.add_implicit_resolver(_INT, _INT_RE, list("-+0123456789"))


class _NotPlain(Exception):
    """The document needs PyYAML's own constructor."""


class _Plain:
    """Builds a document of plain data as PyYAML's safe constructor would, in one walk."""

    def __init__(self, loader: DeclarationLoader) -> None:
        self.loader = loader
        self.seen: set[int] = set()  # collections already built: an alias, maybe a cycle

    def build(self, node: Node) -> Any:
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        self._once(node)
        if node.tag == _MAP and isinstance(node, MappingNode):
            return self._mapping(node)
        if node.tag == _SEQ and isinstance(node, SequenceNode):
            return [self.build(item) for item in node.value]
        raise _NotPlain(node.tag)  # `!!set`, `!!omap`, `!!str {a: 1}` ...

    def _scalar(self, node: ScalarNode) -> Any:
        tag, text = node.tag, node.value
        if tag == _STR:
            return text
        if tag == _INT:
            if text.isdigit() and (text[0] != "0" or text == "0"):
                return int(text)
            return self.loader.construct_yaml_int(node)
        if tag == _NULL:
            return None
        if tag in (_BOOL, _FLOAT):
            return self.loader.construct_object(node)
        raise _NotPlain(tag)

    def _mapping(self, node: MappingNode) -> dict[Any, Any]:
        out = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _NotPlain("<<")
            key = self.build(key_node)
            out[key] = self.build(value_node)  # unhashable keys raise: PyYAML words that
        return out

    def _once(self, node: Node) -> None:
        if id(node) in self.seen:
            raise _NotPlain("alias")  # shared, maybe a cycle: PyYAML builds it once
        self.seen.add(id(node))


def load(text: str) -> Any:
    """The data of one YAML document (raises yaml.YAMLError)."""
    return yaml.load(text, Loader=DeclarationLoader)  # a subclass of the safe loader: safe

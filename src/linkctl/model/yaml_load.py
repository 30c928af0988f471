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

What PyYAML accepts but a declaration must not: a key given twice in one
mapping (PyYAML keeps the last silently; nmstate's loader refuses it), and
aliases that multiply (nine lists of nine aliases of ... is a few hundred bytes
of file and billions of items: linkctl ran 1 min 49 s to 8.3 GB and a
MemoryError). Before PyYAML's constructor builds a document with aliases, the
nodes they add are counted; past MAX_ALIAS_NODES, or an alias inside the node
it names, the document is refused. A document without aliases takes the one
walk and costs nothing more than a length comparison per mapping.

Imports PyYAML and the standard library only (linkctl.errors on a refusal): cli/prefetch.py's child
uses it.
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
_MERGE = "tag:yaml.org,2002:merge"

# What aliases may add to a document, in nodes. A declaration shares settings through aliases
# or merge keys (`<<: *common`): 20,000 interfaces each merging a six-key block add 300,000.
# The cost is then pydantic's: one interface aliased 80,000 times with five faults each (960,000
# nodes added) takes `plan` 12 s and 730 MB to refuse, as a 4 MiB file of such entries written
# out does (model/source.py): aliases cannot make a file cost more than its size allows.
MAX_ALIAS_NODES = 1_000_000

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
        except yaml.YAMLError:
            raise
        except Exception:  # PyYAML's constructor builds it, or says what is wrong
            pass
        _bound_aliases(node)
        return super().construct_document(node)

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):  # before merge keys are flattened: `<<` may be overridden
            pairs = [(k, v) for k, v in node.value if k.tag != _MERGE]
            keys = {self.construct_object(k) for k, _ in pairs if isinstance(k, ScalarNode)}
            if len(keys) != sum(isinstance(k, ScalarNode) for k, _ in pairs):
                _refuse_duplicate(pairs, self.construct_object)
        return super().construct_mapping(node, deep)  # type: ignore[no-any-return]

    def construct_yaml_int(self, node: ScalarNode) -> int:
        try:
            return super().construct_yaml_int(node)  # type: ignore[no-any-return]
        except ValueError:  # past Python's 4300 digits for a decimal conversion
            digits = sum(c.isdigit() for c in node.value)
            raise DeclarationError(
                f"a number of {digits:,} digits",
                node.start_mark,
                "a number the format takes (none is above 4294967295)",
            ) from None


DeclarationLoader.add_implicit_resolver(_FLOAT, _FLOAT_RE, list("-+0123456789."))
DeclarationLoader.add_implicit_resolver(_INT, _INT_RE, list("-+0123456789"))
DeclarationLoader.add_constructor(_INT, DeclarationLoader.construct_yaml_int)


class DeclarationError(yaml.MarkedYAMLError):
    """What PyYAML would read but a declaration refuses; `value` is what to quote, `fix` what to write."""

    def __init__(self, value: object, mark: Any, fix: str) -> None:
        super().__init__(problem=str(value)[:200], problem_mark=mark)
        self.value, self.fix = value, fix


def _refuse_duplicate(pairs: list[tuple[Node, Node]], build: Any) -> None:
    """Raise DeclarationError for the first key that comes again (both lines named)."""
    from linkctl.errors import quoted  # on this error only: the parse child imports nothing more

    first: dict[Any, Node] = {}
    for key_node, _ in pairs:
        if not isinstance(key_node, ScalarNode):
            continue
        key = build(key_node)
        if key in first:
            line, again = first[key].start_mark.line + 1, key_node.start_mark.line + 1
            raise DeclarationError(
                key,
                key_node.start_mark,
                f"each key once in a mapping: {quoted(key)} is on line {line} and again on line {again} "
                "(YAML would keep the last one silently); delete one of them",
            )
        first[key] = key_node


def _bound_aliases(root: Node) -> None:
    """Refuse a document whose aliases add more than MAX_ALIAS_NODES nodes, or refer to themselves.

    An alias is the node it names met again. Each distinct collection's size
    with every alias written out is the sum of its children's, computed once
    (Python's integers hold a bomb's 9**9 as well as 9), so the count costs a
    visit per collection and child however large the expansion.
    """
    sizes: dict[int, int] = {}
    summed: list[Node] = []  # children before their parents
    own = 0  # the document's nodes, an alias of a collection counted where the collection is
    active: set[int] = set()  # the collections being summed: the path from the root
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            active.discard(key)
            size = 1
            for child in _children(node):
                size += 1 if isinstance(child, ScalarNode) else sizes[id(child)]
                own += isinstance(child, ScalarNode)
            sizes[key] = size
            own += 1
            summed.append(node)
        elif key in active:
            raise DeclarationError(
                "an alias inside the node it names",
                node.start_mark,
                "a declaration without a recursive alias (written out, it would never end)",
            )
        elif key not in sizes and not isinstance(node, ScalarNode):
            active.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node) if not isinstance(child, ScalarNode))
    if sizes.get(id(root), 1) - own > MAX_ALIAS_NODES:
        # Where: the smallest collection that crosses the limit alone (the level of the bomb).
        worst = next(n for n in summed if sizes[id(n)] - own > MAX_ALIAS_NODES)
        raise DeclarationError(
            "aliases",
            worst.start_mark,
            f"aliases that add at most {MAX_ALIAS_NODES:,} items to the document: written out, this one has "
            f"{sizes[id(root)]:,} items for its own {own:,} (aliases of aliases multiply); write the repeated "
            "parts out, or alias fewer levels",
        )


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return node.value  # type: ignore[no-any-return]
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


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
            if text.isdigit() and (text[0] != "0" or text == "0") and len(text) < 20:
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
        if len(out) != len(node.value):
            _refuse_duplicate(node.value, self.build)
        return out

    def _once(self, node: Node) -> None:
        if id(node) in self.seen:
            raise _NotPlain("alias")  # shared, maybe a cycle: PyYAML builds it once
        self.seen.add(id(node))


def load(text: str) -> Any:
    """The data of one YAML document (raises yaml.YAMLError)."""
    return yaml.load(text, Loader=DeclarationLoader)  # a subclass of the safe loader: safe

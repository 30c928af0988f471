"""Reading a declaration file: YAML (safe loader), then the schema, with errors a person can act on."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from linkctl.errors import EMPTY, NOT_GIVEN, SHOWN_PROBLEMS, Problem, ValidationFailed, quoted
from linkctl.model import source as _source
from linkctl.model import unmanaged
from linkctl.model.spec import (
    FROM_FILE,
    MTU_MAX,
    MTU_MIN,
    Declaration,
    InterfaceSpec,
    LinkStateName,
    complete_veth_peers,
)


@dataclass
class SchemaFailed(ValidationFailed):
    """The file's problems with the format, and what of it the format takes (`partial`): the
    entries that parsed, each faulty key left out. Validating `partial` against the kernel's state
    finds the other problems in the same pass (cli/engine_cmds.py), rather than after these are fixed."""

    partial: Declaration | None = None


def parse_text(text: str, source: str, strict: bool = False, notes: list[str] | None = None) -> Declaration:
    # PyYAML is imported here: a large file is parsed by cli/prefetch.py's child instead.
    import yaml

    from linkctl.model import yaml_load

    try:
        data = yaml_load.load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        # PyYAML's words may quote the file (an alias's or a tag's name): cut short as a value is.
        problem = quoted(getattr(exc, "problem", None) or str(exc), bare=True, limit=3 * 80)
        fix = getattr(exc, "fix", None) or "valid YAML (check indentation and quoting)"
        raise ValidationFailed([Problem(where, "YAML", problem, fix)]) from None
    return from_loaded(data, source, strict, notes)


def from_loaded(data: object, source: str, strict: bool = False, notes: list[str] | None = None) -> Declaration:
    """A declaration from what the YAML loader made of a file.

    nmstate's sections linkctl does not manage are taken out (model/unmanaged.py) and named in
    `notes`, or refused with `strict`. Raises SchemaFailed with every problem found."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationFailed(
            [Problem(source, "top level", type(data).__name__, "a mapping with an `interfaces:` list")]
        )
    return from_data(data, source, strict, notes)


def from_data(data: dict[str, Any], source: str, strict: bool = False, notes: list[str] | None = None) -> Declaration:
    data, found, problems = unmanaged.split(data, source)
    if strict:
        problems += unmanaged.strict_problems(found)
    if notes is not None:
        notes += unmanaged.notes(found)
    try:
        decl = Declaration.model_validate(data, context=FROM_FILE)
    except ValidationError as exc:
        problems += [_problem(err, data, source) for err in exc.errors()]
        # Past what a message shows, the state's problems would not be read: not looked for (a file of
        # 40,000 faulty entries is refused in 6 s, not 11).
        partial = _partial(data) if len(problems) <= SHOWN_PROBLEMS else None
        raise SchemaFailed(problems, partial=partial) from None
    if problems:
        raise SchemaFailed(problems, partial=_settled(decl))
    if notes is not None:
        notes += unmanaged.down_notes(decl, source)
    return _settled(decl)


def _settled(decl: Declaration) -> Declaration:
    """Veth peers completed; the entries written `state: ignore` taken out, their names kept."""
    decl = complete_veth_peers(decl)
    ignore = LinkStateName.IGNORE
    ignored = frozenset((s.netns, s.name) for s in decl.interfaces if s.state is ignore)
    if not ignored:
        return decl
    kept = [s for s in decl.interfaces if s.state is not ignore]
    return decl.model_copy(update={"interfaces": kept}).with_ignored(ignored)


def _partial(data: dict[str, Any]) -> Declaration:
    """What of a faulty file the format takes: each entry without its faulty keys (an entry whose
    name is faulty is left out), the top-level sections that are right."""
    top = {k: v for k, v in data.items() if k != "interfaces"}
    try:
        base = Declaration.model_validate(top, context=FROM_FILE)
    except ValidationError:
        base = Declaration()
    items = data.get("interfaces")
    entries = items if isinstance(items, list) else []
    specs = [spec for spec in map(_skeleton, entries) if spec is not None]
    return _settled(base.model_copy(update={"interfaces": specs}))


def _skeleton(entry: object) -> InterfaceSpec | None:
    if not isinstance(entry, dict):
        return None
    for _ in range(len(entry) + 1):
        try:
            return InterfaceSpec.model_validate(entry, context=FROM_FILE)
        except ValidationError as exc:
            bad = {err["loc"][0] for err in exc.errors() if err["loc"]}
            if not bad or "name" in bad or bad.isdisjoint(entry):
                return None
            entry = {k: v for k, v in entry.items() if k not in bad}
    return None


def load_file(path: str, strict: bool = False, notes: list[str] | None = None) -> Declaration:
    return parse_bytes(read_file(path), path, strict, notes)


def read_file(path: str) -> bytes:
    """A regular file's bytes, at most model/source.py's MAX_BYTES of them."""
    try:
        return _source.read_path(path)
    except _source.Refused as exc:
        raise ValidationFailed([Problem(path, "file", exc.value, exc.fix)]) from None


def read_stdin() -> bytes:
    """Standard input's bytes, bounded as a file's are."""
    import sys

    try:
        return _source.read_stream(sys.stdin.buffer)
    except _source.Refused as exc:
        raise ValidationFailed([Problem("<stdin>", "input", exc.value, exc.fix)]) from None


def parse_bytes(data: bytes, source: str, strict: bool = False, notes: list[str] | None = None) -> Declaration:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed([Problem(source, "file", "not UTF-8", "a UTF-8 text file")]) from None
    return parse_text(text, source, strict, notes)


def _problem(err: Any, data: dict[str, Any], source: str) -> Problem:
    loc = list(err["loc"])
    where = source
    if len(loc) >= 2 and loc[0] == "interfaces" and isinstance(loc[1], int):
        name = _name_at(data, loc[1])
        where = f"{source}: interface {name}" if name else f"{source}: interfaces[{loc[1]}]"
        loc = loc[2:]
    field = ".".join(quoted(p, bare=True) for p in loc) or "(entry)"  # an unknown key is the file's text
    if err["type"] == "missing":  # pydantic's input is then the whole enclosing mapping: noise
        need = f"this key is required: {_RANGES[field]}" if field in _RANGES else "this key is required"
        return Problem(where, field, NOT_GIVEN, need)
    value = err.get("input")
    if err["type"] == "extra_forbidden" and isinstance(value, (dict, list)) and value:
        value = "(section)"  # the key is what is wrong; its content may hold secrets (an 802.1x password)
    if field in ("netns", "veth.peer-netns") and isinstance(value, int):
        return Problem(where, field, value, _netns_number(value))
    return Problem(where, field, EMPTY if value is None else value, _RANGES.get(field) or _allowed(err))


def _netns_number(pid: int) -> str:
    # `ip link set dev X netns 1234` takes a process id; a declaration names namespaces.
    return (
        f'an `ip netns` name (quote it if it is a number: "{pid}"); to use process {pid}\'s namespace, '
        f"give it a name first: ip netns attach NAME {pid}"
    )


def _keys_at(loc: list[Any]) -> list[str]:
    """The keys the format allows where `loc` (pydantic's error location) points: for a spelling hint."""
    model: Any = Declaration
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        fields = {f.alias or name: f for name, f in model.model_fields.items()}
        if part not in fields:
            return []
        model = _model_in(fields[part].annotation)
        if model is None:
            return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The section model inside `X | None` or `list[X]`, if there is one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


# Said as a person says it, rather than pydantic's "greater than or equal to".
_RANGES = {
    "interfaces": "a list of interfaces (`interfaces: []` for none)",
    "mtu": f"{MTU_MIN} to {MTU_MAX} (and within the device's own min/max, see `linkctl show`)",
    "txqueuelen": "0 to 4294967295",
    "vxlan.id": "a VNI from 1 to 16777215",
    "vxlan.destination-port": "a UDP port from 1 to 65535 (4789 is IANA's VXLAN port)",
    "vlan.id": "a VLAN id from 0 to 4094",
}


def _name_at(data: dict[str, Any], index: int) -> str | None:
    items = data.get("interfaces")
    if isinstance(items, list) and index < len(items) and isinstance(items[index], dict):
        name = items[index].get("name")
        # Only a string names the entry: anything else (an alias bomb, a number) is the error itself.
        return quoted(name, bare=True) if isinstance(name, str) and name else None
    return None


# `ip link`'s words for what the format spells the nmstate way.
_IP_WORDS = {
    "promisc": "accept-all-mac-addresses",
    "address": "mac-address",
    "txqlen": "txqueuelen",
    "qlen": "txqueuelen",
    "dev": "base-iface",
    "link": "base-iface",
    "vni": "id",
    "dstport": "destination-port",
}
_IP_KINDS = {"bridge": "linux-bridge", "macvlan": "mac-vlan", "bonding": "bond", "8021q": "vlan"}
_MASTER = (
    "unknown key: a port names its controller on its own entry (`controller: br0`, nmstate's), or is listed "
    "by it: `bridge: {port: [{name: ...}]}` on the bridge, `link-aggregation: {port: [...]}` on the bond"
)


_HINT_MAX = 64  # longer than any key or value of the format: no spelling hint is looked for


def _allowed(err: Any) -> str:
    kind = err["type"]
    msg = str(err["msg"])
    value = err.get("input")
    if kind == "extra_forbidden":
        key, keys = str(err["loc"][-1])[:_HINT_MAX], _keys_at(list(err["loc"]))
        if key in ("master", "controller"):
            return _MASTER
        keys += _nmstate_keys(list(err["loc"]))  # a misspelt `dns-resolver` is told so
        if _IP_WORDS.get(key) in keys:
            return f"unknown key: `ip link` says {key}, this format says `{_IP_WORDS[key]}`"
        close = _closest(key, tuple(keys))
        if close:
            return f"unknown key: did you mean `{close}`?"
        return "unknown key: check its spelling against the format in the README"
    if kind == "enum" and err["loc"][-1] == "type" and isinstance(value, str) and value in _IP_KINDS:
        return f"`ip link` says {value}, this format says `{_IP_KINDS[value]}`"
    if kind == "enum" and isinstance(value, str) and len(value) <= _HINT_MAX:
        expected = re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
        meant = _closest(value, tuple(expected))
        if meant:
            return f"{msg} (did you mean `{meant}`?)"
    if msg.startswith("Value error, "):
        return msg[len("Value error, ") :]
    return msg


@lru_cache(maxsize=256)
def _closest(key: str, keys: tuple[str, ...]) -> str | None:
    """The key or value meant, looked for once per misspelling: a file repeats its faults (40,000 entries with
    one unknown key took 26 s of difflib, 40,000 times the same answer)."""
    from difflib import get_close_matches  # only for a misspelt key

    close = get_close_matches(key, keys, n=1)
    return close[0] if close else None


def _nmstate_keys(loc: list[Any]) -> list[str]:
    """nmstate's keys linkctl takes out unmanaged, where `loc` points: candidates for a spelling hint."""
    if len(loc) == 1:
        return list(unmanaged.top_keys())
    if len(loc) == 3 and loc[0] == "interfaces":
        return list(unmanaged.iface_keys())
    return []

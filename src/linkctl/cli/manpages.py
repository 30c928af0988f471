"""Manual pages generated from the command tree: `linkctl man DIR`.

One groff page (man(7) macros, section 1) for the program, linkctl.1, and one for each
command, linkctl-COMMAND.1 (linkctl-logs-parse.1 for a command of a group). The text is the
commands' own: their help, their arguments and options with their help and defaults, so
the pages say what `--help` says. Imported only by `linkctl man`.
"""

from __future__ import annotations

import datetime as dt
import enum
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from typer.core import TyperArgument as Argument
from typer.core import TyperGroup as Group
from typer.core import TyperOption as Option

from linkctl import __version__

if TYPE_CHECKING:
    from typer._click import Command, Parameter

SECTION = "1"
_DESCRIPTION = "Declare, apply, watch and diagnose Linux network links"


def write_pages(program: Command, directory: Path) -> list[Path]:
    """Write every page into `directory` (made if missing); the paths written, linkctl.1 first."""
    directory.mkdir(parents=True, exist_ok=True)
    pages = render_pages(program)
    written = []
    for name, text in pages.items():
        path = directory / f"{name}.{SECTION}"
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
        written.append(path)
    return written


def render_pages(program: Command) -> dict[str, str]:
    """Page name (`linkctl`, `linkctl-apply`, ...) -> groff text."""
    pages: dict[str, str] = {}
    leaves = list(_walk(program, ["linkctl"]))
    pages["linkctl"] = _program_page(program, leaves)
    for path, command in leaves[1:]:
        pages["-".join(path)] = _command_page(path, command, program)
    return pages


def _walk(command: Command, path: list[str]) -> list[tuple[list[str], Command]]:
    found = [(path, command)]
    if isinstance(command, Group):
        for name, sub in command.commands.items():
            if not sub.hidden:
                found += _walk(sub, [*path, name])
    return found


def _date() -> str:
    # SOURCE_DATE_EPOCH: the same pages from the same sources (reproducible builds).
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
    return when.strftime("%Y-%m-%d")


def _header(name: str, summary: str) -> list[str]:
    return [
        f'.TH "{name.upper()}" "{SECTION}" "{_date()}" "linkctl {__version__}" "linkctl manual"',
        ".SH NAME",
        f"{_esc(name)} \\- {_esc(summary)}",
    ]


def _program_page(program: Command, leaves: list[tuple[list[str], Command]]) -> str:
    lines = _header("linkctl", _DESCRIPTION)
    lines += [".SH SYNOPSIS", ".B linkctl", "[\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]...", ".SH DESCRIPTION"]
    lines += _paragraphs(program.help or "")
    lines += _options(program)
    lines.append(".SH COMMANDS")
    for path, command in leaves[1:]:
        lines += [".TP", f"\\fB{_esc(' '.join(path))}\\fR", _esc(_summary(command))]
        name = "-".join(path)
        lines.append(f"See \\fB{_esc(name)}\\fR({SECTION}).")
    lines += [".SH SEE ALSO", ", ".join(f"\\fB{_esc('-'.join(p))}\\fR({SECTION})" for p, _ in leaves[1:]), ""]
    return "\n".join(lines)


def _command_page(path: list[str], command: Command, program: Command) -> str:
    name = "-".join(path)
    lines = _header(name, _summary(command))
    lines += [".SH SYNOPSIS", f".B {_esc(' '.join(path))}", _usage(command)]
    lines.append(".SH DESCRIPTION")
    lines += _paragraphs(command.help or _summary(command))
    if isinstance(command, Group):
        lines.append(".SH COMMANDS")
        for sub_name, sub in command.commands.items():
            if not sub.hidden:
                lines += [".TP", f"\\fB{_esc(sub_name)}\\fR", _esc(_summary(sub))]
    arguments = [p for p in command.params if isinstance(p, Argument)]
    if arguments:
        lines.append(".SH ARGUMENTS")
        for arg in arguments:
            lines += [".TP", f"\\fI{_esc(_argument_name(arg))}\\fR", _esc(_help(arg) or "")]
    lines += _options(command)
    lines += [".SH SEE ALSO", f"\\fBlinkctl\\fR({SECTION})", ""]
    return "\n".join(lines)


def _summary(command: Command) -> str:
    text = command.short_help or command.help or ""
    first = text.strip().split("\n\n")[0]
    return " ".join(first.split()).rstrip(".")


def _usage(command: Command) -> str:
    pieces = ["[\\fIOPTIONS\\fR]"] if any(isinstance(p, Option) for p in command.params) else []
    for p in command.params:
        if isinstance(p, Argument):
            word = f"\\fI{_esc(_argument_name(p))}\\fR"
            pieces.append(word if p.required else f"[{word}]")
    if isinstance(command, Group):
        pieces.append("\\fICOMMAND\\fR [\\fIARGS\\fR]...")
    return " ".join(pieces)


def _argument_name(arg: Argument) -> str:
    name = (arg.metavar or arg.name or "ARG").upper()
    return name + "..." if arg.nargs == -1 else name


def _options(command: Command) -> list[str]:
    options = [p for p in command.params if isinstance(p, Option) and not p.hidden]
    lines = [".SH OPTIONS"] if options else []
    for opt in options:
        lines += [".TP", _option_words(opt)]
        text = _help(opt) or ""
        default = _default(opt)
        if default and "default" not in text:
            text = f"{text} (default: {default})".strip()
        lines.append(_esc(text))
    if options:
        lines += [".TP", "\\fB\\-\\-help\\fR", "Show the command's help and exit."]
    return lines


def _option_words(opt: Option) -> str:
    names = ", ".join(f"\\fB{_esc(n)}\\fR" for n in [*opt.opts, *opt.secondary_opts])
    if opt.is_flag:
        return names
    return f"{names} \\fI{_esc(_metavar(opt))}\\fR"


def _metavar(param: Parameter) -> str:
    if param.metavar:
        return param.metavar
    choices = getattr(param.type, "choices", None)
    if choices:
        return "|".join(str(c.value if isinstance(c, enum.Enum) else c) for c in choices)
    name = param.type.name.upper()
    return "TEXT" if name in ("STR", "STRING") else name


def _default(opt: Option) -> str:
    value = opt.default
    if opt.is_flag or value is None or callable(value):
        return ""
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, (list, tuple)):
        return ""
    text = str(value)
    return "" if text in ("", "False", "Sentinel.UNSET") or text.startswith("Sentinel") else text


def _help(param: Parameter) -> str | None:
    text = getattr(param, "help", None)
    return " ".join(text.split()) if isinstance(text, str) else None


def _paragraphs(text: str) -> list[str]:
    """Plain paragraphs are filled; a paragraph with indented lines (exit codes, examples) is kept as written."""
    lines: list[str] = []
    for para in re.split(r"\n\s*\n", text.strip()):
        if not para.strip():
            continue
        rows = para.split("\n")
        if any(row[:1].isspace() for row in rows[1:]):
            lines += [".PP", ".nf", *(_esc(row) for row in rows), ".fi"]
        else:
            lines += [".PP", _esc(" ".join(" ".join(rows).split()))]
    return lines


def _esc(text: str) -> str:
    """Text for groff: backslashes and hyphens escaped, no line taken for a request."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    text = re.sub(r"`([^`]+)`", r"\\fB\1\\fR", text)
    if text.startswith((".", "'")):
        text = "\\&" + text
    return text

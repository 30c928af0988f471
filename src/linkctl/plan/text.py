"""A plan told as text and as JSON: what `plan`, `apply` and `--rehearse` print.

Here, below the engine, because the engine tells its rehearsal with it; cli/render.py
re-exports it for the front ends.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from linkctl.plan.ops import CreateLink, Op, Plan, SetLink


def op_record(op: Op) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "action": type(op).__name__,
        "interface": op.name,
        "netns": op.netns,
        "description": op.describe(),
        "command": op.ip_command(),
        "commands": op.ip_commands(),
    }
    if isinstance(op, CreateLink):
        rec["recreate"] = op.reason.startswith("re-create")
    if isinstance(op, SetLink):
        rec["changes"] = [{"field": d.field, "from": d.current, "to": d.desired} for d in op.diffs]
    return rec


def plan_json(plan: Plan) -> str:
    return json.dumps(
        {
            "changes": [op_record(op) for op in plan.ops],
            "other_changes": [
                dict(zip(("description", "command"), e.split("\n", 1), strict=False)) for e in plan.extra
            ],
            "notes": plan.notes,
            "unchanged": plan.unchanged,
        },
        indent=2,
        default=str,
    )


def plan_text(plan: Plan) -> str:
    if plan.empty:
        return f"no changes: {len(plan.unchanged)} interface(s) already as declared"
    lines = [f"{plan.size} change(s):"]
    for i, op in enumerate(plan.ops, 1):
        lines.append(f"  {i}. {op.describe()}")
        lines += [f"     $ {shlex.join(cmd)}" for cmd in op.ip_commands()]
    for i, extra in enumerate(plan.extra, len(plan.ops) + 1):
        text, _, command = extra.partition("\n")
        lines.append(f"  {i}. {text}")
        if command.strip():
            lines.append(f"     $ {command.strip()}")
    lines += [f"  note: {note}" for note in plan.notes]
    if plan.unchanged:
        lines.append(f"  unchanged: {_some(plan.unchanged)}")
    return "\n".join(lines)


UNCHANGED_SHOWN = 12  # a plan over thousands of links names a few; `--format json` lists them all


def _some(names: list[str]) -> str:
    if len(names) <= UNCHANGED_SHOWN:
        return ", ".join(names)
    rest = len(names) - UNCHANGED_SHOWN
    return f"{', '.join(names[:UNCHANGED_SHOWN])} and {rest} more (--format json lists them)"

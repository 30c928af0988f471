"""What the receipt fast path loads: only what linkctl/fastpath/__init__.py names, never the libraries
whose import time it exists to skip. A new import on the path fails here before it shows in a bench."""

from __future__ import annotations

from pathlib import Path

from tests.engine.kernel_helpers import TOPOLOGY, write
from tests.kernel.test_receipts import apply

# The modules the fast path's docstring names (a layer 3 declaration adds kernel/l3.py and its model).
NAMED = {
    "linkctl",
    "linkctl.cli",
    "linkctl.cli.entry",
    "linkctl.interrupts",
    "linkctl.fastpath",
    "linkctl.fastpath.receipt",
    "linkctl.engine",
    "linkctl.engine.lockfile",
    "linkctl.engine.runtime",
    "linkctl.error_base",
    "linkctl.kernel",
    "linkctl.kernel.fastpath",
    "linkctl.kernel.linkdump",
    "linkctl.kernel.nsenter",
    "linkctl.model",
    "linkctl.model.source",
    "linkctl.nla",
    "linkctl.nla.ifla",
}
# Each costs the fast path milliseconds it is measured without (OpenSSL's hashlib: 4-13 ms). Not contextlib:
# `python -m` (runpy) loads it before linkctl runs.
NEVER = {"pydantic", "typer", "yaml", "typing", "dataclasses", "hashlib", "socket", "linkctl.errors"}


def test_the_fast_path_loads_only_the_modules_it_names(netns: str, tmp_path: Path) -> None:
    path = write(tmp_path, TOPOLOGY)
    apply(path, netns)
    res, fast = apply(path, netns)
    assert fast
    imported = {line.rsplit("|", 1)[-1].strip() for line in res.stderr.splitlines() if line.startswith("import time:")}
    ours = {name for name in imported if name.startswith("linkctl")}
    assert ours - {"linkctl.__main__"} <= NAMED, sorted(ours - NAMED)
    assert not imported & NEVER, sorted(imported & NEVER)

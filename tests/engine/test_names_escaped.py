"""A link's name may hold control characters (the kernel takes an ESC): a file may not declare one
(test_promises_review.py), but one the kernel has reaches plan, apply and validation's messages
escaped as `show` prints it, never raw to the terminal. Real links in throwaway namespaces."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ip
from tests.engine.faults import run
from tests.engine.kernel_helpers import write

pytestmark = pytest.mark.kernel

_HIDDEN = "m\x1b[8m"  # ESC [8m: a terminal conceals all that follows


def test_plan_and_apply_escape_a_name_the_kernel_has(netns: str, tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    ip("-n", netns, "link", "add", "b0", "type", "veth", "peer", "name", "c0")
    ip("-n", netns, "link", "add", "link", "b0", "name", _HIDDEN, "type", "macvlan")
    gone = write(tmp_path, "interfaces:\n- {name: b0, state: absent}\n")
    for command in ("plan", "apply"):
        res = run([command, gone, "-n", netns], runtime)
        assert res.returncode == (2 if command == "plan" else 0), res.stdout + res.stderr
        out = res.stdout + res.stderr
        assert "\x1b" not in out, repr(out)
        assert "delete m\\x1b[8m" in out and "note: m\\x1b[8m is deleted by the kernel with b0" in out, out
    assert ip("-n", netns, "-br", "link").count("\n") == 1  # lo alone


def test_a_refusal_naming_a_link_the_kernel_has_escapes_it(netns: str, tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    ip("-n", netns, "link", "add", "b0", "type", "veth", "peer", "name", "c0")
    ip("-n", netns, "link", "add", "link", "b0", "name", _HIDDEN, "type", "macvlan", "mode", "passthru")
    more = write(tmp_path, "interfaces:\n- {name: m2, type: mac-vlan, mac-vlan: {base-iface: b0, mode: bridge}}\n")
    res = run(["apply", more, "-n", netns], runtime)
    assert res.returncode == 1 and "\x1b" not in res.stderr, repr(res.stderr)
    assert "m\\x1b[8m runs over b0 in passthru mode" in res.stderr, res.stderr

"""`--netns NS` names a file under /run/netns: a name `ip netns` cannot have is a usage error before
anything is read. `try -n ..` and `apply -n ..` died of an internal error half-way (opening the
directory /run/netns/..) and left a journal that `recover` could not roll back either: every later
change was refused; `apply -n x/y` mounted the namespace on ./x/y."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import LINKCTL

VETH = "interfaces:\n- name: nv0\n  type: veth\n  veth: {peer: nv1}\n"


@pytest.mark.parametrize("name", ["..", ".", "x/y", "q" * 256])
@pytest.mark.parametrize("command", ["try", "apply", "plan", "show", "recover"])
def test_a_name_no_namespace_can_have_is_refused_before_anything(tmp_path: Path, command: str, name: str) -> None:
    decl = tmp_path / "n.yml"
    decl.write_text(VETH)
    runtime = tmp_path / "run"
    args = [command] if command in ("show", "recover") else [command, str(decl)]
    env = {**os.environ, "LINKCTL_RUNTIME_DIR": str(runtime)}
    out = subprocess.run(
        [*LINKCTL, *args, "-n", name, *(["--timeout", "1"] if command == "try" else [])],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
        cwd=tmp_path,  # `apply -n x/y` mounted the namespace on ./x/y
    )
    assert out.returncode == 64, out.stderr
    assert "an `ip netns` name" in out.stderr and "nothing was read or changed" in out.stderr
    assert "internal error" not in out.stderr
    assert not (runtime / "change.journal").exists()

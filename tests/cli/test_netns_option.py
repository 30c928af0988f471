"""`--netns NS` names a file under /run/netns: a name `ip netns` cannot have is a usage error before
anything is read. `try -n ..` and `apply -n ..` died of an internal error half-way (opening the
directory /run/netns/..) and left a journal that `recover` could not roll back either: every later
change was refused; `apply -n x/y` mounted the namespace on ./x/y."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import typer

from linkctl.cli import netns_opt
from linkctl.errors import LinkctlError
from linkctl.kernel import netns
from tests.conftest import LINKCTL

VETH = "interfaces:\n- name: nv0\n  type: veth\n  veth: {peer: nv1}\n"


# Only names whose old harm stayed in the test's own directories: '.' and 'x/y' are checked below
# without running a command (before the fix, rolling back '.' unmounted /run/netns itself).
@pytest.mark.parametrize("name", ["..", "q" * 256])
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


@pytest.mark.parametrize("name", [".", "..", "x/y", "../x", "q" * 256])
def test_the_option_and_the_kernel_layer_refuse_a_path_for_a_name(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from pyroute2 import netns as pr_netns

    def handed(path: str, *_args: object, **_kwargs: object) -> None:  # the real one mounts or unmounts `path`
        raise AssertionError(f"{path!r} was handed to pyroute2")

    monkeypatch.setattr(pr_netns, "create", handed)
    monkeypatch.setattr(pr_netns, "remove", handed)
    with pytest.raises(typer.BadParameter, match="an `ip netns` name"):
        netns_opt.checked(name)
    if len(name) < 256:  # pyroute2 takes these for paths: never handed to it
        for act in (netns.create, netns.remove):
            with pytest.raises(LinkctlError, match="is no `ip netns` name"):
                act(name)
    assert netns_opt.checked("blue-1.a") == "blue-1.a" and netns_opt.checked(None) is None

"""Rollback of links whose other end lives in a namespace the file does not name: a veth's peer, a
mac-vlan's or VXLAN's base left behind by a move. The state before names that namespace (read with
the change's own), a rollback from the journal makes them again there, and one that cannot be made
again (its peer's namespace removed meanwhile) is named, not said to be "as before"."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from linkctl.model.bridge_sections import INTERNAL
from linkctl.model.spec import InterfaceSpec
from tests.conftest import ip
from tests.engine.faults import holding, links, run, wait_gone
from tests.engine.kernel_helpers import write


def _on_base(ns: str, name: str) -> tuple[object, object, object]:
    """Where the kernel says `name` stands: its link-netns and its base's index there (a mac-vlan's
    IFLA_LINK), and its kind."""
    (link,) = json.loads(ip("-n", ns, "-j", "-d", "link", "show", name))
    return link.get("link_netnsid"), link.get("link_index"), link["linkinfo"]["info_kind"]


def test_a_file_may_not_say_where_a_base_is_read() -> None:
    """`base-netns` is linkctl's own, in the journal only: a file naming it is refused as any unknown
    key, and `show -f yaml` (a dump without the internal context) leaves it out."""
    with pytest.raises(ValidationError, match="base-netns"):
        InterfaceSpec.model_validate({"name": "m0", "base-netns": ["x"]})
    spec = InterfaceSpec.model_validate({"name": "m0", "base-netns": ["x"]}, context=INTERNAL)
    assert spec.base_netns == ("x",)
    assert "base-netns" not in spec.model_dump(by_alias=True, exclude_none=True)
    assert spec.model_dump(by_alias=True, exclude_none=True, context=INTERNAL)["base-netns"] == ("x",)


def test_the_guardian_makes_again_a_macvlan_on_its_base_in_another_namespace(
    netns_factory: Callable[[], str], tmp_path: Path
) -> None:
    """`try` killed while it holds the deletion of m0 (netns C, on v0 of netns A): the guardian rolls
    back from the journal alone, which must say where m0's base is."""
    a, c = netns_factory(), netns_factory()
    runtime = tmp_path / "run"
    ip("-n", a, "link", "add", "v0", "type", "veth", "peer", "name", "p0")
    ip("-n", a, "link", "add", "m0", "link", "v0", "type", "macvlan", "mode", "bridge")
    ip("-n", a, "link", "set", "m0", "netns", c)
    before = _on_base(c, "m0")
    gone = write(tmp_path, "interfaces:\n- {name: m0, state: absent}\n", "gone.yml")
    proc, guardian = holding(Path(gone), c, runtime, 3)
    proc.kill()
    proc.wait()
    wait_gone(guardian)
    outcome = json.loads((runtime / "try-outcome.json").read_text())
    assert not (runtime / "change.journal").exists(), outcome
    assert _on_base(c, "m0") == before, outcome
    assert "as they were before" in outcome["message"], outcome


def test_a_rollback_names_a_veth_whose_peer_namespace_was_removed_meanwhile(
    netns_factory: Callable[[], str], tmp_path: Path
) -> None:
    """v0 (netns A) with its peer in netns C; `try` deletes v0, and C is removed while it holds. The
    rollback cannot make the pair again (nor should it make C again to put p0 in): it says so, by name,
    instead of "as they were before" alone, and clears the journal (no later `recover` can do better)."""
    a, c = netns_factory(), netns_factory()
    runtime = tmp_path / "run"
    ip("-n", a, "link", "add", "v0", "type", "veth", "peer", "name", "p0", "netns", c)
    ip("-n", a, "link", "add", "keep0", "type", "veth", "peer", "name", "keep1")
    gone = write(tmp_path, "interfaces:\n- {name: v0, type: veth, state: absent}\n", "gone.yml")
    proc, guardian = holding(Path(gone), a, runtime, 2)
    ip("netns", "del", c)
    out, err = proc.communicate(timeout=120)
    wait_gone(guardian)
    said = out + err
    assert "internal error" not in said, said
    assert f"v0 (netns {a}) could not be made again: its peer's namespace {c} is gone" in said, said
    assert f"netns {c} no longer exists" in said, said
    assert not (runtime / "change.journal").exists(), said
    assert "v0" not in links(a) and "keep0" in links(a), said
    assert not ip("netns", "list").count(c), "the rollback made the removed namespace again"
    assert run(["recover"], runtime).returncode == 0

"""nmstate files linkctl does not yet take as nmstate does: each kept here, its test failing until it does.

Found reviewing nmstate's examples and documentation (issue 17); each test says what nmstate does
with the file, and is marked xfail(strict=True) with the cause, so that the fix turns it green. A test
the fix turned green loses its mark and stays (`controller:` on a port: plan/controllers.py).
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ip, run_linkctl
from tests.engine.kernel_helpers import by_name

HERE = Path(__file__).parent


def test_a_port_naming_its_controller_joins_it(netns: str) -> None:
    ip("-n", netns, "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p")
    ip("-n", netns, "link", "add", "eth2", "type", "veth", "peer", "name", "eth2p")
    ip("-n", netns, "link", "add", "br0", "type", "bridge")
    ip("-n", netns, "link", "set", "eth2", "master", "br0")
    res = run_linkctl("apply", str(HERE / "interface_controller.yml"), "--netns", netns)
    assert res.returncode == 0, res.stderr
    links = by_name(netns)
    # nmstate: eth1 joins br0, up; eth2, a port the file does not name, stays one.
    assert links["eth1"].get("master") == "br0" and links["eth2"].get("master") == "br0", links

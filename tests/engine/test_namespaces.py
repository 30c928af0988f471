"""Links across namespaces against the real kernel: pairs split over two, moves, bases left behind."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from linkctl.diagnose.audit import run_audit
from tests.conftest import ip, run_linkctl
from tests.engine.kernel_helpers import by_name, drop_netns, is_up, write


def test_veth_ends_in_two_namespaces_and_moves(netns_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    red, blue = netns_factory(), netns_factory()
    decl = f"""
interfaces:
- {{name: vr, type: veth, netns: {red}, veth: {{peer: vb, peer-netns: {blue}}}}}
- {{name: vb, type: veth, netns: {blue}, mtu: 1400, veth: {{peer: vr}}}}
"""
    assert run_linkctl("apply", write(tmp_path, decl)).returncode == 0, "apply"
    assert "vr" in by_name(red) and by_name(blue)["vb"]["mtu"] == 1400
    again = run_linkctl("apply", write(tmp_path, decl))
    assert "no changes" in again.stdout, again.stdout + again.stderr
    ip("-n", red, "link", "add", "mover", "type", "veth", "peer", "name", "mover-p")
    ip("-n", red, "link", "add", "bare", "type", "veth", "peer", "name", "bare-p")
    ip("-n", red, "addr", "add", "10.9.0.1/24", "dev", "mover")
    ip("-n", red, "link", "set", "mover", "up")
    ip("-n", red, "addr", "add", "2001:db8::1/64", "dev", "mover")
    move = f"interfaces: [{{name: mover, netns: {blue}}}, {{name: bare, netns: {blue}}}]"
    plan = run_linkctl("plan", write(tmp_path, move, "m.yml"), "--netns", red)
    assert plan.returncode == 2
    # The plan names what the kernel will drop, as read from the namespace (link-local ones it makes anew).
    assert (
        f"move mover (netns {red}) to netns {blue}: the kernel drops its addresses 10.9.0.1/24, 2001:db8::1/64"
        in plan.stdout
    )
    assert f"move bare (netns {red}) to netns {blue}: it carries no addresses to lose" in plan.stdout
    assert run_linkctl("apply", write(tmp_path, move, "m.yml"), "--netns", red).returncode == 0
    assert "mover" in by_name(blue) and "mover" not in by_name(red)
    # The kernel closes a link it moves; it was up and the file did not say otherwise.
    assert is_up(by_name(blue)["mover"]) and not is_up(by_name(blue)["bare"])


def test_a_refusal_after_a_move_puts_the_pair_back_whole(netns_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    red, blue = netns_factory(), netns_factory()
    ip("-n", red, "link", "add", "br0", "up", "type", "bridge")
    ip("-n", red, "link", "add", "e1", "master", "br0", "up", "type", "veth", "peer", "name", "e1p", "netns", blue)
    ip("-n", blue, "link", "set", "e1p", "up")
    before = {ns: by_name(ns) for ns in (red, blue)}
    # e1p moves to red, then a macvlan on it takes its MAC: refused by the kernel at step 2.
    mac = before[blue]["e1p"]["address"]
    failing = f"""
interfaces:
- {{name: e1p, netns: {red}}}
- {{name: mv, type: mac-vlan, netns: {red}, mac-address: "{mac}", mac-vlan: {{base-iface: e1p}}}}
"""
    res = run_linkctl("apply", write(tmp_path, failing), "--netns", blue)
    assert res.returncode == 1 and "rolled back" in res.stderr and "INCOMPLETE" not in res.stderr, res.stderr
    assert "Address already in use. Another link on the same base (or the base itself) has this MAC" in res.stderr
    after = {ns: by_name(ns) for ns in (red, blue)}
    for ns in (red, blue):
        assert set(after[ns]) == set(before[ns]), ns
        for name, was in before[ns].items():
            now = after[ns][name]
            # Not re-created (the same random MAC; a move may renumber it), still enslaved, up as before.
            assert (now["address"], now.get("master"), is_up(now)) == (was["address"], was.get("master"), is_up(was)), (
                name
            )


@pytest.mark.parametrize("both", [False, True], ids=["one-end-declared", "both-ends-declared"])
def test_a_pair_whose_ends_share_a_name_in_two_namespaces(
    netns_factory: Callable[[], str], tmp_path: Path, both: bool
) -> None:
    # `peer: x` on x itself is legal with peer-netns; it was taken for its own peer, and the
    # peer was made beside it ("File exists").
    home, other = netns_factory(), f"lkt-{uuid.uuid4().hex[:8]}"
    text = f"interfaces:\n- {{name: x, type: veth, mtu: 1400, veth: {{peer: x, peer-netns: {other}}}}}\n"
    if both:
        text += f"- {{name: x, type: veth, mtu: 1300, netns: {other}, veth: {{peer: x, peer-netns: {home}}}}}\n"
    path = write(tmp_path, text)
    try:
        res = run_linkctl("apply", path, "--netns", home)
        assert res.returncode == 0, res.stderr
        assert by_name(home)["x"]["mtu"] == 1400
        assert by_name(other)["x"]["mtu"] == (1300 if both else 1400)  # an undeclared peer mirrors its end
        assert run_linkctl("plan", path, "--netns", home).returncode == 0
    finally:
        drop_netns(other)


def test_a_move_into_a_new_namespace_and_a_bridge_there_still_names_the_addresses(netns: str, tmp_path: Path) -> None:
    # The enslavement happens in a namespace the plan creates: reading its addresses must not
    # cost the move its list (it fell back to the general warning).
    other = f"lkt-{uuid.uuid4().hex[:8]}"
    ip("-n", netns, "link", "add", "mv9", "type", "veth", "peer", "name", "mv9p")
    ip("-n", netns, "addr", "add", "10.9.0.1/24", "dev", "mv9")
    text = f"""
interfaces:
- {{name: mv9, netns: {other}}}
- {{name: br9, type: linux-bridge, netns: {other}, bridge: {{port: [{{name: mv9}}]}}}}
"""
    plan = run_linkctl("plan", write(tmp_path, text), "--netns", netns)
    assert plan.returncode == 2, plan.stderr
    assert f"move mv9 (netns {netns}) to netns {other}: the kernel drops its addresses 10.9.0.1/24" in plan.stdout


def test_a_veth_peer_sent_to_another_new_namespace_is_made_again_there(
    netns_factory: Callable[[], str], tmp_path: Path
) -> None:
    # The file first puts vb (with a mac-vlan) in blue, then in green: blue is no longer named,
    # so its links are not read. The pair must be made again across red and green, not created
    # a second time beside va ("File exists").
    red, blue, green = netns_factory(), f"lkt-{uuid.uuid4().hex[:8]}", f"lkt-{uuid.uuid4().hex[:8]}"
    text = """
interfaces:
- {{name: va, type: veth, state: up, mtu: 9000, veth: {{peer: vb, peer-netns: {ns}}}}}
- {{name: vb, type: veth, netns: {ns}, state: up, mtu: 9000, txqueuelen: 3000}}
- {{name: mv1, type: mac-vlan, netns: {ns}, mtu: 8000, mac-vlan: {{base-iface: vb, mode: bridge}}}}
"""
    try:
        first = run_linkctl("apply", write(tmp_path, text.format(ns=blue), "blue.yml"), "--netns", red)
        assert first.returncode == 0, first.stderr
        moved = write(tmp_path, text.format(ns=green), "green.yml")
        res = run_linkctl("apply", moved, "--netns", red)
        assert res.returncode == 0, res.stdout + res.stderr
        assert f"re-create: veth.peer-netns (a namespace the file does not name) -> '{green}'" in res.stdout
        assert run_linkctl("plan", moved, "--netns", red).returncode == 0
        assert by_name(green)["vb"]["mtu"] == 9000 and by_name(green)["mv1"]["mtu"] == 8000
        assert set(by_name(blue)) == {"lo"}  # the old end went with its pair, its mac-vlan with it
    finally:
        drop_netns(blue, green)


def test_a_base_left_in_another_namespace_is_not_taken_for_a_link_of_the_same_index(
    netns_factory: Callable[[], str], tmp_path: Path
) -> None:
    # A VXLAN and a mac-vlan made on vb in `home`, then moved to `away`: their base is still vb,
    # in `home` (the kernel reports its index there, with IFLA_LINK_NETNSID). A link of `away`
    # that happens to have the same index is not their base.
    home, away = netns_factory(), netns_factory()
    ip("-n", home, "link", "add", "vb", "type", "veth", "peer", "name", "vbp")
    index = str(json.loads(ip("-n", home, "-j", "link", "show", "vb"))[0]["ifindex"])
    ip("-n", home, "link", "add", "vxm", "type", "vxlan", "id", "77", "dev", "vb", "dstport", "4789",
       "local", "198.51.100.1", "remote", "198.51.100.9")  # fmt: skip
    ip("-n", home, "link", "add", "mvm", "link", "vb", "type", "macvlan", "mode", "bridge")
    ip("-n", home, "addr", "add", "198.51.100.1/24", "dev", "vb")
    for name in ("vxm", "mvm"):
        ip("-n", home, "link", "set", name, "netns", away)
    ip("-n", away, "link", "add", "name", "same", "index", index, "type", "veth", "peer", "name", "same-p")
    rows = {line.split()[0]: line for line in run_linkctl("show", "--netns", away).stdout.splitlines()}
    assert f"base=vb@{home}" in rows["vxm"] and f"base=vb@{home}" in rows["mvm"]
    state = run_linkctl("show", "--netns", away, "--format", "yaml").stdout
    assert "base-iface" not in state  # the format names a base of the same namespace only
    path = write(tmp_path, state)
    assert run_linkctl("plan", path, "--netns", away).returncode == 0
    # The VXLAN sends from home's 198.51.100.1: no vxlan-local-not-assigned in `away`.
    findings, _ = run_audit([away, home], between=lambda: None)
    assert not [f for f in findings if f.check.startswith("vxlan-")], findings


def test_a_mac_vlan_and_a_vxlan_made_into_another_namespace_on_a_base_of_the_default_one(
    netns_factory: Callable[[], str], tmp_path: Path
) -> None:
    # The container case: mv0 and vx0 live in `ctr`, over up0 of the file's default namespace
    # (`ip link add link up0 name mv0 netns ctr type macvlan`).
    home, ctr = netns_factory(), f"lkt-{uuid.uuid4().hex[:8]}"
    ip("-n", home, "link", "add", "up0", "type", "veth", "peer", "name", "up0p")
    text = f"""
interfaces:
- {{name: mv0, type: mac-vlan, netns: {ctr}, mtu: 1400, mac-vlan: {{base-iface: up0, mode: bridge}}}}
- {{name: vx0, type: vxlan, netns: {ctr}, vxlan: {{id: 5, base-iface: up0, remote: 192.0.2.5, destination-port: 4789}}}}
"""
    path = write(tmp_path, text)
    try:
        plan = run_linkctl("plan", path, "--netns", home)
        assert f"$ ip -n {home} link add link up0 name mv0 mtu 1400 up netns {ctr} type macvlan mode bridge" in (
            plan.stdout
        )
        # Rehearsed, the steps are told in the user's namespaces, the one it is made in too.
        rehearsed = run_linkctl("plan", path, "--netns", home, "--rehearse")
        assert f"$ ip -n {home} link add link up0 name mv0 mtu 1400 up netns {ctr} type macvlan" in rehearsed.stdout
        res = run_linkctl("apply", path, "--netns", home)
        assert res.returncode == 0, res.stdout + res.stderr
        assert "no changes" in run_linkctl("apply", path, "--netns", home).stdout
        rows = {line.split()[0]: line for line in run_linkctl("show", "--netns", ctr).stdout.splitlines()}
        assert f"base=up0@{home}" in rows["mv0"] and f"base=up0@{home}" in rows["vx0"]
        assert by_name(ctr)["mv0"]["mtu"] == 1400
        # A base the file re-makes takes them with it in the kernel: they are made again.
        again = text + "- {name: up0, type: veth, veth: {peer: up0q}}\n- {name: up0p, state: absent}\n"
        again = write(tmp_path, again, "again.yml")
        res = run_linkctl("apply", again, "--netns", home)
        assert res.returncode == 0, res.stdout + res.stderr
        assert f"create mv0 (netns {ctr}): re-create: it goes with up0, which is re-created" in res.stdout
        assert run_linkctl("plan", again, "--netns", home).returncode == 0
        # Neither here nor in the default namespace: refused, saying where it was looked for.
        bad = run_linkctl("plan", write(tmp_path, text.replace("up0", "nope0"), "bad.yml"), "--netns", home)
        assert bad.returncode == 1 and "mac-vlan.base-iface: 'nope0': an interface that exists" in bad.stderr
    finally:
        drop_netns(ctr)

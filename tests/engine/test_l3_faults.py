"""Signals at many points of a real change of links and of their addresses, routes and rules.

The fault suite of tests/engine/test_apply_faults.py, for layer 3: 150 veth pairs (300 links) with
IPv4 and IPv6 addresses, routes (ECMP in both families, a blackhole) and rules, changed at once:
addresses replaced, added and removed, IPv6 turned off on some links and on on others, pairs
deleted and others made, routes added, replaced and removed (through links that go, links that
come, links whose every address is replaced), rules added with and without a priority and removed.
`apply` and `try` are signalled (SIGINT, SIGTERM, SIGHUP, SIGKILL) at seeded points over the whole
run, and the namespace must then equal its state before, or the declared one where linkctl said
"applied and verified": links (`ip -j -d link show`), addresses (`ip -j addr`, without IPv6
link-local ones and lifetimes), the routes a person made (`ip -j route show table all`, proto boot
or static, both families), the rules (`ip -j rule`, both families) and each link's IPv6 switch
(net.ipv6.conf.LINK.disable_ipv6).

LINKCTL_L3_FAULT_POINTS sets the points per command and signal (default 8), LINKCTL_FAULT_SEED the seed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_linkctl
from tests.engine.faults import Scenario, Trial, difference, links_and_layer3

pytestmark = pytest.mark.kernel

PAIRS = 150
KEPT = range(0, 135)  # changed in place
GONE = range(135, PAIRS)  # deleted by the change, with their addresses and routes
NEW = range(15)  # n0/m0 ... made by the change
POINTS = int(os.environ.get("LINKCTL_L3_FAULT_POINTS", "8"))
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL]
SEED = int(os.environ.get("LINKCTL_FAULT_SEED", "20261207"))  # another seed: other points, same checks


def v4(i: int, host: int) -> str:
    """Pair i's IPv4 subnet is 10.0.i.0/24."""
    return f"10.{i // 200}.{i % 200}.{host}"


def v6(i: int, host: int) -> str:
    """Pair i's IPv6 subnet is 2001:db8:i::/64 (i in hex)."""
    return f"2001:db8:{i:x}::{host}"


def _q(text: str) -> str:
    """Quoted for YAML where it holds a colon (an IPv6 address)."""
    return f"'{text}'" if ":" in text else text


def ipv4(*cidrs: str) -> str:
    listed = ", ".join(f"{{ip: {c.split('/')[0]}, prefix-length: {c.split('/')[1]}}}" for c in cidrs)
    return f"ipv4: {{enabled: true, dhcp: false, address: [{listed}]}}"


def ipv6(*cidrs: str) -> str:
    if not cidrs:
        return "ipv6: {enabled: false}"
    listed = ", ".join(f"{{ip: {_q(c.split('/')[0])}, prefix-length: {c.split('/')[1]}}}" for c in cidrs)
    return f"ipv6: {{enabled: true, dhcp: false, autoconf: false, address: [{listed}]}}"


def route(dst: str, via: int | str | None = None, gw: str = "", **more: object) -> str:
    """A route entry; `via` a pair's number (its v end, the gateway its p end) or a link's name."""
    fields = [f"destination: {_q(dst)}"]
    if isinstance(via, int):
        dev, gw = f"v{via}", gw or (v4(via, 2) if ":" not in dst else v6(via, 2))
        fields += [f"next-hop-interface: {dev}", f"next-hop-address: {_q(gw)}"]
    elif via is not None:
        fields += [f"next-hop-interface: {via}", f"next-hop-address: {_q(gw)}"]
    fields += [f"{k.replace('_', '-')}: {v}" for k, v in more.items()]
    return "  - {" + ", ".join(fields) + "}"


def before() -> str:
    """The state before, and what the change adds declared absent (routes and rules are declared
    additively, so the file alone would not take them away after a change that stayed)."""
    out = ["interfaces:"]
    for i in range(PAIRS):
        six = ipv6(f"{v6(i, 1)}/64") if i % 10 == 0 else ipv6()
        v_end = f"name: v{i}, type: veth, state: up, mtu: 1500, veth: {{peer: p{i}}}"
        out.append(f"- {{{v_end}, {ipv4(f'{v4(i, 1)}/24')}, {six}}}")
        out.append(f"- {{name: p{i}, type: veth, state: up, mtu: 1500, {ipv4(f'{v4(i, 2)}/24')}, {ipv6()}}}")
    out += [f"- {{name: n{i}, type: veth, state: absent}}" for i in NEW]
    out.append("routes:\n  config:")
    out += [route(f"172.16.{i}.0/24", i, metric=100) for i in range(0, PAIRS, 5)]
    out += [route(f"2001:db8:f{i:03x}::/64", i) for i in range(0, PAIRS, 10)]
    out += [route("192.168.0.0/16", i) for i in (0, 1, 140, 141)]  # IPv4 ECMP, through links that go
    out += [route("2001:db8:ecec::/64", i) for i in (10, 140)]  # IPv6 ECMP, one of its links goes
    out.append(route("203.0.113.0/24", route_type="blackhole"))
    out.append("  - {state: absent}")  # every route the change adds
    out.append("route-rules:\n  config:")
    out += [f"  - {{ip-from: {v4(i, 0)}/24, route-table: {300 + i}, priority: {1000 + i}}}" for i in range(20)]
    out.append("  - {ip-to: 198.18.0.0/15, route-table: 400}")  # the kernel picks its priority
    out.append("  - {family: ipv6, ip-from: '2001:db8::/32', route-table: 300, priority: 2000}")
    out.append("  - {state: absent}")  # every rule the change adds
    return "\n".join(out) + "\n"


def _kept(i: int) -> list[str]:
    """Pair i's ends as the change declares them."""
    addresses = [f"{v4(i, 3 if i % 3 == 0 else 1)}/24"]  # every third: its only address replaced
    if i % 4 == 0:
        addresses.append(f"10.{100 + i // 200}.{i % 200}.1/24")
    if i % 20 == 0:
        six = ipv6()  # IPv6 off where it was on, with an address and routes
    elif i % 10 == 5:
        six = ipv6(f"{v6(i, 1)}/64")  # on where it was off
    else:
        six = ipv6(f"{v6(i, 5)}/64") if i % 10 == 0 else ""  # another address
    sections = ", ".join(s for s in (ipv4(*addresses), six) if s)
    return [
        f"- {{name: v{i}, type: veth, state: up, mtu: 9000, veth: {{peer: p{i}}}, {sections}}}",
        f"- {{name: p{i}, type: veth, state: up, mtu: 9000}}",
    ]


def change() -> str:
    out = ["interfaces:"]
    for i in KEPT:
        out += _kept(i)
    out += [f"- {{name: v{i}, type: veth, state: absent}}" for i in GONE]
    for i in NEW:
        sections = f"{ipv4(f'10.200.{i}.1/24')}, {ipv6(f'2001:db8:aa{i:02x}::1/64')}"
        out.append(f"- {{name: n{i}, type: veth, state: up, veth: {{peer: m{i}}}, {sections}}}")
        out.append(f"- {{name: m{i}, type: veth, state: up}}")
    out.append("routes:\n  config:")
    for i in range(0, max(KEPT) + 1, 5):  # i % 20 == 0: left as they are (their link's address replaced)
        if i % 20 == 10:
            out.append(f"  - {{destination: 172.16.{i}.0/24, state: absent}}")
        elif i % 10 == 5:
            out.append(route(f"172.16.{i}.0/24", i, gw=v4(i, 7), metric=100))  # replaced: another gateway
    for i in NEW:
        out.append(route(f"10.210.{i}.0/24", f"n{i}", f"10.200.{i}.2"))
        out.append(route(f"2001:db8:bb{i:02x}::/64", f"n{i}", f"2001:db8:aa{i:02x}::2", table_id=500))
    for i in (0, 1, 2):  # ECMP through links made and links kept
        out.append(route("10.250.0.0/16", f"n{i}", f"10.200.{i}.2", weight=i + 1))
        out.append(route("10.250.0.0/16", i + 3, weight=2))
        out.append(route("2001:db8:ecef::/64", f"n{i}", f"2001:db8:aa{i:02x}::2"))
    out.append(route("2001:db8:ecef::/64", 30))
    out += [route("192.168.0.0/16", i) for i in (0, 2)]  # the ECMP route of before, other next hops
    out.append(route("198.51.100.0/24", route_type="blackhole", metric=7))
    out.append(route("2001:db8:dead::/48", route_type="unreachable"))
    out.append("  - {destination: 203.0.113.0/24, state: absent}")
    out.append("route-rules:\n  config:")
    out += [f"  - {{priority: {1000 + i}, state: absent}}" for i in range(0, 20, 2)]
    out += [f"  - {{ip-from: 10.200.{i}.0/24, route-table: {600 + i}, priority: {3000 + i}}}" for i in NEW]
    out.append("  - {ip-to: 198.18.0.0/15, state: absent}")  # one whose priority the kernel picked
    out.append("  - {ip-to: 198.51.100.0/24, route-table: 401}")  # no priority: the kernel picks one
    out.append("  - {family: ipv6, ip-to: '2001:db8:bb00::/40', route-table: 500, priority: 2001}")
    return "\n".join(out) + "\n"


# IPv6 on only where a file turns it on: new links have it off, as the link suite has it everywhere.
# A trial waits 1 s: the change itself takes ~0.3 s here, and each unconfirmed one waits it out.
LAYER3 = Scenario(before(), change(), links_and_layer3, ("net.ipv6.conf.default.disable_ipv6=1",), try_timeout=1)


@pytest.fixture(scope="module")
def trial(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trial]:
    """One namespace, and its states before and after the change, for the 8 tests (made and read once:
    ~5 s each time); each test calibrates its own run."""
    if os.geteuid() != 0:
        pytest.skip("needs root to create network namespaces")
    name = f"lkt-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield Trial(name, tmp_path_factory.mktemp("layer3"), LAYER3, is_try=False)
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


@pytest.mark.parametrize("command", ["apply", "try"])
@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_signal_at_any_point_leaves_links_addresses_routes_and_rules_as_before_or_as_declared(
    trial: Trial, command: str, sig: int
) -> None:
    trial.is_try = command == "try"
    trial.reset()  # whatever a test that failed left (nothing is sent when the namespace is as before)
    outcomes = trial.strike_at_points(sig, POINTS, f"{SEED}-layer3-{command}-{sig}")
    assert sum(outcomes.values()) == POINTS


@pytest.mark.parametrize("change", ["state: absent", "state: down", "mtu: 1200"])
def test_a_rollback_puts_back_what_a_deleted_or_downed_link_lost(netns: str, tmp_path: Path, change: str) -> None:
    """A file that only deletes a link, takes it down, or gives it an MTU below IPv6's 1280: its try,
    unconfirmed, puts back the link, its addresses and the routes through it (ECMP included). Layer 3 was
    not read for such a file: the rollback made the pair again bare, or brought the link (its MTU) back
    without its IPv6 address and routes, which the kernel had flushed, and said "as before"."""
    start = tmp_path / "start.yml"
    start.write_text(
        "interfaces:\n"
        f"- {{name: v0, type: veth, state: up, veth: {{peer: p0}}, {ipv4('10.0.0.1/24', '10.100.0.1/24')}, "
        f"{ipv6(f'{v6(0, 1)}/64')}}}\n"
        f"- {{name: p0, type: veth, state: up, {ipv4('10.0.0.2/24')}}}\n"
        f"- {{name: v1, type: veth, state: up, veth: {{peer: p1}}, {ipv4('10.0.1.1/24')}}}\n"
        "- {name: p1, type: veth, state: up}\n"
        "routes:\n  config:\n"
        f"{route('172.16.0.0/24', 0)}\n{route('192.168.0.0/16', 0)}\n{route('192.168.0.0/16', 1)}\n"
        f"{route('2001:db8:99::/64', 0)}\n"
    )
    assert run_linkctl("apply", str(start), "--netns", netns).returncode == 0
    before = links_and_layer3(netns)
    gone = tmp_path / "change.yml"
    gone.write_text(f"interfaces:\n- {{name: v0, type: veth, {change}}}\n")
    res = run_linkctl("try", str(gone), "--netns", netns, "--timeout", "1", stdin="")  # no Enter: no confirmation
    assert res.returncode == 3 and "as they were before" in res.stdout + res.stderr, res.stdout + res.stderr
    now = links_and_layer3(netns)
    same = now == before
    assert same, difference(now, before)


def test_a_rollback_gives_a_link_it_makes_again_its_ipv6_switch_back(netns: str, tmp_path: Path) -> None:
    """p0 has IPv6 off, v0 (its peer) is deleted: the rollback makes the pair again, p0 with IPv6 off, not
    the namespace's default (the switch was read only for the links a file gave an ipv6 section)."""
    start = tmp_path / "start.yml"
    start.write_text(
        "interfaces:\n- {name: v0, type: veth, state: up, veth: {peer: p0}}\n"
        f"- {{name: p0, type: veth, state: up, {ipv6()}}}\n"
    )
    assert run_linkctl("apply", str(start), "--netns", netns).returncode == 0
    switch = ["ip", "netns", "exec", netns, "sysctl", "-n", "net.ipv6.conf.p0.disable_ipv6"]
    assert subprocess.run(switch, capture_output=True, text=True, check=True).stdout.strip() == "1"
    gone = tmp_path / "gone.yml"
    gone.write_text("interfaces:\n- {name: v0, type: veth, state: absent}\n")
    res = run_linkctl("try", str(gone), "--netns", netns, "--timeout", "1", stdin="")
    assert res.returncode == 3 and "as they were before" in res.stdout + res.stderr, res.stdout + res.stderr
    assert subprocess.run(switch, capture_output=True, text=True, check=True).stdout.strip() == "1"

"""An operator's `ip link set X down` against the real kernel: `linkctl watch` records it as an
admin down, `status` shows it, `report` counts it apart, and the flap rules leave it out, while
the peer of a veth set down loses its carrier in earnest.

What the kernel does (measured on a veth, kernel 6.18): `ip link set v0 down` clears IFF_UP and
veth_close drops the carrier of both ends: carrier_down_count + 1 on each, in the message that
says IFF_UP is gone; `up` raises both carriers (carrier_up_count + 1 each). lo counts nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from .test_daemon import (
    CARRIER,
    add_pairs,
    base_args,
    cli,
    history,
    ip,
    kernel_counts,
    namespace,
    store_url,
    unique,
    wait_caught_up,
    watching,
)

__all__ = ["store_url"]  # the fixture, used by name
pytestmark = pytest.mark.kernel

TOGGLES = 5  # 10 carrier changes the kernel counts in seconds: the rate rule's 6th would open an episode


def _json(*args: str) -> Any:
    proc = cli(*args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_an_admin_down_is_told_from_a_lost_carrier_in_history_status_and_report(store_url: str) -> None:
    with namespace() as ns:
        name = unique()
        peer = f"{name}p"
        add_pairs(ns, [name])  # a fresh namespace's lo stays as it is made: admin down
        with watching(base_args([ns], store_url)) as w:
            before = kernel_counts(ns)
            for i in range(TOGGLES):
                ip("-n", ns, "link", "set", name, "down")
                w.wait_line(_seen(w.lines, name, "admin_down", i + 1))
                ip("-n", ns, "link", "set", name, "up")
                w.wait_line(_seen(w.lines, name, "admin_up", i + 1))
            ip("-n", ns, "link", "set", name, "down")  # and left so
            after = wait_caught_up(store_url, ns)
            status = _json("status", "--store", store_url, "--format", "json")
            table = cli("status", "--store", store_url).stdout
            report = _json("report", "--store", store_url, "--since", "1h", "--format", "json")
            text = cli("report", "--store", store_url, "--since", "1h").stdout
            assert w.stop() == 0
    rows = history(store_url, ns)
    mine = [(r["event"], r["transitions"], r["state"]) for r in rows if r["ifname"] == name]
    assert mine == [("admin_down", 1, "admin_down"), ("admin_up", 1, "up")] * TOGGLES + [
        ("admin_down", 1, "admin_down")
    ]
    theirs = [(r["event"], r["transitions"], r["state"]) for r in rows if r["ifname"] == peer]
    assert theirs == [("link_down", 1, "down"), ("link_up", 1, "up")] * TOGGLES + [("link_down", 1, "down")]
    # Every change the kernel counted is in an event as it happened: none left for a gap.
    assert [r for r in rows if r["event"] == "gap"] == []
    assert sum(int(r["transitions"]) for r in rows if r["event"] in CARRIER) == sum(after.values()) - sum(
        before.values()
    )
    state = {s["ifname"]: (s["state"], s["flapping"], s["transitions"]) for s in status if s["netns"] == ns}
    assert state[name] == ("admin_down", False, 0)  # its carrier changes were an operator's
    assert state[peer] == ("down", True, 2 * TOGGLES + 1)  # lost its carrier 6 times: flapping
    assert state["lo"][0] == "admin_down"  # admin down when the watcher started
    assert _row(table, name)[3:5] == ["admin", "down"] and _row(table, "lo")[3:5] == ["admin", "down"]
    assert _row(table, peer)[3] == "down"
    links = {link["ifname"]: link for link in report["links"] if link["netns"] == ns}
    assert set(links) == {name, peer}  # lo: made down, left so; nothing happened to it
    got = links[name]
    assert (got["transitions"], got["down_seconds"], got["down_periods"], got["down_now"]) == (0, 0, 0, False)
    assert (got["admin_downs"], got["admin_down_now"], got["flapping"]) == (TOGGLES + 1, True, False)
    assert got["admin_down_seconds"] > 0
    assert (links[peer]["transitions"], links[peer]["down_now"]) == (2 * TOGGLES + 1, True)
    assert links[peer]["down_periods"] == TOGGLES + 1 and links[peer]["flapping"]
    assert f"in {TOGGLES + 1}, now" in next(line for line in text.splitlines() if f" {name} " in line)


def test_a_link_set_down_or_up_while_nobody_watched_is_named_so_at_the_restart(store_url: str) -> None:
    with namespace() as ns:
        with watching(base_args([ns], store_url)):
            pass  # lo seen admin down: the baseline
        ip("-n", ns, "link", "set", "lo", "up")
        with watching(base_args([ns], store_url)):
            wait_caught_up(store_url, ns)
            status = _json("status", "--store", store_url, "--format", "json")
        ip("-n", ns, "link", "set", "lo", "down")
        with watching(base_args([ns], store_url)):
            wait_caught_up(store_url, ns)
            again = _json("status", "--store", store_url, "--format", "json")
    rows = [(r["event"], r["transitions"], r["state"], r["source"]) for r in history(store_url, ns)]
    assert rows == [("admin_up", 0, "up", "resync"), ("admin_down", 0, "admin_down", "resync")]
    assert [s["state"] for s in status if s["netns"] == ns] == ["up"]
    assert [s["state"] for s in again if s["netns"] == ns] == ["admin_down"]


def _seen(lines: list[str], name: str, kind: str, count: int) -> Callable[[str], bool]:
    """A wait_line predicate: the watcher has printed `count` events of `kind` for link `name`."""

    def enough(_line: str) -> bool:
        return sum(1 for line in list(lines) if f" {name} {kind} " in line) >= count

    return enough


def _row(table: str, name: str) -> list[str]:
    return next(line.split() for line in table.splitlines() if f" {name} " in f" {line} ")

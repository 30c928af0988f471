"""An IPv6 address that fails duplicate address detection, made on real links for the tests that read it."""

from __future__ import annotations

import json
import subprocess
import time


def _ip(*args: str) -> str:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=True).stdout


def address_flags(ns: str, dev: str, address: str) -> dict[str, object]:
    """`ip -j addr`'s entry for the address on the link ({} when it is not there)."""
    for link in json.loads(_ip("-n", ns, "-j", "addr", "show", "dev", dev)):
        for entry in link["addr_info"]:
            if entry["local"] == address:
                return dict(entry)
    return {}


def wait_for(ns: str, dev: str, address: str, key: str, present: bool, timeout: float = 15.0) -> None:
    """Until `ip -j addr` shows (or stops showing) the flag: DAD answers after a random delay of up
    to a second. Not a timing assert: the bound only keeps a broken kernel from hanging the test."""
    deadline = time.monotonic() + timeout
    while bool(address_flags(ns, dev, address).get(key)) != present:
        if time.monotonic() > deadline:
            raise AssertionError(f"{address} on {dev}: {key} not {'set' if present else 'cleared'}")
        time.sleep(0.1)


def dad_conflict(holder_ns: str, holder: str, loser_ns: str, loser: str, cidr: str) -> None:
    """A veth pair `holder` (in holder_ns) / `loser` (in loser_ns), both up; `holder` takes the address
    without DAD, then `loser` adds it too and fails DAD on the neighbour's answer."""
    _ip("-n", holder_ns, "link", "add", holder, "type", "veth", "peer", "name", loser, "netns", loser_ns)
    _ip("-n", holder_ns, "link", "set", holder, "up")
    _ip("-n", loser_ns, "link", "set", loser, "up")
    _ip("-n", holder_ns, "addr", "add", cidr, "dev", holder, "nodad")
    _ip("-n", loser_ns, "addr", "add", cidr, "dev", loser)
    wait_for(loser_ns, loser, cidr.partition("/")[0], "dadfailed", True)

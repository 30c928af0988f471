"""The kind probe: the kernel's own answer, and nothing created while asking."""

from __future__ import annotations

import json
import socket
import subprocess

import pytest

from linkctl.kernel import netns as netns_mod
from linkctl.kernel.probe import creatable_kinds
from tests.conftest import ip

# kind -> what follows `ip link add NAME` to create one for real, over the base link "base0"
KINDS = {
    "veth": ["type", "veth", "peer", "name", "x-peer"],
    "bridge": ["type", "bridge"],
    "vxlan": ["type", "vxlan", "id", "7", "dstport", "4789"],
    "macvlan": ["link", "base0", "type", "macvlan"],
    "macvtap": ["link", "base0", "type", "macvtap"],
    "ifb": ["type", "ifb"],
    "dummy": ["type", "dummy"],
    "bond": ["type", "bond"],
    "vlan": ["link", "base0", "type", "vlan", "id", "10"],
    "ipvlan": ["link", "base0", "type", "ipvlan"],
    "geneve": ["type", "geneve", "id", "7", "remote", "192.0.2.1"],
    "vrf": ["type", "vrf", "table", "10"],
    "nosuchkind": ["type", "nosuchkind"],
}


@pytest.fixture
def based(netns: str) -> str:
    ip("-n", netns, "link", "add", "base0", "type", "veth", "peer", "name", "base0p")
    return netns


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_probe_agrees_with_creating_one(based: str, kind: str) -> None:
    made = subprocess.run(["ip", "-n", based, "link", "add", "x0", *KINDS[kind]], capture_output=True, check=False)
    assert (kind in creatable_kinds([kind], based)) == (made.returncode == 0), made.stderr


def test_probe_creates_nothing(based: str) -> None:
    with netns_mod.entered(based):
        listener = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    listener.bind((0, 1))  # RTMGRP_LINK: every link created or deleted in the namespace
    try:
        listener.setblocking(False)
        found = creatable_kinds(KINDS, based)
        assert "veth" in found and "nosuchkind" not in found
        with pytest.raises(BlockingIOError):
            listener.recv(65536)
    finally:
        listener.close()
    assert {d["ifname"] for d in json.loads(ip("-n", based, "-j", "link"))} == {"lo", "base0", "base0p"}

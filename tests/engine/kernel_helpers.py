"""What the engine tests against the real kernel share: a topology, and links as `ip -j` reads them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import ip

TOPOLOGY = """
interfaces:
- name: br0
  type: linux-bridge
  mtu: 9000
  bridge:
    options: {stp: {enabled: false}}
    port: [{name: veth0}, {name: veth1}]
- name: veth0
  type: veth
  mtu: 9000
  txqueuelen: 2000
  veth: {peer: veth0-p}
- name: veth0-p
  type: veth
  mtu: 9000
  veth: {peer: veth0}
- name: veth1
  type: veth
  mtu: 9000
  veth: {peer: veth1-p}
- name: vx42
  type: vxlan
  mtu: 8950
  vxlan: {id: 42, base-iface: br0, remote: 192.0.2.10, destination-port: 4789}
- name: mv0
  type: mac-vlan
  mac-vlan: {base-iface: veth0-p, mode: bridge}
"""


def write(tmp_path: Path, text: str, name: str = "d.yml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def drop_netns(*names: str) -> None:
    """Remove namespaces a test's linkctl created (not made by a fixture); missing ones are fine."""
    for name in names:
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)


def details(ns: str) -> list[dict[str, object]]:
    return json.loads(ip("-n", ns, "-j", "-d", "link", "show"))  # type: ignore[no-any-return]


def by_name(ns: str) -> dict[str, dict[str, object]]:
    return {str(d["ifname"]): d for d in details(ns)}


def is_up(link: dict[str, object]) -> bool:
    """IFF_UP among `ip -j`'s flags (not LOWER_UP)."""
    flags = link["flags"]
    assert isinstance(flags, list)
    return "UP" in flags

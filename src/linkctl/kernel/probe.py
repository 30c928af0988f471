"""Which link kinds this kernel can create: tried for real in a throwaway namespace.

Checking /proc/modules is not enough (modules load on demand, and built-in ones
are not listed); the kernel's answer to a create request is the truth.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from linkctl.kernel import netns, rtnl
from linkctl.kernel.netlink import RtnlSocket
from linkctl.kernel.rtnl import LinkAttrs
from linkctl.kinds import BY_KERNEL_KIND
from linkctl.model.spec import InterfaceSpec


def _probe_spec(kind: str) -> InterfaceSpec:
    specs: dict[str, dict[str, object]] = {
        "veth": {"type": "veth", "veth": {"peer": "p-peer"}},
        "vxlan": {"type": "vxlan", "vxlan": {"id": 1, "destination-port": 4789}},
        "macvlan": {"type": "mac-vlan", "mac-vlan": {"base-iface": "p-base", "mode": "bridge"}},
        "vlan": {"type": "vlan", "vlan": {"base-iface": "p-base", "id": 10}},
        "bond": {"type": "bond", "link-aggregation": {"mode": "active-backup"}},
        "bridge": {"type": "linux-bridge"},
        "dummy": {"type": "dummy"},
    }
    return InterfaceSpec.model_validate({"name": f"p-{kind}", **specs.get(kind, {})})


def creatable_kinds(kinds: Iterable[str]) -> frozenset[str]:
    """The subset of `kinds` (IFLA_INFO_KIND names) that this kernel creates."""
    wanted = sorted(set(kinds))
    if not wanted:
        return frozenset()
    name = f"linkctl-probe-{os.getpid()}"
    netns.create(name)
    try:
        with RtnlSocket(name) as sock:
            base = _create(sock, "veth", LinkAttrs(name="p-base"))
            return frozenset(k for k in wanted if (k == "veth" and base) or _create(sock, k, LinkAttrs(name=f"p-{k}")))
    finally:
        netns.remove(name)


def _create(sock: RtnlSocket, kind: str, attrs: LinkAttrs) -> bool:
    module = BY_KERNEL_KIND.get(kind)
    if module is None:
        return False
    spec = _probe_spec(kind)
    peer = rtnl.veth_peer(LinkAttrs(name="p-base-peer")) if kind == "veth" else None
    lower = sock.get_link("p-base")
    resolve = {"p-base": lower.ifindex if lower else 0}
    data = module.info_data(spec, lambda n: resolve[n]) if kind != "veth" else b""
    link_attr = LinkAttrs(name=attrs.name, link=resolve["p-base"] if module.ifla_link(spec) else None)
    (ack,) = sock.batch([rtnl.new_link(sock.next_seq(), link_attr, kind, data, peer)])
    return ack.ok

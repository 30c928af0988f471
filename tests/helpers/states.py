"""Hand-made kernel states for planning tests: no kernel needed."""

from __future__ import annotations

from dataclasses import replace

from linkctl.model.load import from_data
from linkctl.model.spec import Declaration
from linkctl.model.state import (
    BridgeInfo,
    HostState,
    IfFlag,
    Link,
    NetnsState,
    OperState,
    VethInfo,
    VxlanInfo,
)

UP = IfFlag.UP | IfFlag.LOWER_UP | IfFlag.RUNNING | IfFlag.BROADCAST | IfFlag.MULTICAST


def link(index: int, name: str, **kw: object) -> Link:
    defaults: dict[str, object] = {
        "flags": UP, "mtu": 1500, "min_mtu": 68, "max_mtu": 65535, "txqlen": 1000,
        "mac": f"02:00:00:00:00:{index:02x}", "operstate": OperState.UP, "carrier": True,
    }  # fmt: skip
    defaults.update(kw)
    return Link(ifindex=index, name=name, **defaults)  # type: ignore[arg-type]


def host(*links: Link, netns: str | None = None) -> HostState:
    h = HostState()
    h.namespaces[netns] = NetnsState.of(netns, [replace(lk, netns=netns) for lk in links])
    return h


def topology() -> HostState:
    """lo, eth0 (NIC), br0 with veth0 as port, veth0-p, vx42 on eth0."""
    return host(
        link(
            1,
            "lo",
            flags=IfFlag.UP | IfFlag.LOOPBACK,
            mtu=65536,
            mac="00:00:00:00:00:00",
            txqlen=1000,
            min_mtu=0,
            max_mtu=0,
        ),
        link(2, "eth0", parent_bus="pci"),
        link(
            3,
            "br0",
            kind="bridge",
            info=BridgeInfo(stp=False, forward_delay=1500, priority=32768, ageing_time=30000),
        ),
        link(4, "veth0", kind="veth", master_ifindex=3, slave_kind="bridge", link_ifindex=5, info=VethInfo(5)),
        link(5, "veth0-p", kind="veth", link_ifindex=4, info=VethInfo(4)),
        link(6, "vx42", kind="vxlan", mtu=1450, info=VxlanInfo(42, None, "192.0.2.10", 2, 4789, True)),
    )


def decl(*interfaces: dict[str, object]) -> Declaration:
    return from_data({"interfaces": list(interfaces)}, "test.yml")

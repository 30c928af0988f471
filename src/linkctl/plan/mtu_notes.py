"""The planner's notes on MTUs, said before the apply in the words audit uses after it: a veth
end left with another MTU than its peer's, a bridge above a port the file leaves alone, a port whose
MTU after the plan differs from its bridge's."""

from __future__ import annotations

from linkctl.kinds.base import ETH_DATA_LEN, LinkKind
from linkctl.kinds.bridge import PortMtu
from linkctl.kinds.veth import PairMtu
from linkctl.model.state import NetnsName
from linkctl.plan.match import _BRIDGE, Key, Matcher, Target, _ports
from linkctl.plan.ops import CreateLink, SetLink


class MtuNotes:
    def __init__(self, m: Matcher) -> None:
        self.m = m

    def run(self) -> None:
        self._veth_mtu_notes()
        self._bridge_port_mtu_notes(self._port_mtu_notes())

    def _veth_mtu_notes(self) -> None:
        """An MTU given to one end of an existing pair, the other end left with another, is said:
        the end with the smaller MTU drops every larger frame the other sends."""
        for t in self.m.targets.values():
            cur, mtu = t.current, t.spec.mtu
            if mtu is None or cur is None or cur.mtu == mtu or t.absent or t.creates:
                continue
            peer = self.m.host.peer_of(cur)
            if peer is None or (pair := PairMtu(mtu, peer.mtu)).matches or self.m.target_for(peer) is not None:
                continue
            self.m.plan.notes.append(
                f"{peer.name}, {t.spec.name}'s veth peer, keeps MTU {peer.mtu}: frames over {pair.dropped_over} "
                f"bytes between them will be dropped; declare {peer.name} with mtu {mtu} too"
            )

    def _port_mtu_notes(self) -> set[Key]:
        """A bridge given an MTU above a port the file leaves alone: the bridge drops every larger
        frame it would forward to that port. Returns the ports it named."""
        said: set[Key] = set()
        for t in self.m.targets.values():
            cur, mtu = t.current, t.spec.mtu
            if t.kind.type is not _BRIDGE or mtu is None or cur is None or t.absent or t.creates:
                continue
            ns = self.m.host.ns(cur.netns)
            for name in ns.ports_of(cur.name):
                port = ns.links[name]
                if PortMtu(port.mtu, mtu).port_drops and self.m.target_for(port) is None:
                    said.add((cur.netns, name))
                    self.m.plan.notes.append(
                        f"{name}, a port of {t.spec.name}, keeps MTU {port.mtu}: frames over {port.mtu} bytes "
                        f"that {t.spec.name} forwards to it will be dropped; declare {name} with mtu {mtu} too"
                    )
        return said

    def _bridge_port_mtu_notes(self, said: set[Key]) -> None:
        """Each port a bridge's port list names (or a re-made port rejoining its bridge) whose MTU after
        the plan differs from the bridge's after it: said before the apply in the words audit's
        bridge-port-mtu-mismatch will use after it (the ports `said` were named already)."""
        after = self._mtus_after()
        for netns, bridge, t, ports in self._bridges_after():
            bridge_mtu = self._bridge_mtu_after(netns, bridge, t, ports, after)
            if bridge_mtu is None:
                continue
            for name in ports:
                mtu = self._mtu_after(netns, name, after)
                if mtu is None or (netns, name) in said or PortMtu(mtu, bridge_mtu).matches:
                    continue
                self.m.plan.notes.append(
                    f"{name}: bridge port MTU {mtu} differs from bridge {bridge} MTU {bridge_mtu} after this plan: "
                    f"frames larger than the smallest MTU on the bridge are dropped silently when they cross to a "
                    f"port with a smaller one; declare {name} with mtu {bridge_mtu}, or {bridge} with mtu {mtu} "
                    "and every port of it with the same"
                )

    def _bridges_after(self) -> list[tuple[NetnsName, str, Target | None, list[str]]]:
        """Each bridge with a port the file lists or re-makes: (netns, name, its target, every port after)."""
        out: dict[Key, tuple[Target | None, list[str]]] = {}
        for t in self.m.ordered():
            if t.kind.type is _BRIDGE and not t.absent and t.spec.bridge is not None and t.spec.bridge.port:
                out[t.key] = (t, _ports(t.spec))
        for t in self.m.ordered():
            kept = self.m.kept_master(t) if t.current is not None and not t.absent else None
            if kept is not None and (t.netns, kept) not in out:
                # Declared without a port list, or not at all: its ports stay, less those that go.
                ns = self.m.host.ns(t.netns)
                stay = [p for p in ns.ports_of(kept) if self._stays(t.netns, p)]
                out[(t.netns, kept)] = (self.m.targets.get((t.netns, kept)), stay)
        return [(k[0], k[1], bt, ports) for k, (bt, ports) in out.items()]

    def _stays(self, netns: NetnsName, name: str) -> bool:
        """An existing link still there, in the same namespace, once the plan is carried out."""
        link = self.m.host.find(name, netns)
        t = self.m.targets.get((netns, name))
        return (
            link is not None
            and (netns, name) not in self.m.gone
            and self.m.netns_after(link) == netns
            and not (t is not None and t.absent)
        )

    def _mtus_after(self) -> dict[Key, int | None]:
        """The MTU each link the plan makes or sets an MTU on will have (None: the kernel's choice, unknown)."""
        out: dict[Key, int | None] = {}
        for op in self.m.plan.ops:
            if isinstance(op, CreateLink):
                out[(op.netns, op.name)] = op.props.mtu if op.props.mtu is not None else _created_mtu(op.kind)
                if op.peer is not None:
                    peer_mtu = op.peer.props.mtu
                    out[(op.peer.netns, op.peer.name)] = peer_mtu if peer_mtu is not None else ETH_DATA_LEN
            elif isinstance(op, SetLink) and op.props.mtu is not None:
                out[(op.netns, op.name)] = op.props.mtu
        return out

    def _mtu_after(self, netns: NetnsName, name: str, after: dict[Key, int | None]) -> int | None:
        if (netns, name) in after:
            return after[(netns, name)]
        t = self.m.targets.get((netns, name))
        link = t.current if t is not None else self.m.host.find(name, netns)
        return link.mtu if link is not None else None

    def _bridge_mtu_after(
        self, netns: NetnsName, name: str, t: Target | None, ports: list[str], after: dict[Key, int | None]
    ) -> int | None:
        """A bridge's MTU once the plan is carried out: the declared one (set after its ports join),
        else the kernel's: its smallest port's (1500 without ports) as ports join, leave or change,
        unless its MTU was set by hand (it is not its ports' smallest now): then it keeps it."""
        if t is not None and t.spec.mtu is not None:
            return t.spec.mtu
        mtus = [self._mtu_after(netns, p, after) for p in ports]
        if any(m is None for m in mtus):
            return None
        lowest = min((m for m in mtus if m is not None), default=ETH_DATA_LEN)
        if t is not None and t.creates:
            return lowest
        cur = t.current if t is not None else self.m.host.find(name, netns)
        if cur is None:
            return None
        ns = self.m.host.ns(cur.netns)
        now = min((ns.links[p].mtu for p in ns.ports_of(cur.name)), default=ETH_DATA_LEN)
        return lowest if cur.mtu == now else cur.mtu


def _created_mtu(kind: LinkKind | None) -> int | None:
    return kind.created_mtu if kind is not None else None

"""Turn plan operations into RTNETLINK requests and send them, pipelined.

Requests are queued and sent many per sendmsg; the queue is flushed (sent and
acknowledged) only when an operation needs the ifindex of a link created in
the queue, when the namespace changes, or at the end. A rejected request stops
the run: the caller rolls back.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from linkctl.errors import LinkctlError
from linkctl.kernel import brvlan, l3wire, netns, rtnl
from linkctl.kernel.l3 import set_ipv6
from linkctl.kernel.l3wire import RTPROT_STATIC
from linkctl.kernel.netlink import PIPELINE_CHUNK, Ack, ChunkHooks, DebugHook, Pipeline, RtnlSocket
from linkctl.kernel.rtnl import LinkAttrs
from linkctl.model.l3_state import NextHop, Route
from linkctl.model.state import HostState, NetnsName
from linkctl.nla import NLM_F_CREATE, NLMSG_HDR
from linkctl.plan.l3_ops import RouteSpec, SetAddress, SetIpv6, SetRoute, SetRule
from linkctl.plan.ops import (
    CreateLink,
    CreateNetns,
    DeleteLink,
    MoveLink,
    Op,
    Props,
    RenameLink,
    SetLink,
    SetMaster,
    SetPort,
)
from linkctl.plan.vlans import SetPortVlans, SetVlanFiltering

# The group of the links a batch deletion is about to delete ("lkct"). Between putting them in it
# and deleting it there are two requests; a rollback from that moment puts them back in group 0.
DELETE_GROUP = 0x6C6B6374


@dataclass
class StepFailed(LinkctlError):
    op: Op
    ack: Ack
    step: int
    total: int

    def __str__(self) -> str:
        from linkctl.engine.errors import explain

        cmd = "; ".join(" ".join(c) for c in self.op.ip_commands())
        return (
            f"step {self.step}/{self.total} ({self.op.describe()}) was refused by the kernel: "
            f"{self.ack.describe()}\n  equivalent command: {cmd}\n  {explain(self.ack, self.op)}"
        )


@dataclass
class Executor:
    host: HostState
    debug: DebugHook | None = None
    sockets: dict[NetnsName, RtnlSocket] = field(default_factory=dict)
    indices: dict[tuple[NetnsName, str], int] = field(default_factory=dict)
    created_netns: list[str] = field(default_factory=list)
    done: list[Op] = field(default_factory=list)
    _queue: list[tuple[bytes, Op]] = field(default_factory=list)
    _queue_ns: NetnsName = None
    _handed: int = 0  # how many of _queue went to _pipeline; the rest are still being gathered
    _unsent_bytes: int = 0
    _pipeline: Pipeline | None = None
    _started: list[Pipeline] = field(default_factory=list)  # every sending thread this run began
    _doomed: list[tuple[DeleteLink, int]] = field(default_factory=list)  # deletions in a row, with their index
    _unknown: set[tuple[NetnsName, str]] = field(default_factory=set)
    _fds: dict[NetnsName, int] = field(default_factory=dict)
    requests_sent: int = 0
    hooks: ChunkHooks | None = None  # told of each chunk that creates links (the journal's record: engine/made.py)

    def __post_init__(self) -> None:
        for link in self.host:
            self.indices[(link.netns, link.name)] = link.ifindex

    def close(self) -> None:
        for sock in self.sockets.values():
            sock.close()
        for fd in self._fds.values():
            os.close(fd)
        self.sockets.clear()
        self._fds.clear()

    def run(self, ops: list[Op], meanwhile: Callable[[], None] | None = None) -> None:
        """Carry the ops out; `meanwhile` runs after the last request is handed over, before its ack."""
        self._total = len(ops)
        self._numbers = {id(op): i + 1 for i, op in enumerate(ops)}
        try:
            for op in ops:
                if self._doomed and not (isinstance(op, DeleteLink) and op.netns == self._doomed[0][0].netns):
                    self._delete_doomed()
                self._do(op)
            if self._doomed:
                self._delete_doomed()
            if self._queue:
                self._send_ahead()
            if meanwhile is not None:
                meanwhile()  # the kernel works through the queue (~0.3 ms a request): this thread would only wait
            self._flush()
        except BaseException:
            self._stop_sending()
            raise
        finally:
            self.close()

    # --- dispatch ---------------------------------------------------------------------

    def _do(self, op: Op) -> None:
        if isinstance(op, CreateNetns):
            self._flush()
            netns.create(op.name)
            self.created_netns.append(op.name)
            self.done.append(op)
        elif isinstance(op, CreateLink):
            self._create(op)
        elif isinstance(op, DeleteLink):
            # Gathered: deletions in a row go to the kernel as one batch (_delete_doomed).
            self._doomed.append((op, self._index(op.netns, op.name)))
            self._forget(op.netns, op.name)
        elif isinstance(op, MoveLink):
            attrs = LinkAttrs(netns_fd=self._fd(op.to_netns))
            self._queue_req(op.netns, rtnl.set_link(self._seq(op.netns), self._index(op.netns, op.name), attrs), op)
            self._forget(op.netns, op.name)
            self._unknown.add((op.to_netns, op.name))
        elif isinstance(op, SetMaster):
            self._set_master(op)
        elif isinstance(op, SetPort):
            index, name = self._target(op.netns, op.name)
            self._queue_req(op.netns, rtnl.set_port(self._seq(op.netns), index, name, op.slave_kind, op.data), op)
        elif isinstance(op, SetLink):
            self._set(op)
        elif isinstance(op, RenameLink):
            self._rename(op)
        elif isinstance(op, (SetAddress, SetRoute, SetRule, SetIpv6)):
            self._layer3(op)
        elif isinstance(op, SetPortVlans):
            self._port_vlans(op)
        elif isinstance(op, SetVlanFiltering):
            index, name = self._target(op.netns, op.name)
            req = rtnl.set_link(self._seq(op.netns), index, LinkAttrs(name=name), "bridge", op.data)
            self._queue_req(op.netns, req, op)
        else:  # ethtool and module settings (plan/settings_ops.py), or a TypeError
            self._setting(op)

    def _create(self, op: CreateLink) -> None:
        assert op.kind is not None and op.kind.kernel_kind and op.spec is not None
        ns = op.netns
        # Made where its base is, and placed in its own namespace by the same request.
        src = op.made_in[0] if op.made_in else ns
        master = self._index(ns, op.master) if op.master else None
        lower = self._index(src, op.lower) if op.lower else None
        data = op.kind.info_data(op.spec, lambda name: self._index(src, name))
        into = self._fd(ns) if op.made_in else None
        attrs = _attrs(replace(op.props, alias=None), name=op.name, master=master, link=lower, netns_fd=into)
        peer = None
        if op.peer is not None:
            fd = self._fd(op.peer.netns) if op.peer.netns != ns else None
            # veth_open() refuses (ENOTCONN) to bring the peer up before the pair is registered.
            peer_props = replace(op.peer.props, up=None, alias=None)
            peer = rtnl.veth_peer(_attrs(peer_props, name=op.peer.name, netns_fd=fd))
            self._unknown.add((op.peer.netns, op.peer.name))
        self._queue_req(src, rtnl.new_link(self._seq(src), attrs, op.kind.kernel_kind, data, peer), op)
        self._unknown.add((ns, op.name))
        # The kernel ignores IFLA_IFALIAS in the request that creates a link: set by name after it.
        if op.props.alias:
            self._queue_req(ns, rtnl.set_link(self._seq(ns), 0, LinkAttrs(name=op.name, alias=op.props.alias)), op)
        if op.peer is not None and op.peer.props.alias:
            req = rtnl.set_link(self._seq(op.peer.netns), 0, LinkAttrs(name=op.peer.name, alias=op.peer.props.alias))
            self._queue_req(op.peer.netns, req, op)
        if op.peer is not None and op.peer.props.up:
            pns = op.peer.netns
            req = rtnl.set_link(self._seq(pns), 0, LinkAttrs(name=op.peer.name, up=True))
            self._queue_req(pns, req, op)

    def _set(self, op: SetLink) -> None:
        ns = op.netns
        index, name = self._target(ns, op.name)
        data = b""
        kind = None
        if op.kind_fields and op.kind is not None and op.spec is not None:
            data = op.kind.info_data(op.spec, lambda name: self._index(ns, name), op.kind_fields)
            kind = op.kind.kernel_kind
        attrs = _attrs(op.props, name=name)
        self._queue_req(ns, rtnl.set_link(self._seq(ns), index, attrs, kind, data), op)

    def _rename(self, op: RenameLink) -> None:
        ns = op.netns
        # By index: a request addressed by name takes IFLA_IFNAME as the name to find, not the new one.
        index = self._index(ns, op.old_name)
        if op.was_up:
            self._queue_req(ns, rtnl.set_link(self._seq(ns), index, LinkAttrs(up=False)), op)
        self._queue_req(ns, rtnl.set_link(self._seq(ns), index, LinkAttrs(name=op.name)), op)
        if op.up_after:
            self._queue_req(ns, rtnl.set_link(self._seq(ns), index, LinkAttrs(up=True)), op)
        self._forget(ns, op.old_name)
        self.indices[(ns, op.name)] = index

    def _layer3(self, op: SetAddress | SetRoute | SetRule | SetIpv6) -> None:
        ns = op.netns
        if isinstance(op, SetIpv6):  # a sysctl, not a request: what is queued goes first
            self._flush()
            set_ipv6(ns, op.name, op.enabled)
            self.done.append(op)
            return
        if isinstance(op, SetAddress):
            ip, _, length = op.cidr.partition("/")
            index = self._index(ns, op.name)
            req = l3wire.address_request(self._seq(ns), index, ip, int(length), op.add, op.nodad)
        elif isinstance(op, SetRoute):
            route = self._kernel_route(ns, op.route)
            req = l3wire.route_request(self._seq(ns), route, op.add, op.replace)
        else:
            req = l3wire.rule_request(self._seq(ns), op.rule, op.add)
        self._queue_req(ns, req, op)

    def _port_vlans(self, op: SetPortVlans) -> None:
        """`bridge vlan del`, then `bridge vlan add`: AF_BRIDGE requests go by index only."""
        ns = op.netns
        index = self._index(ns, op.name)
        if op.delete:
            self._queue_req(ns, brvlan.vlan_request(self._seq(ns), index, [(v, 0) for v in op.delete], add=False), op)
        if op.add:
            self._queue_req(ns, brvlan.vlan_request(self._seq(ns), index, op.add), op)

    def _setting(self, op: Op) -> None:
        """An ethtool setting or a module's file or parameter: a program or a write, not a request."""
        # Imported by plans with such sections only: their op classes cost 3.5 ms to define.
        from linkctl.engine.remediate import RemediationFailed, carry_out
        from linkctl.plan.settings_ops import SettingOp

        if not isinstance(op, SettingOp):  # pragma: no cover - every Op subclass is handled
            raise TypeError(op)
        self._flush()  # what is queued goes first
        try:
            carry_out(op)
        except (LinkctlError, OSError) as exc:
            raise RemediationFailed(f"{op.describe()}: failed: {exc}") from None
        self.done.append(op)

    def _kernel_route(self, ns: NetnsName, spec: RouteSpec) -> Route:
        hops = tuple(NextHop(self._index(ns, h.dev) if h.dev else None, h.gateway, h.weight) for h in spec.hops)
        return Route(
            spec.version, spec.dst, spec.table, spec.metric, spec.type, RTPROT_STATIC, 0, spec.tos, hops,
            spec.prefsrc, spec.metrics,
        )  # fmt: skip

    def _delete_doomed(self) -> None:
        """The deletions gathered, in one namespace: one request for one link; for more, each is put
        in DELETE_GROUP and the group is deleted in one request, which the kernel unregisters in one
        batch (one RCU grace period, not one per link). Not where a link was in that group before
        linkctl came: the group would take it too."""
        doomed, self._doomed = self._doomed, []
        ns = doomed[0][0].netns
        if len(doomed) == 1 or not self._group_free(ns):
            for op, index in doomed:
                self._queue_req(ns, rtnl.del_link(self._seq(ns), index), op)
            return
        for op, index in doomed:
            self._queue_req(ns, rtnl.set_link(self._seq(ns), index, LinkAttrs(group=DELETE_GROUP)), op)
        self._queue_req(ns, rtnl.del_group(self._seq(ns), DELETE_GROUP), doomed[-1][0])

    def _group_free(self, ns: NetnsName) -> bool:
        state = self.host.namespaces.get(ns)
        return state is None or all(link.group != DELETE_GROUP for link in state.links.values())

    def _set_master(self, op: SetMaster) -> None:
        ns = op.netns
        master = self._index(ns, op.master) if op.master else 0
        index, name = self._target(ns, op.name)
        if op.down_first:
            self._queue_req(ns, rtnl.set_link(self._seq(ns), index, LinkAttrs(name=name, up=False)), op)
        self._queue_req(ns, rtnl.set_link(self._seq(ns), index, LinkAttrs(name=name, master=master)), op)

    def _target(self, ns: NetnsName, name: str) -> tuple[int, str | None]:
        """Index 0 and IFLA_IFNAME address a link by name: no round trip for a new link."""
        if (ns, name) in self._unknown:
            return 0, name
        return self._index(ns, name), None

    # --- plumbing ---------------------------------------------------------------------

    def _sock(self, ns: NetnsName) -> RtnlSocket:
        if ns not in self.sockets:
            self.sockets[ns] = RtnlSocket(ns, self.debug)
        return self.sockets[ns]

    def _seq(self, ns: NetnsName) -> int:
        return self._sock(ns).next_seq()

    def _fd(self, ns: NetnsName) -> int:
        if ns not in self._fds:
            self._fds[ns] = netns.open_fd(ns)
        return self._fds[ns]

    def _index(self, ns: NetnsName, name: str) -> int:
        key = (ns, name)
        if key in self._unknown:
            self._flush()
            self._learn(ns, name)
        if key not in self.indices:
            raise LinkctlError(f"no link named {name} in {'netns ' + ns if ns else 'this namespace'}")
        return self.indices[key]

    def _learn(self, ns: NetnsName, name: str) -> None:
        """The index of a link made in this run: one request for it, or, when more made here are still
        unknown (the addresses and routes of a thousand new links follow), one dump for all of them."""
        waiting = [k for k in self._unknown if k[0] == ns]
        if len(waiting) > 1:
            found = {link.name: link.ifindex for link in self._sock(ns).dump_links(stats=False)}
            for key in waiting:
                if key[1] in found:
                    self.indices[key] = found[key[1]]
                    self._unknown.discard(key)
        else:
            link = self._sock(ns).get_link(name)
            if link is not None:
                self.indices[(ns, name)] = link.ifindex
                self._unknown.discard((ns, name))
        if (ns, name) not in self.indices:
            raise LinkctlError(f"{name} was created but cannot be found in netns {ns}")

    def _forget(self, ns: NetnsName, name: str) -> None:
        self.indices.pop((ns, name), None)

    def _queue_req(self, ns: NetnsName, req: bytes, op: Op) -> None:
        if self._queue and ns != self._queue_ns:
            self._flush()
        self._queue_ns = ns
        self._queue.append((req, op))
        self._unsent_bytes += len(req)
        if self._unsent_bytes >= PIPELINE_CHUNK:
            self._send_ahead()

    def _send_ahead(self) -> None:
        """Hand the requests queued so far to the kernel; keep encoding while it works."""
        if self._pipeline is None:
            self._pipeline = self._sock(self._queue_ns).pipeline(self.hooks)
            self._started.append(self._pipeline)
        chunk = self._queue[self._handed :]
        tag = _creations(chunk) if self.hooks is not None else None
        self._pipeline.submit([req for req, _op in chunk], tag or None)
        self._handed, self._unsent_bytes = len(self._queue), 0

    def _flush(self) -> None:
        if not self._queue:
            return
        self._send_ahead()
        failed = self._settle()
        if failed is not None:
            op, ack = failed
            raise StepFailed(op, ack, self._numbers.get(id(op), 0), self._total)

    def _settle(self) -> tuple[Op, Ack] | None:
        """Wait for what was handed to the kernel; record what it did; return the first refusal.

        Also on the way out of a run that failed in linkctl itself: requests
        already sent count as done, so that the rollback undoes them.
        """
        queue, self._queue = self._queue, []
        self._handed, self._unsent_bytes = 0, 0
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is None:
            return None
        acks = pipeline.finish()
        self._started.remove(pipeline)
        self.requests_sent += len(acks)
        by_seq = {NLMSG_HDR.unpack_from(req)[3]: op for req, op in queue}
        failed: tuple[Op, Ack] | None = None
        for ack in acks:
            op = by_seq[ack.seq]
            if ack.ok:
                if not self.done or self.done[-1] is not op:
                    self.done.append(op)
            elif failed is None:
                failed = (op, ack)
        return failed

    def _stop_sending(self) -> None:
        """On the way out of a failed or interrupted run: no request leaves after this returns.

        Every sending thread is told to send nothing more and is waited for, also one an
        interrupt cut off from `_pipeline` half-way through `_settle`. What the kernel did is
        not taken from these acknowledgements: the rollback reads the kernel again.
        """
        for pipeline in self._started:
            pipeline.cancel()
        try:
            self._settle()
        finally:
            for pipeline in self._started:
                # A socket error while cancelling: the rollback's read says what was done.
                with contextlib.suppress(OSError):
                    pipeline.finish()
            self._started.clear()


def _creations(chunk: list[tuple[bytes, Op]]) -> list[tuple[int, tuple[tuple[NetnsName, str], ...]]]:
    """The requests of the chunk that create links: each one's place, and the links (the link, its peer)."""
    out = []
    for at, (req, op) in enumerate(chunk):
        if isinstance(op, CreateLink) and NLMSG_HDR.unpack_from(req)[2] & NLM_F_CREATE:
            peer = ((op.peer.netns, op.peer.name),) if op.peer is not None else ()
            out.append((at, ((op.netns, op.name), *peer)))
    return out


def _attrs(props: Props, **extra: object) -> LinkAttrs:
    return LinkAttrs(
        mtu=props.mtu, txqlen=props.txqlen, mac=props.mac, up=props.up, promisc=props.promisc, alias=props.alias,
        **extra,  # type: ignore[arg-type]
    )  # fmt: skip

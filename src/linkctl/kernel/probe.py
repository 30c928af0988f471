"""Which link kinds this kernel can create, asked of the kernel itself.

Checking /proc/modules is not enough (modules load on demand, and built-in ones
are not listed). Instead each kind is sent an RTM_NEWLINK that the kernel must
refuse: it looks the kind up first (loading its module if it can) and answers
"Unknown device type" (EOPNOTSUPP) for a kind it lacks. For a kind it has, the
request asks for zero transmit queues, which rtnl_create_link refuses
("Invalid number of transmit queues") before any device is allocated. The name
is empty, so no existing link can match it (that would answer "File exists").

Why not the empty name alone, as before: the kernel refuses that only when it
registers the device, after the kind's own newlink ran. For veth that had already
registered the peer: a transient "veth0" appeared in the namespace and vanished
again (seen by `ip monitor`, udev and every watcher), and each probe took 15-20 ms.
"""

from __future__ import annotations

import ctypes
import errno
import os
import threading
from collections.abc import Iterable

from linkctl.errors import LinkctlError, Problem, ValidationFailed
from linkctl.kernel import rtnl
from linkctl.kernel import rtnl_const as C
from linkctl.kernel.netlink import RtnlSocket
from linkctl.kernel.rtnl import LinkAttrs
from linkctl.model.spec import Declaration
from linkctl.model.state import NetnsName
from linkctl.nla import attr_u32
from linkctl.nla.ifla import BRIDGE

_NO_QUEUES = attr_u32(C.IFLA_NUM_TX_QUEUES, 0)


class ProbeUnavailable(LinkctlError):
    pass


def creatable_kinds(kinds: Iterable[str], netns: NetnsName = None) -> frozenset[str]:
    """The subset of `kinds` (IFLA_INFO_KIND names) this kernel creates; nothing is created.

    Raises ProbeUnavailable without CAP_NET_ADMIN: the kernel refuses before it looks at the kind.
    """
    wanted = sorted(set(kinds))
    if not wanted:
        return frozenset()
    with RtnlSocket(netns) as sock:
        acks = sock.batch(
            rtnl.new_link(sock.next_seq(), LinkAttrs(name=""), kind, b"", extra=_NO_QUEUES) for kind in wanted
        )
    if any(ack.errno in (errno.EPERM, errno.EACCES) for ack in acks):
        raise ProbeUnavailable("probing link kinds needs CAP_NET_ADMIN: run as root")
    return frozenset(kind for kind, ack in zip(wanted, acks, strict=True) if ack.errno != errno.EOPNOTSUPP)


CLONE_NEWNET = 0x40000000


def bridge_vlan_filtering() -> str | None:
    """None when this kernel filters VLANs on bridges (CONFIG_BRIDGE_VLAN_FILTERING); else its answer.

    Asked the way `ip link add type bridge vlan_filtering 1` asks: a kernel without the option
    answers "Operation not supported" and keeps no link. Without it the kernel also takes
    IFLA_BR_VLAN_PROTOCOL and _DEFAULT_PVID and drops them silently, so a file that names them
    must be refused before any change. The bridge is made in a namespace of the probe's own,
    on a thread of its own (unshare(2) moves only that thread): no watcher or udev of a real
    namespace sees it, and the namespace goes with the socket.
    """
    answer: list[str | None] = []
    failed: list[BaseException] = []
    thread = threading.Thread(target=_vlan_probe, args=(answer, failed), name="linkctl-probe", daemon=True)
    thread.start()
    thread.join()
    if failed:
        raise ProbeUnavailable(f"cannot probe bridge VLAN filtering: {failed[0]}")
    return answer[0]


def _vlan_probe(answer: list[str | None], failed: list[BaseException]) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
        with RtnlSocket(None) as sock:
            data = BRIDGE.one("vlan_filtering", 1)
            (ack,) = sock.batch([rtnl.new_link(sock.next_seq(), LinkAttrs(name="lkprobe0"), "bridge", data)])
        answer.append(None if ack.ok else ack.describe())
    except BaseException as exc:  # handed to the caller's thread
        failed.append(exc)


def refuse_missing_features(decl: Declaration, source: str) -> None:
    """Refuse, before any change, a file asking for what this kernel silently drops: bridge VLANs.

    Without CONFIG_BRIDGE_VLAN_FILTERING the kernel takes a bridge's vlan-protocol and
    vlan-default-pvid and ignores them, and refuses VLAN filtering and `bridge vlan`: the
    apply would fail (or verify wrong) halfway. Unprivileged (`plan` as a user): left to the apply.
    """
    wanting = [s for s in decl.interfaces if s.bridge is not None and not s.absent and s.bridge.vlan_filtering()]
    if not wanting:
        return
    try:
        reason = bridge_vlan_filtering()
    except ProbeUnavailable:
        return
    if reason is None:
        return  # planned and applied (plan/vlans.py)
    why = f"this kernel has no bridge VLAN filtering: {reason} (it is built without CONFIG_BRIDGE_VLAN_FILTERING)"
    raise ValidationFailed(
        [
            Problem(f"{source}: interface {s.name}", "bridge", "vlan-protocol, vlan-default-pvid, port vlan", why)
            for s in wanting
        ]
    )

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

import errno
from collections.abc import Iterable

from linkctl.errors import LinkctlError
from linkctl.kernel import rtnl
from linkctl.kernel import rtnl_const as C
from linkctl.kernel.netlink import RtnlSocket
from linkctl.kernel.rtnl import LinkAttrs
from linkctl.model.state import NetnsName
from linkctl.nla import attr_u32

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

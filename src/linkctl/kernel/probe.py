"""Which link kinds this kernel can create, asked of the kernel itself.

Checking /proc/modules is not enough (modules load on demand, and built-in ones
are not listed). Instead each kind is sent an RTM_NEWLINK with an empty name:
the kernel looks the kind up (loading its module if it can) before it checks
the name, so it answers "Unknown device type" (EOPNOTSUPP) for a kind it lacks
and "Invalid argument" for one it has — and creates nothing either way.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable

from linkctl.errors import LinkctlError
from linkctl.kernel import rtnl
from linkctl.kernel.netlink import RtnlSocket
from linkctl.kernel.rtnl import LinkAttrs


class ProbeUnavailable(LinkctlError):
    pass


def creatable_kinds(kinds: Iterable[str]) -> frozenset[str]:
    """The subset of `kinds` (IFLA_INFO_KIND names) this kernel creates.

    Raises ProbeUnavailable without CAP_NET_ADMIN: the kernel refuses before it looks at the kind.
    """
    wanted = sorted(set(kinds))
    if not wanted:
        return frozenset()
    with RtnlSocket() as sock:
        acks = sock.batch(rtnl.new_link(sock.next_seq(), LinkAttrs(name=""), kind, b"") for kind in wanted)
    if any(ack.errno in (errno.EPERM, errno.EACCES) for ack in acks):
        raise ProbeUnavailable("probing link kinds needs CAP_NET_ADMIN: run as root")
    return frozenset(kind for kind, ack in zip(wanted, acks, strict=True) if ack.errno != errno.EOPNOTSUPP)

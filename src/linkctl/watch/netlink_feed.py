"""The netlink side of `linkctl watch`: one route socket per watched namespace (kernel/linkdump's
RouteSocket), subscribed to RTMGRP_LINK, and the dumps that start and resynchronise it.

Messages are decoded with linkctl.kernel.rtnl.decode_link (pyroute2 decodes 20-60x slower).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime

from linkctl.domain.events import STATS_FIELDS, CarrierCounters, NetnsName
from linkctl.errors import LinkctlError
from linkctl.kernel import netns as netns_mod
from linkctl.kernel import rtnl_const as C
from linkctl.kernel.linkdump import SO_RCVBUF, SOL_SOCKET, RouteSocket
from linkctl.kernel.netlink import RtnlSocket
from linkctl.model.state import IfFlag, Link
from linkctl.nla import IFINFOMSG, iter_attrs
from linkctl.watch.transitions import LinkMessage

# A storm of thousands of events must fit while the loop commits a batch: the
# default 2 MB buffer overflowed with 500 pairs, 16 MB lost nothing (measured).
EVENT_RCVBUF = 64 * 1024 * 1024
IFLA_NEW_NETNSID = 45


def open_event_socket(netns: NetnsName, rcvbuf: int | None = None) -> RouteSocket:
    """A non-blocking route socket in `netns`, subscribed to link events.

    `rcvbuf` (the watcher's setting) is asked as given, within the system's cap; by default the
    storm-sized buffer, past that cap where the watcher may (CAP_NET_ADMIN)."""
    with netns_mod.entered(netns):
        if rcvbuf is None:
            return RouteSocket(groups=C.RTMGRP_LINK, rcvbuf=EVENT_RCVBUF, blocking=False)
        sock = RouteSocket(groups=C.RTMGRP_LINK, blocking=False)
    try:
        sock.sock.setsockopt(SOL_SOCKET, SO_RCVBUF, rcvbuf)
    except BaseException:
        sock.close()
        raise
    return sock


def link_message(link: Link, netns: NetnsName, when: datetime) -> LinkMessage:
    carrier = link.carrier if link.carrier is not None else bool(link.flags & IfFlag.LOWER_UP)
    counters = None
    if link.carrier_changes is not None:
        counters = CarrierCounters(link.carrier_changes, link.carrier_up_count, link.carrier_down_count)
    admin_up = bool(link.flags & IfFlag.UP)
    stats = None
    # The core snapshots stats64 on down events only: skip the dict otherwise.
    if link.stats is not None and not (admin_up and carrier):
        stats = {name: int(getattr(link.stats, name)) for name in STATS_FIELDS}
    return LinkMessage(
        time=when,
        netns=netns,
        ifindex=link.ifindex,
        ifname=link.name,
        admin_up=admin_up,
        carrier=carrier,
        counters=counters,
        stats=stats,
        kind=link.kind,
    )


def dump(netns: NetnsName) -> list[Link]:
    with RtnlSocket(netns) as rs:
        return rs.dump_links(stats=True)


def new_netnsid(buf: bytes, off: int, end: int) -> int | None:
    """IFLA_NEW_NETNSID of an RTM_DELLINK: the link moved to that namespace."""
    for atype, s, _e in iter_attrs(buf, off + IFINFOMSG.size, end):
        if atype == IFLA_NEW_NETNSID:
            nsid: int = struct.unpack_from("=i", buf, s)[0]
            return nsid
    return None


def name_of_nsid(netns: NetnsName, nsid: int) -> str:
    """Where a link went, as a moved event's detail names it: the `ip netns` name under
    which namespace `netns` knows peer id `nsid`, "" for the host (as history has always
    recorded it), or nsid:N when it has no name."""
    candidates: list[NetnsName] = [None, *netns_mod.list_names()]
    try:
        with RtnlSocket(netns) as rs:
            for name in candidates:
                if name != netns and rs.nsid_of(name) == nsid:
                    return name or ""
    except (OSError, LinkctlError):
        pass
    return f"nsid:{nsid}"


@dataclass
class NamespaceFeed:
    """The event socket of one watched namespace."""

    name: NetnsName
    sock: RouteSocket
    inode: int
    netns_id: str | None = None  # linkctl.kernel.netns.identity of the namespace the socket is in

    def close(self) -> None:
        self.sock.close()

"""Bridge VLANs over RTNETLINK: `bridge vlan add|del` requests and the AF_BRIDGE dump that lists them.

A port's VLANs are IFLA_BRIDGE_VLAN_INFO entries (struct bridge_vlan_info: u16 flags,
u16 vid) inside IFLA_AF_SPEC, in an RTM_SETLINK (add) or RTM_DELLINK (del) of family
AF_BRIDGE, as iproute2's `bridge vlan` sends them; a run of ids goes as one
RANGE_BEGIN/RANGE_END pair. The dump is an RTM_GETLINK of family AF_BRIDGE asking for
RTEXT_FILTER_BRVLAN. Only kernels with CONFIG_BRIDGE_VLAN_FILTERING carry them out
(kernel/probe.py asks first; others answer the dump with empty lists); the bytes are checked
against pyroute2's encoder and iproute2's. The planner decides what to send (plan/vlans.py).

Only the standard library, linkctl/nla and kernel/linkdump: the receipt's no-op fast path
fingerprints the VLANs of a file that declares some with this module.
"""

from __future__ import annotations

import struct

from linkctl.kernel.linkdump import RouteSocket, collect_dump
from linkctl.nla import IFINFOMSG, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, attr, iter_attrs, message
from linkctl.nla.ifla import (
    AF_BRIDGE,
    BRIDGE_VLAN_INFO_PVID,
    BRIDGE_VLAN_INFO_RANGE_BEGIN,
    BRIDGE_VLAN_INFO_RANGE_END,
    BRIDGE_VLAN_INFO_UNTAGGED,
    IFLA_AF_SPEC,
    IFLA_BRIDGE_VLAN_INFO,
    IFLA_EXT_MASK,
    RTEXT_FILTER_BRVLAN,
    RTM_DELLINK,
    RTM_GETLINK,
    RTM_SETLINK,
)
from linkctl.nla.ifla import LINK as LINK_TABLE

VLAN_INFO = struct.Struct("=HH")  # flags, vid
Vlan = tuple[int, int]  # (vid, BRIDGE_VLAN_INFO_* flags)
KEPT_FLAGS = BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED  # what a port's VLAN is, as `bridge vlan` shows it

TYPE_CHECKING = False  # not imported at run time: the receipt's no-op fast path reads VLANs with this module
if TYPE_CHECKING:
    from collections.abc import Iterable


def _entries(vlans: Iterable[Vlan]) -> bytes:
    """IFLA_BRIDGE_VLAN_INFO entries; consecutive ids with equal flags (and no PVID) as one range."""
    out, run = [], list[Vlan]()
    for vid, flags in sorted(vlans):
        if run and vid == run[-1][0] + 1 and flags == run[-1][1] and not flags & BRIDGE_VLAN_INFO_PVID:
            run.append((vid, flags))
            continue
        out.append(_run(run))
        run = [(vid, flags)]
    out.append(_run(run))
    return b"".join(out)


def _run(run: list[Vlan]) -> bytes:
    if not run:
        return b""
    (first, flags), (last, _f) = run[0], run[-1]
    if first == last:
        return attr(IFLA_BRIDGE_VLAN_INFO, VLAN_INFO.pack(flags, first))
    begin = attr(IFLA_BRIDGE_VLAN_INFO, VLAN_INFO.pack(flags | BRIDGE_VLAN_INFO_RANGE_BEGIN, first))
    return begin + attr(IFLA_BRIDGE_VLAN_INFO, VLAN_INFO.pack(flags | BRIDGE_VLAN_INFO_RANGE_END, last))


def vlan_request(seq: int, ifindex: int, vlans: Iterable[Vlan], add: bool = True) -> bytes:
    """`bridge vlan add|del dev PORT vid ...`: one request for all of a port's VLANs."""
    # IFLA_AF_SPEC without NLA_F_NESTED, byte for byte as `bridge vlan` (addattr_nest) and pyroute2 send it.
    body = IFINFOMSG.pack(AF_BRIDGE, 0, ifindex, 0, 0) + attr(IFLA_AF_SPEC, _entries(vlans))
    return message(RTM_SETLINK if add else RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, seq, body)


def dump_request(seq: int) -> bytes:
    """`bridge vlan show`: every port with its VLANs."""
    body = IFINFOMSG.pack(AF_BRIDGE, 0, 0, 0, 0) + LINK_TABLE.one("ext_mask", RTEXT_FILTER_BRVLAN)
    assert LINK_TABLE.by_name["ext_mask"].num == IFLA_EXT_MASK
    return message(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, seq, body)


def decode_vlans(msg: bytes) -> tuple[int, list[Vlan]]:
    """One AF_BRIDGE RTM_NEWLINK payload (ifinfomsg and attributes): the port's index and its VLANs,
    ranges spelt out, flags without the range bits."""
    index = IFINFOMSG.unpack_from(msg)[2]
    out: list[Vlan] = []
    begin: Vlan | None = None
    for atype, s, e in iter_attrs(msg, IFINFOMSG.size, len(msg)):
        if atype != IFLA_AF_SPEC:
            continue
        for vtype, vs, _ve in iter_attrs(msg, s, e):
            if vtype != IFLA_BRIDGE_VLAN_INFO:
                continue
            flags, vid = VLAN_INFO.unpack_from(msg, vs)
            bare = flags & ~(BRIDGE_VLAN_INFO_RANGE_BEGIN | BRIDGE_VLAN_INFO_RANGE_END)
            if flags & BRIDGE_VLAN_INFO_RANGE_BEGIN:
                begin = (vid, bare)
            elif flags & BRIDGE_VLAN_INFO_RANGE_END and begin is not None:
                out += [(v, bare) for v in range(begin[0], vid + 1)]
                begin = None
            else:
                out.append((vid, bare))
    return index, out


Ports = dict[int, tuple[Vlan, ...]]  # ifindex -> its VLANs, sorted by id


def read_vlans(sock: RouteSocket, seq: int) -> Ports:
    """Every port's VLANs in the socket's namespace (`bridge vlan show`): one dump. A kernel without
    bridge VLAN filtering answers it too, every list empty."""
    sock.send(dump_request(seq))
    out: Ports = {}
    for msg in collect_dump(sock):
        index, vlans = decode_vlans(msg)
        out[index] = tuple(sorted((vid, flags & KEPT_FLAGS) for vid, flags in vlans))
    return out


def fingerprint(ports: Ports | None) -> bytes:
    """What the planner reads of a namespace's port VLANs, canonical (a receipt's part of it); b"-"
    where the namespace does not exist."""
    return b"-" if ports is None else repr(sorted(ports.items())).encode()

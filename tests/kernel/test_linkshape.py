"""kernel/linkshape.py, the one link decoder, held to pyroute2's decoder (the independent reference):
real messages of every kind here and every payload byte changed; and its learned shapes held to its
own walk with every byte of every message changed, headers included.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

from linkctl.kernel import rtnl
from linkctl.kernel.linkshape import LinkDecoder
from linkctl.kernel.netlink import RtnlSocket
from linkctl.kinds import BY_KERNEL_KIND
from linkctl.model.state import BondPortInfo, IfFlag, Link, OperState, Stats, VethInfo
from linkctl.nla import NLA_HDR, NLMSG_HDR, WNEST, Table, attr, ifla
from tests.conftest import run_linkctl
from tests.engine.kernel_helpers import TOPOLOGY, write

logging.getLogger("pyroute2").setLevel(logging.CRITICAL)  # it logs each attribute it cannot read
STATS = [f.name for f in dataclasses.fields(Stats)]


@pytest.fixture
def dumps(netns: str, tmp_path: Path) -> dict[bool, list[bytes]]:
    """The test topology (a bridge with STP and ports, veth, vxlan, macvlan, loopback), dumped with and without counters."""
    stp = TOPOLOGY.replace("{stp: {enabled: false}}", "{stp: {enabled: true}}")
    assert run_linkctl("apply", write(tmp_path, stp), "--netns", netns).returncode == 0
    out: dict[bool, list[bytes]] = {}
    for stats in (False, True):
        raw: list[bytes] = []
        with RtnlSocket(netns) as sock:
            sock.dump_links(stats=stats, raw=raw)
        out[stats] = raw
    return out


def theirs(msg: bytes, stats: bool = True) -> Link:
    """The link as pyroute2 reads the message: each value by pyroute2, kind and port data located by it."""
    full = NLMSG_HDR.pack(NLMSG_HDR.size + len(msg), 16, 0, 0, 0) + msg
    p = ifinfmsg(full)
    p.decode()
    get = p.get_attr
    fields: dict[str, Any] = {
        "name": text(get("IFLA_IFNAME")) or "",
        "mac": get("IFLA_ADDRESS"),
        "perm_mac": get("IFLA_PERM_ADDRESS"),
        "alias": text(get("IFLA_IFALIAS")),
        "parent_bus": text(get("IFLA_PARENT_DEV_BUS_NAME")),
        "operstate": OperState.__members__.get(str(get("IFLA_OPERSTATE")), OperState.UNKNOWN),
        "carrier": None if get("IFLA_CARRIER") is None else bool(get("IFLA_CARRIER")),
        "stats": Stats(**{k: get("IFLA_STATS64")[k] for k in STATS}) if stats and get("IFLA_STATS64") else None,
    }
    for attr_name, field in (
        ("MTU", "mtu"), ("MIN_MTU", "min_mtu"), ("MAX_MTU", "max_mtu"), ("TXQLEN", "txqlen"),
        ("LINK", "link_ifindex"), ("MASTER", "master_ifindex"), ("PROMISCUITY", "promiscuity"),
        ("CARRIER_CHANGES", "carrier_changes"), ("CARRIER_UP_COUNT", "carrier_up_count"),
        ("CARRIER_DOWN_COUNT", "carrier_down_count"), ("GROUP", "group"), ("LINK_NETNSID", "link_netnsid"),
    ):  # fmt: skip
        if get("IFLA_" + attr_name) is not None:
            fields[field] = get("IFLA_" + attr_name)
    info = get("IFLA_LINKINFO")
    if info is not None:
        fields.update(_linkinfo(info, full, fields))
    link = Link(ifindex=p["index"], netns="ns", flags=IfFlag(p["flags"]), **fields)
    return link


def _linkinfo(info: Any, full: bytes, fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": text(info.get_attr("IFLA_INFO_KIND"))}
    out["slave_kind"] = text(info.get_attr("IFLA_INFO_SLAVE_KIND"))
    if out["kind"] == "veth":
        out["info"] = VethInfo(fields.get("link_ifindex"), fields.get("link_netnsid"))
    elif out["kind"] in BY_KERNEL_KIND:
        out["info"] = BY_KERNEL_KIND[out["kind"]].decode(full, *_span(info, "IFLA_INFO_DATA"))
    controller = BY_KERNEL_KIND.get(out["slave_kind"] or "")
    port = _span(info, "IFLA_INFO_SLAVE_DATA") if controller is not None else (0, 0)
    if controller is not None and port != (0, 0):
        decoded = controller.decode_port(full, *port)
        if decoded is not None:
            out["bond_port" if isinstance(decoded, BondPortInfo) else "port"] = decoded
    return out


def _span(nest: Any, name: str) -> tuple[int, int]:
    """Where pyroute2 found a nest of a kind it knows in the message: (start, end); (0, 0) if absent."""
    for slot in nest["attrs"]:
        if slot[0] == name:
            cell = slot[1]
            return cell.offset + 4, cell.offset + cell.length
    return 0, 0


def text(value: object) -> str | None:
    """A string attribute: a C string ends at its first NUL, as the kernel reads it."""
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    return None if value is None else str(value).split("\0")[0]


def payloads(msg: bytes) -> Iterator[tuple[int, int]]:
    """(start, end) of every value's payload: the link's attributes, IFLA_LINKINFO's and its kind data's.

    Only values the tables know are changed: what a nest holds (IFLA_AF_SPEC, IFLA_XDP, a bridge's
    querier state) is no value either reader takes, and pyroute2 may refuse a nest made malformed.
    """
    for atype, s, e in _attrs(msg, 16, len(msg)):
        if atype == ifla.IFLA_LINKINFO:
            kind = ""
            for itype, si, ei in _attrs(msg, s, e):
                if itype in (ifla.IFLA_INFO_KIND, ifla.IFLA_INFO_SLAVE_KIND):
                    kind = kind or msg[si:ei].rstrip(b"\0").decode()
                    yield si, ei
                elif itype == ifla.IFLA_INFO_DATA and kind in ifla.KIND_DATA:
                    yield from _leaves(msg, si, ei, ifla.KIND_DATA[kind])
        else:
            yield from _leaves(msg, s - 4, s - 4 + NLA_HDR.unpack_from(msg, s - 4)[0], ifla.LINK, one=True)


def _leaves(msg: bytes, pos: int, end: int, table: Table, one: bool = False) -> Iterator[tuple[int, int]]:
    for atype, s, e in _attrs(msg, pos, end):
        a = table.by_num.get(atype)
        if a is not None and a.wire is not WNEST:
            yield s, e
        if one:
            return


def _attrs(msg: bytes, pos: int, end: int) -> Iterator[tuple[int, int, int]]:
    while pos + 4 <= end:
        length, atype = NLA_HDR.unpack_from(msg, pos)
        yield atype & 0x3FFF, pos + 4, pos + length
        pos += (length + 3) & ~3


def flipped(msg: bytes, at: int) -> bytes:
    out = bytearray(msg)
    out[at] ^= 0x5A
    return bytes(out)


@pytest.mark.parametrize("stats", [True, False])
def test_every_link_of_a_real_dump_decodes_as_pyroute2_does(dumps: dict[bool, list[bytes]], stats: bool) -> None:
    decoder = LinkDecoder(stats)
    kinds = set()
    for _ in range(2):  # learning, then from the learned shapes
        for msg in dumps[stats]:
            link = decoder.decode(msg, "ns")
            assert link == theirs(msg, stats)
            assert rtnl.decode_link(msg, 0, len(msg), "ns") == theirs(msg)
            kinds.add(link.kind)
    assert {"bridge", "veth", "vxlan", "macvlan", None} <= kinds
    assert any(link.stats is not None for link in map(theirs, dumps[True]))  # the counters were compared too


def test_every_payload_byte_changed_decodes_as_pyroute2_does(dumps: dict[bool, list[bytes]]) -> None:
    decoder = LinkDecoder()
    for msg in dumps[True]:
        decoder.decode(msg, "ns")  # the original's shape is known: a changed value must be read, not assumed
    compared = 0
    for msg in dumps[True]:
        for start, end in payloads(msg):
            for at in range(start, end):
                changed = flipped(msg, at)
                assert decoder.decode(changed, "ns") == theirs(changed), (msg[20:40], at)
                compared += 1
    assert compared > 2000


def test_decode_link_is_the_same_decoder_on_a_message_inside_a_buffer(dumps: dict[bool, list[bytes]]) -> None:
    """The watcher decodes its events in place, several to a received buffer: the same links as a dump's."""
    buf = b"".join(NLMSG_HDR.pack(NLMSG_HDR.size + len(m), 16, 0, 0, 0) + m for m in dumps[True])
    pos, links = 0, []
    while pos < len(buf):
        length = NLMSG_HDR.unpack_from(buf, pos)[0]
        links.append(rtnl.decode_link(buf, pos + 16, pos + length, "ns"))
        pos += length
    assert links == [theirs(m) for m in dumps[True]]


def shaped(decoder: LinkDecoder, msg: bytes) -> Link | type[Exception]:
    try:
        return decoder.decode(msg, "ns")
    except Exception as exc:  # a mangled message may not decode at all
        return type(exc)


@pytest.mark.parametrize("stats", [True, False])
def test_a_learned_shape_never_passes_for_a_changed_message(dumps: dict[bool, list[bytes]], stats: bool) -> None:
    """Every byte flipped, headers and lengths too: what the remembered shapes give is what a fresh walk gives."""
    decoder = LinkDecoder(stats)
    for msg in dumps[stats]:
        decoder.decode(msg, "ns")
    total = 0
    for msg in dumps[stats]:
        for at in range(len(msg)):
            changed = flipped(msg, at)
            assert shaped(decoder, changed) == shaped(LinkDecoder(stats), changed), (msg[20:40], at)
            total += 1
    assert total > 5000


def test_a_broken_attribute_ends_its_nest(dumps: dict[bool, list[bytes]]) -> None:
    """Past the message's end, or shorter than its header: it and what follows it are left out."""
    for msg in dumps[True]:
        last = list(_attrs(msg, 16, len(msg)))[-1]
        before = msg[: last[1] - 4]
        truncated = msg[: last[2] - 1]  # the last attribute now runs past the end
        assert rtnl.decode_link(truncated, 0, len(truncated), "ns") == theirs(before)
        broken = before + NLA_HDR.pack(2, 4) + msg[last[1] :]  # a length of 2: what follows is unreadable
        assert LinkDecoder().decode(broken, "ns") == theirs(before)


def test_a_repeated_attribute_counts_once_and_a_short_one_not_at_all(dumps: dict[bool, list[bytes]]) -> None:
    msg = next(m for m in dumps[True] if b"veth0\0" in m)
    twice = msg + attr(4, (1234).to_bytes(4, "little")) + attr(3, b"other\0")  # IFLA_MTU, IFLA_IFNAME again
    assert rtnl.decode_link(twice, 0, len(twice), "ns") == theirs(msg) == theirs(twice)  # the first, as get_attr
    s, e = next((s, e) for t, s, e in _attrs(msg, 16, len(msg)) if t == 27)  # IFLA_GROUP
    short = msg[: s - 4] + NLA_HDR.pack(6, 27) + b"\x07\x00\x00\x00" + msg[e:]  # 2 bytes of a u32
    without = msg[: s - 4] + msg[e:]
    # pyroute2 would read 4 bytes, past the attribute's end: linkctl reads it as absent.
    assert LinkDecoder().decode(short, "ns") == theirs(without)


def test_a_state_rfc_2863_does_not_number_reads_unknown(dumps: dict[bool, list[bytes]]) -> None:
    msg = next(m for m in dumps[True] if b"veth0\0" in m)
    start = next(s for t, s, _e in _attrs(msg, 16, len(msg)) if t == 16)  # IFLA_OPERSTATE
    odd = msg[:start] + b"\x5c" + msg[start + 1 :]
    assert LinkDecoder().decode(odd, "ns").operstate is OperState.UNKNOWN is theirs(odd).operstate

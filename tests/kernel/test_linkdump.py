"""The link fingerprint covers everything the decoder gives the planner, and nothing that moves on its own.

Real messages (a bridge with ports, veth, vxlan, macvlan, loopback) are mutated one
attribute at a time: whenever the decoded link changes in a way the planner can
see, the fingerprint must change; a change to a volatile attribute must not.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from linkctl.kernel import linkdump, rtnl
from linkctl.kernel.netlink import RtnlSocket
from linkctl.model.state import IfFlag, Link
from tests.conftest import run_linkctl
from tests.engine.kernel_helpers import TOPOLOGY, write

VOLATILE_FIELDS = ("operstate", "carrier", "carrier_changes", "carrier_up_count", "carrier_down_count", "stats")
CARRIER_FLAGS = IfFlag.RUNNING | IfFlag.LOWER_UP | IfFlag.DORMANT


def planner_view(link: Link) -> Link:
    """The link without what the fingerprint leaves out on purpose."""
    cleared = dict.fromkeys(VOLATILE_FIELDS) | {"promiscuity": None}
    return dataclasses.replace(link, flags=IfFlag(link.flags & ~CARRIER_FLAGS), **cleared)  # type: ignore[arg-type]


@pytest.fixture
def messages(netns: str, tmp_path: Path) -> list[bytes]:
    stp = TOPOLOGY.replace("{stp: {enabled: false}}", "{stp: {enabled: true}}")
    assert run_linkctl("apply", write(tmp_path, stp), "--netns", netns).returncode == 0
    raw: list[bytes] = []
    with RtnlSocket(netns) as sock:
        sock.dump_links(stats=False, raw=raw)
    return raw


def attributes(msg: bytes, start: int = 16, end: int | None = None, depth: int = 0) -> Iterator[tuple[int, int, int]]:
    """(type, payload start, payload end) of every leaf attribute: headers stay intact.

    IFLA_LINKINFO and its IFLA_INFO_DATA are entered; other nests count as leaves.
    """
    end = len(msg) if end is None else end
    pos = start
    while pos + 4 <= end:
        length, atype = linkdump.NLA_HDR.unpack_from(msg, pos)
        if length < 4:
            return
        enter = (depth == 0 and atype & 0x3FFF == 18) or (depth == 1 and atype & 0x3FFF == 2)
        if enter:
            yield from attributes(msg, pos + 4, pos + length, depth + 1)
        else:
            yield atype & 0x3FFF, pos + 4, pos + length
        pos += (length + 3) & ~3


def mutations(msg: bytes, start: int, end: int) -> Iterator[bytes]:
    """Each payload byte flipped, and the whole payload zeroed (a flag that was set, cleared)."""
    for at in range(start, end):
        flipped = bytearray(msg)
        flipped[at] ^= 0x5A
        yield bytes(flipped)
    yield msg[:start] + bytes(end - start) + msg[end:]


def decode(msg: bytes) -> Link:
    return rtnl.decode_link(msg, 0, len(msg), "ns")


def print_of(msg: bytes) -> bytes:
    return linkdump.Fingerprinter().fingerprint(msg)


def test_every_change_the_planner_sees_changes_the_fingerprint(messages: list[bytes]) -> None:
    checked = 0
    for msg in messages:
        base_view, base_print = planner_view(decode(msg)), print_of(msg)
        for atype, start, end in attributes(msg):
            for mutated in mutations(msg, start, end):
                view = planner_view(decode(mutated))
                if view != base_view:
                    checked += 1
                    assert print_of(mutated) != base_print, (decode(msg).name, atype)
    assert checked > 100  # names, MTUs, MACs, masters, kinds, vxlan ids ... were all mutated


def test_volatile_attributes_and_carrier_flags_do_not_change_it(messages: list[bytes]) -> None:
    for msg in messages:
        base = print_of(msg)
        for atype, start, end in attributes(msg, depth=3):
            if atype in linkdump.VOLATILE_ATTRS and end > start:
                mutated = bytearray(msg)
                mutated[start] ^= 0x5A
                assert print_of(bytes(mutated)) == base, atype
        flipped = bytearray(msg)
        flags = int.from_bytes(msg[8:12], "little") ^ int(CARRIER_FLAGS)
        flipped[8:12] = flags.to_bytes(4, "little")
        assert print_of(bytes(flipped)) == base
        flipped[8:12] = (flags ^ int(IfFlag.UP)).to_bytes(4, "little")
        assert print_of(bytes(flipped)) != base


def test_remembered_layouts_give_what_a_fresh_walk_gives(messages: list[bytes]) -> None:
    shared = linkdump.Fingerprinter()
    twice = messages + messages
    assert shared.fingerprints(twice) == [print_of(m) for m in twice]
    # A message of a remembered size but another shape is walked afresh, not misread.
    for msg in messages:
        for atype, start, _end in attributes(msg):
            if atype == 3:  # IFLA_IFNAME: a longer name in the same padded length
                longer = bytearray(msg)
                longer[start - 4] += 1
                assert shared.fingerprint(bytes(longer)) == print_of(bytes(longer))

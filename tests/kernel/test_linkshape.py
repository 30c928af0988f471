"""kernel/linkshape.py decodes exactly as rtnl.decode_link, on real messages and every byte mutated."""

from __future__ import annotations

import dataclasses

import pytest

from linkctl.kernel import rtnl
from linkctl.kernel.linkshape import LinkDecoder
from linkctl.model.state import Link
from tests.kernel.test_linkdump import messages  # noqa: F401 - the fixture: a dump of the test topology


def reference(msg: bytes, stats: bool) -> Link | type[Exception]:
    try:
        link = rtnl.decode_link(msg, 0, len(msg), "ns")
    except Exception as exc:  # a mangled message may not decode at all
        return type(exc)
    return link if stats else dataclasses.replace(link, stats=None)


def shaped(decoder: LinkDecoder, msg: bytes) -> Link | type[Exception]:
    try:
        return decoder.decode(msg, "ns")
    except Exception as exc:
        return type(exc)


@pytest.mark.parametrize("stats", [True, False])
def test_every_link_of_a_real_dump_decodes_the_same(messages: list[bytes], stats: bool) -> None:  # noqa: F811
    decoder = LinkDecoder(stats)
    kinds = set()
    for _ in range(2):  # learning, then from the learned shapes
        for msg in messages:
            link = shaped(decoder, msg)
            assert link == reference(msg, stats)
            assert isinstance(link, Link)
            kinds.add(link.kind)
    assert {"bridge", "veth", "vxlan", "macvlan", None} <= kinds


@pytest.mark.parametrize("stats", [True, False])
def test_every_byte_flipped_decodes_the_same(messages: list[bytes], stats: bool) -> None:  # noqa: F811
    decoder = LinkDecoder(stats)
    for msg in messages:
        decoder.decode(msg, "ns")  # the original's shape is known: a flipped value must not fool it
    flipped_total = 0
    for msg in messages:
        for at in range(len(msg)):
            flipped = bytearray(msg)
            flipped[at] ^= 0x5A
            assert shaped(decoder, bytes(flipped)) == reference(bytes(flipped), stats), (msg[:40], at)
            flipped_total += 1
    assert flipped_total > 5000


def test_odd_messages_are_left_to_the_reference_decoder(messages: list[bytes]) -> None:  # noqa: F811
    msg = messages[-1]
    truncated = msg[: len(msg) - 6]  # the last attribute now runs past the end
    assert LinkDecoder().decode(truncated, "ns") == rtnl.decode_link(truncated, 0, len(truncated), "ns")

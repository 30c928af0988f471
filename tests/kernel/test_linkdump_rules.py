"""The fingerprint's rules, checked without a kernel, for every kind (bond too, which this kernel lacks)."""

from __future__ import annotations

import pytest

from linkctl.kernel import linkdump
from linkctl.kinds import BY_KERNEL_KIND
from linkctl.nla import IFINFOMSG, attr_str, attr_u32, nested


@pytest.mark.parametrize("kind", sorted(k.decode() for k in linkdump.VOLATILE_KIND_DATA))
def test_kind_data_left_out_is_never_read_by_the_kinds_decoder(kind: str) -> None:
    module = BY_KERNEL_KIND[kind]
    empty = module.decode(b"", 0, 0)
    for atype in linkdump.VOLATILE_KIND_DATA[kind.encode()]:
        data = attr_u32(atype, 0x01020304)
        assert module.decode(data, 0, len(data)) == empty, atype


def message(name: str, kind: str, data: bytes, flags: int = 0x1003) -> bytes:
    body = attr_str(3, name) + attr_u32(4, 1500) + attr_u32(16, 6)
    body += nested(18, attr_str(1, kind), nested(2, data))
    return IFINFOMSG.pack(0, 1, 7, flags, 0) + body


def test_a_bond_whose_active_port_moves_keeps_its_fingerprint_and_one_whose_mode_changes_does_not() -> None:
    base = message("bond0", "bond", attr_u32(1, 1) + attr_u32(2, 5))
    failed_over = message("bond0", "bond", attr_u32(1, 1) + attr_u32(2, 6))
    other_mode = message("bond0", "bond", attr_u32(1, 4) + attr_u32(2, 5))
    printer = linkdump.Fingerprinter()
    assert printer.fingerprint(base) == printer.fingerprint(failed_over)
    assert printer.fingerprint(base) != printer.fingerprint(other_mode)


def test_carrier_flags_and_operstate_are_left_out_but_admin_state_is_not() -> None:
    up = message("eth9", "veth", b"", flags=0x1003 | 0x10040)  # UP, RUNNING, LOWER_UP
    no_carrier = message("eth9", "veth", b"", flags=0x1003)
    down = message("eth9", "veth", b"", flags=0x1002)
    printer = linkdump.Fingerprinter()
    assert printer.fingerprint(up) == printer.fingerprint(no_carrier)
    assert printer.fingerprint(up) != printer.fingerprint(down)


def test_digest_tells_namespaces_apart_and_an_absent_one_from_an_empty_one() -> None:
    msg = message("a", "veth", b"")
    one = linkdump.digest([linkdump.NamespaceDump("ns1", [msg])])
    assert one == linkdump.digest([linkdump.NamespaceDump("ns1", [msg])])
    assert one != linkdump.digest([linkdump.NamespaceDump("ns2", [msg])])
    assert one != linkdump.digest([linkdump.NamespaceDump(None, [msg])])
    empty = linkdump.digest([linkdump.NamespaceDump("ns1", [])])
    assert empty != linkdump.digest([linkdump.NamespaceDump("ns1", None)])
    assert one != linkdump.digest([linkdump.NamespaceDump("ns1", [msg], (3,))])  # another netnsid map


def test_a_truncated_or_overlong_attribute_is_fingerprinted_not_fatal() -> None:
    msg = message("eth9", "veth", b"")
    overlong = msg[:-4] + b"\xff\x00\x01\x00"  # an attribute claiming 255 bytes where 4 remain
    printer = linkdump.Fingerprinter()
    assert printer.fingerprint(overlong) != printer.fingerprint(msg)
    assert printer.fingerprint(overlong) == linkdump.Fingerprinter().fingerprint(overlong)


def test_many_shapes_of_one_size_are_all_told_apart() -> None:
    printer = linkdump.Fingerprinter()
    shapes = [IFINFOMSG.pack(0, 1, 7, 0, 0) + attr_u32(100 + i, i) for i in range(3 * linkdump.MAX_SHAPES)]
    prints = printer.fingerprints(shapes + shapes)
    assert len(set(prints)) == len(shapes)
    assert prints[: len(shapes)] == prints[len(shapes) :]

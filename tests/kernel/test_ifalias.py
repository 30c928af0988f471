"""IFLA_IFALIAS (nmstate's description): read as pyroute2 reads it (a dump's links and one message at a
time), sent as iproute2 sends it, and counted in the receipt's fingerprint (a description changed by hand is seen)."""

from __future__ import annotations

import pytest
from pyroute2 import NetNS
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

from linkctl.kernel import rtnl
from linkctl.kernel.linkdump import Fingerprinter
from linkctl.kernel.linkshape import LinkDecoder
from linkctl.kernel.netlink import RtnlSocket
from linkctl.nla import NLA_HDR
from tests.conftest import ip

ALIASES = {"v0": "uplink, rack 4", "v1": "ünïcode ✓ " + "x" * 200, "v0p": None}


def dump(netns: str) -> list[bytes]:
    raw: list[bytes] = []
    with RtnlSocket(netns) as sock:
        sock.dump_links(stats=False, raw=raw)
    return raw


@pytest.fixture
def aliased(netns: str) -> str:
    ip("-n", netns, "link", "add", "v0", "type", "veth", "peer", "name", "v0p")
    ip("-n", netns, "link", "add", "v1", "type", "veth", "peer", "name", "v1p")
    for name, alias in ALIASES.items():
        if alias is not None:
            ip("-n", netns, "link", "set", "dev", name, "alias", alias)
    return netns


def test_the_alias_is_read_as_pyroute2_reads_it(aliased: str) -> None:
    with NetNS(aliased) as ns:
        theirs = {m.get_attr("IFLA_IFNAME"): m.get_attr("IFLA_IFALIAS") for m in ns.get_links()}
    decoder = LinkDecoder()
    for _ in range(2):  # learning the shapes, then from them
        for msg in dump(aliased):
            ours = rtnl.decode_link(msg, 0, len(msg), aliased)
            assert decoder.decode(msg, aliased) == ours
            assert ours.alias == theirs[ours.name], ours.name
    assert theirs["v0"] == ALIASES["v0"] and theirs["v0p"] is None


def test_the_request_carries_the_alias_as_iproute2_sends_it() -> None:
    # iproute2: addattr_l(IFLA_IFALIAS, text, strlen(text)): no NUL; "" clears the alias.
    for text in ("uplink", "", "ünï"):
        body = rtnl.LinkAttrs(alias=text).encode()
        length, atype = NLA_HDR.unpack_from(body, 0)
        assert (atype, body[4:length]) == (rtnl.IFLA_IFALIAS, text.encode())
        assert length == 4 + len(text.encode())
    # pyroute2 reads the attribute back from our bytes.
    msg = ifinfmsg(rtnl.set_link(1, 7, rtnl.LinkAttrs(alias="uplink")))
    msg.decode()
    assert msg.get_attr("IFLA_IFALIAS") == "uplink"


def test_an_alias_set_through_linkctl_s_request_is_what_ip_shows(aliased: str) -> None:
    link = next(rtnl.decode_link(m, 0, len(m), aliased) for m in dump(aliased) if b"v0p\0" in m)
    with RtnlSocket(aliased) as sock:
        (ack,) = sock.batch([rtnl.set_link(sock.next_seq(), link.ifindex, rtnl.LinkAttrs(alias="set here"))])
        assert ack.ok
    assert "alias set here" in ip("-n", aliased, "-d", "link", "show", "v0p")
    with RtnlSocket(aliased) as sock:
        (ack,) = sock.batch([rtnl.set_link(sock.next_seq(), link.ifindex, rtnl.LinkAttrs(alias=""))])
        assert ack.ok
    assert "alias" not in ip("-n", aliased, "-d", "link", "show", "v0p")


def test_the_fingerprint_sees_a_description_changed_by_hand(aliased: str) -> None:
    before = Fingerprinter().fingerprints(dump(aliased))
    ip("-n", aliased, "link", "set", "dev", "v0", "alias", "changed by hand")
    assert Fingerprinter().fingerprints(dump(aliased)) != before

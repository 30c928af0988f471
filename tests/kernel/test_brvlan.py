"""Bridge VLAN requests and dumps (kernel/brvlan.py) against pyroute2's codec, and the VLAN filtering probe.

This kernel lacks CONFIG_BRIDGE_VLAN_FILTERING: the requests' bytes are held to pyroute2's
encoder so the path is right where a kernel has it; a file asking for VLANs is refused here
with the kernel's reason before any change.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from pyroute2.netlink import NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

from linkctl.kernel import brvlan
from linkctl.kernel.probe import bridge_vlan_filtering
from linkctl.plan.ops import Op
from tests.conftest import ip, run_linkctl

PVID_UNTAGGED = 6


def _pyroute2(mtype: int, flags: int, index: int, infos: list[dict[str, int]], seq: int = 4) -> bytes:
    msg = ifinfmsg()
    msg["family"] = 7  # AF_BRIDGE
    msg["index"] = index
    msg["attrs"] = [("IFLA_AF_SPEC", {"attrs": [("IFLA_BRIDGE_VLAN_INFO", info) for info in infos]})]
    msg["header"]["type"] = mtype
    msg["header"]["flags"] = flags
    msg["header"]["sequence_number"] = seq
    msg.encode()
    return bytes(msg.data)


@pytest.mark.parametrize(("add", "mtype"), [(True, 19), (False, 17)])
def test_vlan_add_and_del_are_pyroute2s_bytes(add: bool, mtype: int) -> None:
    mine = brvlan.vlan_request(4, 5, [(10, PVID_UNTAGGED)], add=add)
    assert mine == _pyroute2(mtype, NLM_F_REQUEST | NLM_F_ACK, 5, [{"flags": PVID_UNTAGGED, "vid": 10}])


def test_a_run_of_ids_goes_as_one_range_and_decodes_back() -> None:
    mine = brvlan.vlan_request(4, 5, [(v, 0) for v in range(100, 106)] + [(7, PVID_UNTAGGED)])
    ref = _pyroute2(19, NLM_F_REQUEST | NLM_F_ACK, 5, [
        {"flags": PVID_UNTAGGED, "vid": 7}, {"flags": 8, "vid": 100}, {"flags": 16, "vid": 105},
    ])  # fmt: skip
    assert mine == ref
    index, vlans = brvlan.decode_vlans(mine[16:])
    assert index == 5 and vlans == [(7, PVID_UNTAGGED), *((v, 0) for v in range(100, 106))]


def test_dump_request_asks_for_brvlan() -> None:
    msg = ifinfmsg(brvlan.dump_request(3))
    msg.decode()
    assert msg["family"] == 7 and msg["header"]["flags"] == NLM_F_REQUEST | NLM_F_DUMP
    assert msg.get_attr("IFLA_EXT_MASK") == 2  # RTEXT_FILTER_BRVLAN


VLAN_FILE = """
interfaces:
- name: br0
  type: linux-bridge
  state: up
  bridge:
    options: {vlan-protocol: 802.1q, vlan-default-pvid: 1}
    port:
    - name: vp0
      vlan: {mode: trunk, trunk-tags: [{id: 101}, {id-range: {min: 200, max: 299}}], tag: 100, enable-native: true}
"""


def test_a_file_with_bridge_vlans_is_refused_with_the_kernels_reason_nothing_changed(
    netns: str, tmp_path: Path
) -> None:
    reason = bridge_vlan_filtering()
    if reason is None:
        pytest.skip("this kernel filters VLANs on bridges: the refusal is for kernels without it")
    ip("-n", netns, "link", "add", "vp0", "type", "veth", "peer", "name", "vp1")
    before = ip("-n", netns, "-d", "link", "show")
    path = tmp_path / "vlans.yml"
    path.write_text(VLAN_FILE)
    res = run_linkctl("apply", str(path), "--netns", netns)
    assert res.returncode != 0
    assert "bridge VLAN filtering" in res.stderr and reason in res.stderr, res.stderr
    assert "nothing was changed" in res.stderr
    assert ip("-n", netns, "-d", "link", "show") == before


def test_the_af_bridge_dump_lists_the_ports_of_this_kernel(netns: str) -> None:
    """The dump request runs on this kernel: each bridge port is listed (its VLANs only where the
    kernel filters them, so none here without CONFIG_BRIDGE_VLAN_FILTERING)."""
    from linkctl.kernel import linkdump
    from linkctl.kernel import netns as netns_mod

    ip("-n", netns, "link", "add", "brd0", "type", "bridge")
    ip("-n", netns, "link", "add", "vp0", "type", "veth", "peer", "name", "vp1")
    ip("-n", netns, "link", "set", "vp0", "master", "brd0")
    port_index = int(ip("-n", netns, "-o", "link", "show", "vp0").split(":")[0])
    with netns_mod.entered(netns), linkdump.RouteSocket() as sock:
        sock.send(brvlan.dump_request(1))
        messages = linkdump.collect_dump(sock)
    ports = dict(brvlan.decode_vlans(m) for m in messages)
    assert port_index in ports
    if bridge_vlan_filtering() is not None:
        assert ports[port_index] == []


# --- the AF_BRIDGE dump, read ---------------------------------------------------------------------


class _Answers:
    """A socket whose kernel answers with `buf`: what read_vlans sends is kept."""

    def __init__(self, buf: bytes) -> None:
        self.buf, self.sent = buf, b""

    def send(self, data: bytes) -> None:
        self.sent += data

    def recv(self, size: int = 1 << 20) -> bytes:
        out, self.buf = self.buf, b""
        return out


def _newlink(index: int, infos: list[dict[str, int]]) -> bytes:
    msg = ifinfmsg()
    msg["family"] = 7
    msg["index"] = index
    msg["attrs"] = [
        ("IFLA_IFNAME", f"p{index}"),
        ("IFLA_MASTER", 3),
        ("IFLA_AF_SPEC", {"attrs": [("IFLA_BRIDGE_VLAN_INFO", info) for info in infos]}),
    ]
    msg["header"]["type"] = 16
    msg["header"]["flags"] = 2  # NLM_F_MULTI
    msg["header"]["sequence_number"] = 1
    msg.encode()
    return bytes(msg.data)


def test_a_crafted_dump_reads_as_each_ports_vlans_ranges_spelt_out() -> None:
    done = struct.pack("=IHHIIi", 20, 3, 2, 1, 0, 0)  # NLMSG_DONE
    dump = (
        _newlink(5, [{"flags": 8, "vid": 100}, {"flags": 16, "vid": 103}, {"flags": PVID_UNTAGGED, "vid": 7}])
        + _newlink(6, [{"flags": 4, "vid": 9}, {"flags": 1 | PVID_UNTAGGED, "vid": 1}])  # 1: MASTER, not kept
        + _newlink(8, [])
        + done
    )
    sock = _Answers(dump)
    ports = brvlan.read_vlans(sock, 1)  # type: ignore[arg-type]
    assert ports == {5: ((7, PVID_UNTAGGED), (100, 0), (101, 0), (102, 0), (103, 0)), 6: ((1, 6), (9, 4)), 8: ()}
    assert sock.sent == brvlan.dump_request(1)


def test_the_fingerprint_moves_with_any_vlan() -> None:
    base: brvlan.Ports = {5: ((1, PVID_UNTAGGED), (10, 0))}
    assert brvlan.fingerprint(base) == brvlan.fingerprint(dict(base))
    others: list[brvlan.Ports | None] = [{5: ((1, PVID_UNTAGGED), (11, 0))}, {5: ((1, 4), (10, 0))}, {6: base[5]}, None]
    for other in others:
        assert brvlan.fingerprint(other) != brvlan.fingerprint(base)


def _bridge_with_port(netns: str) -> int:
    ip("-n", netns, "link", "add", "brd0", "type", "bridge")
    ip("-n", netns, "link", "add", "vp0", "type", "veth", "peer", "name", "vp1")
    ip("-n", netns, "link", "set", "vp0", "master", "brd0")
    return int(ip("-n", netns, "-o", "link", "show", "vp0").split(":")[0])


def test_a_read_takes_the_ports_vlans_when_asked_and_where_a_bridge_filters(netns: str) -> None:
    from linkctl.kernel.state import read_state

    _bridge_with_port(netns)
    asked = read_state([netns], vlans=True).find("vp0", netns)
    # Without CONFIG_BRIDGE_VLAN_FILTERING the kernel lists the port with no VLANs; with it, the default one.
    assert asked is not None and asked.vlans == (() if bridge_vlan_filtering() is not None else ((1, PVID_UNTAGGED),))
    assert read_state([netns], vlans=True).find("vp1", netns).vlans is None  # type: ignore[union-attr]  # no port
    unasked = read_state([netns]).find("vp0", netns)
    assert unasked is not None and unasked.vlans is None  # no bridge filters here: no dump


def test_the_fast_and_the_full_path_fingerprint_the_same_vlans(netns: str) -> None:
    from linkctl.kernel.fastpath import current_digest, vlan_digest
    from linkctl.kernel.state import read_state

    _bridge_with_port(netns)
    for key in ("all", "default"):  # no IPv6 traffic changing anything between the dumps
        ip("netns", "exec", netns, "sysctl", "-qw", f"net.ipv6.conf.{key}.disable_ipv6=1")
    namespaces: list[str | None] = [netns, "lkt-no-such-namespace"]
    full = read_state(namespaces, digest=True, vlans=True).digest
    assert full is not None and full != read_state(namespaces, digest=True).digest
    assert vlan_digest(current_digest(namespaces), namespaces) == full


def test_the_receipts_digest_of_layer_3_and_vlans_together_is_the_full_paths(netns: str) -> None:
    """A file with addresses and port VLANs: kernel/fastpath.digest_now over both is the digest the full
    read holds (reading a non-filtering bridge's VLAN lists works on a kernel without VLAN filtering)."""
    from linkctl.kernel.fastpath import digest_now
    from linkctl.kernel.state import read_state

    _bridge_with_port(netns)
    ip("-n", netns, "addr", "add", "192.0.2.1/24", "dev", "brd0")
    for key in ("all", "default"):
        ip("netns", "exec", netns, "sysctl", "-qw", f"net.ipv6.conf.{key}.disable_ipv6=1")
    namespaces: list[str | None] = [netns, "lkt-no-such-namespace"]
    full = read_state(namespaces, digest=True, l3=namespaces, vlans=True).digest
    assert full is not None
    assert full != read_state(namespaces, digest=True, l3=namespaces).digest  # the VLANs count
    assert full != read_state(namespaces, digest=True, vlans=True).digest  # and so does layer 3
    assert digest_now(namespaces, namespaces, namespaces) == full
    ip("-n", netns, "addr", "add", "192.0.2.2/24", "dev", "brd0")
    assert digest_now(namespaces, namespaces, namespaces) != full


def test_a_bridge_here_has_no_default_pvid_so_a_show_re_declares_no_vlans(netns: str) -> None:
    """Without CONFIG_BRIDGE_VLAN_FILTERING the kernel sends IFLA_BR_VLAN_FILTERING 0 but no
    IFLA_BR_VLAN_DEFAULT_PVID, and lists each port with no VLANs: declaration_of (show, rollback) then
    puts no VLAN set and no filtering in the bridge's section (a port re-made by a rollback would
    otherwise be sent a deletion of its default VLAN, which this kernel refuses)."""
    from linkctl.kernel.state import read_state
    from linkctl.model.state import BridgeInfo
    from linkctl.plan.convert import declaration_of
    from linkctl.plan.vlans import has_port_vlans

    if bridge_vlan_filtering() is None:
        pytest.skip("this kernel filters VLANs on bridges: it says vlan_filtering")
    _bridge_with_port(netns)
    now = read_state([netns], vlans=True)
    bridge = now.find("brd0", netns)
    assert bridge is not None and isinstance(bridge.info, BridgeInfo) and "vlan_default_pvid" not in bridge.info.data
    assert bridge.info.data.get("vlan_filtering") == 0
    decl = declaration_of(now, netns=[netns])
    section = next(s for s in decl.interfaces if s.name == "brd0").bridge
    assert section is not None and section.filtering_read is None and not has_port_vlans(decl)


def test_the_fast_paths_vlan_reading_loads_no_pydantic() -> None:
    code = "import sys, linkctl.kernel.brvlan; print('pydantic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# --- what is sent: iproute2's bytes, and the executor's ---------------------------------------------


def _sent_by(cmd: list[str]) -> list[bytes]:
    """Every netlink message a command sends, as strace dumps them (sent even where the kernel refuses)."""
    res = subprocess.run(
        ["strace", "-f", "-qq", "-e", "trace=sendmsg", "-e", "write=all", *cmd],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    buffers: list[bytearray] = []
    for line in res.stderr.splitlines():
        if line.startswith(" * ") and "bytes in buffer" in line:
            buffers.append(bytearray())
        elif (m := re.match(r"^ \| [0-9a-f]{5}  (.{49})", line)) and buffers:
            buffers[-1] += bytes.fromhex(m.group(1))
    out = []
    for buf in buffers:
        off = 0
        while off + 16 <= len(buf):
            (length,) = struct.unpack_from("=I", buf, off)
            out.append(bytes(buf[off : off + length]))
            off += (length + 3) & ~3
    return out


def _no_seq(msg: bytes) -> bytes:
    return msg[:8] + b"\0" * 8 + msg[16:]


def _vlan_entries(msg: bytes) -> bytes:
    """The IFLA_BRIDGE_VLAN_INFO entries inside a request's IFLA_AF_SPEC."""
    return msg[16 + 16 + 4 :]


needs_strace = pytest.mark.skipif(shutil.which("strace") is None, reason="strace captures iproute2's requests")


@needs_strace
@pytest.mark.parametrize(
    ("args", "add", "vlans"),
    [
        (["vid", "10", "pvid", "untagged"], True, [(10, PVID_UNTAGGED)]),
        (["vid", "100-105"], True, [(v, 0) for v in range(100, 106)]),
        (["vid", "200-203", "untagged"], True, [(v, 4) for v in range(200, 204)]),
        (["vid", "100-105"], False, [(v, 0) for v in range(100, 106)]),
    ],
)
def test_each_vlan_request_is_iproute2s_bytes(
    netns: str, args: list[str], add: bool, vlans: list[tuple[int, int]]
) -> None:
    index = _bridge_with_port(netns)
    cmd = ["bridge", "-n", netns, "vlan", "add" if add else "del", "dev", "vp0", *args]
    (theirs,) = [m for m in _sent_by(cmd) if struct.unpack_from("=H", m, 4)[0] in (17, 19)]
    assert _no_seq(brvlan.vlan_request(7, index, vlans, add=add)) == _no_seq(theirs)


@needs_strace
def test_the_executor_sends_what_the_steps_printed_commands_send(netns: str) -> None:
    """Each step run by the executor, its requests captured (--debug's hook): the port's VLANs go as the
    very entries its `bridge vlan` commands send, deletions first; the switch as `ip link set ... type
    bridge vlan_filtering 1` asks, attribute for attribute."""
    from linkctl.plan.vlans import SetPortVlans, SetVlanFiltering

    index = _bridge_with_port(netns)
    ports = SetPortVlans("vp0", netns, master="brd0", add=((10, PVID_UNTAGGED), (20, 0), (21, 0)), delete=(1,))
    switch = SetVlanFiltering("brd0", netns, on=True)
    for op in (ports, switch):
        sent = _executor_sends(netns, op)
        theirs = [
            m for cmd in op.ip_commands() for m in _sent_by(cmd) if struct.unpack_from("=H", m, 4)[0] in (16, 17, 19)
        ]
        if op is ports:
            assert [struct.unpack_from("=H", m, 4)[0] for m in sent] == [17, 19]  # del, then add
            assert all(struct.unpack_from("=i", m, 20)[0] == index for m in sent)
            assert _vlan_entries(sent[0]) == b"".join(_vlan_entries(m) for m in theirs if m[4] == 17)
            assert _vlan_entries(sent[1]) == b"".join(_vlan_entries(m) for m in theirs if m[4] == 19)
        else:
            (mine,), (ip_s,) = sent, theirs
            assert _decoded(mine) == _decoded(ip_s)


def _executor_sends(netns: str, op: Op) -> list[bytes]:
    from linkctl.engine.executor import Executor, StepFailed
    from linkctl.kernel.state import read_state

    sent: list[bytes] = []

    def hook(what: str, data: bytes) -> None:
        if what == "request":
            sent.append(data)

    with contextlib.suppress(StepFailed):  # refused here (no VLAN filtering): the bytes were sent
        Executor(read_state([netns]), hook).run([op])
    return sent


def _decoded(msg: bytes) -> tuple[object, ...]:
    m = ifinfmsg(msg)
    m.decode()
    info = m.get_attr("IFLA_LINKINFO")
    data = info.get_attr("IFLA_INFO_DATA")
    flags = m["header"]["flags"]
    return (m["header"]["type"], flags, m["family"], m["index"], info.get_attr("IFLA_INFO_KIND"),
            [(a[0], a[1]) for a in data["attrs"]])  # fmt: skip

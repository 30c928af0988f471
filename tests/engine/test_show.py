"""`show` against the real kernel: what it reads (as pyroute2 reads it), how it names links and namespaces."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from linkctl.kernel.state import read_state
from tests.conftest import ip, run_linkctl
from tests.engine.kernel_helpers import TOPOLOGY, write


def test_fast_decoder_agrees_with_pyroute2(netns: str, tmp_path: Path) -> None:
    from pyroute2 import NetNS

    assert run_linkctl("apply", write(tmp_path, TOPOLOGY), "--netns", netns).returncode == 0
    # Links just brought up still send (IGMP reports, neighbour discovery), so the counters may move
    # between dumps: pyroute2's reading must lie between ours before and ours after.
    ours = {lk.name: lk for lk in read_state([netns], stats=True).ns(netns).links.values()}
    with NetNS(netns) as pr:
        theirs = {m.get_attr("IFLA_IFNAME"): m for m in pr.get_links()}
    after = {lk.name: lk for lk in read_state([netns], stats=True).ns(netns).links.values()}
    assert set(ours) == set(theirs)
    for name, msg in theirs.items():
        link = ours[name]
        assert link.ifindex == msg["index"] and link.flags == msg["flags"]
        assert link.mtu == msg.get_attr("IFLA_MTU") and link.txqlen == msg.get_attr("IFLA_TXQLEN")
        assert link.master_ifindex == msg.get_attr("IFLA_MASTER")
        assert link.carrier_changes == msg.get_attr("IFLA_CARRIER_CHANGES")
        before_stats, after_stats, stats64 = link.stats, after[name].stats, msg.get_attr("IFLA_STATS64")
        assert before_stats is not None and after_stats is not None
        for field in ("rx_bytes", "rx_packets", "tx_bytes", "tx_packets", "multicast"):
            assert getattr(before_stats, field) <= stats64[field] <= getattr(after_stats, field), (name, field)
        info = msg.get_attr("IFLA_LINKINFO")
        assert link.kind == (info.get_attr("IFLA_INFO_KIND") if info else None)


def test_show_json_and_stats(netns: str, tmp_path: Path) -> None:
    assert run_linkctl("apply", write(tmp_path, TOPOLOGY), "--netns", netns).returncode == 0
    ip("-n", netns, "link", "set", "veth1-p", "down")
    res = run_linkctl("show", "veth1", "vx42", "--netns", netns, "--format", "json", "--stats")
    recs = {r["name"]: r for r in json.loads(res.stdout)}
    assert recs["veth1"]["no_carrier"] is True and recs["veth1"]["master"] == "br0"
    assert recs["veth1"]["info"] == {"peer": "veth1-p"}
    assert recs["vx42"]["info"]["vni"] == 42 and recs["vx42"]["info"]["base"] == "br0"
    assert "rx_over_errors" in recs["veth1"]["stats"]
    table = run_linkctl("show", "--netns", netns)
    assert "NO-CARRIER" in table.stdout
    missing = run_linkctl("show", "nope0", "--netns", netns)
    assert missing.returncode == 1 and f"no such link in netns {netns}: nope0 (Device does not exist)" in missing.stderr


def test_show_names_the_namespace_of_a_peer_like_ip_link_netns(netns_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    red, blue = netns_factory(), netns_factory()
    ip("-n", red, "link", "add", "r0", "type", "veth", "peer", "name", "b0", "netns", blue)
    table = run_linkctl("show", "r0", "-n", red)
    assert table.returncode == 0 and f"peer=b0 peer_netns={blue}" in table.stdout, table.stdout
    shown = run_linkctl("show", "-n", red, "-f", "yaml")
    assert f"peer-netns: {blue}" in shown.stdout
    res = run_linkctl("plan", write(tmp_path, shown.stdout, "state.yml"), "-n", red)
    assert res.returncode == 0 and "no changes" in res.stdout, res.stdout + res.stderr


def test_show_names_the_kernel_kind_of_a_link_linkctl_does_not_manage(netns: str) -> None:
    ip("-n", netns, "tuntap", "add", "t1", "mode", "tap")
    res = run_linkctl("show", "--netns", netns)
    row = next(line.split() for line in res.stdout.splitlines() if line.startswith("t1 "))
    assert row[1] == "unknown" and "kind=tun" in row


def test_a_link_asked_for_in_the_wrong_namespace_is_pointed_at(netns_factory: Callable[[], str]) -> None:
    here, there = netns_factory(), netns_factory()
    ip("-n", there, "link", "add", "wx0", "type", "veth", "peer", "name", "wx1")
    res = run_linkctl("show", "wx0", "--netns", here)
    assert res.returncode == 1
    assert f"no such link in netns {here}: wx0 (Device does not exist); wx0 is in netns {there} (--netns {there})" in (
        res.stderr
    )
    diag = run_linkctl("diagnose", "wx1", "--netns", here)
    assert diag.returncode == 3 and f"wx1 is in netns {there} (--netns {there})" in diag.stderr, diag.stderr


def test_a_misspelt_link_name_is_answered_with_the_closest_one(netns: str) -> None:
    ip("-n", netns, "link", "add", "uplink0", "type", "veth", "peer", "name", "downlink0")
    res = run_linkctl("show", "uplnk0", "--netns", netns)
    assert res.returncode == 1 and res.stderr.rstrip().endswith("(Device does not exist); did you mean uplink0?")
    diag = run_linkctl("diagnose", "uplnk0", "--netns", netns)
    assert diag.returncode == 3 and "no such link in netns" in diag.stderr and "did you mean uplink0?" in diag.stderr


def test_a_bridge_line_names_its_settings_not_the_kernels_raw_attributes(netns: str) -> None:
    ip("-n", netns, "link", "add", "br9", "type", "bridge")
    table = run_linkctl("show", "--netns", netns).stdout
    line = next(row for row in table.splitlines() if row.startswith("br9"))
    assert "forward_delay=15s" in line and "data=" not in line and "multi_boolopt" not in line, line
    (record,) = [
        r for r in json.loads(run_linkctl("show", "--netns", netns, "-f", "json").stdout) if r["name"] == "br9"
    ]
    assert "data" not in record["info"], record["info"]

"""The driver's statistics snapshot taken when a link goes down, with the real ethtool."""

from __future__ import annotations

import selectors
import shutil
import subprocess

import pytest

from linkctl.domain.events import SnapshotReason
from linkctl.kernel.state import read_state
from linkctl.watch.down_evidence import DownEvidence, ethtool_stats


def test_snapshot_of_a_link_that_went_down_arrives_through_the_loop(netns: str) -> None:
    if shutil.which("ethtool") is None:
        pytest.skip("ethtool is not installed")
    subprocess.run(["ip", "-n", netns, "link", "add", "nic0", "type", "veth", "peer", "name", "nic0p"], check=True)
    link = read_state([netns], stats=True).find("nic0", netns)
    assert link is not None
    evidence = DownEvidence(ethtool_stats)
    sel = selectors.DefaultSelector()
    sel.register(evidence, selectors.EVENT_READ)
    try:
        evidence.request(netns, link)
        assert sel.select(timeout=30), "the worker never woke the loop"
        (snap,) = evidence.drain()
    finally:
        sel.close()
        evidence.close()
    assert snap.reason is SnapshotReason.LINK_DOWN and snap.ifname == "nic0" and snap.netns == netns
    assert snap.ethtool is not None and "peer_ifindex" in snap.ethtool  # veth's own `ethtool -S`


def test_no_snapshot_where_the_driver_has_no_statistics(netns: str) -> None:
    subprocess.run(["ip", "-n", netns, "link", "add", "br7", "type", "bridge"], check=True)
    link = read_state([netns], stats=True).find("br7", netns)
    assert link is not None
    evidence = DownEvidence(ethtool_stats)
    try:
        evidence.request(netns, link)
        evidence.close()  # waits for the job
        assert evidence.drain() == []
    finally:
        evidence.close()

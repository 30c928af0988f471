"""Real kernel sources: lines written to /dev/kmsg, read back through the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from logs_helpers import LINKCTL, run_linkctl, write_kmsg


def _marker() -> str:
    # A unique interface name per test run, so parallel runs don't see each other's lines.
    return "lk" + uuid.uuid4().hex[:10]


def _events_for(ifname: str, *args: str) -> list[dict[str, object]]:
    done = run_linkctl("logs", "parse", *args)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    return [e for e in events if e["ifname"] == ifname]


def test_kmsg_lines_read_back() -> None:
    name = _marker()
    write_kmsg(
        f"e1000e: {name} NIC Link is Down",
        f"e1000e: {name} NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx",
        f"NETDEV WATCHDOG: {name} (e1000e): transmit queue 0 timed out",
    )
    events = _events_for(name, "--source", "kmsg")
    assert [e["event"] for e in events] == ["link_down", "link_up", "tx_timeout"]
    up = events[1]
    assert (up["driver"], up["speed_mbps"], up["duplex"], up["flow_control"]) == ("e1000e", 1000, "full", "rx/tx")
    assert all(e["uptime"] is not None and e["time"] is not None for e in events)
    assert events[0]["file"] == "/dev/kmsg"


def test_kmsg_flap_is_analyzed() -> None:
    name = _marker()
    write_kmsg(
        f"r8169 0000:02:00.0 {name}: Link is Down",
        f"r8169 0000:02:00.0 {name}: Link is Up - 1Gbps/Full - flow control rx/tx",
        f"r8169 0000:02:00.0 {name}: Link is Down",
        f"r8169 0000:02:00.0 {name}: Link is Up - 100Mbps/Full - flow control off",
    )
    done = run_linkctl("logs", "analyze", "--source", "kmsg", "--iface", name, "--format", "json")
    assert done.returncode == 0, done.stderr
    link = json.loads(done.stdout)["links"][0]
    assert link["verdict"] == "flapping" and link["down_events"] == 2
    assert any(c["lower"] for c in link["changes"])


def test_dmesg_program_source() -> None:
    if shutil.which("dmesg") is None:
        pytest.skip("dmesg is not installed")
    name = _marker()
    write_kmsg(f"cxgb4 0000:02:00.4 {name}: link up, 10Gbps, full-duplex, Tx/Rx PAUSE")
    probe = subprocess.run(["dmesg"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("dmesg cannot read the kernel log here")
    events = _events_for(name, "--source", "dmesg")
    assert [(e["event"], e["speed_mbps"], e["flow_control"]) for e in events] == [("link_up", 10000, "rx/tx")]


def test_journal_source() -> None:
    if shutil.which("journalctl") is None:
        pytest.skip("journalctl is not installed")
    probe = subprocess.run(["journalctl", "-k", "-o", "json", "-n", "1", "--no-pager"], capture_output=True)
    if probe.returncode != 0 or not probe.stdout.strip():
        pytest.skip("journald has no kernel messages here (not running in this container)")
    name = _marker()
    write_kmsg(f"mlx5_core 0000:3b:00.0 {name}: Link down")
    import time

    for _ in range(20):  # journald picks kernel messages up asynchronously
        events = _events_for(name, "--source", "journal")
        if events:
            break
        time.sleep(0.25)
    assert [e["event"] for e in events] == ["link_down"]


def test_an_empty_journal_is_said_to_be_one_not_reported_as_no_events() -> None:
    if shutil.which("journalctl") is None:
        pytest.skip("journalctl is not installed")
    probe = subprocess.run(["journalctl", "-k", "-o", "json", "-n", "1", "--no-pager"], capture_output=True)
    if probe.stdout.strip():
        pytest.skip("journald keeps kernel messages here: nothing empty to report")
    done = run_linkctl("logs", "analyze", "--source", "journal")
    assert done.returncode == 1
    assert "printed nothing (journald is not running here, or keeps no kernel messages)" in done.stderr
    assert "try --source kmsg" in done.stderr


def test_dev_kmsg_given_as_a_file_is_read_to_now_and_ends(tmp_path: Path) -> None:
    # `logs parse /dev/kmsg` (or a link to it): read as a file, its read(2) waited for the kernel's
    # next message once the ring was read, and the command never ended.
    name = _marker()
    write_kmsg(f"e1000e: {name} NIC Link is Down")
    link = tmp_path / "kern"
    link.symlink_to("/dev/kmsg")
    for path in ("/dev/kmsg", str(link)):
        try:
            done = subprocess.run([LINKCTL, "logs", "parse", path], capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"logs parse {path} did not end")
        if "permission denied" in done.stderr:
            pytest.skip(done.stderr.strip())
        assert done.returncode == 0, done.stderr
        events = [json.loads(line) for line in done.stdout.splitlines()]
        assert [(e["event"], e["file"]) for e in events if e["ifname"] == name] == [("link_down", path)]

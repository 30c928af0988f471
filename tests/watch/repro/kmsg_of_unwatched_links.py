"""A watcher of one namespace records kernel-log lines about links it does not watch (no such
link in any watched namespace; the host namespace not watched at all) as events of the host's
namespace: `history` then showed a host link that does not exist, and the metrics counted it.
Fixed: no history row, no per-device series; the lines are counted in
linkctl_kernel_events_unattributed_total{event}."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from pathlib import Path

from tests.watch.repro._harness import config, history, netns, private_dir, veth
from tests.watch.test_daemon import Watcher, free_port, kmsg

NS = "lkwr-10"
GHOST = "lkwrghost0"
runtime, data = private_dir(), Path(private_dir())
url = f"sqlite://{data / 'events.db'}"
port = free_port()
with netns(NS):
    veth(NS, "km1")
    args = [
        "--store",
        url,
        "--listen",
        f"127.0.0.1:{port}",
        "--config",
        str(config(data, None)),
        "--host",
        "review",
        "--netns",
        NS,
    ]
    w = Watcher(args, env={"LINKCTL_RUNTIME_DIR": runtime})
    w.wait_ready()
    kmsg(f"<6>e1000e: {GHOST} NIC Link is Down")
    kmsg(f"<6>lkwrbr0: port 1({GHOST}) entered disabled state")
    time.sleep(6)  # past the 2 s join window and a tick
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30).read().decode()
    w.stop()
exists = subprocess.run(["ip", "link", "show", GHOST], capture_output=True).returncode == 0
print(f"{GHOST} exists in the host namespace: {exists}; watched: only netns {NS}")
rows = [r for r in history(url, "") if r["ifname"] == GHOST] if True else []
with_none = [r for r in history(url, None) if r["ifname"] == GHOST]  # type: ignore[arg-type]
print("history rows for it:", [(r["netns"], r["event"], r["source"]) for r in (rows or with_none)])
print("metrics:", [x for x in body.splitlines() if GHOST in x])
print("unattributed:", [x for x in body.splitlines() if x.startswith("linkctl_kernel_events_unattributed_total")])

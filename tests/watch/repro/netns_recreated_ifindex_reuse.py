"""A watched namespace deleted and re-created (same name) while the watcher is stopped: the new
namespace hands out the same ifindexes, and the watcher takes its new links for the old ones."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.watch.repro._harness import (
    carrier_rows,
    config,
    flap,
    history,
    ip,
    kernel_counts,
    netns,
    private_dir,
    start_watcher,
    veth,
    wait,
)

NS = "lkwr-1"
runtime, data = private_dir(), Path(private_dir())
url = f"sqlite://{data / 'events.db'}"
cfg = config(data, None)
with netns(NS):
    veth(NS, "old1")
    w = start_watcher([NS], url, cfg, runtime)
    w.stop()
    before = kernel_counts(NS)
    print("old namespace, kernel carrier_changes:", before)
    ip("netns", "del", NS)
    ip("netns", "add", NS)
    veth(NS, "new1")
    flap(NS, "new1p", 10)
    after = kernel_counts(NS)
    idx = subprocess.run(["ip", "-n", NS, "-o", "link"], capture_output=True, text=True).stdout
    print("new namespace, kernel carrier_changes:", after)
    print(idx)
    w = start_watcher([NS], url, cfg, runtime)
    wait(lambda: sum(int(r["transitions"]) for r in carrier_rows(url, NS) if r["ifname"] == "new1") > 0, 10)
    w.stop()
rows = history(url, NS)
for r in rows:
    print(
        json.dumps(
            {
                k: r[k]
                for k in ("ifname", "ifindex", "event", "transitions", "carrier_changes", "detail", "source")
                if k in r
            }
        )
    )
recorded = sum(int(r["transitions"]) for r in carrier_rows(url, NS) if r["ifname"] == "new1")
events = [(r["ifname"], r["event"]) for r in rows]
print(f"new1: kernel counted {after['new1']} carrier changes since it was created; history records {recorded}")
print(
    "renamed old1 -> new1 recorded:",
    ("new1", "renamed") in events,
    "; link_removed old1:",
    ("old1", "link_removed") in events,
)

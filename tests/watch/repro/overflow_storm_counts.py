"""Flaps faster than the event stream: a 4 KB SO_RCVBUF, 20 veth pairs toggled 30 rounds as fast as
`ip -batch` goes; then history, metrics and the kernel's counters compared link by link."""

from __future__ import annotations

import re
import time
import urllib.request
from pathlib import Path

from tests.watch.repro._harness import carrier_rows, config, kernel_counts, netns, private_dir
from tests.watch.test_daemon import Watcher, add_pairs, free_port, toggle, wait_caught_up

NS = "lkwr-14"
runtime, data = private_dir(), Path(private_dir())
url = f"sqlite://{data / 'events.db'}"
port = free_port()
with netns(NS):
    names = [f"ov{i}" for i in range(20)]
    add_pairs(NS, names)
    args = ["--store", url, "--listen", f"127.0.0.1:{port}", "--config", str(config(data, None))]
    args += ["--host", "review", "--netns", NS]
    w = Watcher(args, env={"LINKCTL_RUNTIME_DIR": runtime, "LINKCTL_WATCH_RCVBUF": "4096"})
    w.wait_ready()
    before = kernel_counts(NS)
    toggle(NS, names, 30)
    after = wait_caught_up(url, NS)
    time.sleep(1)
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30).read().decode()
    w.stop()
rows = carrier_rows(url, NS)
per = {n: sum(int(r["transitions"]) for r in rows if r["ifname"] == n) for n in after}
bad = {n: (per[n], after[n] - before[n]) for n in after if per[n] != after[n] - before[n]}
metric = {
    m[0]: int(float(m[1])) for m in re.findall(r'carrier_changes_total\{device="([^"]+)",netns="lkwr-14"\} (\S+)', body)
}
resyncs = re.findall(r'linkctl_watch_resyncs_total\{netns="lkwr-14"\} (\S+)', body)
print(
    f"links {len(after)}; kernel transitions {sum(after.values()) - sum(before.values())}; history {sum(per.values())}"
)
print("links whose history differs from the kernel:", bad or "none")
print(
    "metric carrier_changes_total differs from the kernel:",
    {n: (metric.get(n), after[n]) for n in after if metric.get(n) != after[n]} or "none",
)
print("resyncs (metric):", resyncs, "gap rows:", sum(1 for r in rows if r["event"] == "gap"))

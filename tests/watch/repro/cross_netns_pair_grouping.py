"""A veth pair whose ends live in two watched namespaces flaps: one notification per edge naming
both ends (README: 'both ends of a veth pair, also across namespaces')?"""

from __future__ import annotations

import time
from pathlib import Path

from tests.watch.repro._harness import config, flap, ip, netns, private_dir, receiver, start_watcher

A, B = "lkwr-16a", "lkwr-16b"
runtime, data = private_dir(), Path(private_dir())
with receiver("ok") as rec, netns(A), netns(B):
    ip("-n", A, "link", "add", "xa1", "type", "veth", "peer", "name", "xb1", "netns", B)
    ip("-n", A, "link", "set", "xa1", "up")
    ip("-n", B, "link", "set", "xb1", "up")
    w = start_watcher([A, B], f"sqlite://{data / 'events.db'}", config(data, rec.url), runtime)
    flap(B, "xb1", 3)
    time.sleep(15)
    w.stop()
for _t, _d, b in rec.posts:
    print(b["edge"], [(a["netns"], a["ifname"]) for a in b.get("alerts", [b])], b.get("cause"))

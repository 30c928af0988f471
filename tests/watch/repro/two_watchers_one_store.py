"""Two watchers on one SQLite store, same namespace (the second one is told "another watcher is
writing as host"): do the history's transitions still equal the kernel's, and is each flap
episode alerted once?"""

from __future__ import annotations

import collections
import json
import time
from pathlib import Path

from tests.watch.repro._harness import (
    carrier_rows,
    config,
    flap,
    history,
    kernel_counts,
    netns,
    private_dir,
    receiver,
    start_watcher,
    veth,
    wait,
)

NS = "lkwr-3"
runtime1, runtime2, data = private_dir(), private_dir(), Path(private_dir())
url = f"sqlite://{data / 'events.db'}"
with receiver("ok") as rec, netns(NS):
    veth(NS, "tw1")
    cfg = config(data, rec.url)
    w1 = start_watcher([NS], url, cfg, runtime1)
    w2 = start_watcher([NS], url, cfg, runtime2)
    try:
        before = kernel_counts(NS)
        flap(NS, "tw1p", 5)
        after = kernel_counts(NS)
        wait(lambda: sum(1 for _ in rec.posts) >= 2, 30)
        time.sleep(10)  # the episode ends (rate window 3 s), end alerts go out
    finally:
        w1.stop()
        w2.stop()
    print("w2 notes:", [line for line in w2.lines if "another watcher" in line])
rows = carrier_rows(url, NS)
expected = sum(after.values()) - sum(before.values())
print(
    f"kernel: {expected} carrier changes on tw1+tw1p; history sum of transitions: {sum(int(r['transitions']) for r in rows)}"
)
readings = collections.Counter((r["ifname"], r["carrier_changes"]) for r in rows)
print("counter readings recorded twice:", {k: v for k, v in readings.items() if v > 1})
keys = collections.Counter(k for _t, d, _b in rec.posts for k in d.split())
print(f"{len(rec.posts)} POSTs;", "alert keys:", dict(keys))
for r in history(url, NS):
    print(json.dumps({k: r.get(k) for k in ("ifname", "event", "transitions", "carrier_changes", "source")}))

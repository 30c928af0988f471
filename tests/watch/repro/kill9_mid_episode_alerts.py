"""kill -9 of the watcher mid flap episode (A: after the start alert went out; B: while the start
alert waits its group_wait), then a restart: is each episode's start and end each sent once?"""

from __future__ import annotations

import collections
import time
from pathlib import Path

from tests.watch.repro._harness import (
    carrier_rows,
    config,
    flap,
    kernel_counts,
    netns,
    private_dir,
    receiver,
    start_watcher,
    veth,
    wait,
)

for variant in ("A", "B"):
    NS = f"lkwr-4{variant.lower()}"
    runtime, data = private_dir(), Path(private_dir())
    url = f"sqlite://{data / 'events.db'}"
    with receiver("ok") as rec, netns(NS):
        veth(NS, "km1")
        cfg = config(data, rec.url)
        w = start_watcher([NS], url, cfg, runtime)
        before = kernel_counts(NS)
        flap(NS, "km1p", 4)
        if variant == "A":
            assert wait(lambda: len(rec.posts) >= 1, 30)
        else:
            time.sleep(0.5)
        w.kill9()
        flap(NS, "km1p", 2)  # unheard
        w = start_watcher([NS], url, cfg, runtime)
        time.sleep(15)
        w.stop()
        after = kernel_counts(NS)
    rows = carrier_rows(url, NS)
    keys = collections.Counter(k for _t, d, _b in rec.posts for k in d.split())
    edges = collections.Counter(
        (b["edge"], tuple(a["ifname"] for a in b.get("alerts", [b]))) for _t, _d, b in rec.posts
    )
    print(
        f"[{variant}] kernel {sum(after.values()) - sum(before.values())} transitions, history {sum(int(r['transitions']) for r in rows)}"
    )
    print(f"[{variant}] notifications by edge and links: {dict(edges)}")
    print(f"[{variant}] alert keys: {dict(keys)}")

"""A webhook receiver that takes each POST and answers after 60 s (timeout 10 s, the default),
beside a healthy one: how often does the slow one get the same notification, is the healthy one
held up, and how long does SIGTERM take?"""

from __future__ import annotations

import collections
import time
from pathlib import Path

from tests.watch.repro._harness import flap, netns, private_dir, receiver, start_watcher, veth

NS = "lkwr-15"
runtime, data = private_dir(), Path(private_dir())
with receiver("slow") as slow, receiver("ok") as ok, netns(NS):
    veth(NS, "sl1")
    cfg = data / "watch.yaml"
    cfg.write_text(
        "flap: {rate_transitions: 3, rate_window: 3s, rate_clear_transitions: 0, nagios: false}\n"
        "alerts:\n  host: review\n  retry: {initial: 1s, max: 2s, give_up_after: 1h}\n  group_wait: 2s\n"
        "  receivers:\n"
        f"  - {{name: slow, type: webhook, url: '{slow.url}', secret_env: LK_REVIEW_SECRET}}\n"
        f"  - {{name: ok, type: webhook, url: '{ok.url}', secret_env: LK_REVIEW_SECRET}}\n"
    )
    w = start_watcher([NS], f"sqlite://{data / 'events.db'}", cfg, runtime)
    t0 = time.monotonic()
    flap(NS, "sl1p", 3)
    time.sleep(45)
    t1 = time.monotonic()
    w.stop()
    print(f"SIGTERM to exit: {time.monotonic() - t1:.1f} s")
    print("slow receiver got:", dict(collections.Counter((b["edge"], d) for _t, d, b in slow.posts)))
    print("healthy receiver got:", [(round(t - t0, 1), b["edge"]) for t, _d, b in ok.posts])

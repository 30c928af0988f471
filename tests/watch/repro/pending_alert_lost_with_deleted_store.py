"""The store file deleted (rotated away) while an alert waits in its queue (receiver down): the
watcher writes a new file at the path, and the pending start alert, and so the episode's end
alert too, are never sent, and nothing says so."""

from __future__ import annotations

import time
from pathlib import Path

from tests.watch.repro._harness import config, flap, netns, private_dir, receiver, start_watcher, veth, wait

NS = "lkwr-11"
runtime, data = private_dir(), Path(private_dir())
db = data / "events.db"
with receiver("fail") as rec, netns(NS):
    veth(NS, "dl1")
    w = start_watcher([NS], f"sqlite://{db}", config(data, rec.url), runtime)
    try:
        flap(NS, "dl1p", 3)  # an episode; its start alert is queued, the receiver answers 500
        assert wait(lambda: len(rec.posts) >= 1, 30)
        db.unlink()
        w.wait_line(lambda line: "deleted or replaced" in line)
        rec.mode = "ok"
        n0 = len(rec.posts)
        time.sleep(20)  # the episode ends (rate window 3 s); retries every 1-2 s
        ok = rec.posts[n0:]
        print(
            f"receiver down (500) for {n0} attempt(s), then up: {len(ok)} notification(s) received:",
            [b["edge"] for _t, _d, b in ok],
        )
        print("watcher said:", [x[32:200] for x in w.lines if "store" in x])
    finally:
        w.stop()
        print("stderr:", w.stderr()[-300:] or "(empty)")

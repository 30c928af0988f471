"""An alert that is delivered while the SQLite store cannot be written (disk full) is sent
again every round of the alert worker for as long as the outage lasts: the send succeeds,
marking it sent fails, so the row stays pending and due."""

from __future__ import annotations

import collections
import subprocess
import threading
import time
from pathlib import Path

from tests.watch.repro._harness import (
    config,
    flap,
    netns,
    private_dir,
    receiver,
    small_tmpfs,
    start_watcher,
    veth,
    wait,
)
from tests.watch.test_daemon import add_pairs, toggle
from tests.watch.test_store_faults import fill

NS = "lkwr-2"
runtime, data = private_dir(), Path(private_dir())
mnt = small_tmpfs(data)
try:
    url = f"sqlite://{mnt / 'events.db'}"
    with receiver("fail") as rec, netns(NS):
        veth(NS, "al1")
        storm_links = [f"st{i}" for i in range(20)]
        add_pairs(NS, storm_links)
        w = start_watcher([NS], url, config(data, rec.url), runtime)
        try:
            flap(NS, "al1p", 3)  # an episode starts: its start alert is queued in the store
            assert wait(lambda: len(rec.posts) >= 1, 30), "no alert attempted"
            print(f"receiver failing (500): {len(rec.posts)} attempt(s) so far")
            fill(mnt / "fill")
            stop = threading.Event()

            def storm() -> None:
                while not stop.is_set():
                    toggle(NS, storm_links, 1)

            t = threading.Thread(target=storm)
            t.start()
            try:
                w.wait_line(lambda line: "not writable" in line)
            finally:
                stop.set()
                t.join()
            print("store full:", next(x for x in w.lines if "not writable" in x)[:120])
            rec.mode = "ok"
            n0 = len(rec.posts)
            time.sleep(20)
            during = rec.posts[n0:]
            print(f"receiver answering 204 for 20 s while the store is full: {len(during)} POST(s)")
            print("  by X-Linkctl-Delivery:", dict(collections.Counter(d for _t, d, _b in during)))
            (mnt / "fill").unlink()
            w.wait_line(lambda line: "writable again" in line)
            n1 = len(rec.posts)
            time.sleep(8)
            print(f"after the store is back: {len(rec.posts) - n1} more POST(s)")
            keys = collections.Counter(k for _t, d, _b in rec.posts for k in d.split())
            print("alert keys delivered (in any notification) more than once, status 204 or not:")
            for k, c in keys.items():
                if c > 1:
                    print("  ", c, k)
            print(
                "per POST:", [(round(t - rec.posts[0][0], 1), b.get("edge"), len(d.split())) for t, d, b in rec.posts]
            )
        finally:
            w.stop()
            print("watcher stderr tail:", w.stderr()[-600:])
finally:
    subprocess.run(["umount", str(mnt)], check=False)

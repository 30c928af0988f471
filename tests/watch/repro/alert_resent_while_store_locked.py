"""The deterministic form of alert_resent_while_store_full.py: another process holds the SQLite
store's write lock (a backup, `sqlite3 events.db` with BEGIN IMMEDIATE). The alert worker sends
a due alert, cannot mark it sent (database is locked after busy_timeout), and sends it again
every round: the receiver gets the same notification every ~11 s for as long as the lock is held."""

from __future__ import annotations

import collections
import sqlite3
import time
from pathlib import Path

from tests.watch.repro._harness import config, flap, netns, private_dir, receiver, start_watcher, veth, wait

NS = "lkwr-9"
runtime, data = private_dir(), Path(private_dir())
db = data / "events.db"
with receiver("fail") as rec, netns(NS):
    veth(NS, "lk1")
    w = start_watcher([NS], f"sqlite://{db}", config(data, rec.url), runtime)
    try:
        flap(NS, "lk1p", 3)  # an episode: its start alert is queued (pending) in the store
        assert wait(lambda: len(rec.posts) >= 1, 30), "no alert attempted"
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        rec.mode = "ok"
        n0 = len(rec.posts)
        time.sleep(40)
        during = rec.posts[n0:]
        holder.execute("ROLLBACK")
        holder.close()
        print(
            f"lock held 40 s, receiver answering 204: {len(during)} POST(s) at",
            [round(t - during[0][0], 1) for t, _d, _b in during] if during else [],
        )
        print("  by X-Linkctl-Delivery:", dict(collections.Counter(d for _t, d, _b in during)))
        n1 = len(rec.posts)
        time.sleep(8)
        print(f"after the lock is released: {len(rec.posts) - n1} more POST(s)")
        print("watcher said:", [x[:140] for x in w.lines if "store" in x][:3])
    finally:
        w.stop()

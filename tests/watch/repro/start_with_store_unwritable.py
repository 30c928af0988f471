"""The watcher (re)started while its store cannot be written: (A) the disk holding an existing
store is full; (B) another process holds the store's write lock. The README says watch does not
stop when its store cannot be written; does it start?"""

from __future__ import annotations

import sqlite3
import subprocess
import time
from pathlib import Path

from tests.watch.repro._harness import config, netns, private_dir, small_tmpfs, start_watcher, veth
from tests.watch.test_daemon import Watcher
from tests.watch.test_store_faults import fill

NS = "lkwr-13"
runtime, data = private_dir(), Path(private_dir())
mnt = small_tmpfs(data)
try:
    db = mnt / "events.db"
    cfg = config(data, None)
    with netns(NS):
        veth(NS, "su1")
        start_watcher([NS], f"sqlite://{db}", cfg, runtime).stop()  # the store exists
        args = ["--store", f"sqlite://{db}", "--listen", "", "--config", str(cfg), "--host", "review", "--netns", NS]
        fill(mnt / "fill")
        w = Watcher(args, env={"LINKCTL_RUNTIME_DIR": runtime})
        rc = w.proc.wait(timeout=60)
        print("[A disk full] exit", rc, "stderr:", w.stderr().strip()[-300:])
        w.stop()
        (mnt / "fill").unlink()
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        t0 = time.monotonic()
        w = Watcher(args, env={"LINKCTL_RUNTIME_DIR": runtime})
        rc = w.proc.wait(timeout=60)
        print(f"[B locked] exit {rc} after {time.monotonic() - t0:.1f} s; stderr:", w.stderr().strip()[-300:])
        w.stop()
        holder.close()
finally:
    subprocess.run(["umount", str(mnt)], check=False)

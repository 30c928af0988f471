"""SIGHUP to a running watcher (a lost terminal, or `kill -HUP` expecting a reload)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from tests.watch.repro._harness import config, flap, netns, private_dir, start_watcher, veth

NS = "lkwr-5"
runtime, data = private_dir(), Path(private_dir())
url = f"sqlite://{data / 'events.db'}"
with netns(NS):
    veth(NS, "hu1")
    w = start_watcher([NS], url, config(data, None), runtime)
    flap(NS, "hu1p", 2)
    time.sleep(1)
    w.proc.send_signal(signal.SIGHUP)
    time.sleep(3)
    rc = w.proc.poll()
    print("after SIGHUP: returncode", rc, "(None = still running)")
    print("stdout tail:", w.lines[-3:])
    w.stop()
    print("stderr:", w.stderr()[-400:])
    print("-wal/-shm left:", sorted(p.name for p in data.iterdir()))

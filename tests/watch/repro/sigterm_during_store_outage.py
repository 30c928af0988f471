"""SIGTERM while the store is unwritable (disk full): the in-memory outage queue holds a flap
episode and its start alert. Is anything said, and after space is back and the watcher
restarts, is the episode recorded and alerted?"""

from __future__ import annotations

import subprocess
import threading
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
    small_tmpfs,
    start_watcher,
    veth,
)
from tests.watch.test_daemon import add_pairs, toggle
from tests.watch.test_store_faults import fill

NS = "lkwr-8"
runtime, data = private_dir(), Path(private_dir())
mnt = small_tmpfs(data)
try:
    url = f"sqlite://{mnt / 'events.db'}"
    with receiver("ok") as rec, netns(NS):
        veth(NS, "so1")
        storm_links = [f"sq{i}" for i in range(20)]
        add_pairs(NS, storm_links)
        cfg = config(data, rec.url)
        w = start_watcher([NS], url, cfg, runtime)
        before = kernel_counts(NS)
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
        n_storm_posts = len(rec.posts)
        flap(NS, "so1p", 4)  # an episode opens during the outage
        w.wait_line(lambda line: " so1p flap_start " in line)
        rc = w.stop()
        print("SIGTERM during the outage: exit", rc)
        print("  stdout tail:", w.lines[-2:])
        print("  stderr:", w.stderr()[-300:] or "(empty)")
        (mnt / "fill").unlink()
        w = start_watcher([NS], url, cfg, runtime)
        time.sleep(15)
        w.stop()
        after = kernel_counts(NS)
    so1 = [r for r in history(url, NS) if r["ifname"] in ("so1", "so1p")]
    print("so1/so1p history after restart:", [(r["ifname"], r["event"], r["transitions"]) for r in so1])
    so1_alerts = [b for _t, _d, b in rec.posts if any(a["ifname"].startswith("so1") for a in b.get("alerts", [b]))]
    print(
        "alerts naming so1/so1p received:",
        [(b["edge"], [a["ifname"] for a in b.get("alerts", [b])]) for b in so1_alerts],
    )
    rows = carrier_rows(url, NS)
    print(
        f"transitions: kernel {sum(after.values()) - sum(before.values())}, history {sum(int(r['transitions']) for r in rows)}"
    )
    print(
        "storm links' alerts received at all:",
        len(rec.posts) - len(so1_alerts),
        "(storm alerts before SIGTERM:",
        n_storm_posts,
        ")",
    )
finally:
    subprocess.run(["cp", str(mnt / "events.db"), str(data / "copy.db")], check=False)
    print("store copied to", data / "copy.db")
    subprocess.run(["umount", str(mnt)], check=False)

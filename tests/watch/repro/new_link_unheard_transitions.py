"""A link created while nobody listened (watcher stopped; or its messages lost to ENOBUFS) that
flapped before the watcher's dump saw it: recorded as link_added with 0 transitions, the
carrier changes the kernel counted for it are in no event."""

from __future__ import annotations

import subprocess
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
    start_watcher,
    veth,
    wait,
)
from tests.watch.test_daemon import Watcher

# 1: created and flapped while the watcher is stopped (SIGTERM), then the watcher starts again.
NS = "lkwr-6"
runtime, data = private_dir(), Path(private_dir())
url = f"sqlite://{data / 'events.db'}"
cfg = config(data, None)
with netns(NS):
    veth(NS, "nl0")
    w = start_watcher([NS], url, cfg, runtime)
    w.stop()
    veth(NS, "nl1")
    flap(NS, "nl1p", 10)
    w = start_watcher([NS], url, cfg, runtime)
    k = kernel_counts(NS)
    wait(lambda: any(r["ifname"] == "nl1" for r in history(url, NS)), 20)
    w.stop()
rows = [r for r in history(url, NS) if r["ifname"] == "nl1"]
print(
    "[stopped] nl1 kernel carrier_changes:",
    k["nl1"],
    "; history:",
    [(r["event"], r["transitions"], r["carrier_changes"]) for r in rows],
)

# 2: created and flapped while the event socket overflows (tiny SO_RCVBUF), watcher running.
NS = "lkwr-7"
runtime, data = private_dir(), Path(private_dir())
url = f"sqlite://{data / 'events.db'}"
with netns(NS):
    veth(NS, "ov0")
    args = ["--store", url, "--listen", "", "--config", str(config(data, None)), "--host", "review", "--netns", NS]
    w = Watcher(args, env={"LINKCTL_RUNTIME_DIR": runtime, "LINKCTL_WATCH_RCVBUF": "4096"})
    w.wait_ready()
    lines = "link add ov1 type veth peer name ov1p\nlink set ov1 up\nlink set ov1p up\n"
    lines += "".join("link set ov1p down\nlink set ov1p up\n" for _ in range(200))
    subprocess.run(["ip", "-n", NS, "-batch", "-"], input=lines, text=True, check=True)
    k = kernel_counts(NS)
    wait(
        lambda: (
            {s: v for s, v in k.items() if s.startswith("ov1")}
            == {r["ifname"]: r["carrier_changes"] for r in history(url, NS) if r["ifname"].startswith("ov1")}
        ),
        20,
    )
    time.sleep(2)
    w.stop()
rows = carrier_rows(url, NS)
got = {n: sum(int(r["transitions"]) for r in rows if r["ifname"] == n) for n in ("ov1", "ov1p")}
added = [(r["ifname"], r["source"], r["carrier_changes"]) for r in history(url, NS) if r["event"] == "link_added"]
print("[overflow] kernel carrier_changes:", {n: k[n] for n in ("ov1", "ov1p")}, "; history transitions:", got)
print("[overflow] link_added rows (ifname, source, carrier_changes at that reading):", added)
print("[overflow] resyncs noted:", sum(1 for x in w.lines if "resync" in x))

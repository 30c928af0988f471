"""The watcher restarted with a narrower --iface glob (then the wider one again): links that still
exist are recorded as removed, and the transitions they had meanwhile are in no event."""

from __future__ import annotations

from pathlib import Path

from tests.watch.repro._harness import carrier_rows, config, flap, history, kernel_counts, netns, private_dir, veth
from tests.watch.test_daemon import Watcher

NS = "lkwr-12"
runtime, data = private_dir(), Path(private_dir())
url = f"sqlite://{data / 'events.db'}"
cfg = config(data, None)


def run(glob: str) -> None:
    args = ["--store", url, "--listen", "", "--config", str(cfg), "--host", "review", "--netns", NS, "--iface", glob]
    w = Watcher(args, env={"LINKCTL_RUNTIME_DIR": runtime})
    w.wait_ready()
    if glob == "gx*":
        flap(NS, "gy1p", 5)  # 10 carrier changes on gy1 and gy1p while only gx* is followed
    w.stop()


with netns(NS):
    veth(NS, "gx1")
    veth(NS, "gy1")
    run("*")
    before = kernel_counts(NS)
    run("gx*")
    run("*")
    after = kernel_counts(NS)
print("gy1 history:", [(r["event"], r["transitions"], r["source"]) for r in history(url, NS) if r["ifname"] == "gy1"])
got = sum(int(r["transitions"]) for r in carrier_rows(url, NS) if r["ifname"] == "gy1")
print(f"gy1: kernel {after['gy1'] - before['gy1']} transitions after the first run, history {got}")

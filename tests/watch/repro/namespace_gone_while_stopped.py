"""A watched namespace deleted while the watcher is stopped: the restarted watcher waits for it
to come back, and meanwhile its metrics and `status` show the gone links as they were (up)."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.watch.repro._harness import config, ip, netns, private_dir, start_watcher, veth
from tests.watch.test_daemon import Watcher, free_port

NS = "lkwr-17"
runtime, data = private_dir(), Path(private_dir())
url = f"sqlite://{data / 'events.db'}"
cfg = config(data, None)
port = free_port()
with netns(NS):
    veth(NS, "ng1")
    start_watcher([NS], url, cfg, runtime).stop()
    ip("netns", "del", NS)
    args = ["--store", url, "--listen", f"127.0.0.1:{port}", "--config", str(cfg), "--host", "review", "--netns", NS]
    w = Watcher(args, env={"LINKCTL_RUNTIME_DIR": runtime})
    w.wait_ready()
    time.sleep(3)
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30).read().decode()
    status = subprocess.run(
        [".venv/bin/linkctl", "status", "--store", url, "-f", "json"], capture_output=True, text=True
    )
    print("watcher said:", [x[33:] for x in w.lines])
    w.stop()
print("namespace exists:", NS in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout)
print("metrics:", [x for x in body.splitlines() if "linkctl_network_up{" in x and NS in x])
print("status:", [(s["netns"], s["ifname"], s["state"]) for s in json.loads(status.stdout)])

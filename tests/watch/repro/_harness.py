"""Shared bits of the watch review's repro scripts: a controllable webhook receiver,
a watcher process with private runtime/store dirs, throwaway namespaces named lkwr-*.

Run a repro as root from the worktree:  .venv/bin/python -m tests.watch.repro.NAME
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from linkctl.domain.events import EventKind
from tests.watch.test_daemon import Watcher as Watcher
from tests.watch.test_daemon import history as history
from tests.watch.test_daemon import ip as ip
from tests.watch.test_daemon import kernel_counts as kernel_counts

SECRET = "review-secret"


@dataclass
class Receiver:
    """A webhook receiver whose behaviour the script changes: 'ok', 'fail' (500) or 'slow'."""

    mode: str = "ok"
    sleep: float = 60.0
    posts: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)
    url: str = ""

    def deliveries(self) -> list[str]:
        return [d for _t, d, _b in self.posts]


@contextlib.contextmanager
def receiver(mode: str = "ok") -> Iterator[Receiver]:
    rec = Receiver(mode)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            rec.posts.append((time.monotonic(), self.headers.get("X-Linkctl-Delivery", ""), json.loads(body)))
            if rec.mode == "slow":
                time.sleep(rec.sleep)
            self.send_response(500 if rec.mode == "fail" else 204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()


def config(directory: Path, hook_url: str | None, extra: str = "") -> Path:
    path = directory / "watch.yaml"
    text = "flap: {rate_transitions: 3, rate_window: 3s, rate_clear_transitions: 0, nagios: false}\n"
    if hook_url:
        text += (
            "alerts:\n  host: review\n  retry: {initial: 1s, max: 2s, give_up_after: 1h}\n  group_wait: 2s\n"
            f"  receivers:\n  - {{name: hook, type: webhook, url: '{hook_url}', secret_env: LK_REVIEW_SECRET, timeout: 3}}\n"
        )
    path.write_text(text + extra)
    return path


@contextlib.contextmanager
def netns(name: str) -> Iterator[str]:
    subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)
    ip("netns", "add", name)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)


def veth(ns: str, name: str) -> None:
    subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"], check=True)
    subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"], check=True)
    ip("-n", ns, "link", "add", name, "type", "veth", "peer", "name", f"{name}p")
    ip("-n", ns, "link", "set", name, "up")
    ip("-n", ns, "link", "set", f"{name}p", "up")


def flap(ns: str, dev: str, times: int) -> None:
    lines = "".join(f"link set {dev} down\nlink set {dev} up\n" for _ in range(times))
    ip("-n", ns, "-batch", "-", stdin=lines)


def start_watcher(ns: list[str], store: str, cfg: Path, runtime: str) -> Watcher:
    args = ["--store", store, "--listen", "", "--config", str(cfg), "--host", "review"]
    for n in ns:
        args += ["--netns", n]
    w = Watcher(args, env={"LINKCTL_RUNTIME_DIR": runtime, "LK_REVIEW_SECRET": SECRET})
    w.wait_ready()
    return w


def private_dir() -> str:
    d = tempfile.mkdtemp(prefix="lkwr-")
    os.chmod(d, 0o700)
    return d


def small_tmpfs(directory: Path) -> Path:
    """A 4 MiB file system at DIRECTORY/small for a store to fill (the caller unmounts it)."""
    mnt = directory / "small"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", f"lkwr-{uuid.uuid4().hex[:6]}", str(mnt)], check=True)
    return mnt


def carrier_rows(url: str, ns: str) -> list[dict[str, Any]]:
    return [r for r in history(url, ns) if EventKind(r["event"]).is_carrier]


def wait(pred: Any, seconds: float = 60.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.2)
    return False

"""The metrics endpoint under faults: its port held by another socket, idle connections."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from linkctl.watch.endpoint import WORKERS
from tests.watch.test_daemon import DEADLINE, LINKCTL, base_args, free_port, namespace, watching

pytestmark = pytest.mark.kernel


def test_a_port_in_use_is_refused_with_its_number_and_the_option(tmp_path: Path) -> None:
    with socket.socket() as holder, namespace() as ns:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        args = base_args([ns], f"sqlite://{tmp_path / 'events.db'}", f"127.0.0.1:{port}")
        res = subprocess.run([*LINKCTL, "watch", *args], capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode != 0
    assert "internal error" not in res.stderr
    assert f"port {port} is already in use" in res.stderr and "--listen" in res.stderr, res.stderr


def _threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def _closed_by_peer(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except ConnectionError:
        return True


def test_idle_connections_are_timed_out_on_a_bounded_pool(tmp_path: Path) -> None:
    port = free_port()
    with namespace() as ns, watching(base_args([ns], f"sqlite://{tmp_path / 'events.db'}", f"127.0.0.1:{port}")) as w:
        before = _threads(w.proc.pid)
        idle = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(200)]
        try:
            for sock in idle:
                sock.setblocking(False)
            peak = before
            open_ = list(idle)
            end = time.monotonic() + DEADLINE
            while open_:
                peak = max(peak, _threads(w.proc.pid))
                open_ = [sock for sock in open_ if not _closed_by_peer(sock)]
                assert time.monotonic() < end, f"{len(open_)} idle connection(s) still open; threads {peak}"
                time.sleep(0.05)
        finally:
            for sock in idle:
                sock.close()
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30).read().decode()
    assert peak - before <= WORKERS  # the pool's threads at most, not one per connection
    assert "linkctl_store_writable 1.0" in body

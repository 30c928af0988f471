"""A throwaway PostgreSQL cluster for tests: initdb in a temp dir, unix socket only."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def pg_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Cluster:
    socket_dir: Path
    port: int
    data: Path | None = None
    bindir: Path | None = None

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@/{dbname}?host={self.socket_dir}&port={self.port}"


def _as_postgres(argv: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


@contextmanager
def throwaway_cluster(bindir: Path) -> Iterator[Cluster]:
    base = Path(tempfile.mkdtemp(prefix="linkctl-pg-"))
    data = base / "data"
    port = free_port()
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(base, entry.pw_uid, entry.pw_gid)
    started = False
    try:
        subprocess.run(
            _as_postgres(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                ]
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )
        cluster = Cluster(socket_dir=base, port=port, data=data, bindir=bindir)
        _pg_ctl_start(cluster).check_returncode()
        started = True
        yield cluster
    finally:
        if started:
            subprocess.run(
                _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(base, ignore_errors=True)


def _pg_ctl_start(cluster: Cluster) -> subprocess.CompletedProcess[bytes]:
    assert cluster.bindir is not None and cluster.data is not None
    base = cluster.socket_dir
    options = f"-c listen_addresses='' -c unix_socket_directories={base} -p {cluster.port} -c fsync=off"
    argv = [str(cluster.bindir / "pg_ctl"), "-D", str(cluster.data), "-o", options, "-l", str(base / "log")]
    return subprocess.run(
        _as_postgres([*argv, "-w", "-t", "60", "start"]), capture_output=True, timeout=90, check=False
    )


def kill9_postmaster(cluster: Cluster, deadline: float = 60.0) -> None:
    """SIGKILL to the postmaster, as a crash would: no shutdown, no checkpoint. Returns once
    it is gone and its backends with it (they leave when they see their postmaster die)."""
    assert cluster.data is not None
    pid = int((cluster.data / "postmaster.pid").read_text().split()[0])
    os.kill(pid, signal.SIGKILL)
    end = time.monotonic() + deadline
    while _alive(pid) or _backends(cluster):
        if time.monotonic() > end:
            raise AssertionError("PostgreSQL did not go away after SIGKILL")
        time.sleep(0.1)


def start_again(cluster: Cluster, deadline: float = 90.0) -> None:
    """Start the cluster after a crash (crash recovery included), retrying while the dead
    one's shared memory is still being released."""
    end = time.monotonic() + deadline
    while True:
        res = _pg_ctl_start(cluster)
        if res.returncode == 0:
            return
        if time.monotonic() > end:
            raise AssertionError(f"PostgreSQL did not start again: {res.stderr.decode()}")
        time.sleep(0.5)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie is dead: only its parent has not read its status yet


def _backends(cluster: Cluster) -> bool:
    """Any process still running in the cluster's data directory."""
    assert cluster.data is not None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if (proc / "cwd").resolve() == cluster.data.resolve() and _alive(int(proc.name)):
                return True
        except OSError:
            continue
    return False

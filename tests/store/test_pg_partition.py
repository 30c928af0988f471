"""A watcher's host that dies cut off from its PostgreSQL server (no FIN, no reset reaches the
server) and comes back: its new watcher writes as the host again once the server has let the
dead session go, which it does on its own (keepalive probes, a user timeout), not after TCP's
defaults (15 minutes retransmitting, 2 hours before a probe), all the while refusing it as
"another watcher is writing as host NAME". Three namespaces: the server's, the watcher's host,
and the links it watches."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from tests.helpers.processes import stop
from tests.watch.test_daemon import LINKCTL, Watcher, add_pairs, namespace, unique

from .pg import _as_postgres, free_port, pg_bindir

pytestmark = pytest.mark.kernel

SERVER, CLIENT = "10.77.0.1", "10.77.0.2"


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=60)


def cable(server_ns: str, host_ns: str, address: str) -> None:
    """A veth between the two namespaces, the server's end holding SERVER."""
    ip("-n", server_ns, "link", "add", "d0", "type", "veth", "peer", "name", "w0", "netns", host_ns)
    ip("-n", server_ns, "addr", "add", f"{SERVER}/24", "dev", "d0")
    ip("-n", host_ns, "addr", "add", f"{address}/24", "dev", "w0")
    for ns, dev in ((server_ns, "d0"), (server_ns, "lo"), (host_ns, "w0"), (host_ns, "lo")):
        ip("-n", ns, "link", "set", dev, "up")


@contextmanager
def server_in(ns: str) -> Iterator[tuple[str, str]]:
    """PostgreSQL listening on SERVER in `ns`: (the TCP URL, a local socket URL to look in)."""
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (apt-get install postgresql)")
    base = Path(tempfile.mkdtemp(prefix="linkctl-pgnet-"))
    entry = pwd.getpwnam("postgres")
    os.chown(base, entry.pw_uid, entry.pw_gid)
    data, port = base / "data", free_port()
    initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
    subprocess.run(_as_postgres(initdb), check=True, capture_output=True, timeout=120)
    with (data / "pg_hba.conf").open("a") as hba:
        hba.write("host all all 10.77.0.0/24 trust\n")
    options = ["-c", f"listen_addresses={SERVER}", "-p", str(port), "-c", f"unix_socket_directories={base}"]
    argv = ["ip", "netns", "exec", ns, *_as_postgres([str(bindir / "postgres"), "-D", str(data), *options])]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    local = f"postgresql://postgres@/postgres?host={base}&port={port}"
    try:
        end = time.monotonic() + 60
        while subprocess.run(["pg_isready", "-d", local], capture_output=True, check=False).returncode != 0:
            assert time.monotonic() < end, "PostgreSQL never started"
            time.sleep(0.2)
        yield f"postgresql://postgres@{SERVER}:{port}/postgres", local
    finally:
        stop(proc, timeout=30)
        shutil.rmtree(base, ignore_errors=True)


def holds(local: str) -> list[str]:
    """The addresses of the sessions holding an advisory lock (the hosts' holds)."""
    with psycopg.connect(local, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT a.client_addr FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory'"
        ).fetchall()
    return [str(row[0]) for row in rows]


def test_a_host_that_died_cut_off_from_the_server_writes_again_when_back(tmp_path: Path) -> None:
    with namespace() as db_ns, namespace() as host_ns, namespace() as links_ns, server_in(db_ns) as (url, local):
        cable(db_ns, host_ns, CLIENT)
        add_pairs(links_ns, [unique("c")])
        log = tmp_path / "kern.log"
        log.write_text("")
        argv = ["ip", "netns", "exec", host_ns, *LINKCTL, "watch", "--netns", links_ns, "--store", url]
        argv += ["--host", "web-1", "--listen", "", "--kernel-log", str(log)]
        first = Watcher.command(argv)
        try:
            first.wait_ready()
            assert holds(local) == [CLIENT]
            ip("-n", host_ns, "link", "set", "w0", "down")  # cut off: nothing leaves the host
            first.kill9()
        finally:
            first.stop()
        # The host dies (its sockets with it, no word sent) and comes back with another address.
        ip("netns", "del", host_ns)
        ip("netns", "add", host_ns)
        subprocess.run(["ip", "-n", db_ns, "link", "del", "d0"], capture_output=True, check=False)
        cable(db_ns, host_ns, "10.77.0.3")
        end = time.monotonic() + 120  # far above the ~25 s asked for, far below TCP's 15 minutes
        while holds(local):
            assert time.monotonic() < end, "the dead host's session still holds its name"
            time.sleep(1)
        second = Watcher.command(argv)
        try:
            second.wait_ready()
            assert holds(local) == ["10.77.0.3"]
        finally:
            second.stop()

"""The store failing under a running `linkctl watch`: a full disk, a deleted file.

Real faults: a small tmpfs mounted by the test and filled to the last byte, a
store file unlinked by the test. The watcher must keep running and keep
counting, and once the store takes writes again the history must hold every
transition the kernel counted, each event as it happened (queued meanwhile, in order).
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from linkctl.store import StoreError, open_store
from tests.watch.test_daemon import (
    CARRIER,
    DEADLINE,
    add_pairs,
    base_args,
    free_port,
    history,
    kernel_counts,
    namespace,
    toggle,
    wait_caught_up,
    watching,
)

pytestmark = pytest.mark.kernel


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs, unmounted after the test."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a filesystem")
    mnt = tmp_path / "small"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", f"lkt-{uuid.uuid4().hex[:8]}", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def fill(path: Path) -> None:
    """Write until the filesystem says ENOSPC."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)


def metric(body: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", body, re.M)
    assert found, f"no {name} in the metrics"
    return float(found.group(1))


def test_a_full_disk_is_outlived_and_its_events_written_when_space_is_back(small_fs: Path) -> None:
    url = f"sqlite://{small_fs / 'events.db'}"
    port = free_port()
    with namespace() as ns:
        names = [f"f{i}{uuid.uuid4().hex[:6]}" for i in range(20)]
        add_pairs(ns, names)
        stop = threading.Event()

        def storm() -> None:
            while not stop.is_set():
                toggle(ns, names, 1)

        with watching(base_args([ns], url, f"127.0.0.1:{port}")) as w:
            before = kernel_counts(ns)  # the watcher's start-up dump: its baseline
            fill(small_fs / "fill")
            flapper = threading.Thread(target=storm)
            flapper.start()
            try:
                # The WAL grows with the storm until the full disk refuses it.
                w.wait_line(lambda line: "not writable: database or disk is full" in line)
            finally:
                stop.set()
                flapper.join(timeout=DEADLINE)
            toggle(ns, names, 2)  # while the disk is full: only the kernel counts these
            assert w.proc.poll() is None, w.stderr()
            (small_fs / "fill").unlink()
            back = w.wait_line(lambda line: "writable again" in line and "written in order" in line)
            after = wait_caught_up(url, ns)
            body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30).read().decode()
            assert w.proc.poll() is None, w.stderr()
    rows = [r for r in history(url, ns) if r["event"] in CARRIER]
    assert sum(int(str(r["transitions"])) for r in rows) == sum(after.values()) - sum(before.values())
    assert [r for r in rows if r["event"] == "gap"] == []  # every one queued and written as it happened
    assert "dropped" not in back
    readings = [(r["ifname"], r["carrier_changes"]) for r in rows]
    assert len(readings) == len(set(readings))  # no counter reading recorded twice
    for name in {r["ifname"] for r in rows}:  # in order: each link's counter only grows
        counters = [r["carrier_changes"] for r in rows if r["ifname"] == name]
        assert counters == sorted(counters), name
    assert metric(body, "linkctl_store_writable") == 1.0
    assert metric(body, 'linkctl_store_outages_total{cause="disk_full"}') >= 1
    assert metric(body, "linkctl_store_unrecorded_events_total") == 0
    assert metric(body, "linkctl_store_gap_transitions_total") == 0


def stored_counts(url: str, ns: str) -> dict[str, int | None] | None:
    try:
        with open_store(url, readonly=True) as store:
            return {s.ifname: s.carrier_changes for s in store.status() if s.netns == ns}
    except StoreError:
        return None  # no file (yet), or not migrated yet


def test_a_deleted_store_file_is_noticed_and_written_anew(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    url = f"sqlite://{path}"
    with namespace() as ns:
        names = [f"d{i}{uuid.uuid4().hex[:6]}" for i in range(5)]
        add_pairs(ns, names)
        with watching(base_args([ns], url)) as w:
            toggle(ns, names, 2)
            at_delete = wait_caught_up(url, ns)
            path.unlink()
            toggle(ns, names, 3)
            w.wait_line(lambda line: "deleted or replaced" in line)
            after = kernel_counts(ns)
            end = time.monotonic() + DEADLINE
            # Read-only: a poll must not create the file the watcher has to create.
            while stored_counts(url, ns) != after:
                assert time.monotonic() < end, f"the new store never caught up: {stored_counts(url, ns)} {after}"
                time.sleep(0.2)
    rows = [r for r in history(url, ns) if r["event"] in CARRIER]
    assert sum(int(str(r["transitions"])) for r in rows) == sum(after.values()) - sum(at_delete.values())
    # The events since the deletion, as they happened: the one that went to the deleted file too.
    assert [r for r in rows if r["event"] == "gap"] == []


def test_a_store_on_a_full_disk_at_start_is_named_with_the_fix(small_fs: Path) -> None:
    db = small_fs / "events.db"
    open_store(f"sqlite://{db}").close()  # the store exists, its -wal and -shm gone with the close
    fill(small_fs / "fill")
    with pytest.raises(StoreError) as caught:
        open_store(f"sqlite://{db}").close()
    said = str(caught.value)
    assert str(db) in said and f"file system holding {small_fs} is full" in said, said

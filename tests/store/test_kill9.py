"""kill -9 in the middle of a storm, then restart: nothing duplicated, nothing lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from linkctl.domain.events import EventKind
from linkctl.store import open_store
from linkctl.watch.core import DumpReason, WatchCore

from .writer_proc import T0, kernel_at

WRITER = Path(__file__).with_name("writer_proc.py")


def _wait_for_events(url: str, wanted: int, proc: subprocess.Popen[bytes]) -> None:
    reader = open_store(url)
    try:
        for _ in range(600):  # bounded: at most about a minute
            if proc.poll() is not None:
                raise AssertionError(f"writer exited early: {proc.stderr.read() if proc.stderr else ''!r}")
            if reader.count_events() >= wanted:
                return
            time.sleep(0.1)
        raise AssertionError("writer recorded too little in time")
    finally:
        reader.close()


def test_kill_minus_9_then_restart_records_every_transition_once(store_url: str) -> None:
    open_store(store_url).close()  # migrate before the race
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), store_url, "100000"],
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        _wait_for_events(store_url, 300, proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    # The kernel went on counting while nobody listened.
    final_step = 150_000
    store = open_store(store_url)
    try:
        core = WatchCore(known=store.last_known(), open_episodes=store.open_episodes())
        store.record(core.on_dump(None, [kernel_at(final_step)], T0, DumpReason.STARTUP))
        rows = store.history()
    finally:
        store.close()
    live = [r for r in rows if r.event is not EventKind.GAP]
    gaps = [r for r in rows if r.event is EventKind.GAP]
    assert len(gaps) == 1
    # The live events are consecutive counter readings: none missing, none twice.
    changes = [r.carrier.changes for r in live if r.carrier]
    assert changes == list(range(2, 2 + len(live)))
    assert sum(r.transitions for r in rows) == final_step
    assert gaps[0].transitions == final_step - len(live)

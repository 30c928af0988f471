"""The driver's statistics of a physical NIC at the moment it went down, off the event path.

`ethtool -S` is a subprocess (1-3 ms); running it inside the event loop would delay
every other event behind it. A worker thread takes the snapshot and hands it back
through a queue; the loop is woken by a socket it already selects on. The snapshot
keeps the evidence (CRC, alignment, missed-packet counters) that a driver reset at
link-up would otherwise wipe.
"""

from __future__ import annotations

import queue
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from linkctl.domain.events import STATS_FIELDS, CounterSnapshot, NetnsName, SnapshotReason
from linkctl.model.state import Link

StatsReader = Callable[[Link, NetnsName], dict[str, int] | None]


def ethtool_stats(link: Link, netns: NetnsName) -> dict[str, int] | None:
    """`ethtool -S` of a physical NIC, if the driver has statistics."""
    try:
        from linkctl.kernel.ethtool import Ethtool, EthtoolError
    except ImportError:
        return None
    try:
        return Ethtool(link.name, netns).statistics()
    except (EthtoolError, OSError):
        return None


@dataclass
class DownEvidence:
    """Queue `request(netns, link)` on a down event; `drain()` when `fileno()` is readable."""

    read_stats: StatsReader
    _jobs: queue.SimpleQueue[tuple[NetnsName, Link] | None] = field(default_factory=queue.SimpleQueue)
    _done: queue.SimpleQueue[CounterSnapshot] = field(default_factory=queue.SimpleQueue)

    def __post_init__(self) -> None:
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._thread = threading.Thread(target=self._run, name="linkctl-down-evidence", daemon=True)
        self._thread.start()

    def fileno(self) -> int:
        return self._wake_r.fileno()

    def request(self, netns: NetnsName, link: Link) -> None:
        self._jobs.put((netns, link))

    def drain(self) -> list[CounterSnapshot]:
        try:
            while self._wake_r.recv(4096):
                pass
        except OSError:  # nothing more to read, or closed already
            pass
        out = []
        while not self._done.empty():
            out.append(self._done.get())
        return out

    def close(self) -> None:
        """Finish the snapshots asked for, then stop; drain() still returns them."""
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join(timeout=10)
        self._wake_r.close()
        self._wake_w.close()

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            netns, link = job
            snapshot = self._snapshot(netns, link)
            if snapshot is not None:
                self._done.put(snapshot)
                try:
                    self._wake_w.send(b"!")
                except OSError:
                    return

    def _snapshot(self, netns: NetnsName, link: Link) -> CounterSnapshot | None:
        ethtool = self.read_stats(link, netns)
        if ethtool is None or link.stats is None:
            return None
        stats = {f: int(getattr(link.stats, f)) for f in STATS_FIELDS}
        return CounterSnapshot(
            time=datetime.now(UTC),
            netns=netns,
            ifname=link.name,
            ifindex=link.ifindex,
            reason=SnapshotReason.LINK_DOWN,
            ethtool=ethtool,
            **stats,
        )

"""The watcher's commits, to a store that can fail under it.

The store keeps the history; the kernel's carrier counters are the truth. When
a commit fails for a reason outside linkctl (the disk is full, the file was
deleted or replaced, the database went away), the watcher keeps running and
keeps counting: the WatchCore moves on, and its outputs wait in a bounded queue,
in order. As soon as the store takes writes again the queue is written as it
happened (in batches, oldest first), then one transaction reconciles the rest
from the counters: per link a `gap` event holding the carrier transitions the
kernel counted since the last event the store holds (links added, removed or
renamed meanwhile as such), the flap episodes touched and the alerts that could
not be queued.

The queue keeps the oldest outputs: once one does not fit, it and every later one
are dropped (counted; their alerts and episodes kept apart), so that what the store
receives is the history up to a moment, then the gap from there to now, whose
detail says how many events were dropped. Nothing is written before the queue and
that catch-up: an event written first would move the store's counters past the gap
and hide its transitions.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from linkctl.domain.down import DownNotice
from linkctl.domain.episodes import FlapEpisode, FlapNotice
from linkctl.domain.events import EventKind, EventSource, KnownLink, LinkEvent, now
from linkctl.store.backends import FallibleStore, PostgresStore, SqliteStore
from linkctl.store.checkpoint import WalCheckpointer, checkpointer_for
from linkctl.store.records import StoreError
from linkctl.store.sql import SqlStore
from linkctl.watch.core import LinkKey, WatchCore, WatchOutput
from linkctl.watch.metrics import DISK_FULL, FILE_REPLACED, UNAVAILABLE, StoreMetrics
from linkctl.watch.transitions import count_transitions, reconcile_gone

RETRY_EVERY = 1.0  # seconds between attempts while the store fails
# Kept for the catch-up while the store fails; beyond these they are counted only.
MAX_KEPT_NOTICES = 1000
MAX_KEPT_EPISODES = 10_000
# Events and counter snapshots kept while the store fails, to be written as they happened
# (1.6 KB each with its output, measured: 32 MB at this bound); LINKCTL_STORE_QUEUE sets another.
QUEUE_ITEMS = 20_000
# Queued outputs written per transaction once the store is back.
REPLAY_BATCH = 500


def queue_bound() -> int:
    """The outage queue's bound: LINKCTL_STORE_QUEUE when it is a number >= 0."""
    text = os.environ.get("LINKCTL_STORE_QUEUE", "")
    return int(text) if text.isdigit() else QUEUE_ITEMS


@dataclass
class Outage:
    """What the store missed since it stopped taking writes: the outputs queued in order,
    and what did not fit (counted; its alerts and episodes kept for the catch-up)."""

    since: datetime
    cause: str
    reason: str
    bound: int = QUEUE_ITEMS
    outputs: int = 0
    events: int = 0
    snapshots: int = 0
    queue: deque[WatchOutput] = field(default_factory=deque)
    queued: int = 0  # events and snapshots in the queue
    written: int = 0  # events of the queue written since the store came back
    overflowed: bool = False
    dropped_events: int = 0
    dropped_snapshots: int = 0
    notices: list[FlapNotice | DownNotice] = field(default_factory=list)
    notices_dropped: int = 0
    episodes: dict[str, FlapEpisode] = field(default_factory=dict)

    def miss(self, out: WatchOutput) -> bool:
        """Queue `out`; False when it does not fit (nor will anything after it)."""
        self.outputs += 1
        self.events += len(out.events)
        self.snapshots += len(out.snapshots)
        size = len(out.events) + len(out.snapshots)
        if not self.overflowed and self.queued + size <= self.bound:
            self.queue.append(out)
            self.queued += size
            return True
        self.overflowed = True
        self.dropped_events += len(out.events)
        self.dropped_snapshots += len(out.snapshots)
        for notice in out.notices:
            if len(self.notices) < MAX_KEPT_NOTICES:
                self.notices.append(notice)
            else:
                self.notices_dropped += 1
        for episode in out.episodes:
            if episode.key in self.episodes or len(self.episodes) < MAX_KEPT_EPISODES:
                self.episodes[episode.key] = episode
        return False

    def batch(self) -> tuple[int, WatchOutput]:
        """The oldest queued outputs as one (how many, merged), up to REPLAY_BATCH. An output
        that removes links starts a batch: `record` writes removals before upserts."""
        merged = WatchOutput()
        count = 0
        for out in itertools.islice(self.queue, REPLAY_BATCH):
            if count and out.gone:
                break
            merged.merge(out)
            count += 1
        return count, merged

    def written_batch(self, count: int) -> None:
        for _ in range(count):
            out = self.queue.popleft()
            self.queued -= len(out.events) + len(out.snapshots)
            self.written += len(out.events)

    def detail(self) -> str:
        """The `detail` of the gap events: why the store has no events of its own there."""
        since = f"store unwritable since {self.since.isoformat(timespec='seconds')}: {self.reason}"
        if self.overflowed:
            since = f"{self.dropped_events} event(s) beyond the outage queue's {self.bound} not kept; {since}"
        return since[:200]


class StoreRecorder:
    """Commits WatchOutputs; survives a full disk, a deleted store file, a lost database."""

    def __init__(self, store: SqlStore, core: WatchCore, metrics: StoreMetrics, note: Callable[[str], None]) -> None:
        self.store = store
        self.core = core
        self.metrics = metrics
        self.note = note
        # What the store holds of each link: where a gap starts.
        self.committed: dict[LinkKey, KnownLink] = dict(core.links)
        self.outage: Outage | None = None
        self.checkpointer: WalCheckpointer | None = checkpointer_for(store)
        self.reopen_needed = False
        self._next_try = 0.0
        self._receivers: tuple[str, ...] = ()
        self.bound = queue_bound()
        self._connecting: threading.Thread | None = None
        self._connect_error: Exception | None = None
        metrics.writable.set(1)

    def start(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.start()

    def stop(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
            self.checkpointer = None

    # -- commits ----------------------------------------------------------------

    def record(self, out: WatchOutput, receivers: Sequence[str] = ()) -> bool:
        """True when `out` is in the store; else it is counted, and covered by the next gap."""
        self._receivers = tuple(receivers)
        if self.outage is not None:
            self._miss(out)
            self.retry()
            return False
        try:
            self.store.record(out, receivers)
        except Exception as exc:
            self._begin(self._cause(exc), self._reason(exc), out)
            return False
        if self._moved():
            # Checked after the commit: this one may have gone to the deleted file.
            self._begin(FILE_REPLACED, "the file was deleted or replaced", out)
            return False
        self._remember(out)
        return True

    def tick(self) -> None:
        """Between commits: notice a deleted store of a quiet watcher, try a failing one again."""
        if self.outage is None and self._moved():
            self._begin(FILE_REPLACED, "the file was deleted or replaced", WatchOutput())
        self.retry()

    def retry(self) -> bool:
        """Write the queue, then the catch-up, if the store takes them; True once the store is writable."""
        outage = self.outage
        if outage is None:
            return True
        clock = time.monotonic()
        if clock < self._next_try:
            return False
        self._next_try = clock + RETRY_EVERY
        if self._moved():
            self.reopen_needed = True
        try:
            if self.reopen_needed and not self._reconnected():
                return False
            self._replay(outage)
            catch = self._catch_up(outage, now())
            self.store.record(catch, self._receivers)
        except Exception as exc:
            outage.reason = self._reason(exc)
            # A server that went away again took the new connection with it.
            self.reopen_needed = self.reopen_needed or isinstance(self.store, PostgresStore)
            return False
        if self._moved():
            return False
        self._remember(catch)
        self.outage = None
        self.metrics.writable.set(1)
        self.metrics.gap_transitions.inc(sum(ev.transitions for ev in catch.events if ev.kind is EventKind.GAP))
        self.note(self._recovered(outage, catch))
        return True

    # -- internals ----------------------------------------------------------------

    def _replay(self, outage: Outage) -> None:
        """The queued outputs, oldest first, each batch in one transaction; a failure
        leaves the rest queued (a batch written twice is a no-op: natural keys)."""
        while outage.queue:
            count, merged = outage.batch()
            self.store.record(merged, self._receivers)
            self._remember(merged)
            outage.written_batch(count)

    def _begin(self, cause: str, reason: str, out: WatchOutput) -> None:
        self.outage = Outage(now(), cause, reason, self.bound)
        self.reopen_needed = cause == FILE_REPLACED or isinstance(self.store, PostgresStore)
        self._next_try = time.monotonic() + (0.0 if cause == FILE_REPLACED else RETRY_EVERY)
        self.metrics.writable.set(0)
        self.metrics.outages.labels(cause).inc()
        self._miss(out)
        if cause == FILE_REPLACED:
            self.note(
                f"store {self._where()}: {reason} under the watcher; writing a new file there, "
                "which will not hold the history recorded before"
            )
        else:
            self.note(
                f"store {self._where()} not writable: {reason}; still watching: events are queued (up to "
                f"{self.bound}) and written in order when the store takes writes again; beyond that, the "
                "kernel counts every carrier transition and they are recorded as gap events"
            )
        if self.reopen_needed:
            self.retry()

    def _miss(self, out: WatchOutput) -> None:
        assert self.outage is not None
        if not self.outage.miss(out):
            self.metrics.unrecorded_events.inc(len(out.events))

    def _remember(self, out: WatchOutput) -> None:
        for link in out.gone:
            self.committed.pop((link.netns, link.ifindex), None)
        for link in out.links:
            self.committed[(link.netns, link.ifindex)] = link

    def _catch_up(self, outage: Outage, when: datetime) -> WatchOutput:
        out = catch_up(self.committed, self.core.links, when, outage.detail())
        out.notices = list(outage.notices)
        episodes = dict(outage.episodes)
        episodes.update((ep.key, ep) for ep in self.core.flaps.open_episodes())
        out.episodes = list(episodes.values())
        return out

    def _reconnected(self) -> bool:
        """Reopen the store; True once done. PostgreSQL's new connection is made in a thread
        of its own, the loop only asking whether it is there: a server that does not answer
        held the loop for its connect_timeout at each attempt (10 s of every 11), and every
        event read meanwhile was recorded up to 20 s after it happened."""
        if not isinstance(self.store, PostgresStore):
            self._reopen()
            return True
        thread = self._connecting
        if thread is None:
            self._connect_error = None
            thread = threading.Thread(target=self._connect, name="linkctl-store-connect", daemon=True)
            self._connecting = thread
            thread.start()
        if thread.is_alive():
            return False
        self._connecting = None
        if self._connect_error is not None:
            raise self._connect_error
        self.reopen_needed = False
        return True

    def _connect(self) -> None:
        assert isinstance(self.store, PostgresStore)
        try:
            self.store.reopen()
        except Exception as exc:  # handed to the loop, which names it as the outage's cause
            self._connect_error = exc

    def _reopen(self) -> None:
        # Every connection to the old file closes before the new one opens.
        self.stop()
        assert isinstance(self.store, FallibleStore)
        carried = self.store.reopen()
        self.reopen_needed = False
        if carried:
            self.note(f"store {self._where()}: {carried} alert(s) of the queue carried over to the new file")
        self.checkpointer = checkpointer_for(self.store)
        self.start()

    def _moved(self) -> bool:
        return isinstance(self.store, SqliteStore) and self.store.moved()

    def _reason(self, exc: Exception) -> str:
        """Why the store fails, when the environment is the cause; a bug is raised."""
        if isinstance(exc, StoreError | OSError):
            return str(exc)
        reason = self.store.unavailable(exc) if isinstance(self.store, FallibleStore) else None
        if reason is None:
            raise exc
        return " ".join(reason.split())  # one line in the log: psycopg's messages span several

    def _cause(self, exc: Exception) -> str:
        if isinstance(self.store, FallibleStore) and self.store.disk_full(exc):
            return DISK_FULL
        return UNAVAILABLE

    def _where(self) -> str:
        return self.store.path if isinstance(self.store, SqliteStore) else self.store.dialect

    def _recovered(self, outage: Outage, catch: WatchOutput) -> str:
        seconds = (now() - outage.since).total_seconds()
        gaps = [ev for ev in catch.events if ev.kind is EventKind.GAP]
        kinds = [ev.kind for ev in catch.events]
        text = (
            f"store {self._where()} writable again after {seconds:.1f} s ({outage.reason}): "
            f"{outage.written} event(s) queued meanwhile written in order"
        )
        if outage.overflowed:
            text += (
                f"; {outage.dropped_events} event(s) and {outage.dropped_snapshots} counter snapshot(s) beyond "
                f"the queue's bound of {outage.bound} were dropped"
            )
        if outage.overflowed or gaps or EventKind.LINK_ADDED in kinds or EventKind.LINK_REMOVED in kinds:
            text += (
                f"; recorded from the kernel's counters: {len(gaps)} gap event(s) holding "
                f"{sum(ev.transitions for ev in gaps)} carrier transition(s), "
                f"{kinds.count(EventKind.LINK_ADDED)} link(s) added, {kinds.count(EventKind.LINK_REMOVED)} removed"
            )
        if outage.notices:
            text += f", {len(outage.notices)} alert(s) queued late"
        if outage.notices_dropped:
            text += f"; {outage.notices_dropped} alert(s) were not kept and will not be sent"
        return text


def catch_up(
    committed: Mapping[LinkKey, KnownLink], current: Mapping[LinkKey, KnownLink], when: datetime, why: str
) -> WatchOutput:
    """What turns the store's last-known links (`committed`) into the watcher's (`current`)."""
    out = WatchOutput(links=list(current.values()))
    for key, link in current.items():
        before = committed.get(key)
        if before is not None and before.epoch != link.epoch:
            out.events.append(reconcile_gone(before, when, source=EventSource.RESYNC))
            out.gone.append(before)
            before = None
        if before is None:
            out.events.append(_event(link, when, EventKind.LINK_ADDED, 0, None))
            continue
        if link.ifname != before.ifname:
            out.events.append(_event(link, when, EventKind.RENAMED, 0, before.ifname))
        count = count_transitions(before.counters, link.counters, link.state is not before.state)
        if count.total or link.state is not before.state:
            out.events.append(_event(link, when, EventKind.GAP, count.total, why))
    for key, before in committed.items():
        if key not in current:
            out.events.append(reconcile_gone(before, when, source=EventSource.RESYNC))
            out.gone.append(before)
    return out


def _event(link: KnownLink, when: datetime, kind: EventKind, transitions: int, detail: str | None) -> LinkEvent:
    return LinkEvent(
        time=when,
        netns=link.netns,
        ifname=link.ifname,
        ifindex=link.ifindex,
        kind=kind,
        state=link.state,
        source=EventSource.RESYNC,
        transitions=transitions,
        carrier=link.counters,
        detail=detail,
        epoch=link.epoch,
    )

"""Delivery from the durable queue: rate limiting, deduplication, retries with back-off.

Flap notices (and link-down ones: a spell fires and resolves as an episode starts and
ends, under its own key) enter the queue in the same store transaction as the events that
caused them (``store.record(out, dispatcher.receivers)``), one row per receiver,
keyed by episode, edge and receiver, so a notice recorded twice is queued once.
`deliver_due` then works the queue:

- a start alert (an episode's or a link-down's: one limit per link) beyond the per-link
  rate limit is marked ``suppressed``; the
  end alert of an episode whose start was not sent is suppressed with it;
- an end alert waits while its start alert is still pending (order per receiver);
- a failed send is retried after ``initial * 2**(attempts-1)`` seconds, capped at
  ``max``, and marked ``dead`` after ``give_up_after``; a receiver that is down
  holds up no other receiver (nor does one that answers late: the watcher works each
  receiver's rows from a thread of its own, ``deliver_due(now, receiver=...)``);
- alerts of one edge for links that share a cause (a veth pair's ends, a bridge and its
  ports: alerts/causes.py) go to a receiver as one notification naming them all; an alert
  of such a link, start or end, waits `group_wait` after it was queued so that the others
  join it (Alertmanager's group_wait: the two ends' episodes start and end a tick or more
  apart); each alert keeps its own row, rate limit and state;
- the queue lives in the store, so a restarted watcher (a new dispatcher over the
  same store) carries on where the old one stopped. A crash between a send and
  its bookkeeping sends that alert again: delivery is at least once, and the
  webhook's X-Linkctl-Delivery header lets a receiver drop the repeat;
- a mark the store does not take (its disk full, its write lock held by another
  process) is kept in memory, keyed by the alert, and written again each round: the
  alert is not sent again meanwhile, and the fault is said once, naming the store
  and the fix.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from linkctl.alerts.causes import LinkId, read_causes
from linkctl.alerts.config import AlertsConfig
from linkctl.alerts.model import Alert, AlertGroup, DeliveryError, Notification, is_down
from linkctl.alerts.senders import AlertmanagerSender, Sender
from linkctl.domain.down import DownSpell
from linkctl.domain.episodes import EpisodeEdge, FlapEpisode
from linkctl.store.records import AlertState, QueuedAlert
from linkctl.store.sql import SqlStore

log = logging.getLogger(__name__)


def backoff(attempts: int, initial: float, maximum: float) -> float:
    """Seconds to wait after the `attempts`-th failure: 1st -> initial, doubling, capped."""
    if attempts <= 0:
        return 0.0
    return float(min(maximum, initial * 2 ** min(attempts - 1, 62)))


@dataclass
class DeliveryReport:
    sent: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    suppressed: list[str] = field(default_factory=list)
    dead: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)


Causes = Callable[[Iterable[LinkId]], dict[LinkId, str]]


@dataclass(frozen=True)
class _Mark:
    """An alert's new state that the store has not taken yet."""

    queued: QueuedAlert
    state: str
    when: datetime
    attempts: int | None = None
    next_attempt: datetime | None = None
    error: str | None = None

    def holds_back(self, now: datetime) -> bool:
        """Whether the alert is not due, as this mark has it (sent, given up, or waiting to retry)."""
        if self.state != AlertState.PENDING:
            return True
        return self.next_attempt is not None and now < self.next_attempt


class AlertDispatcher:
    def __init__(
        self, store: SqlStore, senders: Sequence[Sender], config: AlertsConfig, causes: Causes = read_causes
    ) -> None:
        self.store = store
        self.senders = {s.name: s for s in senders}
        self.config = config
        self._resent: dict[str, datetime] = {}
        self._causes = causes
        # By alert key (a re-created store file gives its rows new ids), in the order made.
        self._unwritten: dict[str, _Mark] = {}
        self._told = False  # the store's fault was said in this spell
        # The watcher delivers from a thread per receiver: the marks kept in memory are shared.
        self._marks_lock = threading.RLock()
        # Where the store's faults are said: the watcher's own lines (its printer) when it runs.
        self.note: Callable[[str], None] = log.warning

    @property
    def receivers(self) -> list[str]:
        """The names to pass to ``store.record`` so notices are queued for each."""
        return list(self.senders)

    def deliver_due(self, now: datetime, limit: int = 100, receiver: str | None = None) -> DeliveryReport:
        """Works the due alerts: all receivers', or `receiver`'s only (the watcher runs one
        worker per receiver, so a slow one holds up no other)."""
        report = DeliveryReport()
        self._write_marks()
        due = [self._as_known(q) for q in self.store.due_alerts(now, limit, receiver) if not self._held_back(q, now)]
        # Read even for one due alert: it may have to wait for the others of its cause.
        causes = self._read_causes(due) if due else {}
        down: set[str] = set()
        done: set[int] = set()
        for queued in due:
            if queued.id in done or queued.receiver in down:
                continue  # sent with its group, or one failure per receiver per round: keep its order
            sender = self.senders.get(queued.receiver)
            if sender is None:
                continue  # a receiver removed from the config: leave its rows alone
            group = self._group(queued, due, causes, done)
            done.update(q.id for q in group)
            if not self._deliver(sender, group, causes.get((queued.netns, queued.ifname)), now, report):
                down.add(queued.receiver)
        return report

    def _read_causes(self, due: Sequence[QueuedAlert]) -> dict[LinkId, str]:
        try:
            return self._causes({(q.netns, q.ifname) for q in due})
        except Exception as exc:  # the ties unread: each alert goes alone, none is held back
            log.warning("alerts sent ungrouped: the links' ties could not be read: %s", exc)
            return {}

    def _group(
        self, first: QueuedAlert, due: Sequence[QueuedAlert], causes: dict[LinkId, str], done: set[int]
    ) -> list[QueuedAlert]:
        """`first` and the due alerts of the same receiver and edge whose links share its cause."""
        cause = causes.get((first.netns, first.ifname))
        if cause is None:
            return [first]
        return [
            q
            for q in due
            if q.id not in done
            and q.receiver == first.receiver
            and q.edge == first.edge
            and is_down(q.payload) == is_down(first.payload)  # a flap and a down are two stories
            and causes.get((q.netns, q.ifname)) == cause
        ]

    def _deliver(
        self, sender: Sender, group: list[QueuedAlert], cause: str | None, now: datetime, report: DeliveryReport
    ) -> bool:
        """Returns False when the receiver failed (so later alerts for it wait)."""
        if cause is not None:
            opened = min(q.created for q in group)
            if now < opened + timedelta(seconds=self.config.group_wait):
                report.waiting.extend(q.alert_key for q in group)
                return True
        ready = [q for q in group if self._ready(q, now, report)]
        if not ready:
            return True
        ready.sort(key=lambda q: (q.netns or "", q.ifname))  # a group names its links in order
        alerts = tuple(
            Alert.from_payload(q.alert_key, q.edge, q.payload, self.config.host, self.config.severity) for q in ready
        )
        notification: Notification = alerts[0] if len(alerts) == 1 or cause is None else AlertGroup(cause, alerts)
        try:
            sender.send(notification)
        except DeliveryError as exc:
            for queued in ready:
                self._failed(queued, now, str(exc), report)
            return False
        for queued in ready:
            self._mark(_Mark(queued, AlertState.SENT, now, attempts=queued.attempts + 1))
            report.sent.append(queued.alert_key)
        return True

    # -- the marks: in the store, or in memory while it takes none ----------------

    def _mark(self, mark: _Mark) -> None:
        with self._marks_lock:
            key = mark.queued.alert_key
            self._unwritten.pop(key, None)
            if self._unwritten:  # the store took none of the earlier ones: this one waits behind them
                self._unwritten[key] = mark
                return
            try:
                self._write(mark)
            except Exception as exc:
                self._unwritten[key] = mark
                self._failing(exc)

    def _write(self, mark: _Mark) -> None:
        self.store.mark_alert_key(
            mark.queued.alert_key,
            mark.state,
            mark.when,
            attempts=mark.attempts,
            next_attempt=mark.next_attempt,
            error=mark.error,
        )

    def _write_marks(self) -> None:
        """The marks the store did not take, oldest first, until one fails again."""
        with self._marks_lock:
            if not self._unwritten:
                return
            count = len(self._unwritten)
            for key, mark in list(self._unwritten.items()):
                try:
                    self._write(mark)
                except Exception as exc:
                    self._failing(exc)
                    return
                del self._unwritten[key]
            self._told = False
            self.note(f"store {self.store.where()} takes writes again: {count} alert mark(s) kept meanwhile written")

    def flush(self) -> None:
        """Write the marks kept in memory, if the store takes them now (the watcher stops)."""
        self._write_marks()

    def _failing(self, exc: Exception) -> None:
        """Say once per spell that marks go unwritten; a bug (not the environment) is raised."""
        reason = self.store.unavailable(exc)
        if reason is None:
            raise exc
        if self._told:
            return  # once per spell: a full disk fails every round, every second
        self._told = True
        self.note(
            f"store {self.store.where()}: cannot record what became of an alert ({' '.join(reason.split())}): "
            f"{self.store.remedy(exc)}; meanwhile the marks are kept in memory, written as soon as the store "
            "takes them, and no alert is sent twice (lost if the watcher stops first: then it may be sent again)"
        )

    def _held_back(self, queued: QueuedAlert, now: datetime) -> bool:
        with self._marks_lock:
            mark = self._unwritten.get(queued.alert_key)
            return mark is not None and mark.holds_back(now)

    def _as_known(self, queued: QueuedAlert) -> QueuedAlert:
        with self._marks_lock:
            mark = self._unwritten.get(queued.alert_key)
            if mark is None or mark.attempts is None:
                return queued
            return replace(queued, attempts=mark.attempts)

    def _state(self, alert_key: str) -> str | None:
        mark = self._unwritten.get(alert_key)
        return mark.state if mark is not None else self.store.alert_state(alert_key)

    def _sent_starts(self, queued: QueuedAlert, since: datetime) -> int:
        """Start alerts of the link sent since `since`: the store's and those not marked yet."""
        unwritten = sum(
            1
            for m in self._unwritten.values()
            if m.state == AlertState.SENT
            and m.when >= since
            and (m.queued.edge, m.queued.receiver, m.queued.netns, m.queued.ifname)
            == (EpisodeEdge.START.value, queued.receiver, queued.netns, queued.ifname)
        )
        return unwritten + self.store.count_sent_starts(queued.receiver, queued.netns, queued.ifname, since)

    def _ready(self, queued: QueuedAlert, now: datetime, report: DeliveryReport) -> bool:
        """Whether the alert goes out now; if not, it is marked (suppressed) or left waiting."""
        verdict = self._gate(queued, now)
        if verdict is None:
            return True
        if verdict == AlertState.PENDING:
            report.waiting.append(queued.alert_key)
        else:
            self._mark(_Mark(queued, verdict, now))
            report.suppressed.append(queued.alert_key)
        return False

    def _gate(self, queued: QueuedAlert, now: datetime) -> str | None:
        """None to send now; otherwise the state the row gets (PENDING: wait)."""
        if queued.edge == EpisodeEdge.END.value:
            start = self._state(f"{queued.episode_key}/{EpisodeEdge.START.value}/{queued.receiver}")
            if start == AlertState.PENDING:
                return AlertState.PENDING
            return None if start == AlertState.SENT else AlertState.SUPPRESSED
        limit = self.config.rate_limit
        since = now - timedelta(seconds=limit.window)
        sent = self._sent_starts(queued, since)
        return AlertState.SUPPRESSED if sent >= limit.max_per_link else None

    def _failed(self, queued: QueuedAlert, now: datetime, error: str, report: DeliveryReport) -> None:
        attempts = queued.attempts + 1
        retry = self.config.retry
        if (now - queued.created).total_seconds() >= retry.give_up_after:
            self._mark(_Mark(queued, AlertState.DEAD, now, attempts=attempts, error=error))
            log.error("alert %s given up after %d attempts: %s", queued.alert_key, attempts, error)
            report.dead.append(queued.alert_key)
            return
        wait = backoff(attempts, retry.initial, retry.max)
        self._mark(_Mark(queued, AlertState.PENDING, now, attempts, now + timedelta(seconds=wait), error))
        log.warning("alert %s not delivered (retry in %.0f s): %s", queued.alert_key, wait, error)
        report.retrying.append(queued.alert_key)

    def resend_firing(
        self, episodes: Iterable[FlapEpisode | DownSpell], now: datetime, receiver: str | None = None
    ) -> int:
        """Re-post open episodes and link-down spells to Alertmanager (all receivers, or `receiver`) so they do not
        time out there.

        Best effort and not queued: a missed re-post is repeated next time, and
        the end alert (queued, retried) resolves the alert in any case.
        """
        every = timedelta(seconds=self.config.alertmanager_resend)
        posted = 0
        for sender in self.senders.values():
            if not isinstance(sender, AlertmanagerSender) or receiver not in (None, sender.name):
                continue
            for ep in episodes:
                key = f"{ep.key}/{EpisodeEdge.START.value}/{sender.name}"
                last = self._resent.get(key)
                if last is not None and now - last < every:
                    continue
                if self._state(key) != AlertState.SENT:
                    continue
                alert = Alert.from_episode(ep, EpisodeEdge.START, self.config.host, self.config.severity)
                try:
                    sender.send(alert)
                except DeliveryError as exc:
                    log.warning("re-post of %s failed: %s", key, exc)
                    continue
                self._resent[key] = now
                posted += 1
        return posted

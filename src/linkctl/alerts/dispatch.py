"""Delivery from the durable queue: rate limiting, deduplication, retries with back-off.

Flap notices enter the queue in the same store transaction as the events that
caused them (``store.record(out, dispatcher.receivers)``), one row per receiver,
keyed by episode, edge and receiver, so a notice recorded twice is queued once.
`deliver_due` then works the queue:

- a start alert beyond the per-link rate limit is marked ``suppressed``; the
  end alert of an episode whose start was not sent is suppressed with it;
- an end alert waits while its start alert is still pending (order per receiver);
- a failed send is retried after ``initial * 2**(attempts-1)`` seconds, capped at
  ``max``, and marked ``dead`` after ``give_up_after``; a receiver that is down
  holds up no other receiver;
- the queue lives in the store, so a restarted watcher (a new dispatcher over the
  same store) carries on where the old one stopped. A crash between a send and
  its bookkeeping sends that alert again: delivery is at least once, and the
  webhook's X-Linkctl-Delivery header lets a receiver drop the repeat.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from linkctl.alerts.config import AlertsConfig
from linkctl.alerts.model import Alert, DeliveryError
from linkctl.alerts.senders import AlertmanagerSender, Sender
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


class AlertDispatcher:
    def __init__(self, store: SqlStore, senders: Sequence[Sender], config: AlertsConfig) -> None:
        self.store = store
        self.senders = {s.name: s for s in senders}
        self.config = config
        self._resent: dict[str, datetime] = {}

    @property
    def receivers(self) -> list[str]:
        """The names to pass to ``store.record`` so notices are queued for each."""
        return list(self.senders)

    def deliver_due(self, now: datetime, limit: int = 100) -> DeliveryReport:
        report = DeliveryReport()
        down: set[str] = set()
        for queued in self.store.due_alerts(now, limit):
            if queued.receiver in down:
                continue  # one failure per receiver per round: keep its order
            sender = self.senders.get(queued.receiver)
            if sender is None:
                continue  # a receiver removed from the config: leave its rows alone
            if not self._deliver(sender, queued, now, report):
                down.add(queued.receiver)
        return report

    def _deliver(self, sender: Sender, queued: QueuedAlert, now: datetime, report: DeliveryReport) -> bool:
        """Returns False when the receiver failed (so later alerts for it wait)."""
        verdict = self._gate(queued, now)
        if verdict is not None:
            if verdict == AlertState.PENDING:
                report.waiting.append(queued.alert_key)
            else:
                self.store.mark_alert(queued.id, verdict, now)
                report.suppressed.append(queued.alert_key)
            return True
        alert = Alert.from_payload(
            queued.alert_key, queued.edge, queued.payload, self.config.host, self.config.severity
        )
        try:
            sender.send(alert)
        except DeliveryError as exc:
            self._failed(queued, now, str(exc), report)
            return False
        self.store.mark_alert(queued.id, AlertState.SENT, now, attempts=queued.attempts + 1)
        report.sent.append(queued.alert_key)
        return True

    def _gate(self, queued: QueuedAlert, now: datetime) -> str | None:
        """None to send now; otherwise the state the row gets (PENDING: wait)."""
        if queued.edge == EpisodeEdge.END.value:
            start = self.store.alert_state(f"{queued.episode_key}/{EpisodeEdge.START.value}/{queued.receiver}")
            if start == AlertState.PENDING:
                return AlertState.PENDING
            return None if start == AlertState.SENT else AlertState.SUPPRESSED
        limit = self.config.rate_limit
        since = now - timedelta(seconds=limit.window)
        sent = self.store.count_sent_starts(queued.receiver, queued.netns, queued.ifname, since)
        return AlertState.SUPPRESSED if sent >= limit.max_per_link else None

    def _failed(self, queued: QueuedAlert, now: datetime, error: str, report: DeliveryReport) -> None:
        attempts = queued.attempts + 1
        retry = self.config.retry
        if (now - queued.created).total_seconds() >= retry.give_up_after:
            self.store.mark_alert(queued.id, AlertState.DEAD, now, attempts=attempts, error=error)
            log.error("alert %s given up after %d attempts: %s", queued.alert_key, attempts, error)
            report.dead.append(queued.alert_key)
            return
        wait = backoff(attempts, retry.initial, retry.max)
        self.store.mark_alert(
            queued.id,
            AlertState.PENDING,
            now,
            attempts=attempts,
            next_attempt=now + timedelta(seconds=wait),
            error=error,
        )
        log.warning("alert %s not delivered (retry in %.0f s): %s", queued.alert_key, wait, error)
        report.retrying.append(queued.alert_key)

    def resend_firing(self, episodes: Iterable[FlapEpisode], now: datetime) -> int:
        """Re-post open episodes to Alertmanager so they do not time out there.

        Best effort and not queued: a missed re-post is repeated next time, and
        the end alert (queued, retried) resolves the alert in any case.
        """
        every = timedelta(seconds=self.config.alertmanager_resend)
        posted = 0
        for sender in self.senders.values():
            if not isinstance(sender, AlertmanagerSender):
                continue
            for ep in episodes:
                key = f"{ep.key}/{EpisodeEdge.START.value}/{sender.name}"
                last = self._resent.get(key)
                if last is not None and now - last < every:
                    continue
                if self.store.alert_state(key) != AlertState.SENT:
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

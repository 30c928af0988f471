"""An alert: one flap episode's start or end, as the senders render it; an alert group: the
alerts of links that share one cause (alerts/causes.py), sent as one notification."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from linkctl.domain.episodes import EpisodeEdge, FlapEpisode

ALERT_NAME = "LinkFlapping"


class DeliveryError(Exception):
    """A receiver did not take the alert; the dispatcher retries it later."""


@dataclass(frozen=True)
class Alert:
    """What every sender needs; built from a queued row, so it survives restarts."""

    key: str  # unique per episode, edge and receiver: an idempotency key for receivers
    edge: EpisodeEdge
    host: str
    severity: str
    episode: FlapEpisode

    @classmethod
    def from_payload(cls, key: str, edge: str, payload: dict[str, Any], host: str, severity: str) -> Alert:
        return cls(key, EpisodeEdge(edge), host, severity, FlapEpisode.from_json(payload))

    @classmethod
    def from_episode(cls, episode: FlapEpisode, edge: EpisodeEdge, host: str, severity: str) -> Alert:
        return cls(f"{episode.key}/{edge.value}", edge, host, severity, episode)

    @property
    def where(self) -> str:
        ep = self.episode
        ns = f" (netns {ep.netns})" if ep.netns else ""
        return f"{self.host}: {ep.ifname}{ns}"

    def subject(self) -> str:
        if self.edge is EpisodeEdge.START:
            return f"[linkctl] {self.where} started flapping"
        return f"[linkctl] {self.where} stopped flapping"

    def text(self) -> str:
        ep = self.episode
        lines = [
            self.subject().removeprefix("[linkctl] ") + ".",
            "",
            f"episode start:   {ep.start.isoformat()}",
        ]
        if ep.end is not None:
            lines.append(f"settled at:      {ep.end.isoformat()}")
        lines += [
            f"transitions:     {ep.transitions}",
            f"down time:       {ep.down_seconds:.1f} s",
            f"detected by:     {ep.trigger.value} rule (peak state change {ep.peak_percent:.1f} %)",
        ]
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "key": self.key,
            "alertname": ALERT_NAME,
            "edge": self.edge.value,
            "host": self.host,
            "severity": self.severity,
            **self.episode.to_json(),
            "summary": self.subject().removeprefix("[linkctl] "),
        }


@dataclass(frozen=True)
class AlertGroup:
    """Alerts of one edge for links with one cause ("veth pair blue/va + red/vb"), rendered
    as one notification that names every link; each alert keeps its own key and state."""

    cause: str
    alerts: tuple[Alert, ...]

    @property
    def edge(self) -> EpisodeEdge:
        return self.alerts[0].edge

    @property
    def key(self) -> str:
        """The idempotency key of the notification: its members' keys, in order."""
        return " ".join(a.key for a in self.alerts)

    def subject(self) -> str:
        first = self.alerts[0]
        links = ", ".join(a.episode.ifname for a in self.alerts)
        verb = "started" if self.edge is EpisodeEdge.START else "stopped"
        return f"[linkctl] {first.host}: {links} {verb} flapping together ({self.cause})"

    def text(self) -> str:
        lines = [
            self.subject().removeprefix("[linkctl] ") + ".",
            "",
            f"One cause, {len(self.alerts)} links: they are tied ({self.cause}), so one event",
            "flaps them all. Each link:",
        ]
        for alert in self.alerts:
            lines += ["", *alert.text().splitlines()]
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        first = self.alerts[0]
        return {
            "version": 1,
            "key": self.key,
            "alertname": ALERT_NAME,
            "edge": self.edge.value,
            "host": first.host,
            "severity": first.severity,
            "cause": self.cause,
            "summary": self.subject().removeprefix("[linkctl] "),
            "alerts": [a.to_json() for a in self.alerts],
        }


Notification = Alert | AlertGroup


def members(notification: Notification) -> tuple[Alert, ...]:
    """The alerts a notification carries: itself, or its group's."""
    return notification.alerts if isinstance(notification, AlertGroup) else (notification,)

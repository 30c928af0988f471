"""An alert: one flap episode's start or end, or one link-down spell's (firing, resolved), as
the senders render it; an alert group: the alerts of one kind and edge of links that share
one cause (alerts/causes.py), sent as one notification."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from linkctl.domain.down import LINK_DOWN, DownSpell
from linkctl.domain.episodes import EpisodeEdge, FlapEpisode

ALERT_NAME = "LinkFlapping"
DOWN_ALERT_NAME = "LinkDown"  # as node_exporter users' rule names it


class DeliveryError(Exception):
    """A receiver did not take the alert; the dispatcher retries it later."""


@dataclass(frozen=True)
class Alert:
    """What every sender needs; built from a queued row, so it survives restarts."""

    key: str  # unique per episode (or spell), edge and receiver: an idempotency key for receivers
    edge: EpisodeEdge
    host: str
    severity: str
    episode: FlapEpisode | DownSpell

    @classmethod
    def from_payload(cls, key: str, edge: str, payload: dict[str, Any], host: str, severity: str) -> Alert:
        story = DownSpell.from_json(payload) if is_down(payload) else FlapEpisode.from_json(payload)
        return cls(key, EpisodeEdge(edge), host, severity, story)

    @classmethod
    def from_episode(cls, episode: FlapEpisode | DownSpell, edge: EpisodeEdge, host: str, severity: str) -> Alert:
        return cls(f"{episode.key}/{edge.value}", edge, host, severity, episode)

    @property
    def alertname(self) -> str:
        return DOWN_ALERT_NAME if isinstance(self.episode, DownSpell) else ALERT_NAME

    @property
    def where(self) -> str:
        ep = self.episode
        ns = f" (netns {ep.netns})" if ep.netns else ""
        return f"{self.host}: {ep.ifname}{ns}"

    def subject(self) -> str:
        if isinstance(self.episode, DownSpell):
            return f"[linkctl] {self.where} {_down_verb(self.edge, self.episode)}"
        if self.edge is EpisodeEdge.START:
            return f"[linkctl] {self.where} started flapping"
        return f"[linkctl] {self.where} stopped flapping"

    def text(self) -> str:
        ep = self.episode
        if isinstance(ep, DownSpell):
            return self._down_text(ep)
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

    def _down_text(self, spell: DownSpell) -> str:
        lines = [
            self.subject().removeprefix("[linkctl] ") + ".",
            "",
            f"no carrier since: {spell.start.isoformat()} (admin state up)",
            f"alerted at:       {spell.fired.isoformat()}, down {spell.down_seconds(spell.fired):.0f} s",
        ]
        if spell.end is not None:
            lines.append(f"resolved at:      {spell.end.isoformat()} ({spell.ended_by})")
            lines.append(f"down time:        {spell.down_seconds():.1f} s")
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "key": self.key,
            "alertname": self.alertname,
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
        if isinstance(first.episode, DownSpell):
            verb = "down together" if self.edge is EpisodeEdge.START else "no longer down"
            return f"[linkctl] {first.host}: {links} {verb} ({self.cause})"
        verb = "started" if self.edge is EpisodeEdge.START else "stopped"
        return f"[linkctl] {first.host}: {links} {verb} flapping together ({self.cause})"

    def text(self) -> str:
        lines = [
            self.subject().removeprefix("[linkctl] ") + ".",
            "",
            f"One cause, {len(self.alerts)} links: they are tied ({self.cause}), so one event",
            ("takes them all down" if isinstance(self.alerts[0].episode, DownSpell) else "flaps them all")
            + ". Each link:",
        ]
        for alert in self.alerts:
            lines += ["", *alert.text().splitlines()]
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        first = self.alerts[0]
        return {
            "version": 1,
            "key": self.key,
            "alertname": first.alertname,
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


def is_down(payload: dict[str, Any]) -> bool:
    """Whether a queued alert's payload is a link-down spell's (else a flap episode's)."""
    return payload.get("alert") == LINK_DOWN


def _down_verb(edge: EpisodeEdge, spell: DownSpell) -> str:
    if edge is EpisodeEdge.START:
        return f"link down for {spell.down_seconds(spell.fired):.0f} s (no carrier, admin state up)"
    return f"link down resolved ({spell.ended_by}) after {spell.down_seconds():.0f} s"

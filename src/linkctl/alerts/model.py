"""An alert: one flap episode's start or end, as the senders render it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from linkctl.watch.events import EpisodeEdge, FlapEpisode, FlapTrigger

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
    netns: str
    ifname: str
    ifindex: int
    start: datetime
    end: datetime | None
    cleared_at: datetime | None
    transitions: int
    down_seconds: float
    trigger: FlapTrigger
    peak_percent: float

    @classmethod
    def from_payload(cls, key: str, edge: str, payload: dict[str, Any], host: str, severity: str) -> Alert:
        return cls(
            key=key,
            edge=EpisodeEdge(edge),
            host=host,
            severity=severity,
            netns=payload["netns"],
            ifname=payload["ifname"],
            ifindex=int(payload["ifindex"]),
            start=datetime.fromisoformat(payload["start"]),
            end=_time(payload.get("end")),
            cleared_at=_time(payload.get("cleared_at")),
            transitions=int(payload["transitions"]),
            down_seconds=float(payload["down_seconds"]),
            trigger=FlapTrigger(payload["trigger"]),
            peak_percent=float(payload["peak_percent"]),
        )

    @classmethod
    def from_episode(cls, episode: FlapEpisode, edge: EpisodeEdge, host: str, severity: str) -> Alert:
        return cls(
            key=f"{episode.key}/{edge.value}",
            edge=edge,
            host=host,
            severity=severity,
            netns=episode.netns,
            ifname=episode.ifname,
            ifindex=episode.ifindex,
            start=episode.start,
            end=episode.end,
            cleared_at=episode.cleared_at,
            transitions=episode.transitions,
            down_seconds=episode.down_seconds,
            trigger=episode.trigger,
            peak_percent=episode.peak_percent,
        )

    @property
    def where(self) -> str:
        ns = f" (netns {self.netns})" if self.netns else ""
        return f"{self.host}: {self.ifname}{ns}"

    def subject(self) -> str:
        if self.edge is EpisodeEdge.START:
            return f"[linkctl] {self.where} started flapping"
        return f"[linkctl] {self.where} stopped flapping"

    def text(self) -> str:
        lines = [
            self.subject().removeprefix("[linkctl] ") + ".",
            "",
            f"episode start:   {self.start.isoformat()}",
        ]
        if self.end is not None:
            lines.append(f"settled at:      {self.end.isoformat()}")
        lines += [
            f"transitions:     {self.transitions}",
            f"down time:       {self.down_seconds:.1f} s",
            f"detected by:     {self.trigger.value} rule (peak state change {self.peak_percent:.1f} %)",
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
            "netns": self.netns,
            "ifname": self.ifname,
            "ifindex": self.ifindex,
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
            "cleared_at": self.cleared_at.isoformat() if self.cleared_at else None,
            "transitions": self.transitions,
            "down_seconds": self.down_seconds,
            "trigger": self.trigger.value,
            "peak_percent": self.peak_percent,
            "summary": self.subject().removeprefix("[linkctl] "),
        }


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)

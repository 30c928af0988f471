"""Flap episodes: the periods in which the watcher's rules held a link to be flapping.

One type and one JSON form, shared by the flap rules that open and close
episodes, the store that keeps them and queues their alerts, and the senders
whose bodies carry them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from linkctl.domain.events import NetnsName, require_aware, utc


class FlapTrigger(StrEnum):
    """Which rule opened the episode (both can hold at the same time)."""

    RATE = "rate"
    NAGIOS = "nagios"
    BOTH = "both"


@dataclass(frozen=True)
class FlapEpisode:
    """A period in which a link flapped.

    `end` is the time of the last transition of the episode (when the link
    settled); `cleared_at` is when the rules let go of it, which is later by up
    to the rate window. Both are None while the episode is open.
    """

    netns: NetnsName
    ifname: str
    ifindex: int
    start: datetime
    transitions: int
    down_seconds: float
    trigger: FlapTrigger
    peak_percent: float = 0.0
    end: datetime | None = None
    cleared_at: datetime | None = None

    def __post_init__(self) -> None:
        require_aware(self.start, "FlapEpisode.start")
        for when in (self.end, self.cleared_at):
            if when is not None:
                require_aware(when, "FlapEpisode.end")

    @property
    def open(self) -> bool:
        return self.cleared_at is None

    @property
    def key(self) -> str:
        micros = int(utc(self.start).timestamp() * 1_000_000)
        return f"{self.netns or ''}/{self.ifindex}/{micros}"  # "" for the host, as stored keys have it

    def to_json(self) -> dict[str, Any]:
        """The episode as the alert queue keeps it and every alert body carries it (the
        host's namespace as "", which receivers have always been sent)."""
        return {
            "netns": self.netns or "",
            "ifname": self.ifname,
            "ifindex": self.ifindex,
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
            "cleared_at": self.cleared_at.isoformat() if self.cleared_at else None,
            "transitions": self.transitions,
            "down_seconds": self.down_seconds,
            "trigger": self.trigger.value,
            "peak_percent": self.peak_percent,
        }

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> FlapEpisode:
        return cls(
            netns=payload["netns"] or None,
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


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


class EpisodeEdge(StrEnum):
    START = "start"
    END = "end"


@dataclass(frozen=True)
class FlapNotice:
    """Sent when an episode starts and when it ends: alerts are per episode."""

    edge: EpisodeEdge
    episode: FlapEpisode

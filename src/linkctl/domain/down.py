"""Link-down spells: a link whose admin state is up, without carrier for longer than the
alerts' hold time (`alerts.link_down.for`), as its alert tells it.

The flap episodes (domain/episodes.py) tell of a link that goes down and up again; a spell
tells of one that went down and stayed down (a cable pulled, a switch port shut). Both go
through the one alert queue: a spell's start is its "firing" alert, its end the "resolved".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from linkctl.domain.episodes import EpisodeEdge
from linkctl.domain.events import NetnsName, require_aware, utc

# The `alert` of a spell's JSON: a flap episode's JSON has none.
LINK_DOWN = "link_down"


@dataclass(frozen=True)
class DownSpell:
    """A link without carrier since `start`, alerted at `fired` (the hold time after it, or
    later); `end` is when it stopped being down and `ended_by` says how (None while down)."""

    netns: NetnsName
    ifname: str
    ifindex: int
    start: datetime
    fired: datetime
    end: datetime | None = None
    ended_by: str | None = None  # "carrier back", "set administratively down", "removed", ...

    def __post_init__(self) -> None:
        for when in (self.start, self.fired, self.end):
            if when is not None:
                require_aware(when, "DownSpell")

    @property
    def open(self) -> bool:
        return self.end is None

    @property
    def key(self) -> str:
        """One per spell, the same after a watcher restart (the link's state keeps its start)."""
        micros = int(utc(self.start).timestamp() * 1_000_000)
        return f"{LINK_DOWN}/{self.netns or ''}/{self.ifindex}/{micros}"

    def down_seconds(self, until: datetime | None = None) -> float:
        """How long the link has been down: until its end, else until `until` (else when alerted)."""
        return max(0.0, ((self.end or until or self.fired) - self.start).total_seconds())

    def to_json(self) -> dict[str, Any]:
        return {
            "alert": LINK_DOWN,
            "netns": self.netns or "",
            "ifname": self.ifname,
            "ifindex": self.ifindex,
            "start": self.start.isoformat(),
            "fired": self.fired.isoformat(),
            "end": self.end.isoformat() if self.end else None,
            "ended_by": self.ended_by,
            "down_seconds": round(self.down_seconds(), 3),
        }

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> DownSpell:
        end = payload.get("end")
        return cls(
            netns=payload["netns"] or None,
            ifname=payload["ifname"],
            ifindex=int(payload["ifindex"]),
            start=datetime.fromisoformat(payload["start"]),
            fired=datetime.fromisoformat(payload["fired"]),
            end=None if end is None else datetime.fromisoformat(end),
            ended_by=payload.get("ended_by"),
        )


@dataclass(frozen=True)
class DownNotice:
    """A spell's alert: START when the hold time has passed, END when the link is no longer down."""

    edge: EpisodeEdge
    spell: DownSpell

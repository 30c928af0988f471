"""Kept for linkctl.diagnose.logscan, which imports EventKind from here; new code
imports the event vocabulary from linkctl.domain.events."""

from __future__ import annotations

from linkctl.domain.events import EventKind

__all__ = ["EventKind"]

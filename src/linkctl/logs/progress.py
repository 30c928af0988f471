"""A one-line progress bar for reading logs: how much of the input is read, on a terminal.

The caller decides whether there is a terminal to draw on (the CLI: stderr a TTY, not
under CI, not --quiet); this only draws. The line is redrawn at most ten times a second,
so that a scan of a GiB spends nothing on it, and erased when reading ends, so that what
the command prints afterwards starts on a clean line.
"""

from __future__ import annotations

import time
from collections.abc import Callable

REDRAW_S = 0.1
BAR = 24


class Progress:
    """Bytes read of `total` (None when unknown: stdin, a .gz whose size says nothing of
    its contents), drawn through `write` as one carriage-returned line."""

    def __init__(
        self, total: int | None, write: Callable[[str], None], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.total = total
        self.done = 0
        self._write = write
        self._clock = clock
        self._started = clock()
        self._drawn_at: float | None = None
        self._name = ""
        self._shown = False

    def reading(self, name: str) -> None:
        """The file now read (its name leads the line)."""
        self._name = name
        self._draw()

    def advance(self, nbytes: int) -> None:
        self.done += nbytes
        now = self._clock()
        if self._drawn_at is None or now - self._drawn_at >= REDRAW_S:
            self._draw(now)

    def close(self) -> None:
        """Erase the line (nothing to erase if it was never drawn)."""
        if self._shown:
            self._write("\r\x1b[K")
            self._shown = False

    def line(self, now: float | None = None) -> str:
        """The text of the bar as it stands."""
        elapsed = (now if now is not None else self._clock()) - self._started
        read = _size(self.done)
        if not self.total:
            return f"reading {self._name}  {read}  {elapsed:.1f} s"
        share = min(self.done / self.total, 1.0)
        filled = round(share * BAR)
        bar = "#" * filled + "." * (BAR - filled)
        return f"reading {self._name}  [{bar}] {share * 100:3.0f} %  {read} of {_size(self.total)}  {elapsed:.1f} s"

    def _draw(self, now: float | None = None) -> None:
        now = now if now is not None else self._clock()
        self._drawn_at = now
        self._write("\r\x1b[K" + self.line(now))
        self._shown = True


def _size(nbytes: int) -> str:
    if nbytes >= 1 << 30:
        return f"{nbytes / (1 << 30):.2f} GiB"
    if nbytes >= 1 << 20:
        return f"{nbytes / (1 << 20):.0f} MiB"
    return f"{nbytes / 1024:.0f} KiB"

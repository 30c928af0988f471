"""What a capture's stamp says: a date and time from a regex's groups, and the year a
year-less syslog stamp belongs to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

MONTHS = {
    m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)
}


@dataclass(frozen=True, slots=True)
class YearHint:
    """Where a year-less syslog stamp takes its year: `--year`, else the file's mtime
    (a stamp later than the mtime belongs to the year before: the file was written
    across New Year)."""

    year: int | None = None
    reference: datetime | None = None

    def resolve(self, month: int, day: int) -> int:
        if self.year is not None:
            return self.year
        ref = self.reference or datetime.now()
        year = ref.year
        try:
            if datetime(year, month, day) > ref + timedelta(days=1):
                year -= 1
        except ValueError:  # 29 Feb in a year without it
            year -= 1
        return year


def stamp_datetime(year: int, month: int, day: int, m: re.Match[str], tz: str | None = None) -> datetime | None:
    frac = (m["frac"] or "0")[:6].ljust(6, "0")
    try:
        when = datetime(year, month, day, int(m["h"]), int(m["mi"]), int(m["s"]), int(frac))
    except ValueError:
        return None
    if tz:
        when = when.replace(tzinfo=UTC if tz == "Z" else _offset(tz))
    return when


def _offset(tz: str) -> timezone:
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))

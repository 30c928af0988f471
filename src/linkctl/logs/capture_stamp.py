"""What a capture's stamp says: a date and time from a regex's groups, and the year a
year-less syslog stamp belongs to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

# glibc's abbreviated month names (%b), which journalctl's short output and `dmesg -T` print in the
# user's locale ("Dez 07 13:27:13 host kernel: ...", "[sam. mars 30 06:32:45 2024] ..."): English,
# German, French, Spanish, Italian, Portuguese, Dutch, Polish, Czech, Turkish, Russian, Swedish;
# Chinese, Japanese and Korean print the number ("3月", "3월"). No word names two months.
_MONTH_WORDS = (
    "jan jän janv. ene gen sty led oca янв",
    "feb févr. fev lut úno şub фев",
    "mar mär mars mrt bře мар",
    "apr avr. avril abr kwi dub nis апр",
    "may mai mag maj mei kvě haz мая май",
    "jun juin giu cze čen июн",
    "jul juil. lug lip čec tem июл",
    "aug août ago sie srp ağu авг",
    "sep sept. set wrz zář eyl сен",
    "oct okt ott out paź říj eki окт",
    "nov lis kas ноя",
    "dec dez déc. dic gru pro ara дек",
)
MONTHS = {word: number for number, words in enumerate(_MONTH_WORDS, 1) for word in words.split()}
# A word where a stamp has its month, looked up after the match: an alternation of the 110 words
# would be tried word by word on every candidate line, before the first character tells.
MONTH_WORD = r"[^\W\d_]{3,5}\.?|\d{1,2}[月월]"


def month_number(word: str) -> int | None:
    """The month a stamp's word (MONTH_WORD) names; None for a word that names none."""
    if word[-1] in "月월":
        return int(word[:-1])
    return MONTHS.get(word.lower())


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

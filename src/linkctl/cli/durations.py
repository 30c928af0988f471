"""Options that are a number of seconds: refused, with their range, before anything is read or changed.

A float option takes `inf`, `nan`, `1e300` and negative numbers. None of them is a wait: `try --timeout
inf` once made its change, then died of an OverflowError in select() (and so did its guardian), leaving
the change unconfirmed with nothing to roll it back; `--timeout 0` made the change only to undo it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

DAY = 86400.0  # longer than any trial or lock wait a person means; far below what select() and setitimer take
HOUR = 3600.0

Check = Callable[[typer.CallbackParam, float | None], float | None]


def seconds(low: float, high: float, low_included: bool = True, what: str = "") -> Check:
    """A typer callback: the value when it is a number of seconds in range, else a usage error naming
    the option, the value and the range. `what` says what `low` means, when it means something."""
    meaning = f" ({what})" if what else ""
    low_words = f"from {low:g}{meaning} to" if low_included else f"more than {low:g} and at most"
    span = f"{low_words} {high:g} ({_span(high)})"

    def check(param: typer.CallbackParam, value: float | None) -> float | None:
        if value is None:  # an optional duration not given
            return value
        above = value >= low if low_included else value > low
        if not (above and value <= high):  # NaN fails both comparisons
            words = f"{value:g} seconds is not a wait linkctl can keep: give {span}; nothing was changed"
            raise typer.BadParameter(words)
        return value

    return check


def _span(high: float) -> str:
    return "a day" if high == DAY else "an hour" if high == HOUR else f"{high:g} s"


TIMEOUT = seconds(0, DAY, low_included=False)
STABLE_FOR = seconds(0, DAY, what="no carrier watch")
WAIT = seconds(0, DAY, what="refuse at once")
INTERVAL = seconds(0, HOUR)
KERNEL_DEBUG = seconds(0, HOUR, low_included=False)

# The readers of the store (history, status, report, diagnose); the defaults are store/read_bound.py's,
# written out here as the CLI loads no store module before a command runs.
STORE_TIMEOUT_ENV = "LINKCTL_STORE_TIMEOUT"
StoreTimeout = Annotated[
    float | None,
    typer.Option(
        "--store-timeout",
        envvar=STORE_TIMEOUT_ENV,
        metavar="SECONDS",
        callback=TIMEOUT,
        help="seconds a read waits for the store before giving up: a PostgreSQL server "
        "(default 60) that does not answer, a SQLite file another process holds locked (default 10)",
    ),
]

"""Diagnose's meaning of "flapping": repeated carrier loss.

linkctl has three definitions of a flapping link, each under its own name in every report
(README, "Flapping: three rules, three names"), because each looks at different evidence:

- "flapping now" (`linkctl.watch.flap`): live transitions, a rate rule and Nagios's
  hysteresis; a flap episode opens and closes as the link moves.
- the log report's verdict "flapping" (`linkctl.logs.analysis`): link-downs in a kernel
  log grouped into down bursts by the gap between them.
- this one, "repeated carrier loss", for a look at one link now: any of three signs. It
  counts watch's flap episodes as a sign rather than re-deciding them.

Audit (the kernel's counter) and diagnose (every sign) apply it through these names, so
the same link gets the same verdict in both.
"""

from __future__ import annotations

from dataclasses import dataclass

RULE = "repeated-carrier-loss"

# Link-downs in the kernel log over the window read. Unlike the log report there is no
# gap: one look at one link asks whether it went down more than once, not how often.
LOG_DOWNS = 2
# The kernel's carrier_down_count. A NIC counts one carrier loss at probe time; two more
# mean it went away by itself (or was taken down by hand, which the evidence shows and
# the reader can judge).
COUNTER_DOWNS = 3


# The rule as the text report states it.
WORDS = (
    f"{LOG_DOWNS}+ link-downs in the kernel log, {COUNTER_DOWNS}+ carrier losses counted by the kernel, "
    "or a flap episode in the watch store"
)


def by_counter(carrier_down_count: int | None) -> bool:
    return (carrier_down_count or 0) >= COUNTER_DOWNS


def by_log(log_link_down: int) -> bool:
    return log_link_down >= LOG_DOWNS


@dataclass(frozen=True)
class FlapSigns:
    """What the rule read of one link, and its verdict."""

    carrier_down_count: int
    carrier_changes: int | None
    log_link_down: int
    log_source: str
    store_episodes: int | None  # None: no watch store was read

    @property
    def flapping(self) -> bool:
        by_store = (self.store_episodes or 0) > 0
        return by_log(self.log_link_down) or by_counter(self.carrier_down_count) or by_store

    def to_json(self) -> dict[str, object]:
        return {
            "carrier_down_count": self.carrier_down_count,
            "carrier_changes": self.carrier_changes,
            "log_link_down": self.log_link_down,
            "log_source": self.log_source,
            "store_episodes": self.store_episodes if self.store_episodes is not None else "not available",
            "flapping": self.flapping,
            # which of linkctl's definitions made the verdict: the other two are watch's and the log report's
            "rule": RULE,
        }

"""A watcher stand-in that records a flapping link forever, for the kill -9 test.

Run as: python writer_proc.py STORE_URL STEPS. Step i is the kernel's state after
i carrier transitions of link eth0 (counters up = 1 + i // 2, down = (i + 1) // 2).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

from linkctl.domain.events import CarrierCounters
from linkctl.store import open_store
from linkctl.watch.core import DumpReason, WatchCore
from linkctl.watch.transitions import LinkMessage

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def kernel_at(step: int) -> LinkMessage:
    up, down = 1 + step // 2, (step + 1) // 2
    return LinkMessage(
        time=T0 + timedelta(seconds=step),
        netns=None,
        ifindex=7,
        ifname="eth0",
        admin_up=True,
        carrier=up > down,
        counters=CarrierCounters(up + down, up, down),
    )


def main() -> None:
    store = open_store(sys.argv[1])
    steps = int(sys.argv[2])
    core = WatchCore(known=store.last_known(), open_episodes=store.open_episodes())
    store.record(core.on_dump(None, [kernel_at(0)], T0, DumpReason.STARTUP))
    for step in range(1, steps + 1):
        store.record(core.on_link(kernel_at(step)), ["hook"])


if __name__ == "__main__":
    main()

"""Builders shared by the watch tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from linkctl.domain.events import CarrierCounters
from linkctl.watch.transitions import LinkMessage

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def msg(
    seconds: float,
    up: int,
    down: int,
    *,
    carrier: bool | None = None,
    admin_up: bool = True,
    ifindex: int = 7,
    ifname: str = "eth0",
    netns: str | None = None,
    stats: dict[str, int] | None = None,
) -> LinkMessage:
    """A message whose carrier follows the counters unless told (up > down: carrier on)."""
    on = up > down if carrier is None else carrier
    return LinkMessage(
        time=at(seconds),
        netns=netns,
        ifindex=ifindex,
        ifname=ifname,
        admin_up=admin_up,
        carrier=on,
        counters=CarrierCounters(changes=up + down, up=up, down=down),
        stats=stats,
    )


def flapping(changes: int = 6, every: int = 1) -> list[LinkMessage]:
    """A link that was up (carrier counted up once) losing and regaining its carrier in turn,
    `changes` times: one message a change, the first at second 1, then `every` seconds apart."""
    up, down = 1, 0
    messages = []
    for i in range(changes):
        if i % 2 == 0:
            down += 1
        else:
            up += 1
        messages.append(msg(1 + i * every, up, down))
    return messages

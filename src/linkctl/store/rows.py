"""The store's rows and the records they hold: the column lists, and the conversions at the
store's boundary (the host's namespace is "" in a column and None in a record)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from linkctl.domain.episodes import FlapEpisode, FlapTrigger
from linkctl.domain.events import (
    CarrierCounters,
    CounterSnapshot,
    DriverWords,
    Duplex,
    EventKind,
    EventSource,
    FlowControl,
    KnownLink,
    LinkState,
    SnapshotReason,
)
from linkctl.store.records import HistoryRow, LinkStatus, QueuedAlert, column, from_us, netns_of, to_us
from linkctl.store.schema import STATS_COLUMNS

Row = Sequence[Any]

EVENT_COLUMNS = (
    "event_key, time_us, netns, ifindex, ifname, kind, state, source, transitions, "
    "carrier_changes, carrier_up, carrier_down, epoch, detail, "
    "driver_text, driver_name, speed_mbps, duplex, flow_control"
)
LINK_COLUMNS = (
    "netns, ifindex, ifname, epoch, state, since_us, carrier_changes, carrier_up, "
    "carrier_down, flapping, present, updated_us"
)
EPISODE_COLUMNS = (
    "episode_key, netns, ifindex, ifname, start_us, end_us, cleared_us, transitions, "
    "down_seconds, flap_trigger, peak_percent"
)
# Written after each table's own columns; readers select `host` last.
HOSTED = "host, machine_id"
ALERT_COLUMNS = (
    "id, alert_key, receiver, episode_key, edge, netns, ifname, payload, created_us, state, "
    "attempts, next_attempt_us, last_error"
)


def words_row(words: DriverWords | None) -> tuple[Any, ...]:
    if words is None:
        return (None, None, None, None, None)
    duplex = words.duplex.value if words.duplex else None
    flow = words.flow_control.value if words.flow_control else None
    return (words.text, words.driver, words.speed_mbps, duplex, flow)


def _words(row: Row) -> DriverWords | None:
    text, driver, speed, duplex, flow = row
    words = DriverWords(
        text=text,
        driver=driver,
        speed_mbps=None if speed is None else int(speed),
        duplex=Duplex(duplex) if duplex else None,
        flow_control=FlowControl(flow) if flow else None,
    )
    return None if words.empty else words


def _counters(changes: Any, up: Any, down: Any) -> CarrierCounters | None:
    if changes is None:
        return None
    return CarrierCounters(int(changes), None if up is None else int(up), None if down is None else int(down))


def history_of(row: Row) -> HistoryRow:
    return HistoryRow(
        id=int(row[0]),
        time=from_us(int(row[2])),
        netns=netns_of(row[3]),
        ifindex=int(row[4]),
        ifname=row[5],
        event=EventKind(row[6]),
        state=LinkState(row[7]),
        source=EventSource(row[8]),
        transitions=int(row[9]),
        carrier=_counters(row[10], row[11], row[12]),
        detail=row[14],
        driver=_words(row[15:20]),
        host=row[20],
    )


def known_of(row: Row) -> KnownLink:
    return KnownLink(
        netns=netns_of(row[0]),
        ifindex=int(row[1]),
        ifname=row[2],
        epoch=int(row[3]),
        state=LinkState(row[4]),
        since=from_us(int(row[5])),
        counters=_counters(row[6], row[7], row[8]),
        flapping=bool(row[9]),
        netns_id=row[13],
    )


def status_of(row: Row) -> LinkStatus:
    counters = _counters(row[6], row[7], row[8])
    return LinkStatus(
        netns=netns_of(row[0]),
        ifindex=int(row[1]),
        ifname=row[2],
        state=LinkState(row[4]),
        since=from_us(int(row[5])),
        carrier_changes=counters.changes if counters else None,
        flapping=bool(row[9]),
        present=bool(row[10]),
        host=row[12],
        epoch=int(row[3]),
    )


def episode_row(ep: FlapEpisode) -> tuple[Any, ...]:
    return (
        ep.key,
        column(ep.netns),
        ep.ifindex,
        ep.ifname,
        to_us(ep.start),
        to_us(ep.end) if ep.end else None,
        to_us(ep.cleared_at) if ep.cleared_at else None,
        ep.transitions,
        float(ep.down_seconds),
        ep.trigger.value,
        float(ep.peak_percent),
    )


def episode_of(row: Row) -> FlapEpisode:
    return FlapEpisode(
        netns=netns_of(row[1]),
        ifindex=int(row[2]),
        ifname=row[3],
        start=from_us(int(row[4])),
        end=None if row[5] is None else from_us(int(row[5])),
        cleared_at=None if row[6] is None else from_us(int(row[6])),
        transitions=int(row[7]),
        down_seconds=float(row[8]),
        trigger=FlapTrigger(row[9]),
        peak_percent=float(row[10]),
    )


def snapshot_of(row: Row) -> CounterSnapshot:
    stats = {c: int(v) for c, v in zip(STATS_COLUMNS, row[5 : 5 + len(STATS_COLUMNS)], strict=True)}
    ethtool_text = row[5 + len(STATS_COLUMNS)]
    return CounterSnapshot(
        time=from_us(int(row[0])),
        netns=netns_of(row[1]),
        ifindex=int(row[2]),
        ifname=row[3],
        reason=SnapshotReason(row[4]),
        ethtool=json.loads(ethtool_text) if ethtool_text else None,
        **stats,
    )


def alert_of(row: Row) -> QueuedAlert:
    return QueuedAlert(
        id=int(row[0]),
        alert_key=row[1],
        receiver=row[2],
        episode_key=row[3],
        edge=row[4],
        netns=netns_of(row[5]),
        ifname=row[6],
        payload=json.loads(row[7]),
        created=from_us(int(row[8])),
        state=row[9],
        attempts=int(row[10]),
        next_attempt=from_us(int(row[11])),
        last_error=row[12],
        host=row[13],
    )

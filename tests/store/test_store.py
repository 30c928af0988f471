from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from linkctl.domain.episodes import EpisodeEdge, FlapEpisode, FlapNotice, FlapTrigger
from linkctl.domain.events import (
    CounterSnapshot,
    DriverWords,
    Duplex,
    EventKind,
    FlowControl,
    LinkState,
    SnapshotReason,
)
from linkctl.store import (
    AlertState,
    BadSince,
    SqlStore,
    StoreError,
    open_store,
    parse_since,
    sqlite_path,
)
from linkctl.store.schema import LATEST
from linkctl.watch.core import DumpReason, WatchCore, WatchOutput
from linkctl.watch.flap import FlapConfig
from linkctl.watch.kernel_log import KernelLogRecord

from ..watch.helpers import at, flapping, msg


def feed(core: WatchCore, store: SqlStore, out: WatchOutput, receivers: list[str] | None = None) -> WatchOutput:
    store.record(out, receivers or [])
    return out


def test_migrations_are_recorded_and_idempotent(store: SqlStore, store_url: str) -> None:
    assert store.schema_version() == LATEST
    assert store.migrate() == LATEST  # nothing left to do
    again = open_store(store_url)
    try:
        assert again.schema_version() == LATEST
    finally:
        again.close()


def test_a_newer_schema_is_refused(store: SqlStore, store_url: str) -> None:
    with store._tx() as cur:
        cur.execute(
            "INSERT INTO schema_version (version, name, applied_us) VALUES (?, ?, ?)",
            (LATEST + 1, "from the future", 0),
        )
    with pytest.raises(StoreError, match="newer than this linkctl"):
        open_store(store_url)


def test_events_round_trip_to_history_json(store: SqlStore) -> None:
    core = WatchCore()
    feed(core, store, core.on_dump(None, [msg(0, 1, 0)], at(0), DumpReason.STARTUP))
    feed(core, store, core.on_link(msg(1, 1, 1)))
    feed(core, store, core.on_link(msg(2, 2, 1)))
    feed(core, store, core.on_link(msg(3, 3, 2)))  # coalesced down+up
    rows = [r.to_json() for r in store.history()]
    assert [(r["event"], r["transitions"], r["carrier_changes"]) for r in rows] == [
        ("link_down", 1, 2),
        ("link_up", 1, 3),
        ("link_up", 2, 5),
    ]
    first = rows[0]
    assert first["time"] == at(1).isoformat()
    assert datetime.fromisoformat(first["time"]).tzinfo is not None
    assert (first["netns"], first["ifname"], first["source"]) == ("", "eth0", "netlink")
    assert rows[2]["coalesced"] is True
    assert {
        "time",
        "netns",
        "ifname",
        "event",
        "carrier_changes",
        "transitions",
        "source",
        "driver",
    } <= set(first)


def test_recording_the_same_output_twice_does_not_duplicate(store: SqlStore) -> None:
    core = WatchCore()
    feed(core, store, core.on_dump(None, [msg(0, 1, 0)], at(0), DumpReason.STARTUP))
    out = core.on_link(msg(1, 1, 1))
    store.record(out)
    store.record(out)
    assert store.count_events() == 1


def test_kernel_words_joined_after_the_event(store: SqlStore) -> None:
    core = WatchCore()
    feed(core, store, core.on_dump(None, [msg(0, 1, 0)], at(0), DumpReason.STARTUP))
    feed(core, store, core.on_link(msg(1, 1, 1)))
    words = DriverWords(text="e1000e: eth0 NIC Link is Down", driver="e1000e")
    feed(
        core,
        store,
        core.on_kernel_log(KernelLogRecord(at(1.2), "eth0", EventKind.LINK_DOWN, words)),
    )
    up_words = DriverWords(
        text="e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx",
        driver="e1000e",
        speed_mbps=1000,
        duplex=Duplex.FULL,
        flow_control=FlowControl.RX_TX,
    )
    # This one comes first: the netlink event picks it up as it is recorded.
    feed(
        core,
        store,
        core.on_kernel_log(KernelLogRecord(at(1.9), "eth0", EventKind.LINK_UP, up_words)),
    )
    feed(core, store, core.on_link(msg(2, 2, 1)))
    rows = [r.to_json() for r in store.history("eth0")]
    assert rows[0]["driver"]["text"] == words.text
    assert rows[1]["driver"] == {
        "text": up_words.text,
        "driver": "e1000e",
        "speed_mbps": 1000,
        "duplex": "full",
        "flow_control": "rx/tx",
    }


def test_history_filters(store: SqlStore) -> None:
    core = WatchCore()
    dump = [
        msg(0, 1, 0, ifindex=2, ifname="eth0"),
        msg(0, 1, 0, ifindex=3, ifname="eth1"),
        msg(0, 1, 0, ifindex=2, ifname="eth0", netns="blue"),
    ]
    feed(core, store, core.on_dump(None, dump[:2], at(0), DumpReason.STARTUP))
    feed(core, store, core.on_dump("blue", dump[2:], at(0), DumpReason.STARTUP))
    feed(core, store, core.on_link(msg(10, 1, 1, ifindex=2, ifname="eth0")))
    feed(core, store, core.on_link(msg(20, 1, 1, ifindex=3, ifname="eth1")))
    feed(core, store, core.on_link(msg(30, 1, 1, ifindex=2, ifname="eth0", netns="blue")))
    assert len(store.history()) == 3
    assert [r.netns for r in store.history("eth0")] == [None, "blue"]
    assert len(store.history("eth*")) == 3
    assert [r.ifname for r in store.history(since=at(15))] == ["eth1", "eth0"]
    assert [r.netns for r in store.history(netns="blue")] == ["blue"]
    assert [r.time for r in store.history(limit=1)] == [at(30)]


def test_status_shows_state_since_and_flapping(store: SqlStore) -> None:
    core = WatchCore(FlapConfig(nagios_enabled=False))
    feed(core, store, core.on_dump(None, [msg(0, 1, 0)], at(0), DumpReason.STARTUP))
    for message in flapping():
        feed(core, store, core.on_link(message), ["mail"])
    (status,) = store.status()
    assert (status.ifname, status.state, status.flapping) == ("eth0", LinkState.UP, True)
    assert status.since == at(6)
    assert status.to_json()["since"] == at(6).isoformat()
    (episode,) = store.open_episodes()
    assert episode.transitions == 6
    out = feed(core, store, core.tick(at(400)), ["mail"])
    assert [n.edge for n in out.notices] == [EpisodeEdge.END]
    assert store.open_episodes() == []
    (closed,) = store.episodes("eth0")
    assert closed.end == at(6) and closed.cleared_at == at(400)
    assert store.status()[0].flapping is False
    assert [(a.edge, a.receiver) for a in store.alerts()] == [("start", "mail"), ("end", "mail")]


def test_removed_links_leave_status_and_resume(store: SqlStore) -> None:
    core = WatchCore()
    feed(core, store, core.on_dump(None, [msg(0, 1, 0)], at(0), DumpReason.STARTUP))
    feed(core, store, core.on_link_gone(None, 7, at(5)))
    assert store.last_known() == []
    assert store.status() == []
    (absent,) = store.status(include_absent=True)
    assert absent.state is LinkState.ABSENT
    assert [r.event for r in store.history()] == [EventKind.LINK_REMOVED]


def test_restart_records_a_gap_with_its_transition_count(store: SqlStore) -> None:
    core = WatchCore()
    feed(core, store, core.on_dump(None, [msg(0, 1, 0)], at(0), DumpReason.STARTUP))
    feed(core, store, core.on_link(msg(1, 1, 1)))
    # The watcher stops; the kernel counts 7 more transitions; it starts again.
    restarted = WatchCore(known=store.last_known(), open_episodes=store.open_episodes())
    feed(restarted, store, restarted.on_dump(None, [msg(100, 5, 4)], at(100), DumpReason.STARTUP))
    rows = store.history()
    assert [(r.event, r.transitions, r.source.value) for r in rows] == [
        (EventKind.LINK_DOWN, 1, "netlink"),
        (EventKind.GAP, 7, "resync"),
    ]
    assert sum(r.transitions for r in rows) == 9 - 1


def test_first_start_records_a_baseline_only(store: SqlStore) -> None:
    core = WatchCore()
    feed(core, store, core.on_dump(None, [msg(0, 9, 8)], at(0), DumpReason.STARTUP))
    assert store.history() == []
    assert [k.counters.changes for k in store.last_known() if k.counters] == [17]


def test_snapshots_round_trip(store: SqlStore) -> None:
    snap = CounterSnapshot(
        at(0),
        None,
        "eth0",
        7,
        SnapshotReason.PERIODIC,
        rx_bytes=2**40,
        rx_crc_errors=3,
        ethtool={"rx_missed": 4},
    )
    store.record(WatchOutput(snapshots=[snap, snap]))
    assert store.snapshots("eth0") == [snap]


def test_down_event_snapshots_the_counters(store: SqlStore) -> None:
    core = WatchCore()
    feed(core, store, core.on_dump(None, [msg(0, 1, 0)], at(0), DumpReason.STARTUP))
    feed(core, store, core.on_link(msg(1, 1, 1, stats={"rx_bytes": 10, "tx_carrier_errors": 2})))
    (snap,) = store.snapshots()
    assert (snap.reason, snap.rx_bytes, snap.tx_carrier_errors) == (SnapshotReason.LINK_DOWN, 10, 2)


def test_alert_queue(store: SqlStore) -> None:
    ep = FlapEpisode(None, "eth0", 7, at(0), 6, 1.5, FlapTrigger.RATE)
    out = WatchOutput(notices=[FlapNotice(EpisodeEdge.START, ep)], episodes=[ep])
    store.record(out, ["mail", "hook"])
    store.record(out, ["mail", "hook"])  # idempotent
    due = store.due_alerts(at(0) + timedelta(days=365 * 100))
    assert [(a.receiver, a.edge, a.state) for a in due] == [
        ("mail", "start", "pending"),
        ("hook", "start", "pending"),
    ]
    assert due[0].payload["transitions"] == 6
    retry_at = datetime.now(UTC) + timedelta(hours=1)
    store.mark_alert_key(
        due[0].alert_key,
        AlertState.PENDING,
        at(1),
        attempts=1,
        next_attempt=retry_at,
        error="connection refused",
    )
    store.mark_alert_key(due[1].alert_key, AlertState.SENT, datetime.now(UTC))
    assert [a.receiver for a in store.due_alerts(datetime.now(UTC))] == []
    (waiting,) = store.alerts(AlertState.PENDING)
    assert (waiting.attempts, waiting.last_error) == (1, "connection refused")
    assert store.count_sent_starts("hook", None, "eth0", datetime.now(UTC) - timedelta(hours=1)) == 1
    assert store.alert_state(f"{ep.key}/start/hook") == AlertState.SENT


def test_readers_see_committed_data_while_a_writer_holds_a_transaction(store_url: str) -> None:
    writer = open_store(store_url)
    reader = open_store(store_url, readonly=True)
    try:
        core = WatchCore()
        writer.record(core.on_dump(None, [msg(0, 1, 0)], at(0), DumpReason.STARTUP))
        writer.record(core.on_link(msg(1, 1, 1)))
        with writer._tx() as cur:
            cur.execute("UPDATE links SET ifname = ? WHERE ifindex = ?", ("busy", 7))
            # The write transaction is open and uncommitted; the reader is not blocked.
            assert [r.event for r in reader.history()] == [EventKind.LINK_DOWN]
            assert [s.ifname for s in reader.status()] == ["eth0"]
        assert [s.ifname for s in reader.status()] == ["busy"]
    finally:
        reader.close()
        writer.close()


def test_readonly_store_must_exist(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store at"):
        open_store(f"sqlite://{tmp_path}/missing.db", readonly=True)


def test_unknown_scheme_is_refused() -> None:
    with pytest.raises(StoreError, match="unknown scheme"):
        open_store("mysql://user:secret@host/db")


def test_password_in_url_is_not_echoed() -> None:
    with pytest.raises(StoreError) as info:
        open_store("mysql://user:secret@host/db")
    assert "secret" not in str(info.value)


def test_sqlite_url_forms() -> None:
    assert sqlite_path("sqlite:///var/lib/linkctl/events.db") == "/var/lib/linkctl/events.db"
    assert sqlite_path("sqlite://rel.db") == "rel.db"
    assert sqlite_path("/tmp/x.db") == "/tmp/x.db"


def test_parse_since() -> None:
    now = datetime(2024, 5, 2, tzinfo=UTC)
    assert parse_since("24h", now) == datetime(2024, 5, 1, tzinfo=UTC)
    assert parse_since("7d", now) == datetime(2024, 4, 25, tzinfo=UTC)
    assert parse_since("30m", now) == now - timedelta(minutes=30)
    assert parse_since("2024-05-01T10:00:00+00:00") == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert parse_since("2024-05-01T10:00:00").tzinfo is not None
    with pytest.raises(BadSince, match="24h"):
        parse_since("yesterday")


def test_kmsg_only_event_is_recorded_with_words(store: SqlStore) -> None:
    core = WatchCore()
    feed(core, store, core.on_dump(None, [msg(0, 1, 0)], at(0), DumpReason.STARTUP))
    words = DriverWords(text="NETDEV WATCHDOG: eth0 (e1000e): transmit queue 0 timed out")
    feed(core, store, core.on_kernel_log(KernelLogRecord(at(3), "eth0", EventKind.TX_TIMEOUT, words)))
    (row,) = [r.to_json() for r in store.history()]
    assert (row["event"], row["source"], row["transitions"]) == ("tx_timeout", "kmsg", 0)
    assert row["driver"]["text"] == words.text


def test_sqlite_url_spellings_name_the_same_file() -> None:
    from linkctl.store.backends import sqlite_path

    assert sqlite_path("sqlite:///var/lib/linkctl/events.db") == "/var/lib/linkctl/events.db"
    assert sqlite_path("sqlite:////var/lib/linkctl/events.db") == "/var/lib/linkctl/events.db"
    assert sqlite_path("sqlite://events.db") == "events.db"

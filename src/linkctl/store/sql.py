"""The store on a DB-API connection: one implementation, two dialects.

Statements are written with ``?`` placeholders and rewritten to ``%s`` for
psycopg; ``INSERT ... ON CONFLICT`` is spelled the same by SQLite (3.24+) and
PostgreSQL. Every write of one :class:`Recordable` happens in one transaction,
together with the per-link last-known counters, so a kill -9 leaves either all
of it or none: on restart the counters tell exactly what is missing (a gap),
and the natural keys make a replayed write a no-op.
"""

from __future__ import annotations

import fnmatch
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

from linkctl.domain.episodes import FlapEpisode, FlapNotice, FlapTrigger
from linkctl.domain.events import (
    CarrierCounters,
    CounterSnapshot,
    DriverWords,
    Duplex,
    EventKind,
    EventSource,
    KnownLink,
    LinkEvent,
    LinkState,
    NetnsName,
    SnapshotReason,
)
from linkctl.store.records import (
    AlertState,
    HistoryRow,
    LinkStatus,
    QueuedAlert,
    StoreError,
    column,
    dumps,
    from_us,
    netns_of,
    to_us,
)
from linkctl.store.schema import LATEST, MIGRATIONS, SCHEMA_VERSION_TABLE, STATS_COLUMNS

Row = Sequence[Any]


class Recordable(Protocol):
    """What one `record` writes: the watcher's WatchOutput is one. Named by its shape, so
    the store does not import the watcher that imports it."""

    @property
    def empty(self) -> bool: ...
    @property
    def events(self) -> Sequence[LinkEvent]: ...
    @property
    def links(self) -> Sequence[KnownLink]: ...
    @property
    def gone(self) -> Sequence[KnownLink]: ...
    @property
    def snapshots(self) -> Sequence[CounterSnapshot]: ...
    @property
    def episodes(self) -> Sequence[FlapEpisode]: ...
    @property
    def notices(self) -> Sequence[FlapNotice]: ...
    @property
    def driver_updates(self) -> Sequence[tuple[str, DriverWords]]: ...


class Cursor(Protocol):
    def execute(self, sql: Any, params: Any = ..., /) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def fetchone(self) -> Any: ...

    @property
    def rowcount(self) -> int: ...


_EVENT_COLUMNS = (
    "event_key, time_us, netns, ifindex, ifname, kind, state, source, transitions, "
    "carrier_changes, carrier_up, carrier_down, epoch, detail, "
    "driver_text, driver_name, speed_mbps, duplex, flow_control"
)
_LINK_COLUMNS = (
    "netns, ifindex, ifname, epoch, state, since_us, carrier_changes, carrier_up, "
    "carrier_down, flapping, present, updated_us"
)
_EPISODE_COLUMNS = (
    "episode_key, netns, ifindex, ifname, start_us, end_us, cleared_us, transitions, "
    "down_seconds, flap_trigger, peak_percent"
)
_ALERT_COLUMNS = (
    "id, alert_key, receiver, episode_key, edge, netns, ifname, payload, created_us, state, "
    "attempts, next_attempt_us, last_error"
)


def _marks(count: int) -> str:
    return ", ".join("?" * count)


class SqlStore:
    """History, last-known state and the alert queue, on SQLite or PostgreSQL.

    Safe to share between threads (one lock around the connection); open a
    second store for readers in other processes: SQLite's WAL and PostgreSQL's
    MVCC let them read while the watcher writes.
    """

    dialect = "sqlite"

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._lock = threading.RLock()

    # -- plumbing -------------------------------------------------------------

    def _sql(self, sql: str) -> str:
        return sql

    @contextmanager
    def _tx(self) -> Iterator[Cursor]:
        raise NotImplementedError

    @contextmanager
    def _read(self) -> Iterator[Cursor]:
        with self._lock:
            cur = self._conn.cursor()
            try:
                yield _Rewriting(cur, self._sql)
            finally:
                cur.close()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- migrations -----------------------------------------------------------

    def _lock_migrations(self, cur: Cursor) -> None:
        """Serialise concurrent migrators (SQLite's BEGIN IMMEDIATE already does)."""

    def migrate(self) -> int:
        """Bring the schema to the latest version; returns the version found before."""
        with self._tx() as cur:
            self._lock_migrations(cur)
            cur.execute(SCHEMA_VERSION_TABLE)
            cur.execute("SELECT MAX(version) FROM schema_version")
            found = cur.fetchone()[0] or 0
            if found > LATEST:
                raise StoreError(
                    f"store schema version {found} is newer than this linkctl knows "
                    f"({LATEST}): upgrade linkctl, or point --store at another database"
                )
            for migration in MIGRATIONS:
                if migration.version <= found:
                    continue
                for statement in migration.render(self.dialect):
                    cur.execute(statement)
                cur.execute(
                    "INSERT INTO schema_version (version, name, applied_us) VALUES (?, ?, ?)",
                    (migration.version, migration.name, to_us(datetime.now(UTC))),
                )
        return int(found)

    def schema_version(self) -> int:
        with self._read() as cur:
            cur.execute("SELECT MAX(version) FROM schema_version")
            return int(cur.fetchone()[0] or 0)

    # -- writing --------------------------------------------------------------

    def record(self, out: Recordable, receivers: Sequence[str] = ()) -> None:
        """Persist one output of the WatchCore atomically, queueing its alerts."""
        if out.empty:
            return
        now = to_us(datetime.now(UTC))
        with self._tx() as cur:
            for link in out.gone:
                cur.execute(
                    "UPDATE links SET present = 0, state = ?, flapping = 0, updated_us = ? "
                    "WHERE netns = ? AND ifindex = ? AND epoch = ?",
                    (LinkState.ABSENT.value, now, column(link.netns), link.ifindex, link.epoch),
                )
            for link in out.links:
                self._upsert_link(cur, link, now)
            for event in out.events:
                self._insert_event(cur, event)
            for key, words in out.driver_updates:
                cur.execute(
                    "UPDATE events SET driver_text = ?, driver_name = ?, speed_mbps = ?, "
                    "duplex = ?, flow_control = ? WHERE event_key = ? AND driver_text IS NULL",
                    (*_words_row(words), key),
                )
            for snap in out.snapshots:
                self._insert_snapshot(cur, snap)
            for episode in out.episodes:
                self._upsert_episode(cur, episode)
            for notice in out.notices:
                for receiver in receivers:
                    self._enqueue(cur, notice, receiver, now)

    def _upsert_link(self, cur: Cursor, link: KnownLink, now: int) -> None:
        c = link.counters
        cur.execute(
            f"INSERT INTO links ({_LINK_COLUMNS}) VALUES ({_marks(12)}) "
            "ON CONFLICT (netns, ifindex) DO UPDATE SET ifname = excluded.ifname, "
            "epoch = excluded.epoch, state = excluded.state, since_us = excluded.since_us, "
            "carrier_changes = excluded.carrier_changes, carrier_up = excluded.carrier_up, "
            "carrier_down = excluded.carrier_down, flapping = excluded.flapping, "
            "present = 1, updated_us = excluded.updated_us",
            (
                column(link.netns),
                link.ifindex,
                link.ifname,
                link.epoch,
                link.state.value,
                to_us(link.since),
                c.changes if c else None,
                c.up if c else None,
                c.down if c else None,
                int(link.flapping),
                1,
                now,
            ),
        )

    def _insert_event(self, cur: Cursor, ev: LinkEvent) -> None:
        c = ev.carrier
        cur.execute(
            f"INSERT INTO events ({_EVENT_COLUMNS}) VALUES ({_marks(19)}) ON CONFLICT (event_key) DO NOTHING",
            (
                ev.key,
                to_us(ev.time),
                column(ev.netns),
                ev.ifindex,
                ev.ifname,
                ev.kind.value,
                ev.state.value,
                ev.source.value,
                ev.transitions,
                c.changes if c else None,
                c.up if c else None,
                c.down if c else None,
                ev.epoch,
                ev.detail,
                *_words_row(ev.driver),
            ),
        )

    def _insert_snapshot(self, cur: Cursor, snap: CounterSnapshot) -> None:
        stats = snap.stats()
        ethtool = dumps(snap.ethtool) if snap.ethtool is not None else None
        cur.execute(
            f"INSERT INTO counter_snapshots (time_us, netns, ifindex, ifname, reason, "
            f"{', '.join(STATS_COLUMNS)}, ethtool) VALUES ({_marks(6 + len(STATS_COLUMNS))}) "
            "ON CONFLICT (netns, ifindex, time_us, reason) DO NOTHING",
            (
                to_us(snap.time),
                column(snap.netns),
                snap.ifindex,
                snap.ifname,
                snap.reason.value,
                *(stats[c] for c in STATS_COLUMNS),
                ethtool,
            ),
        )

    def _upsert_episode(self, cur: Cursor, ep: FlapEpisode) -> None:
        cur.execute(
            f"INSERT INTO flap_episodes ({_EPISODE_COLUMNS}) VALUES ({_marks(11)}) "
            "ON CONFLICT (episode_key) DO UPDATE SET ifname = excluded.ifname, "
            "end_us = excluded.end_us, cleared_us = excluded.cleared_us, "
            "transitions = excluded.transitions, down_seconds = excluded.down_seconds, "
            "flap_trigger = excluded.flap_trigger, peak_percent = excluded.peak_percent",
            _episode_row(ep),
        )

    def _enqueue(self, cur: Cursor, notice: FlapNotice, receiver: str, now: int) -> None:
        ep = notice.episode
        key = f"{ep.key}/{notice.edge.value}/{receiver}"
        cur.execute(
            "INSERT INTO alert_queue (alert_key, receiver, episode_key, edge, netns, ifname, "
            f"payload, created_us, state, attempts, next_attempt_us) VALUES ({_marks(11)}) "
            "ON CONFLICT (alert_key) DO NOTHING",
            (
                key,
                receiver,
                ep.key,
                notice.edge.value,
                column(ep.netns),
                ep.ifname,
                dumps(ep.to_json()),
                now,
                AlertState.PENDING,
                0,
                now,
            ),
        )

    # -- reading: restart resume ----------------------------------------------

    def last_known(self) -> list[KnownLink]:
        """Per-link counters as last committed: what a restarted watcher starts from."""
        with self._read() as cur:
            cur.execute(f"SELECT {_LINK_COLUMNS} FROM links WHERE present = 1 ORDER BY netns, ifindex")
            return [_known(row) for row in cur.fetchall()]

    def open_episodes(self) -> list[FlapEpisode]:
        with self._read() as cur:
            cur.execute(f"SELECT {_EPISODE_COLUMNS} FROM flap_episodes WHERE cleared_us IS NULL ORDER BY start_us")
            return [_episode(row) for row in cur.fetchall()]

    # -- reading: history and status ------------------------------------------

    def history(
        self,
        iface: str | None = None,
        since: datetime | None = None,
        netns: str | None = None,
        limit: int | None = None,
    ) -> list[HistoryRow]:
        """Recorded link events, oldest first. `iface` may be a glob (eth*); `netns` is
        spelled as the column has it ("" the host's), None for every namespace."""
        where: list[str] = []
        params: list[Any] = []
        glob = iface is not None and any(ch in iface for ch in "*?[")
        if iface is not None and not glob:
            where.append("ifname = ?")
            params.append(iface)
        if since is not None:
            where.append("time_us >= ?")
            params.append(to_us(since))
        if netns is not None:
            where.append("netns = ?")
            params.append(netns)
        sql = f"SELECT id, {_EVENT_COLUMNS} FROM events"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY time_us, id"
        with self._read() as cur:
            cur.execute(sql, tuple(params))
            rows = [_history(row) for row in cur.fetchall()]
        if glob:
            assert iface is not None
            rows = [r for r in rows if fnmatch.fnmatchcase(r.ifname, iface)]
        return rows[-limit:] if limit else rows

    def status(self, include_absent: bool = False) -> list[LinkStatus]:
        sql = f"SELECT {_LINK_COLUMNS} FROM links"
        if not include_absent:
            sql += " WHERE present = 1"
        with self._read() as cur:
            cur.execute(sql + " ORDER BY netns, ifname")
            return [_status(row) for row in cur.fetchall()]

    def episodes(self, iface: str | None = None, since: datetime | None = None) -> list[FlapEpisode]:
        select = f"SELECT {_EPISODE_COLUMNS} FROM flap_episodes WHERE start_us >= ?"
        sql, params = _since_and_iface(select, since, iface)
        with self._read() as cur:
            cur.execute(sql + " ORDER BY start_us", tuple(params))
            return [_episode(row) for row in cur.fetchall()]

    def snapshots(self, iface: str | None = None, since: datetime | None = None) -> list[CounterSnapshot]:
        columns = f"time_us, netns, ifindex, ifname, reason, {', '.join(STATS_COLUMNS)}, ethtool"
        sql, params = _since_and_iface(f"SELECT {columns} FROM counter_snapshots WHERE time_us >= ?", since, iface)
        with self._read() as cur:
            cur.execute(sql + " ORDER BY time_us, id", tuple(params))
            return [_snapshot(row) for row in cur.fetchall()]

    def count_events(self) -> int:
        with self._read() as cur:
            cur.execute("SELECT COUNT(*) FROM events")
            return int(cur.fetchone()[0])

    # -- the alert queue --------------------------------------------------------

    def due_alerts(self, now: datetime, limit: int = 100) -> list[QueuedAlert]:
        with self._read() as cur:
            cur.execute(
                f"SELECT {_ALERT_COLUMNS} FROM alert_queue WHERE state = ? "
                "AND next_attempt_us <= ? ORDER BY id LIMIT ?",
                (AlertState.PENDING, to_us(now), limit),
            )
            return [_alert(row) for row in cur.fetchall()]

    def alerts(self, state: str | None = None) -> list[QueuedAlert]:
        sql = f"SELECT {_ALERT_COLUMNS} FROM alert_queue"
        params: tuple[Any, ...] = ()
        if state is not None:
            sql += " WHERE state = ?"
            params = (state,)
        with self._read() as cur:
            cur.execute(sql + " ORDER BY id", params)
            return [_alert(row) for row in cur.fetchall()]

    def alert_state(self, alert_key: str) -> str | None:
        with self._read() as cur:
            cur.execute("SELECT state FROM alert_queue WHERE alert_key = ?", (alert_key,))
            row = cur.fetchone()
            return None if row is None else str(row[0])

    def count_sent_starts(self, receiver: str, netns: NetnsName, ifname: str, since: datetime) -> int:
        """Start alerts sent for this link since `since`: the rate limiter's memory."""
        with self._read() as cur:
            cur.execute(
                "SELECT COUNT(*) FROM alert_queue WHERE receiver = ? AND netns = ? AND "
                "ifname = ? AND edge = 'start' AND state = ? AND done_us >= ?",
                (receiver, column(netns), ifname, AlertState.SENT, to_us(since)),
            )
            return int(cur.fetchone()[0])

    def mark_alert(
        self,
        alert_id: int,
        state: str,
        when: datetime,
        *,
        attempts: int | None = None,
        next_attempt: datetime | None = None,
        error: str | None = None,
    ) -> None:
        done = to_us(when) if state != AlertState.PENDING else None
        with self._tx() as cur:
            cur.execute(
                "UPDATE alert_queue SET state = ?, attempts = COALESCE(?, attempts), "
                "next_attempt_us = COALESCE(?, next_attempt_us), last_error = ?, done_us = ? "
                "WHERE id = ?",
                (
                    state,
                    attempts,
                    to_us(next_attempt) if next_attempt else None,
                    error,
                    done,
                    alert_id,
                ),
            )


class _Rewriting:
    """A cursor that rewrites ``?`` placeholders for the driver underneath."""

    def __init__(self, cur: Any, rewrite: Any) -> None:
        self._cur = cur
        self._rewrite = rewrite

    def execute(self, sql: Any, params: Any = (), /) -> Any:
        return self._cur.execute(self._rewrite(sql), params)

    def fetchall(self) -> list[Any]:
        return list(self._cur.fetchall())

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    @property
    def rowcount(self) -> int:
        return int(self._cur.rowcount)


def _words_row(words: DriverWords | None) -> tuple[Any, ...]:
    if words is None:
        return (None, None, None, None, None)
    duplex = words.duplex.value if words.duplex else None
    return (words.text, words.driver, words.speed_mbps, duplex, words.flow_control)


def _words(row: Row) -> DriverWords | None:
    text, driver, speed, duplex, flow = row
    words = DriverWords(
        text=text,
        driver=driver,
        speed_mbps=None if speed is None else int(speed),
        duplex=Duplex(duplex) if duplex else None,
        flow_control=flow,
    )
    return None if words.empty else words


def _counters(changes: Any, up: Any, down: Any) -> CarrierCounters | None:
    if changes is None:
        return None
    return CarrierCounters(int(changes), None if up is None else int(up), None if down is None else int(down))


def _history(row: Row) -> HistoryRow:
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
    )


def _known(row: Row) -> KnownLink:
    return KnownLink(
        netns=netns_of(row[0]),
        ifindex=int(row[1]),
        ifname=row[2],
        epoch=int(row[3]),
        state=LinkState(row[4]),
        since=from_us(int(row[5])),
        counters=_counters(row[6], row[7], row[8]),
        flapping=bool(row[9]),
    )


def _status(row: Row) -> LinkStatus:
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
    )


def _episode_row(ep: FlapEpisode) -> tuple[Any, ...]:
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


def _episode(row: Row) -> FlapEpisode:
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


def _snapshot(row: Row) -> CounterSnapshot:
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


def _alert(row: Row) -> QueuedAlert:
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
    )


def _since_and_iface(sql: str, since: datetime | None, iface: str | None) -> tuple[str, list[Any]]:
    """A query whose one placeholder is the start time, narrowed to one link when asked."""
    params: list[Any] = [to_us(since) if since else 0]
    if iface is not None:
        sql += " AND ifname = ?"
        params.append(iface)
    return sql, params

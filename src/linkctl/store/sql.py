"""The store on a DB-API connection: one implementation, two dialects.

Statements are written with ``?`` placeholders and rewritten to ``%s`` for
psycopg; ``INSERT ... ON CONFLICT`` is spelled the same by SQLite (3.24+) and
PostgreSQL. Every write of one :class:`Recordable` happens in one transaction,
together with the per-link last-known counters, so a kill -9 leaves either all
of it or none: on restart the counters tell exactly what is missing (a gap),
and the natural keys make a replayed write a no-op.

The connection, the migrations and the host identity are in sqlconn.py.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Protocol

from linkctl.domain.down import DownNotice
from linkctl.domain.episodes import FlapEpisode, FlapNotice
from linkctl.domain.events import (
    CounterSnapshot,
    DriverWords,
    EventKind,
    KnownLink,
    LinkEvent,
    LinkState,
    NetnsName,
)
from linkctl.store.records import (
    AlertState,
    HistoryRow,
    LinkStatus,
    QueuedAlert,
    column,
    dumps,
    to_us,
)
from linkctl.store.rows import (
    ALERT_COLUMNS,
    EPISODE_COLUMNS,
    EVENT_COLUMNS,
    HOSTED,
    LINK_COLUMNS,
    alert_of,
    episode_of,
    episode_row,
    history_of,
    known_of,
    snapshot_of,
    status_of,
    words_row,
)
from linkctl.store.schema import STATS_COLUMNS
from linkctl.store.sqlconn import Cursor, SqlConnection, _Rewriting

# Cursor and _Rewriting are backends.py's too: they stay importable from here.
__all__ = ["Cursor", "Recordable", "SqlStore", "_Rewriting"]


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
    def notices(self) -> Sequence[FlapNotice | DownNotice]: ...
    @property
    def driver_updates(self) -> Sequence[tuple[LinkEvent, DriverWords]]: ...


# The kinds whose `transitions` count the carrier's own changes: what `status` ranks by. An
# admin down or up is an operator's, not the link's.
_CARRIER_KINDS = tuple(k.value for k in EventKind if k.is_carrier and not k.is_admin)


def _marks(count: int) -> str:
    return ", ".join("?" * count)


class SqlStore(SqlConnection):
    """History, last-known state and the alert queue, on SQLite or PostgreSQL.

    Safe to share between threads (one lock around the connection); open a
    second store for readers in other processes: SQLite's WAL and PostgreSQL's
    MVCC let them read while the watcher writes.
    """

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
                    "WHERE host = ? AND netns = ? AND ifindex = ? AND epoch = ?",
                    (LinkState.ABSENT.value, now, self.host.name, column(link.netns), link.ifindex, link.epoch),
                )
            for link in out.links:
                self._upsert_link(cur, link, now)
            for event in out.events:
                self._insert_event(cur, event)
            for event, words in out.driver_updates:
                key = event.key
                cur.execute(
                    "UPDATE events SET driver_text = ?, driver_name = ?, speed_mbps = ?, "
                    "duplex = ?, flow_control = ? WHERE host = ? AND event_key = ? AND driver_text IS NULL",
                    (*words_row(words), self.host.name, key),
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
            f"INSERT INTO links ({LINK_COLUMNS}, {HOSTED}, netns_id) VALUES ({_marks(15)}) "
            "ON CONFLICT (host, netns, ifindex) DO UPDATE SET ifname = excluded.ifname, "
            "netns_id = excluded.netns_id, "
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
                *self._stamp(),
                link.netns_id,
            ),
        )

    def _insert_event(self, cur: Cursor, ev: LinkEvent) -> None:
        c = ev.carrier
        cur.execute(
            f"INSERT INTO events ({EVENT_COLUMNS}, {HOSTED}) VALUES ({_marks(21)}) "
            "ON CONFLICT (host, event_key) DO NOTHING",
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
                *words_row(ev.driver),
                *self._stamp(),
            ),
        )

    def _insert_snapshot(self, cur: Cursor, snap: CounterSnapshot) -> None:
        stats = snap.stats()
        ethtool = dumps(snap.ethtool) if snap.ethtool is not None else None
        cur.execute(
            f"INSERT INTO counter_snapshots (time_us, netns, ifindex, ifname, reason, "
            f"{', '.join(STATS_COLUMNS)}, ethtool, {HOSTED}) VALUES ({_marks(8 + len(STATS_COLUMNS))}) "
            "ON CONFLICT (host, netns, ifindex, time_us, reason) DO NOTHING",
            (
                to_us(snap.time),
                column(snap.netns),
                snap.ifindex,
                snap.ifname,
                snap.reason.value,
                *(stats[c] for c in STATS_COLUMNS),
                ethtool,
                *self._stamp(),
            ),
        )

    def _upsert_episode(self, cur: Cursor, ep: FlapEpisode) -> None:
        cur.execute(
            f"INSERT INTO flap_episodes ({EPISODE_COLUMNS}, {HOSTED}) VALUES ({_marks(13)}) "
            "ON CONFLICT (host, episode_key) DO UPDATE SET ifname = excluded.ifname, "
            "end_us = excluded.end_us, cleared_us = excluded.cleared_us, "
            "transitions = excluded.transitions, down_seconds = excluded.down_seconds, "
            "flap_trigger = excluded.flap_trigger, peak_percent = excluded.peak_percent",
            (*episode_row(ep), *self._stamp()),
        )

    def _enqueue(self, cur: Cursor, notice: FlapNotice | DownNotice, receiver: str, now: int) -> None:
        # A link-down spell queues as an episode does: keyed by spell, edge and receiver.
        ep = notice.episode if isinstance(notice, FlapNotice) else notice.spell
        key = f"{ep.key}/{notice.edge.value}/{receiver}"
        cur.execute(
            "INSERT INTO alert_queue (alert_key, receiver, episode_key, edge, netns, ifname, "
            f"payload, created_us, state, attempts, next_attempt_us, {HOSTED}) VALUES ({_marks(13)}) "
            "ON CONFLICT (host, alert_key) DO NOTHING",
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
                *self._stamp(),
            ),
        )

    # -- reading: restart resume ----------------------------------------------

    def last_known(self) -> list[KnownLink]:
        """Per-link counters as last committed: what a restarted watcher starts from."""
        with self._read() as cur:
            cur.execute(
                f"SELECT {LINK_COLUMNS}, host, netns_id FROM links WHERE host = ? AND present = 1 "
                "ORDER BY netns, ifindex",
                (self.host.name,),
            )
            return [known_of(row) for row in cur.fetchall()]

    def open_episodes(self) -> list[FlapEpisode]:
        with self._read() as cur:
            cur.execute(
                f"SELECT {EPISODE_COLUMNS} FROM flap_episodes WHERE host = ? AND cleared_us IS NULL ORDER BY start_us",
                (self.host.name,),
            )
            return [episode_of(row) for row in cur.fetchall()]

    # -- reading: history and status ------------------------------------------

    def history(
        self,
        iface: str | None = None,
        since: datetime | None = None,
        netns: str | None = None,
        limit: int | None = None,
        host: str | None = None,
    ) -> list[HistoryRow]:
        """Recorded link events, oldest first. `iface` and `host` may be globs (eth*, web-*);
        `netns` is spelled as the column has it ("" the host's), None for every namespace;
        `host` None for every host."""
        where: list[str] = []
        params: list[Any] = []
        if iface is not None and not _is_glob(iface):
            where.append("ifname = ?")
            params.append(iface)
        if host is not None and not _is_glob(host):
            where.append("host = ?")
            params.append(host)
        if since is not None:
            where.append("time_us >= ?")
            params.append(to_us(since))
        if netns is not None:
            where.append("netns = ?")
            params.append(netns)
        sql = f"SELECT id, {EVENT_COLUMNS}, host FROM events"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY time_us, id"
        with self._read() as cur:
            cur.execute(sql, tuple(params))
            rows = [history_of(row) for row in cur.fetchall()]
        rows = [r for r in rows if _matches(r.ifname, iface) and _matches(r.host, host)]
        return rows[-limit:] if limit else rows

    def status(
        self,
        include_absent: bool = False,
        host: str | None = None,
        since: datetime | None = None,
    ) -> list[LinkStatus]:
        """The links, worst first: flapping now, then the most carrier transitions since
        `since` (in the link's current incarnation), then by host, namespace and name."""
        sql = f"SELECT {LINK_COLUMNS}, host FROM links"
        where: list[str] = []
        params: list[Any] = []
        if not include_absent:
            where.append("present = 1")
        if host is not None and not _is_glob(host):
            where.append("host = ?")
            params.append(host)
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._read() as cur:
            cur.execute(sql, tuple(params))
            links = [status_of(row) for row in cur.fetchall() if _matches(row[-1], host)]
            counts = self._transitions_by_link(cur, since)
        ranked = [replace(link, transitions=counts.get(_link_key(link), 0)) for link in links]
        ranked.sort(key=lambda s: (not s.flapping, -s.transitions, s.host, column(s.netns), s.ifname))
        return ranked

    def _transitions_by_link(self, cur: Cursor, since: datetime | None) -> dict[tuple[str, str, int, int], int]:
        cur.execute(
            "SELECT host, netns, ifindex, epoch, SUM(transitions) FROM events "
            "WHERE time_us >= ? AND kind IN (?, ?, ?) GROUP BY host, netns, ifindex, epoch",
            (to_us(since) if since else 0, *_CARRIER_KINDS),
        )
        return {(str(h), str(n), int(i), int(e)): int(t or 0) for h, n, i, e, t in cur.fetchall()}

    def hosts(self) -> list[str]:
        """Every host the store has rows of."""
        with self._read() as cur:
            cur.execute("SELECT DISTINCT host FROM links ORDER BY host")
            return [str(row[0]) for row in cur.fetchall()]

    def episodes(self, iface: str | None = None, since: datetime | None = None) -> list[FlapEpisode]:
        """This store's host's episodes (the evidence for a link of this machine)."""
        select = f"SELECT {EPISODE_COLUMNS} FROM flap_episodes WHERE host = ? AND start_us >= ?"
        sql, params = _since_and_iface(select, since, iface)
        with self._read() as cur:
            cur.execute(sql + " ORDER BY start_us", (self.host.name, *params))
            return [episode_of(row) for row in cur.fetchall()]

    def snapshots(self, iface: str | None = None, since: datetime | None = None) -> list[CounterSnapshot]:
        """This store's host's counter snapshots."""
        columns = f"time_us, netns, ifindex, ifname, reason, {', '.join(STATS_COLUMNS)}, ethtool"
        select = f"SELECT {columns} FROM counter_snapshots WHERE host = ? AND time_us >= ?"
        sql, params = _since_and_iface(select, since, iface)
        with self._read() as cur:
            cur.execute(sql + " ORDER BY time_us, id", (self.host.name, *params))
            return [snapshot_of(row) for row in cur.fetchall()]

    def count_events(self) -> int:
        with self._read() as cur:
            cur.execute("SELECT COUNT(*) FROM events")
            return int(cur.fetchone()[0])

    # -- the alert queue --------------------------------------------------------

    def due_alerts(self, now: datetime, limit: int = 100, receiver: str | None = None) -> list[QueuedAlert]:
        """Pending alerts due by `now`, oldest first; one receiver's only if named (each
        receiver's worker asks for its own, so another's backlog does not fill its `limit`)."""
        where = "" if receiver is None else " AND receiver = ?"
        params: tuple[str, ...] = () if receiver is None else (receiver,)
        with self._read() as cur:
            cur.execute(
                f"SELECT {ALERT_COLUMNS}, host FROM alert_queue WHERE host = ? AND state = ? AND next_attempt_us <= ?"
                f"{where} ORDER BY id LIMIT ?",
                (self.host.name, AlertState.PENDING, to_us(now), *params, limit),
            )
            return [alert_of(row) for row in cur.fetchall()]

    def alerts(self, state: str | None = None) -> list[QueuedAlert]:
        sql = f"SELECT {ALERT_COLUMNS}, host FROM alert_queue WHERE host = ?"
        params: tuple[Any, ...] = (self.host.name,)
        if state is not None:
            sql += " AND state = ?"
            params = (*params, state)
        with self._read() as cur:
            cur.execute(sql + " ORDER BY id", params)
            return [alert_of(row) for row in cur.fetchall()]

    def alert_state(self, alert_key: str) -> str | None:
        with self._read() as cur:
            cur.execute("SELECT state FROM alert_queue WHERE host = ? AND alert_key = ?", (self.host.name, alert_key))
            row = cur.fetchone()
            return None if row is None else str(row[0])

    def count_sent_starts(self, receiver: str, netns: NetnsName, ifname: str, since: datetime) -> int:
        """Start alerts sent for this link since `since`: the rate limiter's memory."""
        with self._read() as cur:
            cur.execute(
                "SELECT COUNT(*) FROM alert_queue WHERE host = ? AND receiver = ? AND netns = ? AND "
                "ifname = ? AND edge = 'start' AND state = ? AND done_us >= ?",
                (self.host.name, receiver, column(netns), ifname, AlertState.SENT, to_us(since)),
            )
            return int(cur.fetchone()[0])

    def mark_alert_key(
        self,
        alert_key: str,
        state: str,
        when: datetime,
        *,
        attempts: int | None = None,
        next_attempt: datetime | None = None,
        error: str | None = None,
    ) -> None:
        """Set an alert's state, by its key: its row id differs in a store file written anew."""
        key = (self.host.name, alert_key)
        self._mark("host = ? AND alert_key = ?", key, state, when, attempts, next_attempt, error)

    def _mark(
        self,
        where: str,
        key: tuple[Any, ...],
        state: str,
        when: datetime,
        attempts: int | None,
        next_attempt: datetime | None,
        error: str | None,
    ) -> None:
        done = to_us(when) if state != AlertState.PENDING else None
        with self._tx() as cur:
            cur.execute(
                "UPDATE alert_queue SET state = ?, attempts = COALESCE(?, attempts), "
                "next_attempt_us = COALESCE(?, next_attempt_us), last_error = ?, done_us = ? "
                f"WHERE {where}",
                (state, attempts, to_us(next_attempt) if next_attempt else None, error, done, *key),
            )


def _is_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


def _matches(value: str, pattern: str | None) -> bool:
    return pattern is None or fnmatch.fnmatchcase(value, pattern)


def _link_key(link: LinkStatus) -> tuple[str, str, int, int]:
    return (link.host, column(link.netns), link.ifindex, link.epoch)


def _since_and_iface(sql: str, since: datetime | None, iface: str | None) -> tuple[str, list[Any]]:
    """A query whose one placeholder is the start time, narrowed to one link when asked."""
    params: list[Any] = [to_us(since) if since else 0]
    if iface is not None:
        sql += " AND ifname = ?"
        params.append(iface)
    return sql, params

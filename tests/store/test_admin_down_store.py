"""Admin downs in the store (SQLite and a real PostgreSQL): a version 3 store migrates and
keeps its rows, and the fleet report counts time set down by hand apart from down time."""

from __future__ import annotations

import pytest

from linkctl.domain.events import EventKind, LinkState
from linkctl.store import HostId, SqlStore, open_store
from linkctl.store.backends import PostgresStore, SqliteStore
from linkctl.store.fleet import fleet_report
from linkctl.store.schema import LATEST, MIGRATIONS, SCHEMA_VERSION_TABLE
from linkctl.watch.core import DumpReason, WatchCore
from linkctl.watch.flap import FlapConfig

from ..watch.helpers import at, msg


def _v3_store(url: str) -> SqlStore:
    """A store as the linkctl before admin downs made it: migrations 1 to 3."""
    store: SqlStore = PostgresStore.connect(url) if url.startswith("postgresql://") else SqliteStore.connect(url)
    with store._tx() as cur:
        cur.execute(SCHEMA_VERSION_TABLE)
        for migration in MIGRATIONS[:3]:
            for step in migration.render(store.dialect):
                cur.execute(step.sql, ("here", "m-here") if step.stamp else ())
            cur.execute(f"INSERT INTO schema_version (version, name, applied_us) VALUES ({migration.version}, 'v', 0)")
        # eth0 set down by hand, as that linkctl recorded it: a link_down, state down.
        cur.execute(
            "INSERT INTO links (host, machine_id, netns, ifindex, ifname, epoch, state, since_us, carrier_changes, "
            "carrier_up, carrier_down, flapping, present, updated_us, netns_id) "
            "VALUES ('here', 'm-here', '', 7, 'eth0', 0, 'down', 1000000, 2, 1, 1, 0, 1, 1000000, NULL)"
        )
        cur.execute(
            "INSERT INTO events (host, machine_id, event_key, time_us, netns, ifindex, ifname, kind, state, source, "
            "transitions, carrier_changes, carrier_up, carrier_down, epoch) VALUES ('here', 'm-here', '/7/0/link_down/c2',"
            f" {int(at(1).timestamp() * 1e6)}, '', 7, 'eth0', 'link_down', 'down', 'netlink', 1, 2, 1, 1, 0)"
        )
    assert store.schema_version() == 3
    return store


def test_a_version_3_store_migrates_and_its_next_reading_names_the_admin_down(store_url: str) -> None:
    _v3_store(store_url).close()
    with open_store(store_url, host=HostId("here", "m-here", chosen=True)) as store:
        assert store.schema_version() == LATEST == 4
        (old,) = store.history()
        assert (old.event, old.state, old.transitions) == (EventKind.LINK_DOWN, LinkState.DOWN, 1)  # kept as it was
        core = WatchCore(known=store.last_known())
        # The watcher restarts: IFF_UP is clear, the counters are as stored.
        store.record(core.on_dump(None, [msg(5, 1, 1, admin_up=False)], at(5), DumpReason.STARTUP))
        rows = [(r.event, r.state, r.transitions) for r in store.history()]
        assert rows[1:] == [(EventKind.ADMIN_DOWN, LinkState.ADMIN_DOWN, 0)]  # no gap: nothing was unheard
        assert [(s.ifname, s.state, s.transitions) for s in store.status()] == [("eth0", LinkState.ADMIN_DOWN, 1)]
        report = fleet_report(store, at(0), at(65))
    (eth0,) = report.links
    # Until 5 s the old row's down (nothing told it apart then); from 5 s set down by hand.
    assert (eth0.down_s, eth0.down_now) == (pytest.approx(4.0), False)
    assert (eth0.admin_down_s, eth0.admin_downs, eth0.admin_down_now) == (pytest.approx(60.0), 1, True)


def test_the_fleet_report_counts_time_set_down_by_hand_apart(store_url: str) -> None:
    with open_store(store_url, host=HostId("web-01", "", chosen=True)) as store:
        core = WatchCore(FlapConfig(nagios_enabled=False))
        boot = [msg(0, 1, 1, carrier=True, ifindex=2, ifname="eth0"), msg(0, 1, 1, carrier=True, ifname="veth0p")]
        store.record(core.on_dump(None, boot, at(0), DumpReason.STARTUP))
        # eth0: the seed's maintenance, set down at 10 s, up at 50 s, its carrier back at 52 s.
        # veth0p: its peer was set down at 60 s: it lost its carrier until 100 s.
        for m in (
            msg(10, 1, 2, admin_up=False, ifindex=2, ifname="eth0"),
            msg(50, 1, 2, carrier=False, ifindex=2, ifname="eth0"),
            msg(52, 2, 2, carrier=True, ifindex=2, ifname="eth0"),
            msg(60, 1, 2, ifname="veth0p"),
            msg(100, 2, 2, carrier=True, ifname="veth0p"),
        ):
            store.record(core.on_link(m))
        whole = fleet_report(store, at(0), at(200))
        inside = fleet_report(store, at(30), at(200))
    links = {link.ifname: link for link in whole.links}
    eth0, peer = links["eth0"], links["veth0p"]
    # What counts: the carrier's own transitions (not the one an admin up brought, as the flap
    # rules do not) and the time admin up without carrier; the admin down and up count apart.
    assert (eth0.transitions, eth0.down_s, len(eth0.downs)) == (0, pytest.approx(2.0), 1)
    assert (eth0.admin_downs, eth0.admin_down_s, eth0.admin_down_now) == (1, pytest.approx(40.0), False)
    assert (peer.transitions, peer.down_s, peer.admin_downs, peer.admin_down_s) == (2, pytest.approx(40.0), 0, 0.0)
    assert [link.ifname for link in whole.links] == ["veth0p", "eth0"]  # the carrier's losses first
    # A window opening while eth0 was set down: its first event is the admin up.
    (eth0,) = [link for link in inside.links if link.ifname == "eth0"]
    assert (eth0.admin_down_s, eth0.down_s) == (pytest.approx(20.0), pytest.approx(2.0))
    assert eth0.to_json()["admin_down_seconds"] == 20.0

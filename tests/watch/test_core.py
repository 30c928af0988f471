from __future__ import annotations

from dataclasses import replace

from linkctl.domain.episodes import EpisodeEdge
from linkctl.domain.events import DriverWords, EventKind, EventSource, KnownLink, LinkState, SnapshotReason
from linkctl.watch.core import DumpReason, WatchCore
from linkctl.watch.flap import FlapConfig
from linkctl.watch.kernel_log import KernelLogRecord, driver_fits, kernel_record_from_log

from .helpers import at, flapping, msg

RATE_ONLY = FlapConfig(nagios_enabled=False)


def started(core: WatchCore) -> WatchCore:
    core.on_dump(None, [msg(0, 1, 0)], at(0), DumpReason.STARTUP)
    return core


def test_first_start_is_a_baseline_and_later_links_are_added() -> None:
    core = WatchCore()
    out = core.on_dump(None, [msg(0, 1, 0)], at(0), DumpReason.STARTUP)
    assert out.events == [] and len(out.links) == 1
    out = core.on_link(msg(1, 1, 0, ifindex=9, ifname="eth9"))
    assert [e.kind for e in out.events] == [EventKind.LINK_ADDED]


def test_overflow_resync_counts_and_records_gaps() -> None:
    core = started(WatchCore())
    out = core.on_dump(None, [msg(5, 4, 3)], at(5), DumpReason.OVERFLOW)
    assert out.resyncs == [None]
    assert [(e.kind, e.transitions, e.source) for e in out.events] == [(EventKind.GAP, 6, EventSource.RESYNC)]


def test_link_gone_and_iface_globs() -> None:
    core = WatchCore(iface_globs=["eth*"])
    core.on_dump(None, [msg(0, 1, 0), msg(0, 1, 0, ifindex=8, ifname="lo")], at(0), DumpReason.STARTUP)
    assert [v.link.ifname for v in core.views()] == ["eth0"]
    assert core.on_link(msg(1, 1, 1, ifindex=8, ifname="lo")).empty
    # Renamed out of the globs: no longer followed.
    out = core.on_link(msg(2, 1, 0, ifname="wan0"))
    assert [g.ifname for g in out.gone] == ["eth0"] and out.events == []
    assert core.views() == []


def test_down_duration_only_for_clean_pairs() -> None:
    core = started(WatchCore())
    core.on_link(msg(10, 1, 1))
    out = core.on_link(msg(12.5, 2, 1))
    assert out.down_durations == [(None, "eth0", 2.5)]
    core.on_link(msg(20, 2, 2))
    assert core.on_link(msg(21, 4, 3)).down_durations == []  # coalesced: unknown span


def test_down_event_takes_a_snapshot() -> None:
    core = started(WatchCore())
    out = core.on_link(msg(1, 1, 1, stats={"rx_bytes": 5, "rx_crc_errors": 1}))
    (snap,) = out.snapshots
    assert (snap.reason, snap.rx_bytes, snap.rx_crc_errors) == (SnapshotReason.LINK_DOWN, 5, 1)
    assert core.on_link(msg(2, 2, 1, stats={"rx_bytes": 6})).snapshots == []


def words(text: str) -> DriverWords:
    return DriverWords(text=text, driver="e1000e")


def test_kernel_line_after_the_event_updates_it() -> None:
    core = started(WatchCore())
    event = core.on_link(msg(1, 1, 1)).events[0]
    out = core.on_kernel_log(KernelLogRecord(at(1.4), "eth0", EventKind.LINK_DOWN, words("Link is Down")))
    assert [(e.key, w) for e, w in out.driver_updates] == [(event.key, words("Link is Down"))]
    assert out.events == []
    # A second line does not overwrite the first.
    again = core.on_kernel_log(KernelLogRecord(at(1.5), "eth0", EventKind.LINK_DOWN, words("x")))
    assert again.driver_updates == []


def test_kernel_line_before_the_event_is_joined_into_it() -> None:
    core = started(WatchCore())
    core.on_kernel_log(KernelLogRecord(at(0.8), "eth0", EventKind.LINK_DOWN, words("Link is Down")))
    (event,) = core.on_link(msg(1, 1, 1)).events
    assert event.driver == words("Link is Down")


def test_kernel_line_of_the_wrong_direction_is_not_joined() -> None:
    core = started(WatchCore())
    core.on_link(msg(1, 1, 1))
    out = core.on_kernel_log(KernelLogRecord(at(1.1), "eth0", EventKind.LINK_UP, words("Up")))
    assert out.driver_updates == []
    # Unmatched after the join window: recorded on its own, from the kernel log.
    flushed = core.tick(at(10))
    assert [(e.kind, e.source, e.transitions) for e in flushed.events] == [(EventKind.LINK_UP, EventSource.KMSG, 0)]


def test_coalesced_event_accepts_either_line() -> None:
    core = started(WatchCore())
    event = core.on_link(msg(1, 2, 1)).events[0]
    out = core.on_kernel_log(KernelLogRecord(at(1.2), "eth0", EventKind.LINK_DOWN, words("Dn")))
    assert [(e.key, w) for e, w in out.driver_updates] == [(event.key, words("Dn"))]


def test_kernel_only_kinds_are_events_of_their_own() -> None:
    core = started(WatchCore())
    out = core.on_kernel_log(KernelLogRecord(at(3), "eth0", EventKind.TX_TIMEOUT, words("transmit queue 0 timed out")))
    (event,) = out.events
    assert (event.kind, event.ifindex, event.state) == (EventKind.TX_TIMEOUT, 7, LinkState.UP)
    assert out.kernel_events and out.kernel_events[0].kind is EventKind.TX_TIMEOUT


def test_kernel_lines_about_no_watched_link_are_counted_not_recorded() -> None:
    """/dev/kmsg is the whole host's: a name no watched namespace has is not the host's link."""
    known = core_known_in("gone-ns")  # the store knows a link of a namespace not watched now
    core = WatchCore(known=[known])
    core.on_dump("blue", [msg(0, 1, 0, ifindex=3, ifname="veth0", netns="blue")], at(0), DumpReason.STARTUP)
    for name in ("ghost0", "old0"):
        out = core.on_kernel_log(KernelLogRecord(at(1), name, EventKind.TX_TIMEOUT, words("timed out")))
        assert out.empty, out
    down = core.on_kernel_log(KernelLogRecord(at(1), "ghost0", EventKind.LINK_DOWN, words("Link is Down")))
    assert down.empty and core.tick(at(10)).events == []
    assert core.unattributed == {EventKind.TX_TIMEOUT: 2, EventKind.LINK_DOWN: 1}


def test_a_kernel_line_about_a_namespaced_link_is_that_namespaces() -> None:
    core = WatchCore()  # the host namespace not watched
    core.on_dump("blue", [msg(0, 1, 0, ifindex=3, ifname="veth0", netns="blue")], at(0), DumpReason.STARTUP)
    out = core.on_kernel_log(KernelLogRecord(at(1), "veth0", EventKind.TX_TIMEOUT, words("timed out")))
    assert [(e.netns, e.ifindex) for e in out.events] == [("blue", 3)]
    assert [r.netns for r in out.kernel_events] == ["blue"]  # the metrics' label, not the host's ""
    out = core.on_kernel_log(KernelLogRecord(at(2), "veth0", EventKind.LINK_UP, words("Up")))
    assert [r.netns for r in out.kernel_events] == ["blue"]
    assert [(e.netns, e.kind) for e in core.tick(at(10)).events] == [("blue", EventKind.LINK_UP)]
    assert not core.unattributed


def test_a_kernel_line_is_about_a_namesake_its_driver_drives() -> None:
    """The host's e1000e eth0 (host not watched) is not a container's veth eth0."""
    core = WatchCore()
    veth = replace(msg(0, 1, 0, ifindex=3, ifname="eth0", netns="ctr"), kind="veth")
    core.on_dump("ctr", [veth], at(0), DumpReason.STARTUP)
    nic = DriverWords(text="e1000e: eth0 NIC Link is Down", driver="e1000e")
    assert core.on_kernel_log(KernelLogRecord(at(1), "eth0", EventKind.LINK_DOWN, nic)).empty
    assert core.unattributed == {EventKind.LINK_DOWN: 1}
    own = DriverWords(text="NETDEV WATCHDOG: eth0 (veth): transmit queue 0 timed out", driver="veth")
    out = core.on_kernel_log(KernelLogRecord(at(2), "eth0", EventKind.TX_TIMEOUT, own))
    assert [(e.netns, e.ifindex) for e in out.events] == [("ctr", 3)]
    # With the host's eth0 watched too, a NIC's line does not join the veth's netlink event.
    core.on_dump(None, [msg(0, 1, 0)], at(0), DumpReason.STARTUP)
    core.on_link(replace(msg(3, 1, 1, ifindex=3, ifname="eth0", netns="ctr"), kind="veth"))
    out = core.on_kernel_log(KernelLogRecord(at(3.1), "eth0", EventKind.LINK_DOWN, nic))
    assert out.driver_updates == [] and [r.netns for r in out.kernel_events] == [None]
    assert [(e.netns, e.driver) for e in core.tick(at(10)).events] == [(None, nic)]


def test_driver_fits_judges_the_kinds_it_knows_only() -> None:
    assert driver_fits(None, "veth") and driver_fits(None, None)  # the stack's lines name no driver
    assert driver_fits("e1000e", None) and not driver_fits("veth", None)
    assert driver_fits("veth", "veth") and not driver_fits("e1000e", "veth")
    assert driver_fits("bonding", "bond") and driver_fits("anything", "nlmon")  # a kind not in the table


def core_known_in(netns: str) -> KnownLink:
    return KnownLink(netns, 9, "old0", LinkState.UP, at(0), None, 1)


def test_flap_episode_flows_through_the_core() -> None:
    core = started(WatchCore(RATE_ONLY))
    notices = []
    for message in flapping():
        notices += core.on_link(message).notices
    assert [n.edge for n in notices] == [EpisodeEdge.START]
    assert core.views()[0].flapping and core.views()[0].link.flapping
    out = core.tick(at(400))
    assert [n.edge for n in out.notices] == [EpisodeEdge.END]
    assert out.links[0].flapping is False
    assert core.views()[0].episodes_total == 1


def test_open_episode_resumes_after_restart() -> None:
    core = started(WatchCore(RATE_ONLY))
    messages = flapping()
    for message in messages:
        core.on_link(message)
    last = messages[-1].counters  # the restart finds the link one loss and one return further on
    (episode,) = core.flaps.open_episodes()
    known = [v.link for v in core.views()]
    restarted = WatchCore(RATE_ONLY, known=known, open_episodes=[episode])
    out = restarted.on_dump(None, [msg(100, last.up + 1, last.down + 1)], at(100), DumpReason.STARTUP)
    assert out.notices == []
    assert restarted.flaps.is_flapping(None, 7)
    end = restarted.tick(at(401))
    assert [n.edge for n in end.notices] == [EpisodeEdge.END]
    assert end.notices[0].episode.transitions == 6 + 2


def test_removed_link_closes_its_episode() -> None:
    core = started(WatchCore(RATE_ONLY))
    core.on_link(msg(1, 1, 0, carrier=True))
    core.on_link(msg(2, 4, 3))  # 6 coalesced transitions: flapping
    out = core.on_link_gone(None, 7, at(3), moved_to="blue")
    assert [e.kind for e in out.events] == [EventKind.MOVED]
    assert [n.edge for n in out.notices] == [EpisodeEdge.END]


def test_log_parser_records_adapt() -> None:
    from linkctl.domain.events import Duplex, FlowControl, KernelLogLine

    line = KernelLogLine(
        event=EventKind.LINK_UP,
        ifname="eth0",
        driver="e1000e",
        bus_id=None,
        speed_mbps=1000,
        duplex=Duplex.FULL,
        flow_control=FlowControl.RX_TX,
        time=at(1),
        uptime=None,
        host=None,
        file=None,
        line=None,
        raw="e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex",
    )
    record = kernel_record_from_log(line)
    assert record is not None
    assert (record.kind, record.words.speed_mbps, record.words.flow_control) == (EventKind.LINK_UP, 1000, "rx/tx")
    other = KernelLogLine(
        event=EventKind.OTHER,
        ifname=None,
        driver=None,
        bus_id=None,
        speed_mbps=None,
        duplex=None,
        flow_control=None,
        time=at(1),
        uptime=None,
        host=None,
        file=None,
        line=None,
        raw="x",
    )
    assert kernel_record_from_log(other) is None


def test_a_dump_must_hold_its_own_namespace_only() -> None:
    import pytest

    with pytest.raises(ValueError, match="blue"):
        WatchCore().on_dump(None, [msg(0, 1, 0, netns="blue")], at(0), DumpReason.STARTUP)

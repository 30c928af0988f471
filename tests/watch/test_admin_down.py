"""An operator's `ip link set X down/up` is not a carrier flap: the watcher's core, without a kernel.

The counters are those measured on a veth (kernel 6.18): both ends up, carrier_changes 2
(up 1, down 1); `ip link set v0 down` makes v0's and v1's down count 2 (veth_close drops
both carriers), `up` makes both up counts 2. lo counts nothing either way.
"""

from __future__ import annotations

from linkctl.domain.episodes import EpisodeEdge
from linkctl.domain.events import DriverWords, EventKind, LinkState
from linkctl.watch.core import DumpReason, WatchCore
from linkctl.watch.flap import FlapConfig
from linkctl.watch.kernel_log import KernelLogRecord

from .helpers import msg

RATE_ONLY = FlapConfig(nagios_enabled=False)


def _veth_end_toggled(core: WatchCore, times: int, admin: bool, start: float = 1.0) -> list[EventKind]:
    """`times` downs and ups of a veth end two seconds apart: set down by hand (`admin`), or
    losing its carrier because its peer was (the peer's end is admin up all along)."""
    up, down, kinds = 1, 1, []
    for i in range(times):
        down += 1
        out = core.on_link(msg(start + 4 * i, up, down, admin_up=not admin, carrier=False))
        up += 1
        out.merge(core.on_link(msg(start + 4 * i + 2, up, down, carrier=True)))
        kinds += [e.kind for e in out.events]
    return kinds


def test_an_operators_toggles_open_no_episode_and_the_peers_carrier_losses_do() -> None:
    for nagios in (False, True):
        config = FlapConfig(nagios_enabled=nagios)
        admin, peer = WatchCore(config), WatchCore(config)
        for core in (admin, peer):
            core.on_dump(None, [msg(0, 1, 1, carrier=True)], msg(0, 1, 1).time, DumpReason.STARTUP)
        kinds = _veth_end_toggled(admin, 10, admin=True)
        assert kinds == [EventKind.ADMIN_DOWN, EventKind.ADMIN_UP] * 10
        assert admin.flaps.open_episodes() == [] and not any(v.flapping for v in admin.views())
        # The same counters, IFF_UP set all along: the other end went, the carrier was lost.
        assert _veth_end_toggled(peer, 10, admin=False) == [EventKind.LINK_DOWN, EventKind.LINK_UP] * 10
        assert [v.flapping for v in peer.views()] == [True]


def test_a_nics_maintenance_counts_not_even_the_carrier_that_follows_its_admin_up() -> None:
    # The seed's "ip link set eth0 down; ethtool -s ...; ip link set eth0 up", six times in a
    # minute: e1000e drops its carrier on close and finds it again 2 s after the open.
    core = WatchCore(RATE_ONLY)
    core.on_dump(None, [msg(0, 1, 0)], msg(0, 1, 0).time, DumpReason.STARTUP)
    kinds = []
    for i in range(6):
        t = 1 + 10 * i
        for m in (msg(t, 1 + i, 1 + i, admin_up=False), msg(t + 1, 1 + i, 1 + i), msg(t + 3, 2 + i, 1 + i)):
            kinds += [(e.kind, e.transitions, e.state) for e in core.on_link(m).events]
    assert (
        kinds
        == [
            (EventKind.ADMIN_DOWN, 1, LinkState.ADMIN_DOWN),
            (EventKind.ADMIN_UP, 0, LinkState.DOWN),
            (EventKind.LINK_UP, 1, LinkState.UP),
        ]
        * 6
    )
    assert core.flaps.open_episodes() == []
    # A carrier lost in earnest afterwards still counts: six more open an episode.
    up, down, notices = 7, 6, []
    for i in range(6):
        down, up = (down + 1, up) if i % 2 == 0 else (down, up + 1)
        notices += core.on_link(msg(100 + i, up, down)).notices
    assert [n.edge for n in notices] == [EpisodeEdge.START]


def test_an_admin_down_inside_an_episode_is_not_down_time() -> None:
    core = WatchCore(RATE_ONLY)
    core.on_dump(None, [msg(0, 1, 0)], msg(0, 1, 0).time, DumpReason.STARTUP)
    for i in range(7):  # carrier lost at seconds 1, 3, 5 and 7, back at 2, 4 and 6: flapping
        core.on_link(msg(1 + i, 1 + (i + 1) // 2, 1 + i // 2))
    assert len(core.flaps.open_episodes()) == 1
    core.on_link(msg(10, 4, 4, admin_up=False, carrier=False))  # set down by hand, no carrier to drop
    core.on_link(msg(20, 5, 4))  # and up again: the carrier with it
    out = core.tick(msg(400, 5, 4).time)
    (end,) = out.notices
    assert end.edge is EpisodeEdge.END
    assert end.episode.down_seconds == 1 + 1 + 1 + 3  # 1-2, 3-4, 5-6, 7-10; nothing from 10 to 20
    assert end.episode.transitions == 7  # the admin down and up are none of them


def test_a_link_admin_down_at_start_is_shown_as_such_and_its_admin_up_is_no_flap() -> None:
    core = WatchCore(RATE_ONLY)
    out = core.on_dump(
        "blue",
        [msg(0, 0, 0, admin_up=False, carrier=True, netns="blue", ifname="lo")],
        msg(0, 0, 0).time,
        DumpReason.STARTUP,
    )
    assert out.events == [] and [k.state for k in out.links] == [LinkState.ADMIN_DOWN]
    assert [(v.link.state, v.admin_up) for v in core.views()] == [(LinkState.ADMIN_DOWN, False)]
    out = core.on_link(msg(1, 0, 0, netns="blue", ifname="lo", carrier=True))
    assert [(e.kind, e.transitions, e.state) for e in out.events] == [(EventKind.ADMIN_UP, 0, LinkState.UP)]
    assert out.notices == [] and out.down_durations == [] and out.snapshots == []


def test_a_drivers_link_is_down_on_close_joins_the_admin_down_that_dropped_the_carrier() -> None:
    core = WatchCore(RATE_ONLY)
    core.on_dump(None, [msg(0, 1, 0)], msg(0, 1, 0).time, DumpReason.STARTUP)
    (down,) = core.on_link(msg(1, 1, 1, admin_up=False)).events
    said = DriverWords(text="e1000e: eth0 NIC Link is Down", driver="e1000e")
    out = core.on_kernel_log(KernelLogRecord(msg(1.3, 1, 1).time, "eth0", EventKind.LINK_DOWN, said))
    assert [(e.key, e.kind) for e, _ in out.driver_updates] == [(down.key, EventKind.ADMIN_DOWN)]
    assert core.tick(msg(10, 1, 1).time).events == []  # not recorded again on its own

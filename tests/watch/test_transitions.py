from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkctl.domain.events import CarrierCounters, CounterSnapshot, EventKind, EventSource, LinkState
from linkctl.watch.transitions import (
    U32,
    count_transitions,
    counter_delta,
    reconcile_dump,
    reconcile_gone,
    reconcile_message,
    snapshot_delta,
    u32_delta,
)

from .helpers import at, msg


def test_first_sight_is_link_added_with_no_transitions() -> None:
    events, link = reconcile_message(None, msg(0, 1, 0))
    assert [e.kind for e in events] == [EventKind.LINK_ADDED]
    assert events[0].transitions == 0
    assert link.state is LinkState.UP
    assert link.counters == CarrierCounters(1, 1, 0)


def test_first_sight_at_first_start_is_a_baseline() -> None:
    events, link = reconcile_message(None, msg(0, 1, 0), announce_new=False)
    assert events == []
    assert link.since == at(0)


def test_single_down_is_one_transition() -> None:
    _, link = reconcile_message(None, msg(0, 1, 0))
    events, link = reconcile_message(link, msg(1, 1, 1))
    assert len(events) == 1
    ev = events[0]
    assert (ev.kind, ev.state, ev.transitions, ev.coalesced) == (
        EventKind.LINK_DOWN,
        LinkState.DOWN,
        1,
        False,
    )
    assert ev.carrier_changes == 2
    assert link.since == at(1)


def test_coalesced_down_up_is_one_event_with_two_transitions() -> None:
    _, link = reconcile_message(None, msg(0, 1, 0))
    events, link = reconcile_message(link, msg(1, 2, 1))
    assert [(e.kind, e.transitions, e.coalesced) for e in events] == [(EventKind.LINK_UP, 2, True)]
    assert link.state is LinkState.UP


def test_three_coalesced_transitions_end_down() -> None:
    _, link = reconcile_message(None, msg(0, 1, 0))
    events, _ = reconcile_message(link, msg(1, 2, 2))
    assert [(e.kind, e.transitions) for e in events] == [(EventKind.LINK_DOWN, 3)]


def test_message_without_change_makes_no_event() -> None:
    _, link = reconcile_message(None, msg(0, 1, 0))
    events, after = reconcile_message(link, msg(5, 1, 0))
    assert events == []
    assert after.since == at(0)


def test_admin_down_without_carrier_change_has_zero_transitions() -> None:
    # lo: `ip link set lo down` clears IFF_UP and moves no carrier counter.
    _, link = reconcile_message(None, msg(0, 1, 0))
    events, link = reconcile_message(link, msg(1, 1, 0, carrier=True, admin_up=False))
    assert [(e.kind, e.transitions, e.state) for e in events] == [(EventKind.ADMIN_DOWN, 0, LinkState.ADMIN_DOWN)]
    assert link.state is LinkState.ADMIN_DOWN


def test_admin_down_and_up_carry_the_carrier_changes_the_kernel_counted() -> None:
    # A veth measured: `ip link set v0 down` makes carrier_down_count 1 -> 2 in the message that
    # clears IFF_UP, `up` carrier_up_count 1 -> 2. The events carry them: no gap later.
    _, link = reconcile_message(None, msg(0, 1, 1, carrier=True))
    down, link = reconcile_message(link, msg(1, 1, 2, admin_up=False))
    up, link = reconcile_message(link, msg(2, 2, 2, carrier=True))
    lost, link = reconcile_message(link, msg(3, 2, 3))
    assert [(e.kind, e.transitions, e.state) for e in [*down, *up, *lost]] == [
        (EventKind.ADMIN_DOWN, 1, LinkState.ADMIN_DOWN),
        (EventKind.ADMIN_UP, 1, LinkState.UP),
        (EventKind.LINK_DOWN, 1, LinkState.DOWN),
    ]
    assert down[0].key.endswith("/admin_down/c3")  # by the counter, as a carrier event: a replay is one row
    resync, _ = reconcile_message(link, msg(9, 2, 3), EventSource.RESYNC)
    assert resync == []


def test_an_admin_up_before_the_carrier_comes_leaves_the_link_down() -> None:
    # A NIC: IFF_UP set, autonegotiation ends a second or two later in a carrier change of its own.
    _, link = reconcile_message(None, msg(0, 1, 1, admin_up=False))
    assert link.state is LinkState.ADMIN_DOWN  # admin down when first seen
    up, link = reconcile_message(link, msg(1, 1, 1, carrier=False))
    carrier, link = reconcile_message(link, msg(3, 2, 1))
    assert [(e.kind, e.transitions, e.state) for e in [*up, *carrier]] == [
        (EventKind.ADMIN_UP, 0, LinkState.DOWN),
        (EventKind.LINK_UP, 1, LinkState.UP),
    ]


def test_a_resync_names_an_admin_down_nobody_heard_and_keeps_counted_changes_a_gap() -> None:
    _, link = reconcile_message(None, msg(0, 1, 0))
    quiet, _ = reconcile_message(link, msg(5, 1, 0, carrier=True, admin_up=False), EventSource.RESYNC)
    counted, _ = reconcile_message(link, msg(5, 1, 1, admin_up=False), EventSource.RESYNC)
    assert [(e.kind, e.transitions, e.state) for e in [*quiet, *counted]] == [
        (EventKind.ADMIN_DOWN, 0, LinkState.ADMIN_DOWN),
        (EventKind.GAP, 1, LinkState.ADMIN_DOWN),
    ]


def test_rename_is_recorded_with_old_name() -> None:
    _, link = reconcile_message(None, msg(0, 1, 0))
    events, link = reconcile_message(link, msg(1, 1, 0, ifname="uplink0"))
    assert [(e.kind, e.detail, e.ifname) for e in events] == [(EventKind.RENAMED, "eth0", "uplink0")]
    assert link.ifname == "uplink0"


def test_resync_turns_missed_transitions_into_a_gap() -> None:
    _, link = reconcile_message(None, msg(0, 1, 0))
    events, link = reconcile_message(link, msg(60, 40, 39), EventSource.RESYNC)
    assert [(e.kind, e.transitions, e.source, e.state) for e in events] == [
        (EventKind.GAP, 78, EventSource.RESYNC, LinkState.UP)
    ]
    assert link.counters == CarrierCounters(79, 40, 39)


def test_resync_without_missed_transitions_is_silent() -> None:
    _, link = reconcile_message(None, msg(0, 1, 0))
    events, _ = reconcile_message(link, msg(60, 1, 0), EventSource.RESYNC)
    assert events == []


def test_counter_reset_starts_a_new_incarnation() -> None:
    _, link = reconcile_message(None, msg(0, 50, 49))
    events, after = reconcile_message(link, msg(10, 1, 1, carrier=False))
    # Re-created link: everything it counted since its creation is new.
    assert [(e.kind, e.transitions) for e in events] == [(EventKind.LINK_DOWN, 2)]
    assert after.epoch != link.epoch
    assert events[0].epoch == after.epoch


def test_keys_differ_between_incarnations_with_the_same_counter() -> None:
    _, a = reconcile_message(None, msg(0, 1, 0))
    ev_a, a = reconcile_message(a, msg(1, 1, 1))
    _, b = reconcile_message(None, msg(100, 1, 0))
    ev_b, _ = reconcile_message(b, msg(101, 1, 1))
    assert ev_a[0].key != ev_b[0].key
    # ... and the same message seen twice has one key.
    again, _ = reconcile_message(replace(a, counters=CarrierCounters(1, 1, 0), state=LinkState.UP), msg(1, 1, 1))
    assert again[0].key == ev_a[0].key


def test_counters_missing_fall_back_to_state() -> None:
    assert count_transitions(None, None, True).total == 1
    assert count_transitions(None, None, False).total == 0
    assert count_transitions(CarrierCounters(3), CarrierCounters(9), False).total == 6


def test_u32_wrap_is_not_a_reset() -> None:
    assert u32_delta(U32 - 2, 3) == (5, False)
    assert u32_delta(1000, 3) == (3, True)


def test_gone_and_moved() -> None:
    _, link = reconcile_message(None, msg(0, 1, 0))
    removed = reconcile_gone(link, at(5))
    moved = reconcile_gone(link, at(5), moved_to="blue")
    assert (removed.kind, removed.state) == (EventKind.LINK_REMOVED, LinkState.ABSENT)
    assert (moved.kind, moved.detail) == (EventKind.MOVED, "blue")


def test_dump_reconciles_gaps_new_and_vanished_links() -> None:
    _, a = reconcile_message(None, msg(0, 1, 0, ifindex=2, ifname="a"))
    _, b = reconcile_message(None, msg(0, 1, 0, ifindex=3, ifname="b"))
    dump = [msg(9, 5, 4, ifindex=2, ifname="a"), msg(9, 1, 0, ifindex=4, ifname="c")]
    result = reconcile_dump({2: a, 3: b}, dump, at(9))
    kinds = sorted((e.ifname, e.kind, e.transitions) for e in result.events)
    assert kinds == [
        ("a", EventKind.GAP, 8),
        ("b", EventKind.LINK_REMOVED, 0),
        ("c", EventKind.GAP, 1),  # made while nobody listened: its one carrier change was not heard
        ("c", EventKind.LINK_ADDED, 0),
    ]
    assert [g.ifname for g in result.gone] == ["b"]


def test_a_link_first_seen_in_a_dump_has_the_kernels_counts_as_a_gap() -> None:
    fresh = reconcile_dump({}, [msg(9, 0, 0, ifindex=5, ifname="d")], at(9))
    assert [(e.kind, e.transitions) for e in fresh.events] == [(EventKind.LINK_ADDED, 0)]
    flapped = reconcile_dump({}, [msg(9, 11, 11, ifindex=5, ifname="d")], at(9))
    assert [(e.kind, e.transitions, e.source) for e in flapped.events] == [
        (EventKind.LINK_ADDED, 0, EventSource.RESYNC),
        (EventKind.GAP, 22, EventSource.RESYNC),
    ]
    baseline = reconcile_dump({}, [msg(9, 11, 11, ifindex=5, ifname="d")], at(9), announce_new=False)
    assert baseline.events == []  # a namespace watched the first time: its links are where counting starts
    live, _ = reconcile_message(None, msg(9, 11, 11, ifindex=5, ifname="d"))  # e.g. moved in: counted elsewhere
    assert [e.kind for e in live] == [EventKind.LINK_ADDED]


def test_naive_time_is_refused() -> None:
    from datetime import datetime

    from linkctl.watch.transitions import LinkMessage

    with pytest.raises(ValueError, match="timezone-aware"):
        LinkMessage(datetime(2024, 1, 1), None, 1, "x", True, True)


def test_counter_delta_and_reset() -> None:
    assert counter_delta(10, 15) == (5, False)
    assert counter_delta(10, 4) == (4, True)


def test_snapshot_delta_reports_resets() -> None:
    a = CounterSnapshot(at(0), None, "eth0", 7, rx_bytes=1000, rx_crc_errors=5, ethtool={"x": 9})
    b = CounterSnapshot(at(30), None, "eth0", 7, rx_bytes=200, rx_crc_errors=8, ethtool={"x": 12})
    d = snapshot_delta(a, b)
    assert d.seconds == 30
    assert d.values["rx_bytes"] == 200
    assert d.values["rx_crc_errors"] == 3
    assert d.ethtool == {"x": 3}
    assert d.reset_fields == frozenset({"rx_bytes"})


# -- properties ---------------------------------------------------------------

steps = st.lists(st.integers(min_value=1, max_value=6), min_size=1, max_size=40)
splits = st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=40)


@given(steps, splits)
def test_recorded_transitions_equal_kernel_counter(toggles: list[int], chunks: list[int]) -> None:
    """However the kernel groups transitions into messages, the sum is exact."""
    up, down, carrier = 1, 0, True
    readings = []
    for n in toggles:
        for _ in range(n):
            carrier = not carrier
            if carrier:
                up += 1
            else:
                down += 1
        readings.append((up, down))
    _, link = reconcile_message(None, msg(0, 1, 0))
    total = 0
    t = 1.0
    # The listener only sees some readings: every chunk[i]-th one.
    index = -1
    for chunk in chunks:
        index += chunk
        if index >= len(readings):
            break
        u, d = readings[index]
        events, link = reconcile_message(link, msg(t, u, d))
        t += 1
        total += sum(e.transitions for e in events)
    u, d = readings[-1]
    events, link = reconcile_message(link, msg(t, u, d), EventSource.RESYNC)
    total += sum(e.transitions for e in events)
    assert total == (up + down) - 1
    assert link.state is (LinkState.UP if carrier else LinkState.DOWN)


@given(st.integers(0, U32 - 1), st.integers(0, 10_000))
def test_u32_delta_inverts_addition(start: int, step: int) -> None:
    assert u32_delta(start, (start + step) % U32)[0] == step or u32_delta(start, (start + step) % U32)[1]

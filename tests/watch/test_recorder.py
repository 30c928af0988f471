"""catch_up: what a store that missed a spell is told, from the counters alone."""

from __future__ import annotations

from dataclasses import replace

from linkctl.domain.events import CarrierCounters, EventKind, KnownLink, LinkState
from linkctl.watch.core import WatchCore, WatchOutput
from linkctl.watch.recorder import Outage, catch_up
from tests.watch.helpers import at, msg


def link(ifindex: int, changes: int, *, name: str = "", state: LinkState = LinkState.UP, epoch: int = 1) -> KnownLink:
    return KnownLink(
        netns="ns",
        ifindex=ifindex,
        ifname=name or f"eth{ifindex}",
        state=state,
        since=at(0),
        counters=CarrierCounters(changes, changes // 2, changes - changes // 2),
        epoch=epoch,
    )


def test_the_gap_holds_the_transitions_the_kernel_counted_and_nothing_else() -> None:
    committed = {("ns", i): link(i, 4) for i in (1, 2, 3, 4, 5)}
    current = {
        ("ns", 1): link(1, 4),  # nothing happened
        ("ns", 2): link(2, 10, state=LinkState.UP),  # 6 transitions unrecorded
        ("ns", 3): link(3, 4, name="wan0"),  # renamed only
        ("ns", 4): link(4, 2, epoch=9),  # removed and re-created under the same index
        ("ns", 6): link(6, 0),  # new
    }
    out = catch_up(committed, current, at(60), "store unwritable")
    events = {(e.ifindex, e.kind): e for e in out.events}
    assert events[(2, EventKind.GAP)].transitions == 6
    assert events[(2, EventKind.GAP)].detail == "store unwritable"
    assert events[(3, EventKind.RENAMED)].detail == "eth3"
    assert {k for k in events if k[0] == 4} == {(4, EventKind.LINK_REMOVED), (4, EventKind.LINK_ADDED)}
    assert (5, EventKind.LINK_REMOVED) in events and (6, EventKind.LINK_ADDED) in events
    assert not [k for k in events if k[0] == 1]
    assert sum(e.transitions for e in out.events) == 6
    assert {(g.ifindex, g.epoch) for g in out.gone} == {(4, 1), (5, 1)}
    assert sorted(k.ifindex for k in out.links) == [1, 2, 3, 4, 6]


def test_a_state_change_without_a_counted_transition_is_a_gap_of_zero() -> None:
    before = link(1, 4)
    out = catch_up({("ns", 1): before}, {("ns", 1): replace(before, state=LinkState.DOWN)}, at(5), "why")
    assert [(e.kind, e.transitions, e.state) for e in out.events] == [(EventKind.GAP, 0, LinkState.DOWN)]


def test_the_outage_queue_keeps_the_oldest_and_batches_removals_apart() -> None:
    def out(*changes: int, gone: bool = False) -> WatchOutput:
        links = [link(i, c) for i, c in enumerate(changes, start=1)]
        return WatchOutput(gone=links, events=[]) if gone else WatchOutput(links=links, events=[])

    outage = Outage(at(0), "unavailable", "why", bound=3)
    first, removal, later = out(2, 2), out(2, gone=True), out(4)
    # Sizes count events and snapshots: these have none, so all three fit.
    assert all(outage.miss(o) for o in (first, removal, later))
    count, merged = outage.batch()
    assert count == 1 and merged.links == first.links  # a removal is not merged after an upsert
    outage.written_batch(count)
    count, merged = outage.batch()
    assert count == 2 and merged.gone == removal.gone and merged.links == later.links
    outage.written_batch(count)
    assert not outage.queue

    core = WatchCore()
    events = [core.on_link(msg(i, 1 + i // 2, (i + 1) // 2, ifindex=2)) for i in range(1, 6)]
    full = Outage(at(0), "unavailable", "why", bound=2)
    kept = [full.miss(o) for o in events]
    assert kept == [True, True, False, False, False]  # once one is dropped, so is every later one
    assert full.dropped_events == sum(len(o.events) for o in events[2:]) and full.overflowed
    assert "3 event(s) beyond the outage queue's 2 not kept" in full.detail()

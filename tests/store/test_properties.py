"""Whatever the kernel coalesces, replays or hides behind restarts: every transition once."""

from __future__ import annotations

import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkctl.store import open_store
from linkctl.watch.core import DumpReason, WatchCore

from ..watch.helpers import msg

# One step: how many transitions the kernel makes, whether the listener gets a
# message for it, whether that output is recorded twice, whether the watcher
# restarts after it.
step = st.tuples(st.integers(1, 4), st.booleans(), st.booleans(), st.booleans())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=25))
def test_every_transition_is_recorded_exactly_once(steps: list[tuple[int, bool, bool, bool]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite://{tmp}/events.db"
        store = open_store(url)
        core = WatchCore()
        store.record(core.on_dump(None, [msg(0, 1, 0)], msg(0, 1, 0).time, DumpReason.STARTUP))
        up, down, carrier, t = 1, 0, True, 0.0
        for transitions, seen, replayed, restart in steps:
            for _ in range(transitions):
                carrier = not carrier
                up, down = (up + 1, down) if carrier else (up, down + 1)
            t += 1
            if seen:
                out = core.on_link(msg(t, up, down))
                store.record(out)
                if replayed:
                    store.record(out)
            if restart:
                store.close()
                store = open_store(url)
                core = WatchCore(known=store.last_known(), open_episodes=store.open_episodes())
                store.record(core.on_dump(None, [msg(t, up, down)], msg(t, up, down).time, DumpReason.STARTUP))
        t += 1
        store.record(core.on_dump(None, [msg(t, up, down)], msg(t, up, down).time, DumpReason.OVERFLOW))
        rows = store.history()
        keys = store.count_events()
        store.close()
    assert keys == len(rows)
    assert sum(r.transitions for r in rows) == up + down - 1

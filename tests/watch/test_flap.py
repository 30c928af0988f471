from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkctl.domain.episodes import EpisodeEdge, FlapTrigger
from linkctl.domain.events import EventKind, EventSource, LinkEvent, LinkState
from linkctl.watch.flap import (
    NAGIOS_HISTORY,
    FlapConfig,
    FlapDetector,
    FlapTracker,
    NagiosFlap,
    hysteresis,
    intermediate_states,
    percent_state_change,
)

from .helpers import at

UP, DOWN = LinkState.UP, LinkState.DOWN


def nagios_reference(states: list[int], low: float, high: float) -> list[tuple[float, bool]]:
    """A line-by-line port of Nagios Core's check_for_service_flapping(), as the oracle.

    Circular buffer, index advanced after each write, changes weighted from the
    slot after the write (the oldest) onwards.
    """
    size = 21
    history = [states[0]] * size
    index = 0
    is_flapping = False
    out: list[tuple[float, bool]] = []
    for current in states[1:]:
        history[index] = current
        index += 1
        if index >= size:
            index = 0
        curved = 0.0
        last = 0
        y = index
        for x in range(size):
            if x == 0:
                last = history[y]
                y = (y + 1) % size
                continue
            if last != history[y]:
                curved += ((x - 1) * (1.25 - 0.75)) / (size - 2) + 0.75
            last = history[y]
            y = (y + 1) % size
        pct = curved * 100.0 / (size - 1)
        if pct > low and pct < high:
            pass
        elif pct <= low:
            is_flapping = False
        elif pct >= high:
            is_flapping = True
        out.append((pct, is_flapping))
    return out


def event(seconds: float, state: LinkState, transitions: int = 1) -> LinkEvent:
    kind = EventKind.LINK_UP if state is UP else EventKind.LINK_DOWN
    return LinkEvent(at(seconds), None, "eth0", 7, kind, state, EventSource.NETLINK, transitions)


def test_no_change_is_zero_percent() -> None:
    assert percent_state_change([UP] * 21) == 0.0


def test_newest_change_weighs_1_25() -> None:
    assert percent_state_change([UP] * 20 + [DOWN]) == pytest.approx(1.25 * 100 / 20)


def test_oldest_change_weighs_0_75() -> None:
    assert percent_state_change([UP] + [DOWN] * 20) == pytest.approx(0.75 * 100 / 20)


def test_alternating_history_is_100_percent() -> None:
    history = [UP if i % 2 else DOWN for i in range(21)]
    assert percent_state_change(history) == pytest.approx(100.0)


def test_hysteresis_keeps_value_between_thresholds() -> None:
    assert hysteresis(30.0, True, 25, 50) is True
    assert hysteresis(30.0, False, 25, 50) is False
    assert hysteresis(50.0, False, 25, 50) is True
    assert hysteresis(25.0, True, 25, 50) is False


@settings(max_examples=300)
@given(
    st.lists(st.integers(0, 1), min_size=2, max_size=80),
    st.floats(0, 60),
    st.floats(1, 40),
)
def test_nagios_flap_matches_nagios_core(states: list[int], low: float, gap: float) -> None:
    high = min(100.0, low + gap)
    as_state = [UP if s else DOWN for s in states]
    ours = NagiosFlap(as_state[0], low, high)
    got = []
    for state in as_state[1:]:
        ours.record(state)
        got.append((ours.percent, ours.flapping))
    expected = nagios_reference(states, low, high)
    assert [g[1] for g in got] == [e[1] for e in expected]
    assert [g[0] for g in got] == pytest.approx([e[0] for e in expected])


@given(st.lists(st.sampled_from([UP, DOWN]), min_size=21, max_size=21))
def test_percent_is_bounded(history: list[LinkState]) -> None:
    assert 0.0 <= percent_state_change(history) <= 100.0 + 1e-9


def test_intermediate_states_alternate_and_end_in_final() -> None:
    assert intermediate_states(3, DOWN) == [DOWN, UP, DOWN]
    assert intermediate_states(2, UP) == [DOWN, UP]
    assert len(intermediate_states(100, UP)) == NAGIOS_HISTORY


def test_config_is_checked() -> None:
    with pytest.raises(ValueError, match="low < high"):
        FlapConfig(low=60, high=50)


def rate_only(**kw: float) -> FlapConfig:
    return FlapConfig(nagios_enabled=False, **kw)  # type: ignore[arg-type]


def test_rate_rule_opens_on_the_sixth_transition_in_the_window() -> None:
    det = FlapDetector(rate_only(), (None, 7, "eth0"), UP, at(0))
    notices = []
    for i in range(5):
        notices += det.observe(event(10 * i, DOWN if i % 2 == 0 else UP))
    assert notices == []
    notices += det.observe(event(50, UP))
    assert [n.edge for n in notices] == [EpisodeEdge.START]
    episode = notices[0].episode
    assert episode.start == at(0)  # the transitions that caused it belong to it
    assert episode.transitions == 6
    assert episode.trigger is FlapTrigger.RATE
    assert episode.open


def test_transitions_spread_wider_than_the_window_do_not_open() -> None:
    det = FlapDetector(rate_only(), (None, 7, "eth0"), UP, at(0))
    state = UP
    for i in range(20):
        state = DOWN if state is UP else UP
        assert det.observe(event(61 * i, state)) == []


def test_episode_ends_after_a_quiet_window_with_down_time() -> None:
    det = FlapDetector(rate_only(), (None, 7, "eth0"), UP, at(0))
    # down 0..2, up 2..10, down 10..13, up 13..20, down 20..21, up 21
    times = [0, 2, 10, 13, 20, 21]
    notices = []
    state = UP
    for t in times:
        state = DOWN if state is UP else UP
        notices += det.observe(event(t, state))
    assert [n.edge for n in notices] == [EpisodeEdge.START]
    assert det.tick(at(300)) == []  # the window still holds transitions
    end = det.tick(at(321.5))
    assert [n.edge for n in end] == [EpisodeEdge.END]
    ep = end[0].episode
    assert ep.end == at(21)
    assert ep.cleared_at == at(321.5)
    assert ep.transitions == 6
    assert ep.down_seconds == pytest.approx(2 + 3 + 1)
    assert not det.flapping


def test_alerts_are_per_episode_not_per_transition() -> None:
    det = FlapDetector(rate_only(), (None, 7, "eth0"), UP, at(0))
    notices = []
    state = UP
    for i in range(40):
        state = DOWN if state is UP else UP
        notices += det.observe(event(i, state))
    notices += det.tick(at(1000))
    assert [n.edge for n in notices] == [EpisodeEdge.START, EpisodeEdge.END]
    assert notices[1].episode.transitions == 40


def test_coalesced_transitions_count_in_full() -> None:
    det = FlapDetector(rate_only(), (None, 7, "eth0"), UP, at(0))
    notices = det.observe(event(1, UP, transitions=6))
    assert [n.edge for n in notices] == [EpisodeEdge.START]
    assert notices[0].episode.transitions == 6
    assert notices[0].episode.down_seconds == 0.0  # the kernel did not say how long


def test_nagios_rule_alone_opens_and_clears_with_samples() -> None:
    config = FlapConfig(rate_transitions=1000, sample_interval=15)
    det = FlapDetector(config, (None, 7, "eth0"), UP, at(0))
    notices = []
    state = UP
    for i in range(12):
        state = DOWN if state is UP else UP
        notices += det.observe(event(i * 0.1, state))
    assert [n.edge for n in notices] == [EpisodeEdge.START]
    assert notices[0].episode.trigger is FlapTrigger.NAGIOS
    assert det.nagios.percent >= 50
    # Still samples push the changes out of the 21-state history.
    later = det.tick(at(15 * 21))
    assert [n.edge for n in later] == [EpisodeEdge.END]
    assert det.nagios.percent == 0.0


def test_tracker_closes_episode_of_a_removed_link() -> None:
    tracker = FlapTracker(rate_only())
    state = UP
    for i in range(6):
        before = state
        state = DOWN if state is UP else UP
        tracker.observe(event(i, state), before)
    assert tracker.is_flapping(None, 7)
    assert [e.ifname for e in tracker.open_episodes()] == ["eth0"]
    gone = tracker.forget(None, 7, at(10))
    assert [n.edge for n in gone] == [EpisodeEdge.END]
    assert not tracker.is_flapping(None, 7)


def test_resumed_episode_lasts_until_a_quiet_window() -> None:
    det = FlapDetector(rate_only(), (None, 7, "eth0"), UP, at(0))
    state = UP
    for i in range(6):
        state = DOWN if state is UP else UP
        det.observe(event(i, state))
    assert det.episode is not None
    fresh = FlapDetector(rate_only(), (None, 7, "eth0"), UP, at(100))
    fresh.resume(det.episode)
    assert fresh.observe(event(101, DOWN)) == []
    assert fresh.tick(at(200)) == []
    end = fresh.tick(at(402))
    assert [n.edge for n in end] == [EpisodeEdge.END]
    assert end[0].episode.transitions == 7


toggle_times = st.lists(st.floats(0.01, 120), min_size=1, max_size=60)


@settings(max_examples=200)
@given(toggle_times, st.booleans())
def test_episode_invariants(gaps: list[float], nagios: bool) -> None:
    config = FlapConfig(nagios_enabled=nagios)
    det = FlapDetector(config, (None, 7, "eth0"), UP, at(0))
    notices = []
    t = 0.0
    state = UP
    for gap in gaps:
        t += gap
        state = DOWN if state is UP else UP
        notices += det.tick(at(t))
        notices += det.observe(event(t, state))
    notices += det.tick(at(t + 10_000))
    edges = [n.edge for n in notices]
    # Start and end strictly alternate and every episode is closed at the end.
    assert edges == [EpisodeEdge.START, EpisodeEdge.END] * (len(edges) // 2)
    total = 0
    for n in notices:
        ep = n.episode
        if n.edge is EpisodeEdge.END:
            assert ep.end is not None and ep.cleared_at is not None
            assert ep.start <= ep.end <= ep.cleared_at
            span = (ep.end - ep.start).total_seconds()
            assert 0 <= ep.down_seconds <= span + 1e-6
            total += ep.transitions
    assert total <= len(gaps)


@settings(max_examples=200)
@given(st.lists(st.floats(0.01, 100), min_size=1, max_size=60))
def test_rate_rule_opens_exactly_when_window_overflows(gaps: list[float]) -> None:
    config = rate_only()
    det = FlapDetector(config, (None, 7, "eth0"), UP, at(0))
    t = 0.0
    times: list[float] = []
    state = UP
    for gap in gaps:
        t += gap
        times.append(t)
        state = DOWN if state is UP else UP
        was_open = det.flapping
        notices = det.observe(event(t, state))
        in_window = [x for x in times if x > t - 300]
        if not was_open:
            assert bool(notices) == (len(in_window) > 5)

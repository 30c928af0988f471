"""The link-down rule in the watcher's pure core (watch/link_down.py): a link with its admin
state up and no carrier fires once it has been so for the hold time, and resolves when that
ends; short downs, admin downs, flapping links and a rule turned off fire nothing. Every time
is the test's. And watch.yaml's `alerts.link_down`, refused with field, value and fix."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from linkctl.domain.down import DownNotice
from linkctl.domain.episodes import EpisodeEdge
from linkctl.watch.config import ConfigError, parse_config
from linkctl.watch.core import DumpReason, WatchCore

from .helpers import at, flapping, msg


def _core(hold: float | None = 60.0) -> WatchCore:
    core = WatchCore(link_down_for=hold)
    core.on_dump(None, [msg(0, 1, 0)], at(0), DumpReason.STARTUP)  # eth0 up
    return core


def _downs(core: WatchCore, *seconds: float) -> list[tuple[str, float]]:
    """The link-down notices of ticks at `seconds`: (edge, how long down)."""
    found = []
    for s in seconds:
        for notice in core.tick(at(s)).notices:
            if isinstance(notice, DownNotice):
                found.append((notice.edge.value, round(notice.spell.down_seconds(), 1)))
    return found


def test_a_link_held_down_fires_once_after_the_hold_and_resolves_when_up() -> None:
    core = _core()
    core.on_link(msg(10, 1, 1))  # carrier lost, admin state up
    assert _downs(core, 11, 40, 70) == []  # the hold counts from the first tick that saw it down
    assert _downs(core, 71, 72, 300) == [("start", 61.0)]  # once, however many ticks
    core.on_link(msg(400, 2, 1))
    assert _downs(core, 401, 402) == [("end", 390.0)]  # resolved at the carrier's return


def test_up_before_the_hold_fires_nothing() -> None:
    core = _core()
    core.on_link(msg(10, 1, 1))
    assert _downs(core, 11, 60) == []
    core.on_link(msg(65, 2, 1))
    assert _downs(core, 66, 500) == []


def test_an_administrative_down_is_not_a_link_down() -> None:
    core = _core()
    core.on_link(msg(10, 1, 1, admin_up=False))  # `ip link set eth0 down`
    assert _downs(core, 11, 500) == []


def test_set_down_by_hand_while_firing_resolves_it() -> None:
    core = _core(hold=5)
    core.on_link(msg(10, 1, 1))
    assert _downs(core, 11, 16) == [("start", 6.0)]
    core.on_link(msg(20, 1, 1, admin_up=False))
    notices = [n for n in core.tick(at(21)).notices if isinstance(n, DownNotice)]
    assert [(n.edge, n.spell.ended_by) for n in notices] == [(EpisodeEdge.END, "set administratively down")]
    assert notices[0].spell.end == at(20)  # when it was set down, not when the tick saw it


def test_a_flapping_link_gets_no_link_down_until_its_episode_ends() -> None:
    core = WatchCore(link_down_for=5)
    core.on_dump(None, [msg(0, 1, 0)], at(0), DumpReason.STARTUP)
    for m in flapping(changes=9):  # ends down, at second 9
        core.on_link(m)
    assert core.flaps.is_flapping(None, 7)
    assert _downs(core, 10, 20, 60) == []  # the episode is the story while it is open
    assert _downs(core, 1000) == [] and not core.flaps.is_flapping(None, 7)  # cleared: a quiet rate window
    assert _downs(core, 1001, 1010) == [("start", 1001.0)]  # still down once it stopped flapping: the hold


def test_the_rule_off_fires_nothing() -> None:
    core = _core(hold=None)
    core.on_link(msg(10, 1, 1))
    assert _downs(core, 11, 5000) == []


def _problems(alerts: str) -> list[tuple[str, Any, str]]:
    with pytest.raises(ConfigError) as info:
        parse_config({"alerts": yaml.safe_load(alerts)})
    return [(p.field, p.value, p.allowed) for p in info.value.problems]


@pytest.mark.parametrize("value", ["0", "0s", "null", "off", "-5s", "soon"])
def test_a_bad_hold_names_the_field_the_value_and_how_to_turn_it_off(value: str) -> None:
    ((field, found, fix),) = _problems(f"link_down: {{for: {value}}}")
    assert field == "alerts.link_down.for", field
    assert found == yaml.safe_load(value)
    assert "such as 60s" in fix and "link_down: {enabled: false}" in fix, fix


def test_link_down_config_spellings() -> None:
    assert parse_config({}).alerts.link_down.seconds == 60.0  # on by default
    assert parse_config({"alerts": {"link_down": {"for": "2m"}}}).alerts.link_down.seconds == 120.0
    assert parse_config({"alerts": {"link_down": {"enabled": False}}}).alerts.link_down.seconds is None
    ((field, _, fix),) = _problems("link_down: {fro: 5s}")
    assert field == "alerts.link_down.fro" and "did you mean 'for'" in fix, (field, fix)
    ((field, _, fix),) = _problems("link_down: {hold: 5s}")  # the attribute's name is no spelling of it
    assert field == "alerts.link_down.hold" and "unknown field" in fix, (field, fix)

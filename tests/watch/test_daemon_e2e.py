"""End to end: a flapping veth seen by `linkctl watch`, recorded in PostgreSQL and alerted to a
real (signed) webhook receiver; an episode start and its end each arrive once, both ends of the
pair in one notification (one cause)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.alerts.servers import webhook_receiver
from tests.store.conftest import pg_cluster, pg_url  # noqa: F401 - fixtures used by name
from tests.watch.test_daemon import add_pairs, namespace, recorded_transitions, toggle, wait_caught_up, watching

pytestmark = pytest.mark.kernel
SECRET = b"s3cret-for-the-test"


@pytest.fixture
def hook() -> Iterator[tuple[str, object]]:
    with webhook_receiver(SECRET) as (url, log):
        yield url, log


def _config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "watch.yaml"
    path.write_text(
        "flap: {rate_transitions: 3, rate_window: 3s, rate_clear_transitions: 0}\n"
        "alerts:\n"
        "  host: test-host\n"
        "  retry: {initial: 1s, max: 2s, give_up_after: 1h}\n"
        "  group_wait: 2s\n"
        f"  receivers:\n  - {{name: hook, type: webhook, url: '{url}', secret_env: LK_TEST_SECRET}}\n"
    )
    return path


def _wait(pred: object, what: str, seconds: float = 120.0) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_flap_episode_alerted_and_recorded_in_postgresql(tmp_path: Path, pg_url: str, hook: tuple[str, object]) -> None:  # noqa: F811
    url, log = hook
    with namespace() as ns:
        add_pairs(ns, ["fa"])
        args = ["--netns", ns, "--store", pg_url, "--listen", "", "--config", str(_config(tmp_path, url))]
        with watching(args, env={"LK_TEST_SECRET": SECRET.decode()}):
            toggle(ns, ["fa"], 4)
            wait_caught_up(pg_url, ns)
            # fap was set down and up by hand: no flap of its own. fa lost its carrier each time: it
            # flapped.
            edges = lambda: sorted(  # noqa: E731
                (tuple(a["ifname"] for a in r.get("alerts", [r])), r["edge"])
                for r in log.received  # type: ignore[attr-defined]
            )
            _wait(lambda: edges() == [(("fa",), "end"), (("fa",), "start")], "start and end alerts")
            assert recorded_transitions(pg_url, ns) == 16  # both ends: 4 downs and 4 ups each
        received = log.received  # type: ignore[attr-defined]
        assert log.bad_signatures == 0  # type: ignore[attr-defined]
        # The only one of its pair flapping: alerted alone, no group to name.
        assert all(r["host"] == "test-host" and "cause" not in r for r in received)
        alerts = [a for r in received for a in r.get("alerts", [r])]
        assert all(a["netns"] == ns for a in alerts)
        assert len({a["key"] for a in alerts}) == 2  # each alert once: the key is its idempotency key


def test_diagnose_reads_the_flap_history_that_watch_recorded(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    url = f"sqlite://{tmp_path / 'events.db'}"
    cfg = tmp_path / "watch.yaml"
    cfg.write_text("flap: {rate_transitions: 3, rate_window: 60s}\n")
    with namespace() as ns:
        add_pairs(ns, ["dg"])
        with watching(["--netns", ns, "--store", url, "--listen", "", "--config", str(cfg)]):
            toggle(ns, ["dg"], 4)
            wait_caught_up(url, ns)
        res = subprocess.run(
            [sys.executable, "-m", "linkctl", "diagnose", "dg", "--netns", ns, "--store", url, "--format", "json"],
            capture_output=True, text=True, check=False, timeout=120,
        )  # fmt: skip
    assert res.returncode in (0, 1, 2), res.stderr
    report = json.loads(res.stdout)
    store = report["evidence"]["store"]
    # A history row may carry two transitions when the kernel's carrier counter moved twice between
    # two netlink messages, so rows are fewer than the 8 transitions; never fewer than half of them.
    assert store["episodes"] == 1 and store["transitions"] >= 4 and store["events"] >= 4

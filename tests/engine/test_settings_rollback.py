"""ethtool settings go through the links' own path: journalled before they change, and put back by every
rollback, in process (`try` unconfirmed) or from the journal (`try`'s guardian, `linkctl recover`).

Real `linkctl` processes on a real namespace: a veth's offload (rx-gro) and a tap's interrupt coalescing
(rx-frames, which tun keeps), read back with the `ethtool` program.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ip
from tests.engine.faults import holding, links, run, wait_gone

pytestmark = pytest.mark.kernel


def _ethtool(ns: str, *args: str) -> str:
    return subprocess.run(
        ["ip", "netns", "exec", ns, "ethtool", *args], capture_output=True, text=True, check=True
    ).stdout


def _settings(ns: str) -> tuple[bool, int]:
    """(rx-gro of sa, rx-frames of st0)."""
    gro = "generic-receive-offload: on" in _ethtool(ns, "-k", "sa")
    frames = next(
        int(line.split()[1]) for line in _ethtool(ns, "-c", "st0").splitlines() if line.startswith("rx-frames:")
    )
    return gro, frames


@pytest.fixture
def change(netns: str, tmp_path: Path) -> tuple[str, Path, Path]:
    """A namespace with a veth pair and a tap; a change of an MTU, an offload and a coalescing value."""
    ip("-n", netns, "link", "add", "sa", "type", "veth", "peer", "name", "sb")
    ip("-n", netns, "tuntap", "add", "mode", "tap", "name", "st0")
    gro, frames = _settings(netns)
    text = (
        f"interfaces:\n- name: sa\n  mtu: 1400\n  ethtool:\n    feature: {{rx-gro: {str(not gro).lower()}}}\n"
        f"- name: st0\n  ethtool:\n    coalesce: {{rx-frames: {frames + 7}}}\n"
    )
    path = tmp_path / "s.yml"
    path.write_text(text)
    return netns, path, tmp_path / "run"


def test_try_unconfirmed_puts_the_settings_back(change: tuple[str, Path, Path]) -> None:
    ns, path, runtime = change
    before, settings = links(ns), _settings(ns)
    res = run(["try", str(path), "-n", ns, "--timeout", "1"], runtime)
    assert res.returncode == 3, res.stdout + res.stderr
    assert "ethtool and module settings: 2 put back, checked as they were before." in res.stdout
    assert _settings(ns) == settings and links(ns) == before


def test_the_journal_holds_the_settings_found_and_the_guardian_puts_them_back(change: tuple[str, Path, Path]) -> None:
    ns, path, runtime = change
    gro, frames = settings = _settings(ns)
    proc, guardian = holding(path, ns, runtime, 3)
    assert _settings(ns) == (not gro, frames + 7)
    saved = json.loads((runtime / "change.journal").read_text())["settings"]
    # The ops that put back what the change found, newest first: what every rollback re-declares.
    assert [(s["op"], s["name"], s["section"], s["after"]) for s in saved] == [
        ("SetEthtool", "st0", "coalesce", [["rx-frames", frames]]),
        ("SetEthtool", "sa", "feature", [["rx-gro", gro]]),
    ]
    proc.kill()
    proc.wait()
    wait_gone(guardian)  # at the deadline, from the journal: another process than the one that made them
    assert _settings(ns) == settings
    outcome = json.loads((runtime / "try-outcome.json").read_text())["message"]
    assert "ethtool and module settings: 2 put back, checked as they were before." in outcome
    assert "Not undone" not in outcome


def test_recover_puts_the_settings_back(change: tuple[str, Path, Path]) -> None:
    ns, path, runtime = change
    before, settings = links(ns), _settings(ns)
    proc, guardian = holding(path, ns, runtime, 600)
    os.kill(guardian, signal.SIGKILL)  # the guardian first, or it would roll back when `try` goes
    wait_gone(guardian)
    proc.kill()
    proc.wait()
    assert _settings(ns) != settings
    rec = run(["recover", "-n", ns], runtime)
    assert rec.returncode == 0, rec.stdout + rec.stderr
    assert "ethtool and module settings: 2 put back, checked as they were before." in rec.stdout
    assert _settings(ns) == settings and links(ns) == before
    assert not (runtime / "change.journal").exists()


def test_settings_of_a_link_gone_since_are_named_and_the_rest_put_back(change: tuple[str, Path, Path]) -> None:
    """The tap is gone when `recover` comes (deleted by someone since the kill): its coalescing went with
    it. Named, not put back, and no failure either: a journal naming it would keep `recover` failing."""
    ns, path, runtime = change
    gro = _settings(ns)[0]
    proc, guardian = holding(path, ns, runtime, 600)
    os.kill(guardian, signal.SIGKILL)
    wait_gone(guardian)
    proc.kill()
    proc.wait()
    ip("-n", ns, "link", "del", "st0")
    rec = run(["recover", "-n", ns], runtime)
    assert rec.returncode == 0, rec.stdout + rec.stderr
    said = f"ethtool and module settings: 1 put back; not put back: ethtool coalesce of st0 (netns {ns}), which no"
    assert said in rec.stdout
    assert _ethtool(ns, "-k", "sa").count(f"generic-receive-offload: {'on' if gro else 'off'}") == 1
    assert not (runtime / "change.journal").exists()


def test_a_setting_the_driver_refuses_at_apply_rolls_everything_back(netns: str, tmp_path: Path) -> None:
    """Without scatter-gather a veth cannot segment TCP: `ethtool -K sa tx-tcp-segmentation on` answers
    'Could not change any device features' (what `ethtool -k` shows cannot tell before), so the apply
    fails at that step, and the links and settings go back as they were."""
    ip("-n", netns, "link", "add", "sa", "type", "veth", "peer", "name", "sb")
    _ethtool(netns, "-K", "sa", "sg", "off")
    assert "tx-tcp-segmentation: off [requested on]" in _ethtool(netns, "-k", "sa")  # not [fixed]: planned
    before = links(netns)
    path = tmp_path / "v.yml"
    path.write_text("interfaces:\n- name: sa\n  mtu: 1400\n  ethtool:\n    feature: {tx-tcp-segmentation: true}\n")
    res = run(["apply", str(path), "-n", netns], tmp_path / "run")
    assert res.returncode == 1, res.stdout + res.stderr
    assert (
        f"linkctl: set ethtool feature of sa (netns {netns}): tx-tcp-segmentation false -> true: failed: "
        f"ip netns exec {netns} ethtool -K sa tx-tcp-segmentation on: Could not change any device features\n"
        f"rolled back: 1 change(s) undone; checked: the 3 link(s) of netns {netns} are as they were before.\n"
    ) in res.stderr  # one sentence: "rolled back: 0 earlier change(s) undone" came first, a second "rolled back"
    assert links(netns) == before and "tx-tcp-segmentation: off [requested on]" in _ethtool(netns, "-k", "sa")
    assert not (tmp_path / "run" / "change.journal").exists()

"""`linkctl try` against the real kernel: confirmation, timeout, --stable-for, the lock it holds."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

from tests.conftest import LINKCTL, ip, run_linkctl
from tests.engine.kernel_helpers import TOPOLOGY, by_name, is_up, write


def test_try_rolls_back_without_confirmation(netns: str, tmp_path: Path) -> None:
    assert run_linkctl("apply", write(tmp_path, TOPOLOGY), "--netns", netns).returncode == 0
    res = run_linkctl(
        "try",
        write(tmp_path, "interfaces: [{name: veth1, mtu: 1400}]", "t.yml"),
        "--netns",
        netns,
        "--timeout",
        "1",
    )
    assert res.returncode == 3 and "no confirmation" in res.stdout
    assert by_name(netns)["veth1"]["mtu"] == 9000
    # What was held is shown before it is applied, as `apply` shows it.
    shown = res.stdout.index(f"1. set veth1 (netns {netns}): mtu 9000 -> 1400")
    assert shown < res.stdout.index("applied 1 change(s); confirm within 1 s")


def test_try_confirmed_from_another_shell(netns: str, tmp_path: Path) -> None:
    assert run_linkctl("apply", write(tmp_path, TOPOLOGY), "--netns", netns).returncode == 0
    env = {"LINKCTL_RUNTIME_DIR": str(tmp_path / "run"), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    proc = subprocess.Popen(
        [*LINKCTL, "try", write(tmp_path, "interfaces: [{name: veth1, mtu: 1400}]", "t.yml"), "--netns", netns, "--timeout", "60"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        assert "confirm within" in _line_with(proc.stdout, "confirm within")
        # While try holds its change, no other linkctl changes links; reading and planning go on.
        other = write(tmp_path, "interfaces: [{name: veth1, txqueuelen: 3000}]", "o.yml")
        busy = subprocess.run([*LINKCTL, "apply", other, "-n", netns], capture_output=True, text=True, env=env)
        assert busy.returncode == 1
        assert f"`linkctl try` (pid {proc.pid}) is changing links: nothing was read or changed" in busy.stderr
        assert "confirm it with `linkctl confirm`" in busy.stderr
        waited = subprocess.run(
            [*LINKCTL, "apply", other, "-n", netns, "--wait", "0.5"], capture_output=True, text=True, env=env
        )
        assert waited.returncode == 1 and f"(pid {proc.pid}) is still changing links after 0.5 s" in waited.stderr
        assert subprocess.run([*LINKCTL, "plan", other, "-n", netns], env=env, capture_output=True).returncode == 2
        confirm = subprocess.run([*LINKCTL, "confirm"], capture_output=True, text=True, env=env, check=False)
        assert confirm.returncode == 0, confirm.stderr
        out, _err = proc.communicate(timeout=30)
        assert proc.returncode == 0 and "confirmed" in out
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
    assert by_name(netns)["veth1"]["mtu"] == 1400
    # The lock went with the process: the other change goes through now.
    assert subprocess.run([*LINKCTL, "apply", other, "-n", netns], env=env, capture_output=True).returncode == 0


def _line_with(stream: IO[str], text: str) -> str:
    """The first line read that holds `text` (the plan comes first); "" at the end of the stream."""
    for line in iter(stream.readline, ""):
        if text in line:
            return line
    return ""


def _try_while(args: list[str], during: Callable[[], None], env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run `linkctl try ARGS`, call `during` once it holds its change, wait for its end: (exit code, stdout)."""
    proc = subprocess.Popen(
        [*LINKCTL, "try", *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        assert "confirm within" in _line_with(proc.stdout, "confirm within")
        during()
        out, _err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, out


def test_try_stable_for_rolls_back_on_carrier_loss(netns: str, tmp_path: Path) -> None:
    assert run_linkctl("apply", write(tmp_path, TOPOLOGY), "--netns", netns).returncode == 0
    change = write(tmp_path, "interfaces: [{name: veth0, mtu: 1400}, {name: veth0-p, mtu: 1400}]", "t.yml")

    def lose_carrier() -> None:
        time.sleep(0.5)  # let it subscribe; the assertion below does not depend on time
        ip("-n", netns, "link", "set", "veth0-p", "down")

    code, out = _try_while([change, "--netns", netns, "--timeout", "60", "--stable-for", "30"], lose_carrier)
    assert code == 3 and "lost its carrier" in out
    assert by_name(netns)["veth0"]["mtu"] == 9000


def _pair_up(netns: str) -> None:
    ip("-n", netns, "link", "add", "sa", "type", "veth", "peer", "name", "sb")
    ip("-n", netns, "link", "set", "sa", "up")
    ip("-n", netns, "link", "set", "sb", "up")


def test_try_stable_for_rolls_back_a_change_that_cuts_the_carrier_itself(netns: str, tmp_path: Path) -> None:
    # sa had a carrier; the change takes its peer down, so sa has none from the change on:
    # not a loss seen after the change, and yet exactly what --stable-for is for.
    _pair_up(netns)
    text = "interfaces: [{name: sa, state: up, mtu: 1400}, {name: sb, state: down}]"
    res = subprocess.run(
        [*LINKCTL, "try", write(tmp_path, text), "--netns", netns, "--timeout", "60", "--stable-for", "2"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert res.returncode == 3, res.stdout + res.stderr
    assert "sa has had no carrier since the change (2 s): rolling back" in res.stdout
    now = by_name(netns)
    assert is_up(now["sb"]) and now["sa"]["mtu"] == 1500


def test_try_stable_for_lets_a_link_renegotiate(netns: str, tmp_path: Path) -> None:
    # A link without carrier right after the change that regains it within the window is kept.
    _pair_up(netns)
    env = {"LINKCTL_RUNTIME_DIR": str(tmp_path / "run"), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    text = "interfaces: [{name: sa, state: up, mtu: 1400}, {name: sb, state: down}]"

    def renegotiate_then_confirm() -> None:
        ip("-n", netns, "link", "set", "sb", "up")  # the carrier comes back, as after autonegotiation
        time.sleep(3)  # past the window: a link still pending would have rolled the change back by now
        confirm = subprocess.run([*LINKCTL, "confirm"], capture_output=True, text=True, env=env, check=False)
        assert confirm.returncode == 0, confirm.stderr

    args = [write(tmp_path, text), "--netns", netns, "--timeout", "60", "--stable-for", "2"]
    code, out = _try_while(args, renegotiate_then_confirm, env)
    assert code == 0 and "confirmed" in out
    assert by_name(netns)["sa"]["mtu"] == 1400


def test_try_confirmed_with_enter_on_a_terminal(netns: str, tmp_path: Path) -> None:
    import shutil

    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (scripts/setup.sh --test installs it)")
    ip("-n", netns, "link", "add", "t1", "type", "veth", "peer", "name", "t1p")
    path = write(tmp_path, "interfaces: [{name: t1, mtu: 1400}]")
    session = f"lk{netns}"
    cmd = " ".join([*LINKCTL, "try", path, "--netns", netns, "--timeout", "60", ";", "sleep", "30"])
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "150", "-y", "20", cmd], check=True)
    try:
        screen = _wait_for_screen(session, "confirm within")
        assert "applied 1 change(s)" in screen
        subprocess.run(["tmux", "send-keys", "-t", session, "Enter"], check=True)
        assert "confirmed: the change stays" in _wait_for_screen(session, "confirmed")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)
    assert by_name(netns)["t1"]["mtu"] == 1400


def _wait_for_screen(session: str, text: str) -> str:
    screen = ""
    for _ in range(100):  # bounded: 20 s at most
        screen = subprocess.run(
            ["tmux", "capture-pane", "-pt", session], capture_output=True, text=True, check=False
        ).stdout
        if text in screen:
            return screen
        time.sleep(0.2)
    return screen

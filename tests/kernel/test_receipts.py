"""The no-op fast path: `apply` of an applied file on unchanged links ends at the dump.

Which path answered is read from `python -X importtime`: the full command always
imports pydantic (the schema), the fast path never does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ip
from tests.engine.kernel_helpers import TOPOLOGY, by_name, write

STP_TOPOLOGY = TOPOLOGY.replace("options: {stp: {enabled: false}}", "options: {stp: {enabled: true, forward-delay: 2}}")


def apply(path: str, netns: str, command: str = "apply", **env: str) -> tuple[subprocess.CompletedProcess[str], bool]:
    """Run `linkctl apply` (or plan); return its result and whether the receipt answered it."""
    res = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "linkctl", command, path, "--netns", netns],
        capture_output=True, text=True, timeout=120, check=False, env={**os.environ, **env},
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    imported = [line.rsplit("|", 1)[-1].strip() for line in res.stderr.splitlines() if line.startswith("import time:")]
    return res, "pydantic" not in imported


def test_second_apply_is_answered_from_the_receipt(netns: str, tmp_path: Path) -> None:
    path = write(tmp_path, TOPOLOGY)
    first, fast = apply(path, netns)
    assert not fast and "applied and verified" in first.stdout
    second, fast = apply(path, netns)
    assert fast
    full, was_fast = apply(path, netns, LINKCTL_RECEIPTS="off")
    assert not was_fast
    assert (
        second.stdout
        == full.stdout
        == "no changes: 6 interface(s) already as declared; nothing was sent to the kernel\n"
    )


def test_a_changed_link_takes_the_full_path_and_is_put_back(netns: str, tmp_path: Path) -> None:
    path = write(tmp_path, TOPOLOGY)
    apply(path, netns)
    ip("-n", netns, "link", "set", "dev", "veth0", "mtu", "1500")
    res, fast = apply(path, netns)
    assert not fast and "applied and verified" in res.stdout
    assert by_name(netns)["veth0"]["mtu"] == 9000
    assert apply(path, netns)[1]  # the repaired state has its own receipt


def test_a_removed_link_takes_the_full_path(netns: str, tmp_path: Path) -> None:
    path = write(tmp_path, TOPOLOGY)
    apply(path, netns)
    ip("-n", netns, "link", "del", "mv0")
    res, fast = apply(path, netns)
    assert not fast and "applied and verified" in res.stdout and "mv0" in by_name(netns)


def test_carrier_flaps_and_stp_timers_keep_the_fast_path(netns: str, tmp_path: Path) -> None:
    path = write(tmp_path, STP_TOPOLOGY)
    apply(path, netns)
    # veth1's peer is not declared: its down/up moves only veth1's carrier, operstate and counters.
    for _ in range(3):
        ip("-n", netns, "link", "set", "dev", "veth1-p", "down")
        ip("-n", netns, "link", "set", "dev", "veth1-p", "up")
    time.sleep(2.5)  # STP: hello and forward-delay timers run, port states move on
    assert apply(path, netns)[1]


def test_an_unrelated_new_link_or_an_edited_file_takes_the_full_path_once(netns: str, tmp_path: Path) -> None:
    path = write(tmp_path, TOPOLOGY)
    apply(path, netns)
    ip("-n", netns, "link", "add", "other", "type", "veth", "peer", "name", "other-p")
    res, fast = apply(path, netns)
    assert not fast and "no changes" in res.stdout
    assert apply(path, netns)[1]
    Path(path).write_text(TOPOLOGY + "# edited\n")
    res, fast = apply(path, netns)
    assert not fast and "no changes" in res.stdout
    assert apply(path, netns)[1]


def test_the_same_file_for_another_namespace_is_not_answered_by_the_first_ones_receipt(
    netns_factory: object, tmp_path: Path
) -> None:
    first, second = netns_factory(), netns_factory()  # type: ignore[operator]
    path = write(tmp_path, TOPOLOGY)
    apply(path, first)
    res, fast = apply(path, second)
    assert not fast and "applied and verified" in res.stdout


def test_receipts_off_means_the_full_path_every_time(netns: str, tmp_path: Path) -> None:
    path = write(tmp_path, TOPOLOGY)
    apply(path, netns, LINKCTL_RECEIPTS="off")
    assert not apply(path, netns, LINKCTL_RECEIPTS="off")[1]
    assert not apply(path, netns)[1]  # and none was written meanwhile


def test_the_fast_and_the_full_path_fingerprint_the_same_dump(netns: str, tmp_path: Path) -> None:
    from linkctl.kernel.fastpath import current_digest
    from linkctl.kernel.state import read_state

    for key in ("all", "default"):  # no IPv6 traffic changing anything between the two dumps
        subprocess.run(
            ["ip", "netns", "exec", netns, "sysctl", "-qw", f"net.ipv6.conf.{key}.disable_ipv6=1"], check=True
        )
    apply(write(tmp_path, TOPOLOGY), netns)
    namespaces: list[str | None] = [netns, "lkt-no-such-namespace"]
    assert current_digest(namespaces) == read_state(namespaces, digest=True).digest


def test_plan_of_an_applied_file_is_answered_from_the_receipt_too(netns: str, tmp_path: Path) -> None:
    path = write(tmp_path, TOPOLOGY)
    apply(path, netns)
    fast, was_fast = apply(path, netns, "plan")
    full, was_full = apply(path, netns, "plan", LINKCTL_RECEIPTS="off")
    assert was_fast and not was_full
    assert fast.stdout == full.stdout == "no changes: 6 interface(s) already as declared\n"


def test_a_no_op_plan_leaves_a_receipt_for_apply(netns: str, tmp_path: Path) -> None:
    path = write(tmp_path, TOPOLOGY)
    apply(path, netns, LINKCTL_RECEIPTS="off")
    assert not apply(path, netns, "plan")[1]
    assert apply(path, netns)[1]


def _pair(mtu: int) -> str:
    return (
        f"interfaces:\n- {{name: rv0, type: veth, state: up, mtu: {mtu}, veth: {{peer: rp0}}}}\n"
        f"- {{name: rp0, type: veth, state: up, mtu: {mtu}}}\n"
    )


def _receipts(runtime: Path) -> dict[str, int]:
    where = runtime / "receipts"
    return {p.name: p.stat().st_mtime_ns for p in where.iterdir()} if where.exists() else {}


def test_a_change_cut_off_by_kill_9_is_not_answered_from_a_receipt(netns: str, tmp_path: Path) -> None:
    """y.yml's receipt holds for the links a killed `try` left (and its guardian with it): `recover` is
    due, so `apply y.yml` refuses, naming it, and `plan y.yml` (the full path) says the change was cut
    off and leaves no receipt."""
    from tests.engine.faults import holding, run, wait_gone

    runtime = tmp_path / "run"
    x, y = write(tmp_path, _pair(1500), "x.yml"), write(tmp_path, _pair(9000), "y.yml")
    for path in (y, x):
        assert run(["apply", path, "-n", netns], runtime).returncode == 0
    proc, guardian = holding(Path(y), netns, runtime, 60)
    os.kill(guardian, signal.SIGKILL)
    proc.kill()
    proc.wait(timeout=60)
    wait_gone(guardian)
    kept = _receipts(runtime)
    second = run(["apply", y, "-n", netns], runtime)
    assert second.returncode == 1 and "linkctl recover" in second.stderr, second.stdout + second.stderr
    assert "no changes" not in second.stdout
    plan = run(["plan", y, "-n", netns], runtime)
    assert "cut off half-way (killed?)" in plan.stderr, plan.stderr
    assert _receipts(runtime) == kept
    assert run(["recover"], runtime).returncode == 0
    assert by_name(netns)["rv0"]["mtu"] == 1500


def test_a_plan_during_a_try_writes_no_receipt(netns: str, tmp_path: Path) -> None:
    from tests.engine.faults import holding, run, wait_gone

    runtime = tmp_path / "run"
    x, y = write(tmp_path, _pair(1500), "x.yml"), write(tmp_path, _pair(9000), "y.yml")
    assert run(["apply", x, "-n", netns], runtime).returncode == 0
    kept = _receipts(runtime)
    proc, guardian = holding(Path(y), netns, runtime, 3)
    try:
        plan = run(["plan", y, "-n", netns], runtime)
    finally:
        proc.wait(timeout=60)
        wait_gone(guardian)
    assert "no changes" in plan.stdout and "holds its change" in plan.stderr, plan.stdout + plan.stderr
    assert _receipts(runtime) == kept


@pytest.mark.parametrize(("stdout", "why"), [(">/dev/full", "No space left on device"), (">&-", "Bad file descriptor")])
def test_a_receipts_answer_that_cannot_be_written_is_said_in_one_line(
    netns: str, tmp_path: Path, stdout: str, why: str
) -> None:
    path = write(tmp_path, TOPOLOGY)
    apply(path, netns)
    program = f'exec "$0" -X importtime -m linkctl apply "$1" --netns "$2" {stdout}'
    res = subprocess.run(
        ["sh", "-c", program, sys.executable, path, netns], stderr=subprocess.PIPE, text=True, timeout=120, check=False
    )
    said = [line for line in res.stderr.splitlines() if not line.startswith("import time:")]
    assert "pydantic" not in res.stderr  # the receipt answered
    assert res.returncode == 1
    assert said == [
        f"linkctl: cannot write to standard output ({why}): no changes: 6 interface(s) "
        "already as declared; nothing was sent to the kernel"
    ]

"""Signals at many points of a real 300-pair change: the namespace ends as it was, or as declared.

For each phase (create, modify, delete) and for `try`, and for each of SIGINT, SIGTERM, SIGHUP and
SIGKILL, a real `linkctl` process is signalled at seeded points spread over its whole run: a
quarter before its first change (the journal appears then), the rest while it changes links and
after. After each, the namespace is read with iproute2 (`ip -j -d link show`, without counters,
indexes and carrier flags) and must equal its state before the change, or, where linkctl said
"applied and verified", the declared state; after SIGKILL, `linkctl recover` must get it there.
What linkctl said must match what the kernel shows: no success message without that state, no
"rolled back" without the state before.

LINKCTL_FAULT_POINTS sets the kill points per phase and signal (default 10: 40 per signal),
LINKCTL_FAULT_SEED the seed. The layer 3 phase is tests/engine/test_l3_faults.py.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.engine.faults import Scenario, Trial

pytestmark = pytest.mark.kernel

PAIRS = 300
POINTS = int(os.environ.get("LINKCTL_FAULT_POINTS", "10"))
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL]
SEED = int(os.environ.get("LINKCTL_FAULT_SEED", "20261207"))  # another seed: other points, same checks


def pairs(mtu: int, txq: int = 1000) -> str:
    body = "".join(
        f"- {{name: v{i}, type: veth, state: up, mtu: {mtu}, txqueuelen: {txq}, veth: {{peer: p{i}}}}}\n"
        f"- {{name: p{i}, type: veth, state: up, mtu: {mtu}, txqueuelen: {txq}}}\n"
        for i in range(PAIRS)
    )
    return "interfaces:\n" + body


ABSENT = "interfaces:\n" + "".join(f"- {{name: v{i}, type: veth, state: absent}}\n" for i in range(PAIRS))

PHASES = {
    "create": Scenario(ABSENT, pairs(9000)),
    "modify": Scenario(pairs(1500), pairs(9000, 2000)),
    "delete": Scenario(pairs(1500), ABSENT),
    "try": Scenario(pairs(1500), pairs(9000, 2000)),
}


@pytest.mark.parametrize("phase", list(PHASES))
@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_signal_at_any_point_leaves_the_links_as_before_or_as_declared(
    netns: str, tmp_path: Path, phase: str, sig: int
) -> None:
    trial = Trial(netns, tmp_path, PHASES[phase], is_try=phase == "try")
    outcomes = trial.strike_at_points(sig, POINTS, f"{SEED}-{phase}-{sig}")
    assert sum(outcomes.values()) == POINTS

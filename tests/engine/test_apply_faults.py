"""Signals at many points of a real 300-pair change: the namespace ends as it was, or as declared.

For each phase (create, modify, delete) and for `try`, and for each of SIGINT, SIGTERM, SIGHUP and
SIGKILL, a real `linkctl` process is signalled at seeded points spread over its whole run: a
quarter before its first change (the journal appears then), the rest while it changes links and
after. After each, the namespace is read with iproute2 (`ip -j -d link show`, without counters,
indexes and carrier flags) and must equal its state before the change, or, where linkctl said
"applied and verified", the declared state; after SIGKILL, `linkctl recover` must get it there.
What linkctl said must match what the kernel shows: no success message without that state, no
"rolled back" without the state before.

LINKCTL_FAULT_POINTS sets the kill points per phase and signal (default 10: 40 per signal).
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import ip
from tests.engine.faults import Spawned, guardian_of, links, run, wait_gone

pytestmark = pytest.mark.kernel

PAIRS = 300
POINTS = int(os.environ.get("LINKCTL_FAULT_POINTS", "10"))
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL]
SEED = 20261207


def pairs(mtu: int, txq: int = 1000) -> str:
    body = "".join(
        f"- {{name: v{i}, type: veth, state: up, mtu: {mtu}, txqueuelen: {txq}, veth: {{peer: p{i}}}}}\n"
        f"- {{name: p{i}, type: veth, state: up, mtu: {mtu}, txqueuelen: {txq}}}\n"
        for i in range(PAIRS)
    )
    return "interfaces:\n" + body


ABSENT = "interfaces:\n" + "".join(f"- {{name: v{i}, type: veth, state: absent}}\n" for i in range(PAIRS))

# phase: (the state before, as a file or None for an empty namespace; the change)
PHASES = {
    "create": (None, pairs(9000)),
    "modify": (pairs(1500), pairs(9000, 2000)),
    "delete": (pairs(1500), ABSENT),
    "try": (pairs(1500), pairs(9000, 2000)),
}


class Trial:
    def __init__(self, ns: str, tmp: Path, phase: str) -> None:
        self.ns, self.phase, self.runtime = ns, phase, tmp / "run"
        before, change = PHASES[phase]
        self.before_file = tmp / "before.yml"
        self.before_file.write_text(before or ABSENT)
        self.change = tmp / "change.yml"
        self.change.write_text(change)
        # IPv6 off: thousands of links brought up spend most of the kernel's time on it, not on links.
        ip(
            "netns",
            "exec",
            ns,
            "sysctl",
            "-qw",
            "net.ipv6.conf.all.disable_ipv6=1",
            "net.ipv6.conf.default.disable_ipv6=1",
        )
        self.reset()
        self.before = links(ns)
        self.after = self._after()
        self.reset()

    def _after(self) -> dict[str, dict[str, object]]:
        res = run(["apply", str(self.change), "-n", self.ns], self.runtime)
        assert res.returncode == 0, res.stderr
        return links(self.ns)

    def reset(self) -> None:
        res = run(["apply", str(self.before_file), "-n", self.ns], self.runtime)
        assert res.returncode == 0, res.stdout + res.stderr

    def args(self) -> list[str]:
        if self.phase == "try":
            return ["try", str(self.change), "-n", self.ns, "--timeout", "2"]
        return ["apply", str(self.change), "-n", self.ns]

    def calibrate(self) -> tuple[float, float]:
        """(seconds to the journal, to the end) of an undisturbed run."""
        journal = self.runtime / "change.journal"
        start_at = time.monotonic()
        spawned = Spawned(self.args(), self.runtime)
        first = None
        while spawned.proc.poll() is None:
            if first is None and journal.exists():
                first = time.monotonic() - start_at
            time.sleep(0.002)
        spawned.finish()
        total = time.monotonic() - start_at
        self.reset()
        return (first or total / 2), total

    def strike(self, sig: int, delay: float) -> str:
        """Signal a run `delay` s after it starts; check the kernel; say which outcome it was."""
        assert links(self.ns) == self.before, "the namespace was not as before at the start"
        spawned = Spawned(self.args(), self.runtime)
        time.sleep(delay)
        guardian = None
        if sig == signal.SIGKILL and self.phase == "try" and (self.runtime / "change.journal").exists():
            guardian = guardian_of(self.runtime)
        spawned.proc.send_signal(sig)
        code, said = spawned.finish()
        if guardian is None and self.phase == "try" and (self.runtime / "change.journal").exists():
            guardian = guardian_of(self.runtime)
        if guardian is not None:
            wait_gone(guardian, 120)
        outcome = self._judge(sig, code, said)
        assert not (self.runtime / "change.journal").exists(), f"{outcome}: a journal was left\n{said}"
        return outcome

    def _judge(self, sig: int, code: int, said: str) -> str:
        now = links(self.ns)
        assert "ROLLBACK" not in said and "Traceback" not in said, said
        assert not ("rolled back" in said and "nothing was changed" in said), f"two endings told:\n{said}"
        if code == -sig and sig != signal.SIGKILL and said == "":
            # The signal's default action, before the interpreter had set up linkctl's handlers.
            assert now == self.before
            return "ended by the signal before linkctl ran"
        if sig == signal.SIGKILL:
            rec = run(["recover", "-n", self.ns], self.runtime)
            assert rec.returncode == 0, rec.stdout + rec.stderr
            now = links(self.ns)
            if "rolling back" in rec.stdout:
                assert now == self.before and "as they were before" in rec.stdout, rec.stdout
                return "killed, recovered"
            if now == self.after:
                assert self.phase != "try", "a trial that nobody confirmed kept its change"
                self.reset()
                return "killed after the change was verified"
            assert now == self.before, f"killed: neither before nor after, and nothing to recover\n{said}"
            return "killed: nothing changed, or the guardian rolled back"
        if "applied and verified" in said and "rolled back" not in said:
            assert now == self.after, said
            self.reset()
            return "finished before the signal"
        if "after the change was made and verified: it stays" in said:
            assert now == self.after and code == 128 + sig, said
            self.reset()
            return "signal after the verified change"
        assert now == self.before, f"exit {code}: the links are neither as before nor as declared\n{said}"
        if "nothing was changed" in said:
            assert code == 128 + sig, said
            return "before any change"
        if self.phase == "try" and code == 3:  # rolled back at its deadline
            if sig == signal.SIGHUP:  # the terminal is gone: not written to, the record says it
                record = (self.runtime / "try-outcome.json").read_text()
                assert '"rolled back"' in record and "as they were before" in record, record
            else:
                assert "rolled back" in said, said
            return "try: deadline rollback"
        assert "rolled back" in said, said
        assert code == 128 + sig and "as they were before" in said, said
        return "rolled back"


@pytest.mark.parametrize("phase", list(PHASES))
@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_signal_at_any_point_leaves_the_links_as_before_or_as_declared(
    netns: str, tmp_path: Path, phase: str, sig: int
) -> None:
    trial = Trial(netns, tmp_path, phase)
    first, total = trial.calibrate()
    rng = random.Random(f"{SEED}-{phase}-{sig}")
    points = sorted(
        rng.uniform(0, first) if i < POINTS // 4 else rng.uniform(first, total * 1.05) for i in range(POINTS)
    )
    outcomes = Counter(trial.strike(sig, delay) for delay in points)
    print(f"{phase} {signal.Signals(sig).name}: {POINTS} points in 0-{total:.2f} s: {dict(outcomes)}")
    assert sum(outcomes.values()) == POINTS

"""Ctrl-C, SIGTERM and SIGHUP while linkctl starts: a clean sentence and 128+signal, never a traceback.

SIGINT landing inside an import (pydantic's Rust core among them) used to print a traceback, once a
pyo3 panic. Signals at seeded points over a command's start-up; each run must either finish, or say
it was interrupted and that nothing was changed (a parse: that its output is partial), with the
signal's exit code, or (a signal before
the interpreter runs, SIGTERM or SIGHUP to a command that only reads) end silently by the signal's
default action, which changes nothing either.
"""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import pytest

from tests.engine.faults import start

COMMANDS = [
    ["plan", "{decl}"],
    ["apply", "{decl}"],
    ["show"],
    ["logs", "parse", "{log}"],
    ["plan", "{decl}", "--bogus"],
]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: signal.Signals(s).name)
def test_a_signal_during_start_up_ends_cleanly(tmp_path: Path, sig: int) -> None:
    decl = tmp_path / "d.yml"
    decl.write_text("interfaces: [{name: lo, state: up}]\n")
    log = tmp_path / "kern.log"
    log.write_text("Dec  6 10:00:00 aurora kernel: e1000e: eth0 NIC Link is Down\n")
    rng = random.Random(f"start-up-{sig}")
    seen = set()
    for i in range(24):
        args = [a.format(decl=decl, log=log) for a in COMMANDS[i % len(COMMANDS)]]
        proc = start(args, tmp_path / "run", script=True)
        time.sleep(rng.uniform(0.0, 0.35))
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=60)
        assert "panicked" not in err, err
        if "Traceback" in err:
            # The interpreter's own start-up (site, runpy), before any line of linkctl runs: no frame
            # of ours may be in it.
            assert "linkctl" not in err, err
            seen.add("interpreter start-up")
            continue
        if proc.returncode == 128 + sig:
            # A parse cut off says its output is partial; every other command, that nothing changed.
            said = "not the whole log's" if args[0] == "logs" else "nothing was changed"
            assert err.rstrip().endswith(said), err
            seen.add("interrupted")
        elif proc.returncode == -sig:
            # The kernel's default action: before Python runs, during its teardown, or SIGTERM/SIGHUP
            # to a command that only reads. Silent (or after the command's own words), changing nothing.
            seen.add("ended by the signal")
        else:  # it had finished: its own exit code (64 for the usage error)
            assert proc.returncode in (0, 2, 64), (proc.returncode, err)
            seen.add("finished")
    assert "interrupted" in seen, seen

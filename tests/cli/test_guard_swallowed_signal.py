"""A signal whose exception a library swallowed into its own (pydantic-core building a schema reports
"SchemaError: ... Interrupted: 2") still ends the command as that signal, not as an internal error."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import os, signal
from linkctl import interrupts
from linkctl.cli.guard import guarded

interrupts.install()

def command():
    try:
        os.kill(os.getpid(), signal.SIGINT)  # raises Interrupted here, before any change
    except BaseException as exc:
        raise RuntimeError(f"SchemaError: {type(exc).__name__}: {exc}") from None  # the cause is lost
    return 0

guarded(command)
"""


def test_a_swallowed_interrupt_before_any_change_ends_as_the_signal() -> None:
    res = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=False)
    assert res.returncode == 130, res.stderr
    assert "nothing was changed" in res.stderr and "internal error" not in res.stderr, res.stderr

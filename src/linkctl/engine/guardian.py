"""`try`'s guardian: the rollback at the deadline happens whatever becomes of the `try` process.

`try` exists for the change that cuts off the session making it: the SSH
connection drops, the terminal goes, sshd sends SIGHUP, or someone kills the
process. So before the first change, `try` forks a guardian into a session of its
own (no controlling terminal: neither Ctrl-C nor the SIGHUP of a dropped session
reach it), with its standard streams on /dev/null and a copy of the change lock's
descriptor (flock locks belong to the open file: no other change can start while
the guardian holds the trial). The two talk over a pipe: "A" once the change is
made and verified, "D" once `try` has ended the trial itself (confirmed, rolled
back, or failed and rolled back). End of file without "D" means `try` is gone:
- before "A", it died during the change: the guardian rolls back at once;
- after "A", the deadline stands: the guardian rolls back when it comes, unless
  `linkctl confirm` (SIGUSR1) confirms first.
While `try` lives, `try` decides; the guardian only waits. Every rollback works
from the change journal (engine/journal.py) and is checked (engine/rollback.py).
What the guardian did is kept in the runtime directory (`linkctl confirm` reports
it) and written to the kernel log, where a person who lost the session will look.

The guardian itself can be killed too (kill -9, the OOM killer, a logind that kills
a session's processes): then the journal stays, and `linkctl recover` rolls back.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import time
from dataclasses import dataclass

from linkctl.engine import journal
from linkctl.engine.changelock import Held, note_holder
from linkctl.engine.runtime import RuntimeDir
from linkctl.errors import LinkctlError
from linkctl.kernel import klog

APPLIED, ROLLING_BACK, DONE = b"A", b"R", b"D"
OUTCOME = "try-outcome.json"


@dataclass
class Guardian:
    pid: int
    _wfd: int

    @classmethod
    def arm(cls, held: Held, timeout: float) -> Guardian:
        """Fork the guardian; call before the first change (nothing else may run in threads now)."""
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(wfd)
            _guard(held, rfd, timeout)  # never returns
        os.close(rfd)
        return cls(pid, wfd)

    def applied(self) -> None:
        self._send(APPLIED)

    def rolling_back(self) -> None:
        """`try` rolls back itself: should it die doing so, the guardian finishes it at once."""
        self._send(ROLLING_BACK)

    def done(self) -> None:
        """`try` ended the trial itself: the guardian goes (and is waited for: no lock held past this)."""
        self._send(DONE)
        if self._wfd >= 0:
            os.close(self._wfd)
            self._wfd = -1
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)

    def _send(self, what: bytes) -> None:
        if self._wfd < 0:
            return
        with contextlib.suppress(OSError):  # the guardian is gone (killed): the journal stays for `recover`
            os.write(self._wfd, what)


def record_outcome(rt: RuntimeDir, try_pid: int, outcome: str, message: str) -> None:
    """What became of a trial, for `linkctl confirm` and for whoever looks later."""
    data = json.dumps({"pid": try_pid, "outcome": outcome, "message": message, "at": time.time()})
    with contextlib.suppress(OSError):  # the outcome is also in the kernel log (guardian) or on the terminal
        rt.write(OUTCOME, data.encode())


def read_outcome(rt: RuntimeDir) -> dict[str, object] | None:
    try:
        raw = rt.read(OUTCOME, 1 << 16)
        data = json.loads(raw) if raw else None
    except (OSError, ValueError, LinkctlError):
        return None
    return data if isinstance(data, dict) else None


def _guard(held: Held, rfd: int, timeout: float) -> None:
    """The guardian's whole life; ends the process, never returns."""
    code = 1
    try:
        os.setsid()
        _detach()
        code = _Watch(held, rfd, timeout).run()
    except BaseException:
        code = 2  # nothing to print to: the journal stays for `linkctl recover`
    finally:
        os._exit(code)


def _detach() -> None:
    """No terminal, no pipe of the caller's kept open (a `subprocess.run` would wait for it)."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # shutdown: the journal stays, as after kill -9


class _Watch:
    def __init__(self, held: Held, rfd: int, timeout: float) -> None:
        self.held, self.rfd, self.timeout = held, rfd, timeout
        self.try_pid = os.getppid()
        self.applied = False
        self.rolling_back = False
        self.deadline: float | None = None

    def run(self) -> int:
        wake_r, wake_w = socket.socketpair()
        wake_r.setblocking(False)
        wake_w.setblocking(False)
        signal.set_wakeup_fd(wake_w.fileno())
        signal.signal(signal.SIGUSR1, lambda *_: None)  # `linkctl confirm`, once `try` is gone
        sel = selectors.DefaultSelector()
        sel.register(self.rfd, selectors.EVENT_READ, "try")
        sel.register(wake_r, selectors.EVENT_READ, "signal")
        try_alive = True
        while True:
            wait = None if try_alive or self.deadline is None else max(0.0, self.deadline - time.monotonic())
            events = sel.select(wait)
            if not events and not try_alive:
                return self._roll_back(f"no confirmation within {self.timeout:g} s")
            for key, _ in events:
                if key.data == "signal":
                    wake_r.recv(64)
                    if not try_alive:
                        return self._confirm()
                    continue  # `try` got the same signal: it confirms
                data = os.read(self.rfd, 64)
                if DONE in data:
                    return 0
                if APPLIED in data:
                    self.applied, self.deadline = True, time.monotonic() + self.timeout
                self.rolling_back |= ROLLING_BACK in data
                if not data:
                    try_alive = False
                    sel.unregister(self.rfd)
                    if journal.read(self.held.rt) is None:
                        return 0  # `try` finished the trial before it ended: nothing is held
                    note_holder(self.held.fd, "try")  # a second linkctl now names the guardian
                    if not self.applied or self.rolling_back:
                        return self._roll_back("`linkctl try` ended during the change or its rollback")

    def _confirm(self) -> int:
        journal.finish(self.held.rt)
        self._tell("confirmed", f"confirmed by `linkctl confirm` after `linkctl try` (pid {self.try_pid}) had gone")
        return 0

    def _roll_back(self, why: str) -> int:
        from linkctl.engine.rollback import settle

        intent = journal.read(self.held.rt)
        if intent is None:  # the change never began, or was already finished
            return 0
        outcome = settle(self.held.rt, intent, from_journal=True)
        self._tell("rolled back" if outcome.ok else "rollback failed", f"{why}: {outcome.message}")
        return 0 if outcome.ok else 1

    def _tell(self, outcome: str, message: str) -> None:
        record_outcome(self.held.rt, self.try_pid, outcome, message)
        # Not written (not root): the runtime directory's record is there all the same.
        klog.write_kmsg(f"linkctl[{os.getpid()}]: try (pid {self.try_pid}): {message}")

"""SIGTERM and SIGINT end `linkctl watch` cleanly: the handler only sets a flag, and the
signal wake-up fd wakes the select loop so that it sees it."""

from __future__ import annotations

import signal
import socket
import threading
from types import FrameType


class StopSignals:
    """A flag set by SIGTERM/SIGINT and a socket readable when one arrived."""

    def __init__(self) -> None:
        self.stopping = False
        self._wake_r, self._wake_w = socket.socketpair()
        self._old_handlers: dict[int, object] = {}

    def fileno(self) -> int:
        return self._wake_r.fileno()

    def install(self) -> bool:
        """Only the main thread may set handlers: elsewhere (tests) this is a no-op, False."""
        if threading.current_thread() is not threading.main_thread():
            return False
        self._wake_w.setblocking(False)
        self._wake_r.setblocking(False)
        signal.set_wakeup_fd(self._wake_w.fileno(), warn_on_full_buffer=False)
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._old_handlers[signum] = signal.signal(signum, self._on_signal)
        return True

    def restore(self) -> None:
        if not self._old_handlers:
            return
        signal.set_wakeup_fd(-1)
        for signum, handler in self._old_handlers.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    def drain(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except BlockingIOError:
            pass

    def close(self) -> None:
        self._wake_r.close()
        self._wake_w.close()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

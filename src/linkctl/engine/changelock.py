"""The lock that lets one linkctl change links at a time.

Two changes interleaved would each plan from a state the other is changing, and
a rollback (or an unconfirmed `try`) would put back links the other one set.
`apply`, `try` (for as long as it holds its change) and `boot-apply` take an
exclusive flock(2) on `changes.lock`; a second one stops before reading anything
and names the holder, unless told to wait for it (`--wait N`: an Ansible run meeting
the boot-time apply, say). The kernel drops the lock with the process, however it ends.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from linkctl.engine.runtime import runtime_dir
from linkctl.errors import LinkctlError

LOCK_NAME = "changes.lock"


class ChangeInProgress(LinkctlError):
    """Another linkctl holds the change lock."""


@contextmanager
def changing_links(command: str, wait: float = 0) -> Iterator[None]:
    """Hold the change lock for the block; raise ChangeInProgress if another linkctl holds it
    (after `wait` seconds of waiting for it, when given).

    Without a runtime directory it can write (no /run, an unprivileged user without
    XDG_RUNTIME_DIR), the change goes ahead unlocked: the kernel's own permission
    check is what stops an unprivileged change, with its own message.
    """
    fd = _open_lock()
    if fd is None:
        yield
        return
    try:
        if not _acquire(fd, wait):
            raise ChangeInProgress(_busy_message(fd, wait))
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "command": command, "argv": sys.argv[1:]}).encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


class _TimedOut(Exception):
    pass


def _timed_out(_signum: int, _frame: object) -> None:
    raise _TimedOut


def _acquire(fd: int, wait: float) -> bool:
    """The lock at once, or within `wait` seconds: a blocking flock cut short by an alarm, as
    `flock -w` does (the kernel wakes us when the holder ends; nothing is polled)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        if wait <= 0:
            return False
    previous = signal.signal(signal.SIGALRM, _timed_out)
    signal.setitimer(signal.ITIMER_REAL, wait)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return True
    except _TimedOut:
        return False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _open_lock() -> int | None:
    base = runtime_dir()
    if base is None:
        return None
    try:
        os.makedirs(base, mode=0o755, exist_ok=True)
        return os.open(os.path.join(base, LOCK_NAME), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError:
        return None


def _busy_message(fd: int, waited: float = 0) -> str:
    try:
        holder = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except ValueError:
        holder = {}
    who = f"`linkctl {holder['command']}` (pid {holder['pid']})" if "pid" in holder else "another linkctl"
    hint = (
        "confirm it with `linkctl confirm`, or wait for its timeout to roll it back"
        if holder.get("command") == "try"
        else "wait for it to finish"
    )
    if waited > 0:
        return f"{who} is still changing links after {waited:g} s: nothing was read or changed; {hint}"
    return (
        f"{who} is changing links: nothing was read or changed; {hint}, then run this again "
        "(or give --wait SECONDS to wait for it)"
    )

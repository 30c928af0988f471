"""The lock that lets one linkctl change links at a time.

Two changes interleaved would each plan from a state the other is changing, and
a rollback (or an unconfirmed `try`) would put back links the other one set.
`apply`, `try` (for as long as it holds its change) and `boot-apply` take an
exclusive flock(2) on `changes.lock`; a second one stops before reading anything
and names the holder, unless told to wait for it (`--wait N`: an Ansible run meeting
the boot-time apply, say). The kernel drops the lock with the process, however it ends.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from linkctl.engine import lockfile, runtime
from linkctl.errors import LinkctlError

if TYPE_CHECKING:
    from linkctl.engine.journal import Intent


class ChangeInProgress(LinkctlError):
    """Another linkctl holds the change lock."""


@dataclass(frozen=True)
class Held:
    """The change lock, held: its descriptor (a `try` guardian inherits it) and the runtime directory."""

    fd: int
    rt: runtime.RuntimeDir


@contextmanager
def changing_links(command: str, wait: float = 0) -> Iterator[Held]:
    """Hold the change lock for the block (its descriptor is yielded: a `try` guardian inherits
    it); raise ChangeInProgress if another linkctl holds it (after `wait` seconds of waiting for
    it, when given).

    A change never runs unlocked: without a runtime directory that is safe to use
    (engine/runtime.py), it is refused before anything is read.
    """
    with runtime.checked_dir() as rt:
        fd = lockfile.open_lock(rt)
        try:
            if not _acquire(fd, wait):
                raise ChangeInProgress(_busy_message(fd, wait))
            note_holder(fd, command)
            rt.remove_stale_temporaries()
            yield Held(fd, rt)
        finally:
            os.close(fd)  # releases the lock (unless a `try` guardian holds a copy of it)


def note_holder(fd: int, command: str) -> None:
    """Who holds the lock, for the message a second linkctl prints."""
    # A full runtime directory: the lock holds all the same, and one waiting says "another linkctl"; a
    # change is refused at its journal, naming the directory (engine/journal.py).
    with contextlib.suppress(OSError):
        lockfile.write_note(fd, json.dumps({"pid": os.getpid(), "command": command, "argv": sys.argv[1:]}).encode())


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


def refuse_unfinished(held: Held) -> str | None:
    """Stop any change while a change cut off half-way (kill -9, a crash) is unrecovered, in any
    namespace: there is one journal, and it is all `linkctl recover` has to put those links back.
    A journal from an earlier boot is removed, and said (its links died with that boot)."""
    from linkctl.engine import journal

    try:
        intent = journal.read(held.rt)
    except journal.JournalUnreadable as exc:
        raise ChangeInProgress(f"{exc}; nothing was read or changed") from None
    if intent is None:
        return None
    if intent.stale:
        journal.finish(held.rt)
        return f"note: {intent.summary()} was cut off before the last reboot; its links went with that boot"
    raise ChangeInProgress(
        f"{intent.summary()} was cut off before it was verified or rolled back (killed?): the links there "
        "may be half-changed. Run `linkctl recover` to roll it back (checked), then run this again; "
        "nothing was read or changed"
    )


@contextmanager
def change_session(command: str, wait: float, echo: Callable[[str], None]) -> Iterator[Held | None]:
    """The lock for a change, with no change cut off half-way in the way (refuse_unfinished).

    None for a process that cannot change links at all (no CAP_NET_ADMIN): nothing but a
    no-op can come of it, and `apply` refuses anything else with the privilege it lacks.
    """
    from linkctl.kernel import caps

    if not caps.has(caps.CAP_NET_ADMIN):
        yield None
        return
    with changing_links(command, wait) as held:
        said = refuse_unfinished(held)
        if said:
            echo(said)
        yield held


def unfinished_words(intent: Intent) -> str:
    """What a reader that takes no lock (`plan`) says of a change journal it finds: a live change
    (its process, or a `try`'s guardian, still runs: it holds the lock) is not one cut off."""
    guarded = _alive(intent.pid, intent.started_at) or _alive(intent.guardian, intent.guardian_started_at)
    if intent.command == "try" and guarded:
        at = "" if intent.deadline is None else time.strftime(" (%H:%M:%S)", time.localtime(intent.deadline))
        return (
            f"{intent.summary()} holds its change until it is confirmed (`linkctl confirm`) or rolled back "
            f"at its deadline{at}: this plan reads the links as that change left them"
        )
    if _alive(intent.pid, intent.started_at):
        return f"{intent.summary()} is changing links now: this plan reads them half-way through that change"
    return (
        f"{intent.summary()} was cut off half-way (killed?): this plan starts from links it may have "
        "half-changed; `linkctl recover` rolls it back"
    )


def _alive(pid: int | None, started_at: int | None) -> bool:
    """That very process (pid and start time: a pid alone may have been reused) still runs."""
    from linkctl.kernel.host import process_runs

    return pid is not None and pid > 0 and bool(started_at) and process_runs(pid, started_at or 0)

"""The change lock's file and the change journal's presence, asked before anything else loads.

The receipt fast path (linkctl/fastpath/) may answer "no changes" only while no change is held
or pending: a `try` holding its change (it undoes it at its deadline), an `apply` half-way, or a
change cut off by kill -9 whose journal waits for `linkctl recover`. It asks here, before its
dump; engine/changelock.py opens the lock through `open_lock` too, so both see one file.

The standard library and engine/runtime.py only: json alone would cost the fast path 11 ms (its
`re`), so the fast path's note of the holder is written by hand.
"""

from __future__ import annotations

import fcntl
import os

from linkctl.engine import runtime

LOCK_NAME = "changes.lock"
JOURNAL_NAME = "change.journal"  # engine/journal.py's NAME (tests/fastpath/test_quiet.py keeps them one)


def open_lock(rt: runtime.RuntimeDir) -> int:
    """The lock file's descriptor, made if need be; RuntimeDirUnsafe when it is not ours alone."""
    where = os.path.join(rt.path, LOCK_NAME)
    try:
        fd = rt.open_file(LOCK_NAME, os.O_RDWR | os.O_CREAT)
    except OSError as exc:
        raise runtime.RuntimeDirUnsafe(
            f"cannot open the change lock {where}: {exc.strerror}; nothing was read or changed"
        ) from None
    st = os.fstat(fd)
    if st.st_uid != os.geteuid():
        os.close(fd)
        raise runtime.RuntimeDirUnsafe(
            f"the change lock {where} belongs to uid {st.st_uid}: remove it; nothing was read or changed"
        )
    if st.st_mode & 0o077:
        os.fchmod(fd, 0o600)  # an earlier linkctl made it 0644: anyone could open it and hold the flock
    return fd


def journal_there(rt: runtime.RuntimeDir) -> bool:
    """Whether the change journal is there (a change under way, held, or cut off); any doubt: there."""
    try:
        os.stat(JOURNAL_NAME, dir_fd=rt.fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return True


def change_pending() -> bool:
    """journal_there, for a reader that holds no lock (no runtime directory: nothing pending)."""
    rt = runtime.existing_dir()
    if rt is None:
        return False
    with rt:
        return journal_there(rt)


class Quiet:
    """No change held or pending, for as long as the receipt's answer takes.

    For `apply`, the change lock is taken (never waited for: the full path waits or refuses, and says
    whom for) and held until the process ends, as the full `apply` holds it while it reads: no change
    can start between the check and the answer. `plan` takes no lock, as its full path takes none (a
    probe of the lock would make an `apply` starting that instant refuse); it asks for the journal
    again after its dump (`still`): a change writes its journal before its first request, so a dump
    that saw a change's links finds the journal after it, unless the change ended in between."""

    def __init__(self, rt: runtime.RuntimeDir, lock: int) -> None:
        self.rt, self.lock = rt, lock

    @classmethod
    def enter(cls, command: str) -> Quiet | None:
        """Quiet now, or None (held, pending, or any doubt: the full path decides and says why)."""
        rt = runtime.existing_dir()
        if rt is None:
            return None
        quiet = cls(rt, -1)
        try:
            if command == "apply":
                quiet.lock = open_lock(rt)
                fcntl.flock(quiet.lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                _note(quiet.lock, command)
            if not journal_there(rt):
                return quiet
        except (OSError, runtime.RuntimeDirUnsafe):  # BlockingIOError: another linkctl holds the lock
            pass
        quiet.close()
        return None

    def still(self) -> bool:
        """Still quiet after the dump: under the lock, surely (every journal is written under it)."""
        return self.lock >= 0 or not journal_there(self.rt)

    def close(self) -> None:
        """Releases the lock (the full path takes it again on its own descriptor: flock would refuse it
        to a second descriptor of this very process)."""
        if self.lock >= 0:
            os.close(self.lock)
            self.lock = -1
        self.rt.close()


def _note(fd: int, command: str) -> None:
    """Who holds the lock, in changelock.note_holder's JSON (without argv): a second linkctl names us."""
    write_note(fd, b'{"pid": %d, "command": "%s"}' % (os.getpid(), command.encode()))


def write_note(fd: int, note: bytes) -> None:
    """Written, then cut to its length: never truncated to 0 first, which on ext4 (a /run on disk, a
    runtime directory set elsewhere) flushes the file at close (auto_da_alloc): 3 ms measured."""
    os.pwrite(fd, note, 0)
    os.ftruncate(fd, len(note))

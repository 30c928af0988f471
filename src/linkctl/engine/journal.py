"""The change journal: what a change is about to do, on disk before its first request.

kill -9, an OOM kill or a power cut can end linkctl half-way through a change, where
no handler runs. So before the first request, `apply`, `try` and `boot-apply` write
the journal: the links as they were (as the declaration that restores them, the one
a rollback applies), which links and namespaces the plan creates, and which links it
moves. The file is written to a temporary name, fsynced and renamed, and the
directory fsynced: it is there, whole, before the kernel hears of the change. It is
removed only after the change was verified, or its rollback was.

A journal found later means a change that never finished: every later `apply`,
`try`, `plan` and `boot-apply` says so first, and `linkctl recover` rolls it back
(engine/rollback.py, verified). A journal from an earlier boot is stale: the links
it speaks of died with that boot (in /run, the default place, it died too).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field

from linkctl.engine import runtime
from linkctl.errors import LinkctlError

NAME = "change.journal"
FORMAT = "linkctl-journal 1"

Key = tuple[str | None, str]


def boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as fh:
            return fh.read().strip()
    except OSError:
        return ""


@dataclass
class Intent:
    """One change, as the journal keeps it (JSON; namespaces are null for the host's own)."""

    command: str
    default_netns: str | None
    namespaces: list[str | None]  # where the links were read before the change
    before: list[Key]  # every link those namespaces had
    restore: dict[str, object]  # the declaration that puts them back (model_dump of a Declaration)
    created: list[Key] = field(default_factory=list)  # links the plan makes
    created_netns: list[str] = field(default_factory=list)  # namespaces the plan makes
    moves: list[tuple[str | None, str, str | None]] = field(default_factory=list)  # (netns, name, to)
    pid: int = field(default_factory=os.getpid)
    boot: str = field(default_factory=boot_id)
    started: float = field(default_factory=time.time)
    deadline: float | None = None  # `try`: when its guardian rolls it back (wall clock)
    guardian: int | None = None  # `try`: the guardian's pid (engine/guardian.py)

    def involves(self, namespaces: list[str | None]) -> bool:
        mine = {*self.namespaces, *self.created_netns, self.default_netns}
        return any(ns in mine for ns in namespaces)

    def where(self) -> str:
        names = [ns for ns in dict.fromkeys([*self.namespaces, *self.created_netns])]
        return ", ".join("the default namespace" if ns is None else f"netns {ns}" for ns in names)

    def summary(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started))
        return f"`linkctl {self.command}` (pid {self.pid}, started {when}) in {self.where()}"

    @property
    def stale(self) -> bool:
        """From an earlier boot: its links are gone with that boot."""
        return bool(self.boot) and self.boot != boot_id()


class JournalUnreadable(LinkctlError):
    pass


def write(base: str, intent: Intent) -> None:
    """On disk, whole and synced, before the change's first request."""
    data = json.dumps({"format": FORMAT, **asdict(intent)}).encode()
    tmp = f"{NAME}.{os.getpid()}.tmp"
    fd = runtime.open_in(base, tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(os.path.join(base, tmp), os.path.join(base, NAME))
    runtime.fsync_dir(base)


def update(base: str, **changes: object) -> None:
    """Rewrite the journal with some fields changed (a `try` adds its guardian and deadline)."""
    intent = read(base)
    if intent is None:
        return
    for name, value in changes.items():
        setattr(intent, name, value)
    write(base, intent)


def read(base: str) -> Intent | None:
    try:
        fd = runtime.open_in(base, NAME, os.O_RDONLY)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise JournalUnreadable(f"cannot read the change journal {os.path.join(base, NAME)}: {exc.strerror}") from None
    with open(fd, "rb") as fh:
        if os.fstat(fh.fileno()).st_uid != os.geteuid():
            raise JournalUnreadable(f"the change journal {os.path.join(base, NAME)} is not this user's: remove it")
        raw = fh.read(64 << 20)
    try:
        data = json.loads(raw)
        if data.pop("format") != FORMAT:
            raise ValueError("format")
        data["before"] = [tuple(k) for k in data["before"]]
        data["created"] = [tuple(k) for k in data["created"]]
        data["moves"] = [tuple(m) for m in data["moves"]]
        return Intent(**data)
    except (ValueError, KeyError, TypeError) as exc:
        raise JournalUnreadable(
            f"the change journal {os.path.join(base, NAME)} cannot be read ({type(exc).__name__}: {exc}); "
            "compare `linkctl show` with your last state, then remove it"
        ) from None


def finish(base: str) -> None:
    """The change was verified, or rolled back and verified: nothing is left to recover."""
    try:
        os.unlink(os.path.join(base, NAME))
    except FileNotFoundError:
        return
    runtime.fsync_dir(base)


def unfinished(namespaces: list[str | None] | None = None) -> Intent | None:
    """An unfinished change of this boot (involving these namespaces, when given), if any."""
    base = runtime.runtime_dir()
    if base is None or runtime.unsafe_reason(base) is not None:
        return None
    try:
        intent = read(base)
    except JournalUnreadable:
        return None
    if intent is None or intent.stale:
        return None
    if namespaces is not None and not intent.involves(namespaces):
        return None
    return intent

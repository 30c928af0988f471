"""The change journal: what a change is about to do, on disk before its first request.

kill -9, an OOM kill or a power cut can end linkctl half-way through a change, where
no handler runs. So before the first request, `apply`, `try` and `boot-apply` write
the journal: the links as they were (as the declaration that restores them, the one
a rollback applies), which links and namespaces the plan creates, and which links it
moves. The file is written to a temporary name, fsynced and renamed, and the
directory fsynced: it is there, whole, before the kernel hears of the change. Once the
links are verified, it is rewritten the same way with what the ethtool and module settings
have, before the first of them changes. It is removed only after the change was verified,
or its rollback was.

A journal found later means a change that never finished: every later `apply`,
`try`, `plan` and `boot-apply` says so first, and `linkctl recover` rolls it back
(engine/rollback.py, verified). A journal from an earlier boot is stale: the links
it speaks of died with that boot (in /run, the default place, it died too).
"""

from __future__ import annotations

import errno
import json
import os
import time
from dataclasses import dataclass, field, fields

from linkctl.engine.runtime import DIR_ENV, RuntimeDir, existing_dir
from linkctl.errors import LinkctlError
from linkctl.kernel.host import boot_id, process_start

NAME = "change.journal"
FORMAT = "linkctl-journal 1"

Key = tuple[str | None, str]


@dataclass
class Intent:
    """One change, as the journal keeps it (JSON; namespaces are null for the host's own)."""

    command: str
    default_netns: str | None
    namespaces: list[str | None]  # where the links were read before the change
    before: list[Key]  # every link those namespaces had
    restore: dict[str, object]  # the declaration that puts them back (model_dump of a Declaration)
    created: list[Key] = field(default_factory=list)  # links the plan makes
    # Which of them the change made, as it made them (engine/made.py): (netns, name, ifindex). None: not
    # recorded (a journal of an earlier linkctl), and `created` is all there is.
    made: list[tuple[str | None, str, int]] | None = None
    sending: list[list[Key]] = field(default_factory=list)  # the creations (link, peer) in the kernel's hands
    created_netns: list[str] = field(default_factory=list)  # namespaces the plan makes
    moves: list[tuple[str | None, str, str | None]] = field(default_factory=list)  # (netns, name, to)
    groups: list[tuple[str | None, str, int]] = field(default_factory=list)  # links it deletes: (netns, name, group)
    # ethtool and module settings: the ops that put back what the change's settings ops found
    # (plan/settings_ops.py, as JSON), written before the first of them runs.
    settings: list[dict[str, object]] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)  # an earlier linkctl's journal: their names only
    pid: int = field(default_factory=os.getpid)
    started_at: int = field(default_factory=lambda: process_start(os.getpid()))  # pid reuse shows here
    boot: str = field(default_factory=boot_id)
    started: float = field(default_factory=time.time)
    deadline: float | None = None  # `try`: when it rolls back (wall clock); set once the change is held
    guardian: int | None = None  # `try`: the guardian's pid (engine/guardian.py)
    guardian_started_at: int | None = None

    def involves(self, namespaces: list[str | None]) -> bool:
        mine = {*self.namespaces, *self.created_netns, self.default_netns}
        return any(ns in mine for ns in namespaces)

    def where(self) -> str:
        names = list(dict.fromkeys([*self.namespaces, *self.created_netns]))
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


class JournalUnwritable(LinkctlError):
    """The journal could not be written (a full or read-only runtime directory): the old one, if
    any, is as it was; the caller says what became of the change."""


def write(rt: RuntimeDir, intent: Intent) -> None:
    """On disk, whole and synced, before the change's first request; never over another journal
    (only one change may be unrecovered at a time, and its journal is all it has)."""
    try:
        rt.write(NAME, _encode(intent), sync=True, exclusive=True)
    except OSError as exc:
        raise JournalUnwritable(f"{_unwritable(rt, exc)}; nothing was changed") from None


def update(rt: RuntimeDir, **changes: object) -> None:
    """Rewrite the journal with some fields changed (a `try` adds its deadline once it holds the change)."""
    intent = read(rt)
    if intent is None:
        return
    for name, value in changes.items():
        setattr(intent, name, value)
    try:
        rt.write(NAME, _encode(intent), sync=True)
    except OSError as exc:
        raise JournalUnwritable(_unwritable(rt, exc)) from None


def _unwritable(rt: RuntimeDir, exc: OSError) -> str:
    where = os.path.join(rt.path, NAME)
    fix = "free space there" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else "make it writable"
    return (
        f"cannot write the change journal {where}: {exc.strerror} ({fix}, or set {DIR_ENV} to another "
        "directory only you can write)"
    )


def progress(rt: RuntimeDir, intent: Intent) -> None:
    """Rewrite the journal with the links made so far. Not synced: it must outlive a kill, which the
    page cache does; a power cut takes the links with the boot, and the journal is stale then."""
    rt.write(NAME, _encode(intent))


def _encode(intent: Intent) -> bytes:
    # Its fields as they are (JSON takes tuples as lists): asdict's deep copy cost a 600-link record 20 ms.
    return json.dumps({"format": FORMAT, **{f.name: getattr(intent, f.name) for f in fields(intent)}}).encode()


def read(rt: RuntimeDir) -> Intent | None:
    where = os.path.join(rt.path, NAME)
    try:
        raw = rt.read(NAME, 64 << 20)
    except OSError as exc:
        raise JournalUnreadable(f"cannot read the change journal {where}: {exc.strerror}") from None
    except LinkctlError as exc:
        raise JournalUnreadable(str(exc)) from None
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        if data.pop("format") != FORMAT:
            raise ValueError("format")
        for name in ("before", "created", "moves", "groups"):
            data[name] = [tuple(k) for k in data[name]]
        if data.get("made") is not None:
            data["made"] = [tuple(k) for k in data["made"]]
        data["sending"] = [[tuple(k) for k in keys] for keys in data.get("sending", [])]
        return Intent(**data)
    except (ValueError, KeyError, TypeError) as exc:
        raise JournalUnreadable(
            f"the change journal {where} cannot be read ({type(exc).__name__}: {exc}); "
            "compare `linkctl show` with your last state, then remove it"
        ) from None


def finish(rt: RuntimeDir) -> None:
    """The change was verified, or rolled back and verified: nothing is left to recover."""
    rt.remove(NAME, sync=True)


def unfinished(namespaces: list[str | None] | None = None) -> Intent | None:
    """An unfinished change of this boot (involving these namespaces, when given), if any."""
    rt = existing_dir()
    if rt is None:
        return None
    with rt:
        try:
            intent = read(rt)
        except JournalUnreadable:
            return None
    if intent is None or intent.stale:
        return None
    if namespaces is not None and not intent.involves(namespaces):
        return None
    return intent

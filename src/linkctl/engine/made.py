"""The links a change made, recorded in its journal as it makes them; and which of them a rollback deletes.

The plan names the links a change creates; only the kernel's acknowledgements say which it made. After
a kill -9 a link with one of those names may be someone else's: made by hand once the change was
dead, or made again after its own was deleted. So the sending thread (kernel/netlink.py's hooks)
rewrites the journal around each chunk of requests that creates links: before its sendmsg, the
creations it holds (`Intent.sending`); after its acknowledgements, the links made, each with the
ifindex the kernel gave it (`Intent.made`, from one dump per namespace). A rollback deletes a link
with a planned name only when the record shows the change made it; any other is named and left alone.

The chunk cut off by a kill is judged whole: the kernel carries out a sendmsg's requests within the
call, so either every creation in it was made or none was. They were when each of its links is
there, one creation's after another's in the order sent (ifindexes only rise), above the ifindexes
recorded before; a single creation cannot show that (a link made by hand after the kill would look
the same), and is named and left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from linkctl.engine import journal
from linkctl.engine.journal import Intent, Key
from linkctl.engine.runtime import RuntimeDir
from linkctl.errors import LinkctlError
from linkctl.kernel.netlink import Ack, ChunkHooks, RtnlSocket
from linkctl.model.state import HostState, NetnsName

Creation = tuple[int, tuple[Key, ...]]  # a request creating links: its place in its chunk, the links (link, peer)


class Recorder:
    """Keeps the journal's record of the links made, from the sending thread."""

    def __init__(self, rt: RuntimeDir, intent: Intent) -> None:
        self.rt, self.intent = rt, intent
        intent.made, intent.sending = [], []
        self.hooks = ChunkHooks(self._open, self._before, self._after)
        self._socks: dict[NetnsName, RtnlSocket] = {}  # its own: the executor's are the main thread's

    def close(self) -> None:
        for sock in self._socks.values():
            sock.close()
        self._socks.clear()

    def _open(self, tag: object) -> None:
        """Its sockets, where the chunk makes links: on the caller's thread."""
        for _at, keys in _creations(tag):
            for ns, _name in keys:
                if ns not in self._socks:
                    self._socks[ns] = RtnlSocket(ns)

    def _before(self, tag: object) -> None:
        self.intent.sending = [list(keys) for _at, keys in _creations(tag)]
        self._write()

    def _after(self, tag: object, acks: list[Ack]) -> None:
        made = [key for at, keys in _creations(tag) if acks[at].ok for key in keys]
        indices = self._indices({ns for ns, _name in made})
        assert self.intent.made is not None
        # One missing from the dump was deleted since by someone: nothing of the change's to undo.
        self.intent.made += [(ns, name, indices[(ns, name)]) for ns, name in made if (ns, name) in indices]
        self.intent.sending = []
        self._write()

    def _indices(self, where: set[NetnsName]) -> dict[Key, int]:
        found: dict[Key, int] = {}
        for ns in where:
            found.update(((ns, name), index) for name, index in self._socks[ns].link_indices().items())
        return found

    def _write(self) -> None:
        try:
            journal.progress(self.rt, self.intent)
        except OSError as exc:
            where = f"{self.rt.path}/{journal.NAME}"
            raise LinkctlError(f"cannot record the links made in the change journal {where}: {exc.strerror}") from None


def _creations(tag: object) -> list[Creation]:
    assert isinstance(tag, list)
    return tag


@dataclass
class Judged:
    """The links of the change's that a rollback deletes, and those of its names it leaves alone."""

    created: set[Key]
    left: set[Key] = field(default_factory=set)  # links with a name the plan creates, not shown to be the change's
    notes: list[str] = field(default_factory=list)  # each of those, and why


def judge(intent: Intent, now: HostState) -> Judged:
    """Of the links with a name the plan creates, those the record shows the change made (all of them
    for a journal without a record: an earlier linkctl's)."""
    planned = list(dict.fromkeys(k for k in intent.created if k not in set(intent.before)))
    if intent.made is None:
        return Judged({key for key in planned if now.find(key[1], key[0]) is not None})
    made = {(ns, name): index for ns, name, index in intent.made}
    cut_off = {key for keys in intent.sending for key in keys if key not in made}
    whole = _carried_out(intent.sending, now, made)
    out = Judged(set())
    for key in planned:
        link = now.find(key[1], key[0])
        if link is None:
            continue
        if made.get(key) == link.ifindex or (key in cut_off and whole):
            out.created.add(key)
            continue
        out.left.add(key)
        if key in made:
            out.notes.append(f"{_named(key)} is not the link the change made (ifindex {link.ifindex}, not {made[key]})")
        elif key in cut_off:
            out.notes.append(
                f"{_named(key)} may be the change's or another's (it was being made when the change was cut off)"
            )
        else:
            out.notes.append(f"{_named(key)} was not made by the change")
    return out


def _carried_out(sending: list[list[Key]], now: HostState, made: dict[Key, int]) -> bool:
    """The chunk cut off was carried out: two creations or more, all there, in the order sent."""
    if len(sending) < 2:
        return False
    floor: dict[NetnsName, int] = {}  # per namespace, the highest ifindex made before the next creation
    for (ns, _name), index in made.items():
        floor[ns] = max(floor.get(ns, 0), index)
    for keys in sending:  # a veth's peer is registered before it: only creations are ordered
        found = [(ns, now.find(name, ns)) for ns, name in keys]
        indices = [(ns, link.ifindex) for ns, link in found if link is not None]
        if len(indices) < len(keys) or any(index <= floor.get(ns, 0) for ns, index in indices):
            return False
        for ns, index in indices:
            floor[ns] = max(floor.get(ns, 0), index)
    return True


def _named(key: Key) -> str:
    ns, name = key
    return name if ns is None else f"{name} (netns {ns})"

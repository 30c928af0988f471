"""Receipts: an `apply` of an unchanged file on unchanged links answers at the dump's speed.

When `apply` finds or makes the links as a file declares (verified), it records
a receipt: the file (its bytes, the --netns given, linkctl's own code), the
namespaces the plan read, how many interfaces, and the fingerprint of those
namespaces' links (kernel/linkdump.py). A later `apply` of the same bytes dumps
the same namespaces; an equal fingerprint means the planner would see the very
links it saw then, and find nothing to do, so the command ends there, before the
CLI library, PyYAML and pydantic are loaded (0.4 s of a 2000-link no-op).
Anything else (a different file, any link changed, added or removed, a
namespace gone) takes the full path, which decides as always.

Receipts live in /run (tmpfs: gone at reboot, like the links they describe),
in a root-only directory; declarations with ethtool, ethernet or kernel-modules
sections get none, since those settings are not in a link dump.

Imports only the standard library and the kernel's dump code: this module runs
before everything else in `linkctl apply`.
"""

from __future__ import annotations

import os
import struct

from linkctl.engine import runtime
from linkctl.kernel import linkdump, nsenter

FORMAT = "linkctl-receipt 1"
KEEP = 64  # receipts kept per directory; the oldest go first
DISABLE_ENV = "LINKCTL_RECEIPTS"  # "off": neither read nor write receipts


def enabled() -> bool:
    return os.environ.get(DISABLE_ENV, "").lower() not in ("off", "0", "no")


def directory(create: bool) -> runtime.RuntimeDir | None:
    """Where receipts live, opened: `receipts` in linkctl's runtime directory (engine/runtime.py), or
    nowhere. Only directories that are safe (real ones, ours, closed to others) count: a receipt
    planted by another user would make `apply` answer "no changes" on links it never saw, and a
    `receipts` symlink would make pruning delete files elsewhere."""
    base = runtime.runtime_dir()
    if not base:
        return None
    try:
        with runtime.RuntimeDir.open(base, create=create) as rt:
            return runtime.RuntimeDir.open("receipts", create=create, parent=rt)
    except runtime.RuntimeDirUnsafe:
        return None


def key(data: bytes, netns: str | None) -> str:
    """Names the receipt of these file bytes applied with this --netns by this linkctl."""
    h = linkdump.new_hash()
    h.update(_code_stamp())
    h.update(b"\0netns\0" + (netns if netns is not None else "\0").encode() + b"\0")
    h.update(data)
    return h.hexdigest()


def _code_stamp() -> bytes:
    """linkctl's version and the modules that decide what a plan is: an edit voids every receipt."""
    import linkctl

    root = os.path.dirname(linkctl.__file__)
    stamp = [linkctl.__version__.encode()]
    for sub in ("model", "plan", "kinds", "kernel", "engine", "nla"):  # nla: the attribute tables
        with os.scandir(os.path.join(root, sub)) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.name.endswith(".py"):
                    st = entry.stat()
                    stamp.append(struct.pack("=QQ", st.st_mtime_ns, st.st_size) + entry.name.encode())
    return b"\0".join(stamp)


class Receipt:
    __slots__ = ("digest", "interfaces", "layer3", "namespaces", "vlans")

    def __init__(
        self,
        namespaces: list[str | None],
        digest: str,
        interfaces: int,
        layer3: list[str | None] | None = None,
        vlans: list[str | None] | None = None,
    ) -> None:
        self.namespaces = namespaces
        self.digest = digest
        self.interfaces = interfaces
        # The namespaces whose addresses, routes, rules and IPv6 switches the digest holds too.
        self.layer3 = layer3 or []
        # ... and whose bridge ports' VLANs (`bridge vlan` makes no link message): a file declaring some.
        self.vlans = vlans or []

    def dump(self) -> str:
        lines = [FORMAT, f"interfaces {self.interfaces}", f"digest {self.digest}"]
        lines += [f"netns {_hex(ns)}" for ns in self.namespaces]
        lines += [f"l3 {_hex(ns)}" for ns in self.layer3]
        lines += [f"vlans {_hex(ns)}" for ns in self.vlans]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str) -> Receipt | None:
        lines = text.splitlines()
        if len(lines) < 3 or lines[0] != FORMAT:
            return None
        fields = [line.partition(" ") for line in lines[1:]]
        if fields[0][0] != "interfaces" or fields[1][0] != "digest":
            return None
        names = [_unhex(v) for k, _s, v in fields[2:] if k == "netns"]
        layer3 = [_unhex(v) for k, _s, v in fields[2:] if k == "l3"]
        vlans = [_unhex(v) for k, _s, v in fields[2:] if k == "vlans"]
        return cls(names, fields[1][2], int(fields[0][2]), layer3, vlans)


def _hex(name: str | None) -> str:
    return "-" if name is None else name.encode().hex()


def _unhex(text: str) -> str | None:
    return None if text == "-" else bytes.fromhex(text).decode()


def record(data: bytes, netns: str | None, receipt: Receipt) -> None:
    """Keep a receipt; a failure to write one only costs the next no-op its speed."""
    if not enabled():
        return
    where = directory(create=True)
    if where is None:
        return
    with where:
        try:
            where.write(key(data, netns), receipt.dump().encode("ascii"))
            _prune(where)
        except OSError:
            return


def _prune(where: runtime.RuntimeDir) -> None:
    with os.scandir(where.fd) as it:
        entries = sorted((e for e in it if e.is_file(follow_symlinks=False)), key=lambda e: e.stat().st_mtime_ns)
    for entry in entries[:-KEEP]:
        where.remove(entry.name)


def load(data: bytes, netns: str | None) -> Receipt | None:
    where = directory(create=False)
    if where is None:
        return None
    with where:
        try:
            raw = where.read(key(data, netns), 1 << 20)
            return Receipt.parse(raw.decode("ascii")) if raw is not None else None
        except (OSError, ValueError, runtime.RuntimeDirUnsafe):
            return None  # unreadable, or somebody else's file: not a receipt of ours


def current_digest(namespaces: list[str | None]) -> str:
    """The fingerprint of these namespaces' links now: one dump each, nothing decoded."""
    fds: dict[str | None, int] = {}
    try:
        for name in namespaces:
            try:
                fds[name] = os.open(nsenter.path_of(name), os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                continue
        out = linkdump.Digest()
        for name in namespaces:
            out.begin(name, name in fds)
            if name in fds:
                _dump_into(out, name, fds, namespaces)
        return out.hexdigest()
    finally:
        for fd in fds.values():
            os.close(fd)


def _dump_into(out: linkdump.Digest, name: str | None, fds: dict[str | None, int], order: list[str | None]) -> None:
    # A dump that never ends is a doubt: after 5 s the full command decides.
    with linkdump.RouteSocket(None if name is None else fds[name], timeout=5.0) as sock:
        sock.send(linkdump.dump_request(1, stats=False))
        _receive_into(out, sock)
        nsids = [_nsid(sock, seq, fds.get(other)) for seq, other in enumerate(order, 2) if other != name]
    out.end(tuple(nsids))


def _receive_into(out: linkdump.Digest, sock: linkdump.RouteSocket) -> None:
    """Fingerprint a dump as it arrives, buffer by buffer.

    (A receiving thread, to let the kernel fill the next buffer while this one
    hashes, measured slower here: the GIL hand-over costs more than it overlaps.)
    """
    done = False
    while not done:
        messages: list[bytes] = []
        done = linkdump.split_dump(sock.recv(1 << 20), messages)
        out.links(messages)


def _nsid(sock: linkdump.RouteSocket, seq: int, fd: int | None) -> int | None:
    if fd is None:
        return None
    sock.send(linkdump.nsid_request(seq, fd))
    return linkdump.parse_nsid(sock.recv(1 << 16))


# What the full commands print when nothing differs (cli/links.py, cli/render.py).
_SAID = {
    "apply": "no changes: {n} interface(s) already as declared; nothing was sent to the kernel",
    "plan": "no changes: {n} interface(s) already as declared",
}


def fast_noop(command: str, path: str, netns: str | None) -> str | None:
    """For `linkctl apply|plan FILE [--netns NS]`: the no-op answer when a receipt still holds, else None."""
    if command not in _SAID or not enabled():
        return None
    from linkctl.model import source  # a regular file, bounded: never a FIFO's wait or /dev/zero's end

    try:
        data = source.read_path(path)
        receipt = load(data, netns)
        if receipt is None:
            return None
        digest = current_digest(receipt.namespaces)
        if receipt.layer3:
            from linkctl.kernel.l3 import layer3_digest  # a file with addresses, routes or rules

            digest = layer3_digest(digest, receipt.layer3)
        if receipt.vlans:
            from linkctl.kernel.brvlan import vlan_digest  # a file with bridge port VLANs

            digest = vlan_digest(digest, receipt.vlans)
        if digest != receipt.digest:
            return None
    except (OSError, ValueError, source.Refused):
        return None
    return _SAID[command].format(n=receipt.interfaces)

"""The receipt: what the fast path (linkctl/fastpath/) checks, and the full path leaves.

When `apply` finds or makes the links as a file declares (verified), it records
a receipt: the file (its bytes, the --netns given, linkctl's own code), the
namespaces the plan read, how many interfaces, and the fingerprint of those
namespaces' links (kernel/fastpath.py), with their layer 3 when the file declares
some. A later `apply` of the same bytes compares it with the kernel now
(linkctl/fastpath/__init__.py).

Receipts live in /run (tmpfs: gone at reboot, like the links they describe),
in a root-only directory; declarations with ethtool, ethernet or kernel-modules
sections get none, since those settings are not in a link dump.

Imports only the standard library and the kernel's dump code: the fast path
loads this module before anything else in `linkctl apply`.
"""

from __future__ import annotations

import os
import struct

from linkctl.engine import lockfile, runtime
from linkctl.kernel import linkdump

TYPE_CHECKING = False  # typing is not imported at run time: this module is on the fast path
if TYPE_CHECKING:
    from linkctl.engine.apply import Context

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
    for sub in ("model", "plan", "kinds", "kernel", "engine", "nla", "fastpath"):  # nla: the attribute tables
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
    """Keep a receipt; a failure to write one only costs the next no-op its speed.

    None while a change journal is there: a `plan` during a `try` reads the links the try holds (and
    undoes at its deadline), or a change cut off half-way; neither is a state to answer from."""
    if not enabled() or lockfile.change_pending():
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


def may_keep(ctx: Context) -> bool:
    """Whether this apply or plan may leave a receipt: read from a file, only link settings declared, and
    nothing to say about the file: the receipt's answer would not repeat the sections it names unmanaged.

    Asked before the full path reads, so that its reads also fingerprint the dumps (Context.fingerprint)."""
    from linkctl.engine.apply import has_remediation

    return ctx.data is not None and not ctx.notes and enabled() and not has_remediation(ctx.decl)


def keep(ctx: Context, digest: str | None, interfaces: int) -> None:
    """After a verified apply or a no-op plan: let the next `apply` of these bytes end at the dump."""
    if not ctx.fingerprint or digest is None or ctx.data is None:
        return
    record(
        ctx.data, ctx.default_netns, Receipt(ctx.namespaces(), digest, interfaces, ctx.layer3_read(), ctx.vlan_read())
    )

"""A declaration's bytes, read with a bound: a regular file, or standard input.

`linkctl apply /dev/zero` read until memory ran out (5.4 GB, MemoryError), a
FIFO with no writer blocked for ever, and a device file may act on being
opened (a watchdog starts counting). So a path must name a regular file, is
opened without blocking and checked again once open (it may have been swapped
since the first look), and no more than MAX_BYTES + 1 bytes are ever read, from
a file or from `-`.

MAX_BYTES: 4 MiB is about 40,000 interfaces as `show -f yaml` writes them
(2000 veth pairs' file is 194 KB), where `plan` needs about 300 MB and 5 s;
the worst 4 MiB for the parser (two million one-character list items) takes
650 MB and 7 s to refuse. Links a file does not name are left as they are, so
a bigger configuration can be split over several files.

Imports only the standard library: cli/prefetch.py's child and the receipt's
fast path (linkctl/fastpath/) read through it before anything else is loaded.
"""

from __future__ import annotations

import os
import stat

TYPE_CHECKING = False  # typing costs the receipted no-op `apply`, which reads through here, ~7 ms
if TYPE_CHECKING:
    from typing import BinaryIO

MAX_BYTES = 4 * 1024 * 1024
_CHUNK = 1024 * 1024
_TOO_BIG = (
    f"at most {MAX_BYTES:,} bytes (4 MiB, about 40,000 interfaces): split the declaration over several "
    "files (links a file does not name are left as they are)"
)
_NOT_REGULAR = "a regular file, or - to read the declaration from standard input (linkctl apply - < FILE)"
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class Refused(Exception):
    """The input cannot be a declaration: what it is (`value`) and what would do (`fix`)."""

    def __init__(self, value: str, fix: str) -> None:
        super().__init__(f"{value}: {fix}")
        self.value, self.fix = value, fix


def read_path(path: str) -> bytes:
    """The bytes of the regular file at `path` (raises Refused, never blocks)."""
    try:
        _regular(os.stat(path))  # before opening: opening some devices does something
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise Refused(exc.strerror or str(exc), "a readable YAML file") from None
    try:
        _regular(os.fstat(fd))  # the very file opened, whatever the path names now
        with os.fdopen(fd, "rb", buffering=0, closefd=False) as fh:
            return read_stream(fh)
    except OSError as exc:
        raise Refused(exc.strerror or str(exc), "a readable YAML file") from None
    finally:
        os.close(fd)


def read_stream(stream: BinaryIO) -> bytes:
    """The bytes up to the end of `stream`, at most MAX_BYTES (raises Refused when there are more)."""
    chunks: list[bytes] = []
    total = 0
    while total <= MAX_BYTES:
        chunk = stream.read(min(_CHUNK, MAX_BYTES + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
    raise Refused(f"more than {MAX_BYTES:,} bytes", _TOO_BIG)


def _regular(st: os.stat_result) -> None:
    for test, kind in _KINDS:
        if test(st.st_mode):
            raise Refused(kind, _NOT_REGULAR)
    if not stat.S_ISREG(st.st_mode):
        raise Refused("not a regular file", _NOT_REGULAR)
    if st.st_size > MAX_BYTES:
        raise Refused(f"{st.st_size:,} bytes", _TOO_BIG)

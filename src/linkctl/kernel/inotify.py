"""inotify in a few libc calls (no dependency): `watch` learns through it of namespaces that
appear in /run/netns or go, and of a followed log file that is rotated."""

from __future__ import annotations

import ctypes
import os
import struct

IN_MODIFY = 0x2
IN_MOVED_FROM = 0x40
IN_MOVED_TO = 0x80
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000
_INOTIFY_EVENT = struct.Struct("=iIII")
_libc = ctypes.CDLL(None, use_errno=True)


class Inotify:
    def __init__(self) -> None:
        self.fd = int(_libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC))
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self.watches: dict[int, str] = {}

    def fileno(self) -> int:
        return self.fd

    def add(self, directory: str, mask: int) -> bool:
        wd = _libc.inotify_add_watch(self.fd, os.fsencode(directory), mask)
        if wd < 0:
            return False
        self.watches[wd] = directory
        return True

    def read(self) -> list[tuple[str, int, str]]:
        """(directory, mask, name) of each event waiting."""
        out: list[tuple[str, int, str]] = []
        try:
            buf = os.read(self.fd, 65536)
        except BlockingIOError:
            return out
        off = 0
        while off + _INOTIFY_EVENT.size <= len(buf):
            wd, mask, _cookie, length = _INOTIFY_EVENT.unpack_from(buf, off)
            raw = buf[off + _INOTIFY_EVENT.size : off + _INOTIFY_EVENT.size + length]
            off += _INOTIFY_EVENT.size + length
            out.append((self.watches.get(wd, ""), mask, os.fsdecode(raw.rstrip(b"\0"))))
        return out

    def close(self) -> None:
        os.close(self.fd)

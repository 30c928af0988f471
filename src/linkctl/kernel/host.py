"""This machine and its processes as the system names them: the hostname, /etc/machine-id,
this boot's id, and a process's start time (/proc): what the store, the change journal and
the runtime directory identify a host, a boot and a process by."""

from __future__ import annotations

import os
import socket
from pathlib import Path

MACHINE_ID = Path("/etc/machine-id")
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def hostname() -> str:
    return socket.gethostname()


def machine_id(path: Path = MACHINE_ID) -> str:
    """ "" when there is none: a container without one, an image not yet booted."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""
    # systemd writes "uninitialized" until first boot completes: no identity yet.
    return "" if text == "uninitialized" else text


def boot_id() -> str:
    """This boot's id, "" when /proc does not tell it."""
    try:
        return BOOT_ID.read_text(encoding="ascii").strip()
    except OSError:
        return ""


def process_start(pid: int) -> int:
    """The process's start time in clock ticks since boot (/proc/PID/stat), 0 if it is gone: with the
    pid, it names one process, where a pid alone may have been reused since."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return int(fh.read().rsplit(b")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return 0


def process_runs(pid: int, started_at: int) -> bool:
    """That very process (pid and start time) runs: not gone, and not a zombie, which has closed its
    files (so holds no lock) but keeps its /proc entry until its parent reaps it (init may be slow)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        return fields[0] not in (b"Z", b"X") and int(fields[19]) == started_at
    except (OSError, IndexError, ValueError):
        return False


def process_exists(pid: int) -> bool:
    return os.path.exists(f"/proc/{pid}")

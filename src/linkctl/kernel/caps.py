"""Capabilities of this process, read from /proc/self/status."""

from __future__ import annotations

CAP_NET_ADMIN = 12
CAP_SYS_ADMIN = 21


def effective() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("CapEff:"):
                    return int(line.split()[1], 16)
    except OSError:
        pass
    return 0


def has(cap: int) -> bool:
    return bool(effective() >> cap & 1)

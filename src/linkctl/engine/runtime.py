"""linkctl's runtime directory: receipts, `try`'s markers and the change lock live there.

Standard library only: the receipt's no-op answer reads it before anything else is loaded.
"""

from __future__ import annotations

import os

DIR_ENV = "LINKCTL_RUNTIME_DIR"


def runtime_dir() -> str | None:
    """root's in /run (gone at reboot, with the links), a user's in their runtime directory, else none."""
    base = os.environ.get(DIR_ENV)
    if base:
        return base
    if os.geteuid() == 0:
        return "/run/linkctl"
    user = os.environ.get("XDG_RUNTIME_DIR")
    return os.path.join(user, "linkctl") if user else None

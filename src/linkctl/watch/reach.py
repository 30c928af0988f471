"""Whether this process can ever enter a named network namespace, and if not, why."""

from __future__ import annotations

import errno
import os

from linkctl.kernel import nsenter


def entry_refused(name: str) -> str | None:
    """Why namespace `name` cannot be entered by this process, or None.

    None also when the namespace is not there or not mounted yet (`ip netns
    add` creates the file before it mounts the namespace on it: setns says
    EINVAL meanwhile): those may change; a refusal for want of privilege does
    not while the process runs.
    """
    path = nsenter.path_of(name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except PermissionError as exc:
        return f"cannot open {path}: {exc.strerror}: run as root"
    try:
        with nsenter.inside(fd):
            pass
    except OSError as exc:
        if exc.errno != errno.EPERM:
            return None
        return f"cannot enter it: {exc.strerror}: entering a network namespace needs CAP_SYS_ADMIN (run as root)"
    finally:
        os.close(fd)
    return None

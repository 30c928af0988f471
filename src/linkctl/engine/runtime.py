"""linkctl's runtime directory: the change lock, the change journal, `try`'s records and receipts.

Whoever can write there can block every change (hold the lock), forge a receipt or a
journal, or plant a symbolic link that makes root write or delete elsewhere. So the
directory must be a real directory, owned by the user linkctl runs as, closed to
everyone else (0700), and every file in it is opened without following links.

Standard library (and linkctl.errors) only: the receipt's no-op answer reads it before
anything else is loaded.
"""

from __future__ import annotations

import os
import stat

from linkctl.errors import LinkctlError

DIR_ENV = "LINKCTL_RUNTIME_DIR"
ROOT_DEFAULT = "/run/linkctl"


def runtime_dir() -> str | None:
    """root's in /run (gone at reboot, with the links), a user's in their runtime directory, else none."""
    base = os.environ.get(DIR_ENV)
    if base:
        return base
    if os.geteuid() == 0:
        return ROOT_DEFAULT
    user = os.environ.get("XDG_RUNTIME_DIR")
    return os.path.join(user, "linkctl") if user else None


class RuntimeDirUnsafe(LinkctlError):
    """The runtime directory cannot be used safely: nothing was read or changed."""


def checked_dir() -> str:
    """The runtime directory, made (0700) or checked; RuntimeDirUnsafe with the reason and the fix."""
    base = runtime_dir()
    if base is None:
        raise RuntimeDirUnsafe(
            "linkctl has no runtime directory for its change lock and journal (no XDG_RUNTIME_DIR): "
            f"set {DIR_ENV} to a directory only you can write, or run as root; nothing was read or changed"
        )
    try:
        os.mkdir(base, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise RuntimeDirUnsafe(
            f"cannot create the runtime directory {base}: {exc.strerror}; create it (mode 0700) or set "
            f"{DIR_ENV} to one you can write; nothing was read or changed"
        ) from None
    problem = unsafe_reason(base)
    if problem is not None:
        raise RuntimeDirUnsafe(f"{problem}; nothing was read or changed")
    return base


def unsafe_reason(base: str) -> str | None:
    """Why this directory may not hold linkctl's runtime files, or None when it may."""
    try:
        st = os.lstat(base)
    except OSError as exc:
        return f"cannot use the runtime directory {base}: {exc.strerror}"
    if stat.S_ISLNK(st.st_mode):
        return f"the runtime directory {base} is a symbolic link: remove it (linkctl makes a real one) or set {DIR_ENV}"
    if not stat.S_ISDIR(st.st_mode):
        return f"the runtime directory {base} is not a directory: remove it or set {DIR_ENV}"
    if st.st_uid != os.geteuid():
        return (
            f"the runtime directory {base} belongs to uid {st.st_uid}, not to uid {os.geteuid()} that runs "
            f"linkctl: whoever owns it could hold or forge linkctl's lock and journal; remove it or set {DIR_ENV}"
        )
    if st.st_mode & 0o077:
        if base == ROOT_DEFAULT and os.geteuid() == 0:
            os.chmod(base, 0o700)  # made 0755 by an earlier linkctl; root's own directory: tighten it
            return None
        return (
            f"the runtime directory {base} is mode {stat.S_IMODE(st.st_mode):04o}: other users could hold or "
            f"replace linkctl's lock and journal; `chmod 700 {base}`"
        )
    return None


def open_in(base: str, name: str, flags: int, mode: int = 0o600) -> int:
    """A file of the runtime directory, never through a symbolic link (O_NOFOLLOW), never inherited."""
    return os.open(os.path.join(base, name), flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode)


def fsync_dir(base: str) -> None:
    """A rename or unlink in the directory survives a crash only once the directory is synced."""
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

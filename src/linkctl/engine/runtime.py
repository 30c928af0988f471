"""linkctl's runtime directory: the change lock, the change journal, `try`'s records and receipts.

Whoever can write there can block every change (hold the lock), forge a receipt or a
journal, or plant a symbolic link that makes root write or delete elsewhere. So the
directory must be a real directory, owned by the user linkctl runs as, closed to
everyone else (0700). It is opened once (never through a symbolic link), checked on
the descriptor, and every file is then opened relative to that descriptor, without
following links: a path swapped after the check cannot redirect anything.

Standard library (and linkctl.errors) only: the receipt's no-op answer reads it before
anything else is loaded.
"""

from __future__ import annotations

import contextlib
import os
import stat

from linkctl.error_base import LinkctlError  # not linkctl.errors: this runs before anything loads

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


class RuntimeDir:
    """An opened and checked directory of linkctl's; its files are reached through its descriptor."""

    def __init__(self, path: str, fd: int) -> None:
        self.path, self.fd = path, fd

    @classmethod
    def open(cls, path: str, create: bool = True, parent: RuntimeDir | None = None) -> RuntimeDir:
        """Open (making it 0700 when `create`) and check; RuntimeDirUnsafe with the reason and the fix."""
        where = parent.fd if parent is not None else None
        shown = os.path.join(parent.path, path) if parent is not None else path
        if create:
            try:
                os.mkdir(path, 0o700, dir_fd=where)
            except FileExistsError:
                pass
            except OSError as exc:
                raise RuntimeDirUnsafe(
                    f"cannot create the runtime directory {shown}: {exc.strerror}; create it (mode 0700) or set "
                    f"{DIR_ENV} to one you can write"
                ) from None
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=where)
        except OSError as exc:
            raise RuntimeDirUnsafe(_open_refusal(shown, exc)) from None
        try:
            _check(shown, fd)
        except RuntimeDirUnsafe:
            os.close(fd)
            raise
        return cls(shown, fd)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> RuntimeDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open_file(self, name: str, flags: int, mode: int = 0o600) -> int:
        """A file of this directory, never through a symbolic link, never inherited by a program run."""
        return os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=self.fd)

    def read(self, name: str, limit: int = 1 << 20) -> bytes | None:
        """The file's bytes (at most `limit`), None when it is not there; only a file of this user's."""
        try:
            fd = self.open_file(name, os.O_RDONLY)
        except FileNotFoundError:
            return None
        with open(fd, "rb") as fh:
            if os.fstat(fh.fileno()).st_uid != os.geteuid():
                raise RuntimeDirUnsafe(f"{os.path.join(self.path, name)} is not this user's: remove it")
            return fh.read(limit)

    def write(self, name: str, data: bytes, sync: bool = False, exclusive: bool = False) -> None:
        """Replace (or, `exclusive`, create: FileExistsError if it is there) the file whole: written to
        a temporary name first, so a reader never sees half of it; `sync`: on disk before this returns."""
        tmp = f"{name}.{os.getpid()}.tmp"
        fd = self.open_file(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if sync:
                os.fsync(fd)
        except OSError:  # a full directory: no half-written file left to fill it further
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=self.fd)
            raise
        finally:
            os.close(fd)
        try:
            if exclusive:  # link(2) fails where rename(2) would replace
                os.link(tmp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd, follow_symlinks=False)
            else:
                os.replace(tmp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        finally:
            if exclusive:
                os.unlink(tmp, dir_fd=self.fd)
        if sync:
            os.fsync(self.fd)

    def remove(self, name: str, sync: bool = False) -> bool:
        """Whether it was there."""
        try:
            os.unlink(name, dir_fd=self.fd)
        except FileNotFoundError:
            return False
        if sync:
            os.fsync(self.fd)  # an unlink survives a crash only once the directory is synced
        return True

    def remove_stale_temporaries(self) -> None:
        """Half-written files of processes killed between writing and renaming (kill -9)."""
        for entry in os.scandir(self.fd):
            if entry.name.endswith(".tmp") and entry.is_file(follow_symlinks=False):
                pid = entry.name.rsplit(".", 2)[-2]
                if not pid.isdigit():
                    continue
                from linkctl.kernel.host import process_exists  # here: the no-op fast path imports this module

                if not process_exists(int(pid)):
                    os.unlink(entry.name, dir_fd=self.fd)


def checked_dir() -> RuntimeDir:
    """The runtime directory, made (0700) or checked, opened."""
    base = runtime_dir()
    if base is None:
        raise RuntimeDirUnsafe(
            "linkctl has no runtime directory for its change lock and journal (no XDG_RUNTIME_DIR): "
            f"set {DIR_ENV} to a directory only you can write, or run as root; nothing was read or changed"
        )
    try:
        return RuntimeDir.open(base)
    except RuntimeDirUnsafe as exc:
        raise RuntimeDirUnsafe(f"{exc}; nothing was read or changed") from None


def existing_dir() -> RuntimeDir | None:
    """The runtime directory when it is there and safe; None otherwise (a reader with nothing to read)."""
    base = runtime_dir()
    if base is None:
        return None
    try:
        return RuntimeDir.open(base, create=False)
    except RuntimeDirUnsafe:
        return None


def _open_refusal(path: str, exc: OSError) -> str:
    if os.path.islink(path):
        return f"the runtime directory {path} is a symbolic link: remove it (linkctl makes a real one) or set {DIR_ENV}"
    if exc.errno == 20:  # ENOTDIR
        return f"the runtime directory {path} is not a directory: remove it or set {DIR_ENV}"
    return f"cannot use the runtime directory {path}: {exc.strerror}"


def _check(path: str, fd: int) -> None:
    st = os.fstat(fd)
    if not stat.S_ISDIR(st.st_mode):
        raise RuntimeDirUnsafe(f"the runtime directory {path} is not a directory: remove it or set {DIR_ENV}")
    if st.st_uid != os.geteuid():
        raise RuntimeDirUnsafe(
            f"the runtime directory {path} belongs to uid {st.st_uid}, not to uid {os.geteuid()} that runs "
            f"linkctl: whoever owns it could hold or forge linkctl's lock and journal; remove it or set {DIR_ENV}"
        )
    if st.st_mode & 0o077:
        if path == ROOT_DEFAULT and os.geteuid() == 0:
            os.fchmod(fd, 0o700)  # made 0755 by an earlier linkctl; root's own directory: tighten it
            return
        raise RuntimeDirUnsafe(
            f"the runtime directory {path} is mode {stat.S_IMODE(st.st_mode):04o}: other users could hold or "
            f"replace linkctl's lock and journal; `chmod 700 {path}`"
        )

"""Network namespaces by their `ip netns` names (bind mounts under /run/netns)."""

from __future__ import annotations

import _socket
import contextlib
import errno
import os
import socket
import struct
from collections.abc import Iterator

from linkctl.errors import LinkctlError
from linkctl.kernel import nsenter
from linkctl.kernel.nsenter import NETNS_RUN_DIR as NETNS_RUN_DIR
from linkctl.kernel.nsenter import path_of as path_of
from linkctl.model.state import NetnsName


class NetnsError(LinkctlError):
    pass


def exists(name: NetnsName) -> bool:
    return name is None or os.path.exists(path_of(name))


def inode(name: NetnsName) -> int:
    """The namespace's inode: the same name on another inode is another namespace. Raises OSError."""
    return os.stat(path_of(name)).st_ino


SO_NETNS_COOKIE = 71  # Linux 5.14; Python's socket module does not name it
BOOT_ID = "/proc/sys/kernel/random/boot_id"


def identity(sock: _socket.socket, inode_: int) -> str:
    """Which namespace `sock` was opened in, as no other namespace will ever be: this boot's id and
    the namespace's cookie, which the kernel never hands out twice in a boot. Not the inode: a
    namespace deleted and re-created gets a freed inode number back (seen: 4026532242 twice in
    five re-creations). Kernels older than 5.14 have no cookie: the inode is the best left there."""
    try:
        with open(BOOT_ID) as f:
            boot = f.read().strip()
    except OSError:
        boot = "-"
    try:
        cookie = struct.unpack("=Q", sock.getsockopt(socket.SOL_SOCKET, SO_NETNS_COOKIE, 8))[0]
    except OSError:
        return f"{boot}/inode:{inode_}"
    return f"{boot}/cookie:{cookie}"


def list_names() -> list[str]:
    try:
        return sorted(os.listdir(NETNS_RUN_DIR))
    except FileNotFoundError:
        return []


def open_fd(name: NetnsName) -> int:
    try:
        return os.open(path_of(name), os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise NetnsError(
            f"network namespace {name!r} does not exist (see `ip netns list`; "
            f"create it with `ip netns add {name}` or declare it on an interface)"
        ) from None
    except PermissionError:
        raise NetnsError(f"no permission to open network namespace {name!r}: run as root") from None


def setns(fd: int) -> None:
    """setns(2) for the calling thread; a socket opened now belongs to that namespace."""
    try:
        nsenter.setns(fd)
    except OSError as exc:
        raise NetnsError(_cannot_enter(None, exc)) from None


def _cannot_enter(name: NetnsName, exc: OSError) -> str:
    which = f"network namespace {name!r}" if name else "network namespace"
    why = f"cannot enter {which}: {exc.strerror}"
    if exc.errno == 1:  # EPERM: even reading a namespace's links means entering it
        hint = "entering a namespace needs CAP_SYS_ADMIN, as for `ip -n`"
        return f"{why}: {hint} (run as root; show and plan change nothing)"
    return f"{why} (run as root)"


def entry_refused(name: str) -> str | None:
    """Why namespace `name` cannot be entered by this process, or None.

    None also when the namespace is not there or not mounted yet (`ip netns
    add` creates the file before it mounts the namespace on it: setns says
    EINVAL meanwhile): those may change; a refusal for want of privilege does
    not while the process runs.
    """
    path = path_of(name)
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


def _file_name(name: str) -> None:
    """pyroute2 takes the name for a path: 'x/y' is ./x/y, and removing '.' unmounts /run/netns
    itself (every namespace's mount under it gone from view: seen once, through `try -n .`)."""
    if not name or "/" in name or name in (".", ".."):
        raise NetnsError(f"{name!r} is no `ip netns` name (a file name under {NETNS_RUN_DIR}): nothing was done to it")


def create(name: str) -> None:
    """Create a named namespace, as `ip netns add` does."""
    from pyroute2 import netns as pr_netns

    _file_name(name)
    try:
        pr_netns.create(name)
    except OSError as exc:
        raise NetnsError(f"cannot create network namespace {name!r}: {exc.strerror}") from None


def remove(name: str) -> None:
    from pyroute2 import netns as pr_netns

    _file_name(name)
    with contextlib.suppress(FileNotFoundError):
        pr_netns.remove(name)


@contextlib.contextmanager
def entered(name: NetnsName) -> Iterator[None]:
    """Run the body with this thread inside the namespace; sockets made there stay there."""
    if name is None:
        yield
        return
    target = open_fd(name)
    try:
        with nsenter.inside(target):
            yield
    except OSError as exc:
        if exc.errno in (1, 22):  # EPERM, EINVAL from setns itself
            raise NetnsError(_cannot_enter(name, exc)) from None
        raise
    finally:
        os.close(target)

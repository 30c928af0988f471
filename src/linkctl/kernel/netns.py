"""Network namespaces by their `ip netns` names (bind mounts under /run/netns)."""

from __future__ import annotations

import contextlib
import ctypes
import os
from collections.abc import Iterator

from linkctl.errors import LinkctlError
from linkctl.model.state import NetnsName

NETNS_RUN_DIR = "/run/netns"
SELF_NETNS = "/proc/self/ns/net"


class NetnsError(LinkctlError):
    pass


def path_of(name: NetnsName) -> str:
    return SELF_NETNS if name is None else os.path.join(NETNS_RUN_DIR, name)


def exists(name: NetnsName) -> bool:
    return name is None or os.path.exists(path_of(name))


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


CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def setns(fd: int) -> None:
    """setns(2) for the calling thread; a socket opened now belongs to that namespace.

    Called through libc directly: importing pyroute2 for this costs 0.1 s per command.
    """
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise NetnsError(f"cannot enter network namespace: {os.strerror(err)} (run as root)")


def create(name: str) -> None:
    """Create a named namespace, as `ip netns add` does."""
    from pyroute2 import netns as pr_netns

    try:
        pr_netns.create(name)
    except OSError as exc:
        raise NetnsError(f"cannot create network namespace {name!r}: {exc.strerror}") from None


def remove(name: str) -> None:
    from pyroute2 import netns as pr_netns

    with contextlib.suppress(FileNotFoundError):
        pr_netns.remove(name)


@contextlib.contextmanager
def entered(name: NetnsName) -> Iterator[None]:
    """Run the body with this thread inside the namespace; sockets made there stay there."""
    if name is None:
        yield
        return
    target = open_fd(name)
    home = os.open(SELF_NETNS, os.O_RDONLY | os.O_CLOEXEC)
    try:
        setns(target)
        try:
            yield
        finally:
            setns(home)
    finally:
        os.close(target)
        os.close(home)

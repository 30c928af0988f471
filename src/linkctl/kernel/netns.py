"""Network namespaces by their `ip netns` names (bind mounts under /run/netns)."""

from __future__ import annotations

import contextlib
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
    from pyroute2.netns import setns

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

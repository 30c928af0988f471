"""The namespaces an audit can read: an unprivileged user reads the host's, not the others'.

Reading a named namespace's links means entering it (setns needs CAP_SYS_ADMIN);
one namespace refused must not cost the audit of all the others, so each is
asked first and the refused ones are named with the reason.
"""

from __future__ import annotations

from linkctl.errors import LinkctlError
from linkctl.kernel import netns
from linkctl.kernel.state import read_with_link_nets
from linkctl.model.state import HostState, NetnsName


def refused_namespaces(names: list[NetnsName]) -> dict[str, str]:
    """Why each of `names` this process may not enter cannot be (the host's always can)."""
    refused: dict[str, str] = {}
    for name in names:
        why = None if name is None else netns.entry_refused(name)
        if name is not None and why is not None:
            refused[name] = why
    return refused


def reachable(asked: list[NetnsName], wanted: list[NetnsName]) -> tuple[list[NetnsName], dict[str, str]]:
    """The namespaces of `wanted` to read, and why each refused one is not read.

    An audit that can read none of the namespaces asked for is an error, not a
    clean bill of health.
    """
    refused = refused_namespaces(list(dict.fromkeys([*wanted, *netns.list_names()])))
    if refused and all(name is not None and name in refused for name in asked):
        raise LinkctlError("; ".join(f"--netns {name}: {refused[name]}" for name in asked if name is not None))
    return [name for name in dict.fromkeys(wanted) if name is None or name not in refused], refused


def read_reachable(names: list[NetnsName], refused: dict[str, str], stats: bool = False) -> HostState:
    """These namespaces and the named ones their links point into (veth peers, underlays), but never
    into a namespace in `refused`."""
    return read_with_link_nets(names, stats=stats, skip=refused.keys())

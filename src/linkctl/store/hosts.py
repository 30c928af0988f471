"""Which machine a store's rows came from: its name, and /etc/machine-id beside it (both read
by kernel/host).

Many watchers share one PostgreSQL, and every host numbers its links from 1 in its own
namespaces: the host is part of every key. The name is what operators read and filter
on; the machine-id, kept beside it, is what tells a renamed host from a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from linkctl.kernel import host
from linkctl.kernel.host import MACHINE_ID


@dataclass(frozen=True)
class HostId:
    name: str
    machine_id: str = ""
    # A name given by the operator (--host, host:) is the identity as given: it is never
    # replaced by the name another row set of the same machine-id carries.
    chosen: bool = False


def local_host(name: str | None = None, machine_id_file: Path = MACHINE_ID) -> HostId:
    """This machine: `name` when the operator gave one, its hostname otherwise."""
    machine_id = host.machine_id(machine_id_file)
    if name:
        return HostId(name, machine_id, chosen=True)
    return HostId(host.hostname(), machine_id)

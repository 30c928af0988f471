"""Become another host, then run a command: `unshare --uts --mount python -m tests.watch.host_shim
NAME MACHINE_ID_FILE CMD...`.

A host has its own name and its own /etc/machine-id: both are set here, inside the UTS and
mount namespaces `unshare` made for this process alone, so the real machine keeps its own.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys


def main() -> None:
    name, machine_id, *command = sys.argv[1:]
    socket.sethostname(name)
    subprocess.run(["mount", "--bind", machine_id, "/etc/machine-id"], check=True, timeout=30)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Time only the netlink requests `linkctl apply FILE --netns NS` would send: the kernel's share.

Reads, validates and plans first (not timed), then times the executor alone:
what an apply would cost if everything before the first request and after
the last took no time. bench/apply_veth.py runs it beside `ip -batch` to show
how much time is left, at 1.0x, for everything linkctl does in Python.

usage: bench/requests_only.py FILE NS   (root; prints the seconds)
"""

from __future__ import annotations

import gc
import sys
import time

from linkctl.cli import engine_cmds
from linkctl.engine.apply import prepare
from linkctl.engine.executor import Executor


def main(path: str, netns: str) -> None:
    gc.disable()  # as `linkctl apply` runs (cli/entry.py)
    ctx = engine_cmds.context(path, netns, debug=False)
    host, plan = prepare(ctx)
    t0 = time.perf_counter()
    Executor(host).run(plan.ops)
    print(f"{time.perf_counter() - t0:.6f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

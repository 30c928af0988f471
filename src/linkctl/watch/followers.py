"""The kernel log's lines about links as `linkctl watch` joins them to its netlink events.

The bytes come from kernel/klog's followers: /dev/kmsg (sought to its end; EPIPE means
records were overwritten before they were read) or, where that is not readable, a file
given with --kernel-log, followed across rotation and truncation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from linkctl.kernel.klog import KMSG, FileFollower, KmsgFollower
from linkctl.logs.lines import parse_line
from linkctl.watch.kernel_log import KernelLogRecord, kernel_record_from_log


def read_records(follower: KmsgFollower | FileFollower, clock: Callable[[], datetime]) -> list[KernelLogRecord]:
    """The lines about links that the follower has new, as the watcher joins them."""
    lines = follower.read_lines()
    source = KMSG if isinstance(follower, KmsgFollower) else str(follower.path)
    # Stamped when read, like the netlink events they are joined to: the
    # kernel's own clock (sched_clock since boot) drifts from the wall clock.
    when = clock()
    records: list[KernelLogRecord] = []
    for line in lines:
        follower.number += 1
        parsed = parse_line(line, source, follower.number)
        if parsed is None or parsed.ifname is None:
            continue
        record = kernel_record_from_log(replace(parsed, time=when))
        if record is not None:
            records.append(record)
    return records

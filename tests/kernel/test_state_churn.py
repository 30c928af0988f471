"""Reading every namespace while others come and go (containers do): a namespace that goes between
being listed and being entered is absent from the result, never an error that ends `audit`."""

from __future__ import annotations

import subprocess
import threading
import uuid

import pytest

from linkctl.kernel import netns
from linkctl.kernel.state import read_state, read_with_link_nets


def _churn(prefix: str, stop: threading.Event, made: list[str]) -> None:
    n = 0
    while not stop.is_set():
        name = f"{prefix}-{n % 4}"
        subprocess.run(["ip", "netns", "add", name], check=False, capture_output=True)
        made.append(name)
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)
        n += 1


@pytest.mark.usefixtures("netns")
def test_a_namespace_removed_while_every_namespace_is_read_is_left_out() -> None:
    prefix = f"lkt-churn-{uuid.uuid4().hex[:6]}"
    stop = threading.Event()
    made: list[str] = []
    churner = threading.Thread(target=_churn, args=(prefix, stop, made), daemon=True)
    churner.start()
    try:
        seen_churned = 0
        for _ in range(150):
            names = [None, *netns.list_names()]
            seen_churned += any(n is not None and n.startswith(prefix) for n in names)
            read_state(names)
            read_with_link_nets(names)
    finally:
        stop.set()
        churner.join(timeout=30)
        for name in set(made):
            subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)
    assert seen_churned > 0  # the reads did meet the churning namespaces

"""A watcher restarted with a narrower --iface, then the wider one again (review finding
iface_glob_narrowed_on_restart): a link outside the glob is unwatched, not removed, and its
transitions meanwhile are recorded when it is watched again. A real kernel and a real store."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.watch.test_daemon import CARRIER, history, ip, namespace, wait_caught_up, watching

pytestmark = pytest.mark.kernel


def _veth(ns: str, name: str) -> None:
    ip("-n", ns, "link", "add", name, "type", "veth", "peer", "name", f"{name}p")
    ip("-n", ns, "link", "set", name, "up")
    ip("-n", ns, "link", "set", f"{name}p", "up")


def _args(ns: str, url: str, glob: str) -> list[str]:
    return ["--netns", ns, "--store", url, "--listen", "", "--host", "ident", "--iface", glob]


def test_a_link_outside_a_narrower_glob_is_unwatched_not_removed(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'events.db'}"
    with namespace(f"lkwi-{uuid.uuid4().hex[:6]}") as ns:
        _veth(ns, "gx1")
        _veth(ns, "gy1")
        with watching(_args(ns, url, "*")):
            before = wait_caught_up(url, ns)
        first = len(history(url, ns))
        with watching(_args(ns, url, "gx*")):
            ip("-n", ns, "-batch", "-", stdin="link set gy1p down\nlink set gy1p up\n" * 5)
        with watching(_args(ns, url, "*")):
            after = wait_caught_up(url, ns)
    later = [r for r in history(url, ns)[first:] if r["ifname"] == "gy1"]
    assert [r["event"] for r in later if r["event"] not in CARRIER] == []  # found link_removed, link_added
    assert sum(int(r["transitions"]) for r in later if r["event"] in CARRIER) == after["gy1"] - before["gy1"] == 10

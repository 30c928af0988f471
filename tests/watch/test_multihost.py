"""Several hosts, one PostgreSQL: each "host" is a watcher in its own network namespace and UTS
namespace (its own hostname and machine-id, no --netns), so every host has links of the same
names and indexes; all write to one real PostgreSQL over its Unix-domain socket (127.0.0.1 is
not reachable from the namespaces). Each host's recorded transitions must equal its kernel's
carrier counters, link by link. Waits are bounded by deadlines; nothing is timed.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from linkctl.store import open_store
from tests.store.conftest import pg_cluster, pg_url  # noqa: F401 - fixtures used by name
from tests.store.pg import kill9_postmaster, pg_bindir, start_again, throwaway_cluster
from tests.watch.test_daemon import CARRIER, DEADLINE, Watcher, add_pairs, kernel_counts, namespace, toggle

pytestmark = pytest.mark.kernel

HOSTS = ("h1", "h2", "h3")
LINKS = ["lnk0", "lnk1"]  # veth pairs lnk0/lnk0p and lnk1/lnk1p, made the same way on every host


def host_argv(ns: str, host: str, machine_id: Path, args: list[str]) -> list[str]:
    """The argv of a watcher that is `host`: its namespace, its hostname, its machine-id."""
    shim = [sys.executable, "-m", "tests.watch.host_shim", host, str(machine_id)]
    return [
        "ip",
        "netns",
        "exec",
        ns,
        "unshare",
        "--uts",
        "--mount",
        *shim,
        sys.executable,
        "-m",
        "linkctl",
        "watch",
        *args,
    ]


@contextlib.contextmanager
def hosts(tmp_path: Path, url: str, names: tuple[str, ...]) -> Iterator[dict[str, tuple[str, Watcher]]]:
    """One namespace and one watcher per host, all started; stopped and deleted in `finally`."""
    with contextlib.ExitStack() as stack:
        started: dict[str, tuple[str, Watcher]] = {}
        for i, host in enumerate(names):
            ns = stack.enter_context(namespace())
            add_pairs(ns, LINKS)
            machine_id = tmp_path / f"machine-id-{host}"
            machine_id.write_text(f"{i + 1:032x}\n")
            kernel_log = tmp_path / f"kmsg-{host}"  # a host of its own has a kernel log of its own
            kernel_log.write_text("")
            args = ["--store", url, "--listen", "", "--kernel-log", str(kernel_log)]
            watcher = Watcher.command(host_argv(ns, host, machine_id, args))
            stack.callback(watcher.stop)
            started[host] = (ns, watcher)
        for _, watcher in started.values():
            watcher.wait_ready()
        yield started


def recorded(url: str, host: str) -> dict[str, int]:
    """Carrier transitions recorded per link of one host."""
    counts: dict[str, int] = {}
    with open_store(url, readonly=True) as store:
        for row in store.history(host=host):
            if row.event.value in CARRIER:
                counts[row.ifname] = counts.get(row.ifname, 0) + row.transitions
    return counts


ENDS = {end for name in LINKS for end in (name, f"{name}p")}


def veths(counts: dict[str, int]) -> dict[str, int]:
    return {name: count for name, count in counts.items() if name in ENDS}


def last_known(url: str, host: str) -> dict[str, int | None]:
    with open_store(url, readonly=True) as store:
        return {s.ifname: s.carrier_changes for s in store.status(host=host) if s.ifname in ENDS}


def wait_until(pred: object, what: str) -> None:
    end = time.monotonic() + DEADLINE * 2
    while not pred():  # type: ignore[operator]
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_hosts_with_the_same_links_share_one_postgresql(tmp_path: Path, pg_url: str) -> None:  # noqa: F811
    with hosts(tmp_path, pg_url, HOSTS) as running:
        before = {host: kernel_counts(ns) for host, (ns, _) in running.items()}
        # The same names and the same indexes on every host: what collided before the host was a key.
        indexes = {host: _indexes(ns) for host, (ns, _) in running.items()}
        assert len({json.dumps(v, sort_keys=True) for v in indexes.values()}) == 1
        for i, (ns, _) in enumerate(running.values()):
            toggle(ns, LINKS, 3 + 2 * i)  # a different, known number of flaps per host
        after = {host: veths(kernel_counts(ns)) for host, (ns, _) in running.items()}
        for host in HOSTS:
            wait_until(lambda h=host: last_known(pg_url, h) == after[h], f"{host}'s watcher to catch up")
        for host in HOSTS:
            kernel = {name: after[host][name] - before[host][name] for name in after[host]}
            got = recorded(pg_url, host)
            assert {n: c for n, c in kernel.items() if c} == got, host
            flaps = 3 + 2 * HOSTS.index(host)
            assert sum(got.values()) == flaps * 2 * 2 * len(LINKS)  # both ends, down and up
        status = json.loads(_cli("status", "--store", pg_url, "--format", "json"))
        assert sorted({s["host"] for s in status}) == list(HOSTS)
        assert len(status) == len(HOSTS) * (1 + 2 * len(LINKS))  # lo and both ends of each pair
        assert status[0]["host"] == "h3"  # the most transitions first
        only = json.loads(_cli("history", "--store", pg_url, "--host", "h[12]", "--format", "json"))
        assert {r["host"] for r in only} == {"h1", "h2"}


def _indexes(ns: str) -> dict[str, int]:
    from linkctl.kernel.netlink import RtnlSocket

    with RtnlSocket(ns) as rs:
        return {link.name: link.ifindex for link in rs.dump_links(stats=False)}


def _cli(*args: str) -> str:
    import subprocess

    res = subprocess.run(
        [sys.executable, "-m", "linkctl", *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_two_hosts_lose_nothing_when_postgresql_is_killed_and_restarted(tmp_path: Path) -> None:
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (apt-get install postgresql)")
    with throwaway_cluster(bindir) as cluster, hosts(tmp_path, cluster.url(), HOSTS[:2]) as running:
        url = cluster.url()
        before = {host: veths(kernel_counts(ns)) for host, (ns, _) in running.items()}
        for ns, _ in running.values():
            toggle(ns, LINKS, 2)
        for host, (ns, _) in running.items():
            now = veths(kernel_counts(ns))
            wait_until(lambda h=host, k=now: last_known(url, h) == k, f"{host}'s watcher to catch up")
        kill9_postmaster(cluster)
        # While the database is gone: a known number of flaps per host, which the watchers see.
        for i, (ns, watcher) in enumerate(running.values()):
            toggle(ns, LINKS, 3 + i)
            watcher.wait_line(lambda line: "not writable" in line)  # the outage is noticed
        start_again(cluster)
        after = {host: veths(kernel_counts(ns)) for host, (ns, _) in running.items()}
        for host in running:
            wait_until(lambda h=host: last_known(url, h) == after[h], f"{host}'s watcher to catch up after restart")
        for host in running:
            kernel = {name: after[host][name] - before[host][name] for name in after[host]}
            assert recorded(url, host) == kernel, host
            assert sum(kernel.values()) == (2 + 3 + list(running).index(host)) * 2 * 2 * len(LINKS)
            _assert_in_order(url, host)


def _assert_in_order(url: str, host: str) -> None:
    """Per link, the carrier counter after each recorded event only grows: nothing twice, no step back."""
    seen: dict[str, list[int]] = {}
    with open_store(url, readonly=True) as store:
        for row in store.history(host=host):
            if row.event.value in CARRIER and row.carrier is not None:
                seen.setdefault(row.ifname, []).append(row.carrier.changes)
    for name, counters in seen.items():
        assert counters == sorted(set(counters)), (host, name, counters)

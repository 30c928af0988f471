"""Prometheus metrics for `linkctl watch --listen`.

Names follow node_exporter's where they mean the same thing. The series that
mirror kernel state (up, carrier counters, flapping, episodes) are rendered at
scrape time from the WatchCore by a custom collector, as node_exporter does, so
they cannot drift from what the watcher knows; the rest are observations:

    linkctl_network_up{netns,device}                         gauge, 1 = admin up with carrier
    linkctl_network_admin_up{netns,device}                   gauge, 1 = IFF_UP (0: set down by hand)
    linkctl_network_carrier_changes_total{netns,device}      counter (IFLA_CARRIER_CHANGES)
    linkctl_network_carrier_up_changes_total{netns,device}   counter (IFLA_CARRIER_UP_COUNT)
    linkctl_network_carrier_down_changes_total{netns,device} counter (IFLA_CARRIER_DOWN_COUNT)
    linkctl_link_flapping{netns,device}                      gauge, 1 while an episode is open
    linkctl_link_flap_episodes_total{netns,device}           counter, since the watcher started
    linkctl_link_down_duration_seconds{netns,device}         histogram of clean down->up spans
    linkctl_kernel_events_total{netns,device,event,driver}   counter of kernel log lines about watched links
    linkctl_kernel_events_unattributed_total{event}          counter of lines about no watched link
    linkctl_watch_resyncs_total{netns}                       counter of overflow resyncs
    linkctl_store_writable                                   gauge, 0 while commits fail
    linkctl_store_outages_total{cause}                       counter: disk_full, file_replaced, unavailable
    linkctl_store_unrecorded_events_total                    counter of events not recorded as they happened
    linkctl_store_gap_transitions_total                      counter of transitions recorded as gaps after

The link label is `device`, as node_exporter's (node_network_carrier_changes_total{device=...}),
so the two join on (instance, device); `netns` is "" for the host's own namespace, the
one node_exporter sees. The resync counter has no `device`: a resync is of a namespace's
whole socket.

    metrics = WatchMetrics(core)
    server = serve(metrics, "127.0.0.1:9717")     # a daemon thread; server.stop()
    metrics.observe(core_output)                   # after each store commit
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from linkctl.domain.events import LinkState
from linkctl.watch.config import DEFAULT_LISTEN, parse_listen
from linkctl.watch.core import LinkView, WatchCore, WatchOutput
from linkctl.watch.endpoint import listen as listen_on

LABELS = ("netns", "device")  # "device": node_exporter's name for the link
# Why a store stopped taking commits: linkctl_store_outages_total's `cause`.
DISK_FULL = "disk_full"
FILE_REPLACED = "file_replaced"
UNAVAILABLE = "unavailable"
OUTAGE_CAUSES = (DISK_FULL, FILE_REPLACED, UNAVAILABLE)
DOWN_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


class LinkCollector(Collector):
    """Renders per-link state from the watcher at scrape time."""

    def __init__(self, views: Callable[[], Iterable[LinkView]]) -> None:
        self._views = views

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "linkctl_network_up", "Whether the link is administratively up with carrier.", labels=LABELS
        )
        admin = GaugeMetricFamily(
            "linkctl_network_admin_up",
            "Whether the link is administratively up (IFF_UP); 0: set down on purpose, not a lost carrier.",
            labels=LABELS,
        )
        changes = CounterMetricFamily(
            "linkctl_network_carrier_changes",
            "Carrier changes the kernel counted (IFLA_CARRIER_CHANGES).",
            labels=LABELS,
        )
        ups = CounterMetricFamily(
            "linkctl_network_carrier_up_changes",
            "Carrier up transitions the kernel counted (IFLA_CARRIER_UP_COUNT).",
            labels=LABELS,
        )
        downs = CounterMetricFamily(
            "linkctl_network_carrier_down_changes",
            "Carrier down transitions the kernel counted (IFLA_CARRIER_DOWN_COUNT).",
            labels=LABELS,
        )
        flapping = GaugeMetricFamily(
            "linkctl_link_flapping", "Whether a flap episode is open on the link.", labels=LABELS
        )
        episodes = CounterMetricFamily(
            "linkctl_link_flap_episodes",
            "Flap episodes opened since the watcher started.",
            labels=LABELS,
        )
        for view in self._views():
            link = view.link
            labels = [link.netns or "", link.ifname]  # Prometheus has no None: "" is no label
            up.add_metric(labels, 1.0 if link.state is LinkState.UP else 0.0)
            if view.admin_up is not None:
                admin.add_metric(labels, 1.0 if view.admin_up else 0.0)
            flapping.add_metric(labels, 1.0 if view.flapping else 0.0)
            episodes.add_metric(labels, float(view.episodes_total))
            counters = link.counters
            if counters is None:
                continue
            changes.add_metric(labels, float(counters.changes))
            if counters.up is not None:
                ups.add_metric(labels, float(counters.up))
            if counters.down is not None:
                downs.add_metric(labels, float(counters.down))
        yield from (up, admin, changes, ups, downs, flapping, episodes)

    def describe(self) -> Iterator[Metric]:
        # Empty description: the registry must not call collect() at register time.
        return iter(())


class UnattributedCollector(Collector):
    """Kernel-log lines about no watched link, from the WatchCore at scrape time.

    No `device` label: the names are other namespaces' (a container's veth names are new
    each time), so a series per name would grow without bound.
    """

    def __init__(self, core: WatchCore) -> None:
        self._core = core

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "linkctl_kernel_events_unattributed",
            "Kernel log lines about a link that no watched namespace has, by kind (not recorded).",
            labels=("event",),
        )
        for kind, count in sorted(dict(self._core.unattributed).items()):  # a copy: the loop adds
            family.add_metric([kind.value], float(count))
        yield family

    def describe(self) -> Iterator[Metric]:
        return iter(())


class StoreMetrics:
    """Whether the store takes the watcher's commits, and what it missed when not."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.writable = Gauge(
            "linkctl_store_writable", "1 while the store takes commits, 0 while they fail.", registry=registry
        )
        self.outages = Counter(
            "linkctl_store_outages", "Spells of failing commits, by cause.", ("cause",), registry=registry
        )
        # Each cause served at 0 from the start: a series first seen at 1 has no increase()
        # in Prometheus, and LinkctlStoreDiskFull would miss the first full disk.
        for cause in OUTAGE_CAUSES:
            self.outages.labels(cause)
        self.unrecorded_events = Counter(
            "linkctl_store_unrecorded_events",
            "Events that could not be recorded as they happened (a gap stands for them).",
            registry=registry,
        )
        self.gap_transitions = Counter(
            "linkctl_store_gap_transitions",
            "Carrier transitions recorded as gap events once a failing store took writes again.",
            registry=registry,
        )


class WatchMetrics:
    """All of the watcher's metrics, on a registry of their own."""

    def __init__(self, core: WatchCore | None = None, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        source: Callable[[], Iterable[LinkView]] = core.views if core is not None else list
        self.registry.register(LinkCollector(source))
        if core is not None:
            self.registry.register(UnattributedCollector(core))
        self.down_duration = Histogram(
            "linkctl_link_down_duration_seconds",
            "How long a link stayed down, for each clean down->up pair.",
            LABELS,
            buckets=DOWN_BUCKETS,
            registry=self.registry,
        )
        self.kernel_events = Counter(
            "linkctl_kernel_events",
            "Kernel log lines about a link, by kind and driver.",
            (*LABELS, "event", "driver"),
            registry=self.registry,
        )
        self.resyncs = Counter(
            "linkctl_watch_resyncs",
            "Full re-reads after the netlink socket overflowed (ENOBUFS).",
            ("netns",),
            registry=self.registry,
        )
        self.store = StoreMetrics(self.registry)
        # The series each link has in the two families above, by (netns, device), and each
        # link's name by (netns, ifindex): a link removed or renamed takes its series with it,
        # or a host whose containers each bring a veth grows 17 series per veth for ever.
        self._series: dict[tuple[str, str], set[tuple[str, str] | None]] = {}
        self._names: dict[tuple[str, int], str] = {}

    def observe(self, out: WatchOutput) -> None:
        for netns, ifname, seconds in out.down_durations:
            self.down_duration.labels(netns or "", ifname).observe(seconds)
            self._series.setdefault((netns or "", ifname), set()).add(None)
        for record in out.kernel_events:
            netns = record.netns or ""
            driver = record.words.driver or ""
            self.kernel_events.labels(netns, record.ifname, record.kind.value, driver).inc()
            self._series.setdefault((netns, record.ifname), set()).add((record.kind.value, driver))
        for netns in out.resyncs:
            self.resyncs.labels(netns or "").inc()
        self._follow(out)

    def _follow(self, out: WatchOutput) -> None:
        """Drop the series of the links `out` removed or renamed."""
        for link in out.gone:
            self._names.pop((link.netns or "", link.ifindex), None)
            self._forget(link.netns or "", link.ifname)
        for link in out.links:
            old = self._names.get((link.netns or "", link.ifindex))
            if old is not None and old != link.ifname:
                self._forget(link.netns or "", old)
            self._names[(link.netns or "", link.ifindex)] = link.ifname

    def _forget(self, netns: str, ifname: str) -> None:
        for extra in self._series.pop((netns, ifname), set()):
            if extra is None:
                self.down_duration.remove(netns, ifname)
            else:
                self.kernel_events.remove(netns, ifname, *extra)

    def render(self) -> bytes:
        return generate_latest(self.registry)


@dataclass
class MetricsServer:
    server: WSGIServer
    thread: threading.Thread

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.server_address[:2]
        return str(host), int(port)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def serve(metrics: WatchMetrics, listen: str = DEFAULT_LISTEN) -> MetricsServer:
    """Serve /metrics on `listen` (127.0.0.1:9717 unless told otherwise) in a thread."""
    host, port = parse_listen(listen)
    server = listen_on(host, port, metrics.registry)
    thread = threading.Thread(target=server.serve_forever, name="linkctl-metrics", daemon=True)
    thread.start()
    return MetricsServer(server, thread)

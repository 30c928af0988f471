"""The service loop of `linkctl watch`.

One `selectors` loop waits on:

- the event socket of each watched namespace (:mod:`linkctl.watch.netlink_feed`);
- the kernel log (:mod:`linkctl.watch.followers`);
- inotify on /run/netns (namespaces named with --netns that appear, or go) and on
  a followed log file's directory (:mod:`linkctl.kernel.inotify`);
- the signal wake-up fd (SIGTERM/SIGINT stop the loop cleanly).

Link state is never polled: the select timeout only drives `core.tick` (flap
episodes that end because nothing happens), the counter snapshots every
stats_interval and the systemd watchdog. Everything the WatchCore returns is
committed to the store in one transaction per loop pass, then handed to the
Display (the terminal printer lives with the command, in linkctl.cli).
"""

from __future__ import annotations

import errno
import logging
import os
import selectors
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from linkctl.alerts import AlertDispatcher, build_senders
from linkctl.domain.events import STATS_FIELDS, CounterSnapshot, EventKind, EventSource, NetnsName, SnapshotReason, now
from linkctl.errors import LinkctlError
from linkctl.kernel import netns as netns_mod
from linkctl.kernel import rtnl
from linkctl.kernel import rtnl_const as C
from linkctl.kernel.inotify import IN_CREATE, IN_DELETE, IN_MODIFY, IN_MOVED_FROM, IN_MOVED_TO, Inotify
from linkctl.kernel.klog import KMSG, FileFollower, KmsgFollower
from linkctl.kernel.systemd import sd_notify, watchdog_interval
from linkctl.model.state import Link
from linkctl.nla import IFINFOMSG, NLMSG_ERROR, NLMSG_OVERRUN, iter_messages
from linkctl.store import open_store
from linkctl.store.sql import SqlStore
from linkctl.watch.alert_worker import AlertWorker
from linkctl.watch.config import WatchConfig
from linkctl.watch.core import DumpReason, WatchCore, WatchOutput
from linkctl.watch.down_evidence import DownEvidence, ethtool_stats
from linkctl.watch.followers import read_records
from linkctl.watch.link_down import firing_spells
from linkctl.watch.metrics import MetricsServer, WatchMetrics, serve
from linkctl.watch.netlink_feed import (
    NamespaceFeed,
    dump,
    link_message,
    name_of_nsid,
    new_netnsid,
    open_event_socket,
)
from linkctl.watch.recorder import StoreRecorder
from linkctl.watch.signals import StopSignals
from linkctl.watch.transitions import LinkMessage, u32_delta

log = logging.getLogger(__name__)

# Test-only: a small SO_RCVBUF (bytes) to provoke ENOBUFS on purpose.
ENV_RCVBUF = "LINKCTL_WATCH_RCVBUF"
TICK = 1.0
IDLE_TICK = 5.0  # after BUSY_FOR seconds without input
BUSY_FOR = 10.0
RETRY_TICK = 0.05  # while a namespace file exists but is not mounted yet
NETNS_RETRY_FOR = 5.0
MAX_RECVS_PER_PASS = 256  # fairness between namespaces during a storm
GONE_WHILE_STOPPED = "namespace gone while the watcher was stopped"


class Display(Protocol):
    """Where the loop shows what it recorded and says what it does (a person's terminal)."""

    def show(self, out: WatchOutput) -> None: ...
    def note(self, text: str) -> None: ...
    def refresh(self) -> None: ...
    def close(self) -> None: ...


# -- the daemon ----------------------------------------------------------------------


@dataclass
class Counters:
    """What the loop itself counts (for tests and the benchmark)."""

    messages: int = 0
    stale: int = 0
    resyncs: int = 0
    kmsg_overwritten: int = 0
    commits: int = 0


@dataclass
class WatchDaemon:
    config: WatchConfig
    # Made once the core exists: a live table shows the core's links.
    display_for: Callable[[WatchCore], Display]
    rcvbuf: int | None = None
    counters: Counters = field(default_factory=Counters)

    def __post_init__(self) -> None:
        self.store: SqlStore = open_store(self.config.store, host=self.config.host_id())
        self.host_notes = self.store.claim_host()
        self.store.bound_answers()  # after the migration and the host's rows: those may take long
        self.core = WatchCore(
            self.config.flap_config(),
            known=self.store.last_known(),
            open_episodes=self.store.open_episodes(),
            iface_globs=self.config.iface,
            link_down_for=self.config.alerts.link_down.seconds,
            firing_down=firing_spells(self.store.alerts()),
        )
        self.metrics = WatchMetrics(self.core)
        self.dispatcher = AlertDispatcher(self.store, build_senders(self.config.alerts), self.config.alerts)
        self.selector = selectors.DefaultSelector()
        self.feeds: dict[NetnsName, NamespaceFeed] = {}
        self.pending: dict[NetnsName, float] = {name: 0.0 for name in self.config.namespaces}
        self.refused: dict[NetnsName, str] = {}
        self.printer = self.display_for(self.core)
        self.recorder = StoreRecorder(self.store, self.core, self.metrics.store, self.printer.note)
        self.dispatcher.note = self.printer.note
        self.server: MetricsServer | None = None
        self.alerts: AlertWorker | None = None
        self.kernel_log: KmsgFollower | FileFollower | None = None
        self._refused: str | None = None  # the followed file's refusal last noted
        self.inotify: Inotify | None = None
        self.started = False
        self.signals = StopSignals()
        self.down_evidence = DownEvidence(ethtool_stats)
        self.selector.register(self.down_evidence, selectors.EVENT_READ, "down-evidence")

    # -- lifecycle ----------------------------------------------------------------

    def run(self) -> int:
        try:
            self.start()
            self.loop()
        finally:
            self.stop()
        return 0

    def start(self) -> None:
        if self.config.listen:  # first: a port in use is refused before anything is recorded
            self.server = serve(self.metrics, self.config.listen)
        if self.signals.install():
            self.selector.register(self.signals, selectors.EVENT_READ, "signal")
        self.recorder.start()
        self._watch_run_netns()
        self._open_kernel_log()
        for name in list(self.pending):
            if not self._try_open(name) and not netns_mod.exists(name):
                # The store's links of a namespace deleted while nobody watched are not there any more.
                self.commit(self.core.namespace_gone(name, now(), GONE_WHILE_STOPPED, EventSource.RESYNC))
        if self.dispatcher.receivers:
            self.alerts = AlertWorker(self.dispatcher)
            self.alerts.start()
        refused = "; ".join(f"cannot watch namespace {name!r}: {why}" for name, why in self.refused.items())
        if not self.feeds and not self.pending:
            raise LinkctlError(refused or "no namespace to watch")
        watched, missing = _ns_list(self.feeds), _ns_list(self.pending)
        self.started = True
        sd_notify(f"READY=1\nSTATUS=watching {len(self.feeds)} namespace(s); waiting for: {missing}")
        waiting = f"; waiting for {missing} to appear" if self.pending else ""
        self.printer.note(f"watching {watched}{waiting}" + (f"; {refused}" if refused else ""))
        for note in self.host_notes:
            self.printer.note(note)

    def stop(self) -> None:
        sd_notify("STOPPING=1")
        for name in list(self.feeds):
            self.feeds.pop(name).close()
        if self.alerts is not None:
            self.alerts.stop()
        if self.server is not None:
            self.server.stop()
        for closable in (self.kernel_log, self.inotify):
            if closable is not None:
                closable.close()
        self.printer.close()
        self.down_evidence.close()
        self.recorder.stop()
        self.store.close()
        self.signals.restore()
        self.selector.close()
        self.signals.close()

    # -- the loop -------------------------------------------------------------------

    def loop(self) -> None:
        clock = time.monotonic()
        due = {"tick": clock + TICK, "stats": clock + self.config.stats_interval, "watchdog": clock}
        watchdog = watchdog_interval()
        if watchdog is None:
            del due["watchdog"]
        last_input = clock
        while not self.signals.stopping:
            timeout = max(0.0, min(min(due.values()) - time.monotonic(), self._retry_timeout()))
            batch = self._pass(self.selector.select(timeout))
            clock = time.monotonic()
            if not batch.empty:
                last_input = clock
                due["tick"] = min(due["tick"], clock + TICK)
            self.commit(batch)
            if clock >= due["tick"]:
                # Quiet for a while: flap episodes end and log lines are flushed
                # a few seconds later, and 1000 open episodes cost no CPU to speak of.
                due["tick"] = clock + (TICK if clock - last_input < BUSY_FOR else IDLE_TICK)
                self._tick()
            if clock >= due["stats"]:
                due["stats"] = clock + self.config.stats_interval
                self.commit(self._stats())
            if watchdog is not None and clock >= due["watchdog"]:
                due["watchdog"] = clock + watchdog
                sd_notify("WATCHDOG=1")

    def _pass(self, ready: list[tuple[selectors.SelectorKey, int]]) -> WatchOutput:
        batch = WatchOutput()
        if isinstance(self.kernel_log, KmsgFollower) and any(isinstance(k.data, NamespaceFeed) for k, _ in ready):
            # The kernel wakes /dev/kmsg readers late (deferred irq_work), so a
            # driver's line printed before a carrier change can be readable but
            # not yet signalled: read it first, so it is joined to its event.
            batch.merge(self._read_kernel_log())
        for key, _mask in ready:
            batch.merge(self._ready(key))
        return batch

    def _ready(self, key: selectors.SelectorKey) -> WatchOutput:
        kind = key.data
        if isinstance(kind, NamespaceFeed):
            return self._read_feed(kind)
        if kind == "kmsg":
            return self._read_kernel_log()
        if kind == "inotify":
            return self._read_inotify()
        if kind == "down-evidence":
            return self.core.on_stats(self.down_evidence.drain())
        if kind == "signal":
            self.signals.drain()
        return WatchOutput()

    def commit(self, out: WatchOutput) -> None:
        if out.empty:
            return
        # A store that fails is counted on, not fatal: the recorder keeps the gap.
        self.counters.commits += int(self.recorder.record(out, self.dispatcher.receivers))
        self.metrics.observe(out)
        self.printer.show(out)

    def _tick(self) -> None:
        when = now()
        self.commit(self.core.tick(when))
        if isinstance(self.kernel_log, FileFollower):
            self.commit(self._read_kernel_log())  # a safety net if an inotify event was missed
        self._retry_pending(force=True)
        self._check_namespaces()
        self.recorder.tick()
        if self.alerts is not None:
            self.alerts.open_episodes = [*self.core.flaps.open_episodes(), *self.core.down.open_spells()]
        self.printer.refresh()

    # -- netlink --------------------------------------------------------------------

    def _try_open(self, name: NetnsName) -> bool:
        """Open the event socket first, then dump: nothing between the two is lost."""
        if not netns_mod.exists(name):
            return False
        try:
            inode = netns_mod.inode(name)
            sock = open_event_socket(name, self.rcvbuf)
        except (OSError, LinkctlError):
            # Not mounted yet (`ip netns add` creates the file first): the next try may do.
            # Not ours to enter: no try will; say why once, and stop trying.
            why = netns_mod.entry_refused(name) if name is not None else None
            if why is not None and self.pending.pop(name, None) is not None:
                self.refused[name] = why
                if self.started:
                    self.printer.note(f"cannot watch namespace {name!r}: {why}")
            return False
        feed = NamespaceFeed(name, sock, inode, netns_mod.identity(sock.sock, inode))
        try:
            links = dump(name)
        except (OSError, LinkctlError):
            feed.close()
            return False
        self.feeds[name] = feed
        self.pending.pop(name, None)
        self.selector.register(sock, selectors.EVENT_READ, feed)
        self.commit(self._on_dump(feed, links, DumpReason.STARTUP))
        if self.started:
            self.printer.note(f"watching namespace {name!r}")
        return True

    def _on_dump(self, feed: NamespaceFeed, links: list[Link], reason: DumpReason) -> WatchOutput:
        when, name = now(), feed.name
        return self.core.on_dump(name, [link_message(link, name, when) for link in links], when, reason, feed.netns_id)

    def _read_feed(self, feed: NamespaceFeed) -> WatchOutput:
        out = WatchOutput()
        for _ in range(MAX_RECVS_PER_PASS):
            try:
                buf = feed.sock.recv(1 << 20)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno != errno.ENOBUFS:
                    raise
                return out.merge(self._resync(feed))
            when = now()
            for mtype, _flags, _seq, s, e in iter_messages(buf):
                out.merge(self._message(feed.name, mtype, buf, s, e, when))
        return out

    def _message(self, name: NetnsName, mtype: int, buf: bytes, s: int, e: int, when: datetime) -> WatchOutput:
        if mtype == C.RTM_NEWLINK:
            self.counters.messages += 1
            link = rtnl.decode_link(buf, s, e, name)
            msg = link_message(link, name, when)
            if self._stale(msg):
                self.counters.stale += 1
                return WatchOutput()
            out = self.core.on_link(msg)
            if link.parent_bus and any(ev.kind is EventKind.LINK_DOWN for ev in out.events):
                self.down_evidence.request(name, link)  # the driver's counters, before a reset
            return out
        if mtype == C.RTM_DELLINK:
            self.counters.messages += 1
            ifindex = IFINFOMSG.unpack_from(buf, s)[2]
            nsid = new_netnsid(buf, s, e)
            moved_to = None if nsid is None else name_of_nsid(name, nsid)
            return self.core.on_link_gone(name, ifindex, when, moved_to)
        if mtype in (NLMSG_ERROR, NLMSG_OVERRUN):
            log.warning("netlink %d on the event socket of %r", mtype, name or "")
        return WatchOutput()

    def _stale(self, msg: LinkMessage) -> bool:
        """A message queued before the dump that was reconciled already.

        Within one socket's life an ifindex is not handed out again, so counters
        lower than the known ones mean an older message, not a re-created link.
        """
        known = self.core.links.get((msg.netns, msg.ifindex))
        if known is None or known.counters is None or msg.counters is None:
            return False
        return u32_delta(known.counters.changes, msg.counters.changes)[1]

    def _resync(self, feed: NamespaceFeed) -> WatchOutput:
        """ENOBUFS: messages were lost. A new socket, a dump, reconcile by the counters."""
        self.counters.resyncs += 1
        self.selector.unregister(feed.sock)
        feed.close()
        feed.sock = open_event_socket(feed.name, self.rcvbuf)
        self.selector.register(feed.sock, selectors.EVENT_READ, feed)
        return self._on_dump(feed, dump(feed.name), DumpReason.OVERFLOW)

    def _stats(self) -> WatchOutput:
        when = now()
        snapshots: list[CounterSnapshot] = []
        for name in list(self.feeds):
            try:
                links = dump(name)
            except (OSError, LinkctlError) as exc:
                log.warning("stats dump of %r failed: %s", name, exc)
                continue
            snapshots += [s for s in (self._snapshot(name, link, when) for link in links) if s]
        return self.core.on_stats(snapshots)

    def _snapshot(self, name: NetnsName, link: Link, when: datetime) -> CounterSnapshot | None:
        if (name, link.ifindex) not in self.core.links or link.stats is None:
            return None
        stats = {f: int(getattr(link.stats, f)) for f in STATS_FIELDS}
        ethtool = ethtool_stats(link, name) if link.parent_bus else None
        return CounterSnapshot(
            time=when,
            netns=name,
            ifname=link.name,
            ifindex=link.ifindex,
            reason=SnapshotReason.PERIODIC,
            ethtool=ethtool,
            **stats,
        )

    # -- namespaces -----------------------------------------------------------------

    def _watch_run_netns(self) -> None:
        if all(n is None for n in self.pending):
            return
        self.inotify = Inotify()
        mask = IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM
        if not self.inotify.add(netns_mod.NETNS_RUN_DIR, mask):
            # /run/netns is made by the first `ip netns add`: watch for it.
            self.inotify.add(os.path.dirname(netns_mod.NETNS_RUN_DIR), IN_CREATE | IN_MOVED_TO)
        self.selector.register(self.inotify, selectors.EVENT_READ, "inotify")

    def _read_inotify(self) -> WatchOutput:
        assert self.inotify is not None
        out = WatchOutput()
        for directory, mask, name in self.inotify.read():
            if directory == netns_mod.NETNS_RUN_DIR:
                out.merge(self._netns_event(name, mask))
            elif self.kernel_log is not None and isinstance(self.kernel_log, FileFollower):
                if directory == str(self.kernel_log.path.parent) and name == self.kernel_log.path.name:
                    out.merge(self._read_kernel_log())
            if name == os.path.basename(netns_mod.NETNS_RUN_DIR) and mask & (IN_CREATE | IN_MOVED_TO):
                self.inotify.add(netns_mod.NETNS_RUN_DIR, IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM)
                self._retry_pending(force=True)
        return out

    def _netns_event(self, name: str, mask: int) -> WatchOutput:
        if mask & (IN_DELETE | IN_MOVED_FROM) and name in self.feeds:
            return self._namespace_gone(name)
        if mask & (IN_CREATE | IN_MOVED_TO) and name in self.pending:
            self.pending[name] = time.monotonic() + NETNS_RETRY_FOR
            self._try_open(name)
        return WatchOutput()

    def _namespace_gone(self, name: str) -> WatchOutput:
        """`ip netns del`: our socket would keep the namespace (and its links) alive."""
        feed = self.feeds.pop(name)
        self.selector.unregister(feed.sock)
        feed.close()
        self.pending[name] = 0.0
        out = self.core.namespace_gone(name, now(), "namespace deleted")
        self.printer.note(f"namespace {name!r} is gone; waiting for it to come back")
        return out

    def _check_namespaces(self) -> None:
        """A safety net for inotify: a name now bound to another namespace."""
        for name, feed in list(self.feeds.items()):
            if name is None:
                continue
            try:
                inode = netns_mod.inode(name)
            except OSError:
                inode = -1
            if inode != feed.inode:
                self.commit(self._namespace_gone(name))
                self._try_open(name)

    def _retry_timeout(self) -> float:
        soon = [deadline for deadline in self.pending.values() if deadline > time.monotonic()]
        return RETRY_TICK if soon else TICK

    def _retry_pending(self, force: bool = False) -> None:
        clock = time.monotonic()
        for name, deadline in list(self.pending.items()):
            if force or deadline > clock:
                self._try_open(name)

    # -- kernel log -----------------------------------------------------------------

    def _open_kernel_log(self) -> None:
        path = self.config.kernel_log
        if path is not None:
            self.kernel_log = FileFollower(path)
            if self.inotify is None:
                self.inotify = Inotify()
                self.selector.register(self.inotify, selectors.EVENT_READ, "inotify")
            self.inotify.add(str(path.parent), IN_MODIFY | IN_CREATE | IN_MOVED_TO)
            return
        try:
            self.kernel_log = KmsgFollower()
        except OSError as exc:
            self.printer.note(f"no kernel log: {KMSG}: {exc.strerror}; give --kernel-log FILE to follow one")
            return
        self.selector.register(self.kernel_log, selectors.EVENT_READ, "kmsg")

    def _read_kernel_log(self) -> WatchOutput:
        follower = self.kernel_log
        if follower is None:
            return WatchOutput()
        records = read_records(follower, now)
        out = WatchOutput()
        if isinstance(follower, KmsgFollower) and follower.overwritten > self.counters.kmsg_overwritten:
            self.counters.kmsg_overwritten = follower.overwritten
            self.printer.note(f"{KMSG}: records were overwritten before they were read ({follower.overwritten})")
        if isinstance(follower, FileFollower) and follower.refused != self._refused:
            self._refused = follower.refused
            if follower.refused is not None:
                self.printer.note(
                    f"--kernel-log {follower.path}: {follower.refused}: not followed until a file is back"
                )
        for record in records:
            out.merge(self.core.on_kernel_log(record))
        return out


def run_watch(config: WatchConfig, display_for: Callable[[WatchCore], Display]) -> int:
    """`linkctl watch`: runs until SIGTERM or SIGINT."""
    rcvbuf = os.environ.get(ENV_RCVBUF)
    daemon = WatchDaemon(config, display_for, int(rcvbuf) if rcvbuf else None)
    return daemon.run()


def _ns_list(names: Iterable[NetnsName]) -> str:
    """Namespaces for a person."""
    return ", ".join(sorted(n or "the host namespace" for n in names)) or "none"

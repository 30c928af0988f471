"""The I/O loop of `linkctl watch`: the only watch code that touches the system.

One `selectors` loop waits on:

- one raw NETLINK_ROUTE socket per watched namespace, bound to RTMGRP_LINK
  (decoded with linkctl.kernel.rtnl.decode_link: pyroute2 decodes 20-60x slower);
- the kernel log: /dev/kmsg (sought to its end; EPIPE means records were
  overwritten before they were read) or, where that is not readable, a file
  given with --kernel-log, followed across rotation;
- inotify on /run/netns (namespaces named with --netns that appear, or go);
- the signal wake-up fd (SIGTERM/SIGINT stop the loop cleanly).

Link state is never polled: the select timeout only drives `core.tick` (flap
episodes that end because nothing happens), the counter snapshots every
stats_interval and the systemd watchdog. Everything the WatchCore returns is
committed to the store in one transaction per loop pass, then printed.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import selectors
import signal
import socket
import struct
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, TextIO

from linkctl.alerts import AlertDispatcher, build_senders
from linkctl.domain.episodes import FlapEpisode
from linkctl.domain.events import (
    STATS_FIELDS,
    CarrierCounters,
    CounterSnapshot,
    EventKind,
    LinkEvent,
    NetnsName,
    SnapshotReason,
)
from linkctl.errors import LinkctlError
from linkctl.kernel import netns as netns_mod
from linkctl.kernel import rtnl
from linkctl.kernel import rtnl_const as C
from linkctl.kernel.netlink import RtnlSocket
from linkctl.kernel.nla import IFINFOMSG, NLMSG_ERROR, NLMSG_OVERRUN, iter_attrs, iter_messages
from linkctl.logs.lines import parse_line
from linkctl.model.state import IfFlag, Link
from linkctl.store import open_store
from linkctl.store.sql import SqlStore
from linkctl.watch.config import WatchConfig
from linkctl.watch.core import DumpReason, WatchCore, WatchOutput
from linkctl.watch.down_evidence import DownEvidence
from linkctl.watch.kernel_log import kernel_record_from_log
from linkctl.watch.metrics import MetricsServer, WatchMetrics, serve
from linkctl.watch.reach import entry_refused
from linkctl.watch.recorder import StoreRecorder
from linkctl.watch.transitions import LinkMessage, u32_delta

if TYPE_CHECKING:
    from rich.table import Table

log = logging.getLogger(__name__)

# A storm of thousands of events must fit while the loop commits a batch: the
# default 2 MB buffer overflowed with 500 pairs, 16 MB lost nothing (measured).
EVENT_RCVBUF = 64 * 1024 * 1024
# Test-only: a small SO_RCVBUF (bytes) to provoke ENOBUFS on purpose.
ENV_RCVBUF = "LINKCTL_WATCH_RCVBUF"
SO_RCVBUFFORCE = 33
IFLA_NEW_NETNSID = 45
TICK = 1.0
IDLE_TICK = 5.0  # after BUSY_FOR seconds without input
BUSY_FOR = 10.0
RETRY_TICK = 0.05  # while a namespace file exists but is not mounted yet
NETNS_RETRY_FOR = 5.0
MAX_RECVS_PER_PASS = 256  # fairness between namespaces during a storm
KMSG = "/dev/kmsg"
TAIL_BYTES = 64  # the last bytes read from a followed file: they reveal a truncation


def now() -> datetime:
    return datetime.now(UTC)


# -- netlink ---------------------------------------------------------------------


def open_event_socket(netns: NetnsName, rcvbuf: int | None = None) -> socket.socket:
    """A non-blocking NETLINK_ROUTE socket in `netns`, subscribed to link events."""
    with netns_mod.entered(netns):
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, socket.NETLINK_ROUTE)
    try:
        _size_buffer(sock, rcvbuf)
        sock.bind((0, C.RTMGRP_LINK))
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def _size_buffer(sock: socket.socket, rcvbuf: int | None) -> None:
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        return
    try:
        # Past net.core.rmem_max; needs CAP_NET_ADMIN.
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, EVENT_RCVBUF)
    except PermissionError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, EVENT_RCVBUF)


def link_message(link: Link, netns: NetnsName, when: datetime) -> LinkMessage:
    carrier = link.carrier if link.carrier is not None else bool(link.flags & IfFlag.LOWER_UP)
    counters = None
    if link.carrier_changes is not None:
        counters = CarrierCounters(link.carrier_changes, link.carrier_up_count, link.carrier_down_count)
    admin_up = bool(link.flags & IfFlag.UP)
    stats = None
    # The core snapshots stats64 on down events only: skip the dict otherwise.
    if link.stats is not None and not (admin_up and carrier):
        stats = {name: int(getattr(link.stats, name)) for name in STATS_FIELDS}
    return LinkMessage(
        time=when,
        netns=netns,
        ifindex=link.ifindex,
        ifname=link.name,
        admin_up=admin_up,
        carrier=carrier,
        counters=counters,
        stats=stats,
    )


def dump(netns: NetnsName) -> list[Link]:
    with RtnlSocket(netns) as rs:
        return rs.dump_links(stats=True)


def new_netnsid(buf: bytes, off: int, end: int) -> int | None:
    """IFLA_NEW_NETNSID of an RTM_DELLINK: the link moved to that namespace."""
    for atype, s, _e in iter_attrs(buf, off + IFINFOMSG.size, end):
        if atype == IFLA_NEW_NETNSID:
            nsid: int = struct.unpack_from("=i", buf, s)[0]
            return nsid
    return None


def name_of_nsid(netns: NetnsName, nsid: int) -> str:
    """Where a link went, as a moved event's detail names it: the `ip netns` name under
    which namespace `netns` knows peer id `nsid`, "" for the host (as history has always
    recorded it), or nsid:N when it has no name."""
    candidates: list[NetnsName] = [None, *netns_mod.list_names()]
    try:
        with RtnlSocket(netns) as rs:
            for name in candidates:
                if name != netns and rs.nsid_of(name) == nsid:
                    return name or ""
    except (OSError, LinkctlError):
        pass
    return f"nsid:{nsid}"


@dataclass
class NamespaceFeed:
    """The event socket of one watched namespace."""

    name: NetnsName
    sock: socket.socket
    inode: int

    def close(self) -> None:
        self.sock.close()


def ns_inode(netns: NetnsName) -> int:
    return os.stat(netns_mod.path_of(netns)).st_ino


# -- the kernel log ----------------------------------------------------------------


class KmsgFollower:
    """/dev/kmsg from now on: one record per read(2)."""

    def __init__(self, path: str = KMSG) -> None:
        self.path = path
        self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        os.lseek(self.fd, 0, os.SEEK_END)
        self.overwritten = 0
        self.number = 0

    def fileno(self) -> int:
        return self.fd

    def read_lines(self) -> list[bytes]:
        lines: list[bytes] = []
        for _ in range(4096):
            try:
                record = os.read(self.fd, 16384)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno != errno.EPIPE:
                    raise
                # The ring buffer overwrote records we had not read yet.
                self.overwritten += 1
                continue
            if not record:
                break
            lines.append(record.split(b"\n", 1)[0])
        return lines

    def close(self) -> None:
        os.close(self.fd)


class FileFollower:
    """A syslog file from its end on, across rotation (new inode) and truncation."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None
        self.inode = 0
        self.pos = 0
        self.partial = b""
        self.tail = b""
        self.number = 0
        self._open(at_end=True)

    def _open(self, at_end: bool) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return  # rotated away and not re-created yet: the next event brings it
        except PermissionError:
            raise LinkctlError(f"--kernel-log {self.path}: permission denied") from None
        self.fd = fd
        self.inode = os.fstat(fd).st_ino
        self.pos = os.lseek(fd, 0, os.SEEK_END) if at_end else 0
        self.partial = b""
        self.tail = os.pread(fd, TAIL_BYTES, max(0, self.pos - TAIL_BYTES)) if self.pos else b""

    def read_lines(self) -> list[bytes]:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return self._drain()  # rotated away: finish the old file
        if st.st_ino != self.inode or self.fd is None:
            lines = self._drain()
            self.close()
            self._open(at_end=False)
            return lines + self._drain()
        if self._truncated(st.st_size):
            self.pos = 0
            self.partial = self.tail = b""
        return self._drain()

    def _truncated(self, size: int) -> bool:
        """copytruncate: shorter than what was read, or other bytes where we stopped.

        The size alone misses a truncation followed by a longer write before we
        looked; the last bytes read tell the two apart.
        """
        if size < self.pos:
            return True
        if self.fd is None or not self.tail:
            return False
        return os.pread(self.fd, len(self.tail), self.pos - len(self.tail)) != self.tail

    def _drain(self) -> list[bytes]:
        if self.fd is None:
            return []
        chunks = []
        while chunk := os.pread(self.fd, 1 << 20, self.pos):
            chunks.append(chunk)
            self.pos += len(chunk)
        data = self.partial + b"".join(chunks)
        if chunks:
            self.tail = (self.tail + b"".join(chunks))[-TAIL_BYTES:]
        *lines, self.partial = data.split(b"\n")
        return lines

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


# -- inotify (a few libc calls; no dependency) -------------------------------------

IN_MODIFY = 0x2
IN_MOVED_FROM = 0x40
IN_MOVED_TO = 0x80
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000
_INOTIFY_EVENT = struct.Struct("=iIII")
_libc = ctypes.CDLL(None, use_errno=True)


class Inotify:
    def __init__(self) -> None:
        self.fd = int(_libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC))
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self.watches: dict[int, str] = {}

    def fileno(self) -> int:
        return self.fd

    def add(self, directory: str, mask: int) -> bool:
        wd = _libc.inotify_add_watch(self.fd, os.fsencode(directory), mask)
        if wd < 0:
            return False
        self.watches[wd] = directory
        return True

    def read(self) -> list[tuple[str, int, str]]:
        """(directory, mask, name) of each event waiting."""
        out: list[tuple[str, int, str]] = []
        try:
            buf = os.read(self.fd, 65536)
        except BlockingIOError:
            return out
        off = 0
        while off + _INOTIFY_EVENT.size <= len(buf):
            wd, mask, _cookie, length = _INOTIFY_EVENT.unpack_from(buf, off)
            raw = buf[off + _INOTIFY_EVENT.size : off + _INOTIFY_EVENT.size + length]
            off += _INOTIFY_EVENT.size + length
            out.append((self.watches.get(wd, ""), mask, os.fsdecode(raw.rstrip(b"\0"))))
        return out

    def close(self) -> None:
        os.close(self.fd)


# -- systemd ---------------------------------------------------------------------


def sd_notify(state: str) -> bool:
    """Tell systemd (Type=notify) about readiness and liveness; no-op outside systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # abstract socket
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(state.encode(), address)
    except OSError:
        return False
    return True


def watchdog_interval() -> float | None:
    """Half of WATCHDOG_USEC, as sd_watchdog_enabled() advises; None when off."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2_000_000


# -- output --------------------------------------------------------------------------


def describe_event(ev: LinkEvent) -> str:
    parts = [ev.time.isoformat(timespec="microseconds"), ev.netns or "-", ev.ifname, ev.kind.value]
    if ev.kind.is_carrier:
        parts.append(f"transitions={ev.transitions}")
    if ev.carrier is not None:
        parts.append(f"carrier_changes={ev.carrier.changes}")
    parts.append(f"source={ev.source.value}")
    if ev.detail is not None:
        key = "from" if ev.kind is EventKind.RENAMED else "to"
        parts.append(f"{key}={ev.detail or '-'}")
    if ev.driver is not None and ev.driver.text:
        if ev.driver.driver:
            parts.append(f"driver={ev.driver.driver}")
        parts.append(f"log={ev.driver.text!r}")  # the kernel log's own words (a driver's, a bridge's)
    return " ".join(parts)


def describe(out: WatchOutput) -> Iterator[str]:
    yield from (describe_event(ev) for ev in out.events)
    for key, words in out.driver_updates:
        yield f"{now().isoformat(timespec='microseconds')} kmsg joined to {key}: {words.text!r}"
    for notice in out.notices:
        ep = notice.episode
        yield (
            f"{(ep.cleared_at or ep.start).isoformat(timespec='microseconds')} {ep.netns or '-'} {ep.ifname} "
            f"flap_{notice.edge.value} transitions={ep.transitions} down_seconds={ep.down_seconds:.3f} "
            f"trigger={ep.trigger.value}"
        )
    for netns in out.resyncs:
        yield f"{now().isoformat(timespec='microseconds')} {netns or '-'} resync after ENOBUFS"


class Printer:
    """One line per event on stdout; a live table above them on a terminal."""

    def __init__(self, stream: TextIO, core: WatchCore, live: bool) -> None:
        self.stream = stream
        self.core = core
        self._live = None
        if live:
            from rich.console import Console
            from rich.live import Live

            self._live = Live(self._table(), console=Console(file=stream), auto_refresh=False)
            self._live.start()

    def show(self, out: WatchOutput) -> None:
        lines = list(describe(out))
        if not lines:
            return
        if self._live is not None:
            for line in lines:
                self._live.console.print(line, markup=False, highlight=False)
            return
        try:
            self.stream.write("\n".join(lines) + "\n")
            self.stream.flush()
        except BrokenPipeError:
            pass  # nobody reads stdout any more: the store still has everything

    def note(self, text: str) -> None:
        self.show_text(f"{now().isoformat(timespec='microseconds')} {text}")

    def show_text(self, line: str) -> None:
        if self._live is not None:
            self._live.console.print(line, markup=False, highlight=False)
            return
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except BrokenPipeError:
            pass

    def refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._table(), refresh=True)

    def _table(self) -> Table:
        from rich.table import Table

        table = Table(title="linkctl watch", expand=False)
        for column in ("netns", "link", "state", "since", "carrier changes", "flapping"):
            table.add_column(column)
        views = sorted(self.core.views(), key=lambda v: v.link.since, reverse=True)[:40]
        for view in views:
            link = view.link
            changes = "" if link.counters is None else str(link.counters.changes)
            since = link.since.astimezone().strftime("%H:%M:%S")
            table.add_row(
                link.netns or "-", link.ifname, link.state.value, since, changes, "yes" if view.flapping else ""
            )
        return table

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()


# -- alert delivery ------------------------------------------------------------------


class AlertWorker:
    """Sends queued alerts from a thread: a slow SMTP server must not delay events."""

    def __init__(self, dispatcher: AlertDispatcher, every: float = 1.0) -> None:
        self.dispatcher = dispatcher
        self.every = every
        self.open_episodes: list[FlapEpisode] = []  # replaced (not mutated) by the loop
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="linkctl-alerts", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        failing = False
        while not self._stop.wait(self.every):
            try:
                self.dispatcher.deliver_due(now())
                self.dispatcher.resend_firing(self.open_episodes, now())
            except Exception:  # a bug in one round must not end delivery for good
                # Once per failing spell: a full disk fails every round, every second.
                if not failing:
                    log.exception("alert delivery failed")
                failing = True
            else:
                failing = False

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)


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
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    live: bool = False
    rcvbuf: int | None = None
    counters: Counters = field(default_factory=Counters)

    def __post_init__(self) -> None:
        self.store: SqlStore = open_store(self.config.store)
        self.core = WatchCore(
            self.config.flap_config(),
            known=self.store.last_known(),
            open_episodes=self.store.open_episodes(),
            iface_globs=self.config.iface,
        )
        self.metrics = WatchMetrics(self.core)
        self.dispatcher = AlertDispatcher(self.store, build_senders(self.config.alerts), self.config.alerts)
        self.selector = selectors.DefaultSelector()
        self.feeds: dict[NetnsName, NamespaceFeed] = {}
        self.pending: dict[NetnsName, float] = {name: 0.0 for name in self.config.namespaces}
        self.refused: dict[NetnsName, str] = {}
        self.printer = Printer(self.stdout, self.core, self.live)
        self.recorder = StoreRecorder(self.store, self.core, self.metrics.store, self.printer.note)
        self.server: MetricsServer | None = None
        self.alerts: AlertWorker | None = None
        self.kernel_log: KmsgFollower | FileFollower | None = None
        self.inotify: Inotify | None = None
        self.stopping = False
        self.started = False
        self._wake_r, self._wake_w = socket.socketpair()
        self._old_handlers: dict[int, object] = {}
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
        self._signals()
        self.recorder.start()
        self._watch_run_netns()
        self._open_kernel_log()
        for name in list(self.pending):
            self._try_open(name)
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
        self._restore_signals()
        self.selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def _signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        self._wake_w.setblocking(False)
        self._wake_r.setblocking(False)
        signal.set_wakeup_fd(self._wake_w.fileno(), warn_on_full_buffer=False)
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._old_handlers[signum] = signal.signal(signum, self._on_signal)
        self.selector.register(self._wake_r, selectors.EVENT_READ, "signal")

    def _restore_signals(self) -> None:
        if not self._old_handlers:
            return
        signal.set_wakeup_fd(-1)
        for signum, handler in self._old_handlers.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    # -- the loop -------------------------------------------------------------------

    def loop(self) -> None:
        clock = time.monotonic()
        due = {"tick": clock + TICK, "stats": clock + self.config.stats_interval, "watchdog": clock}
        watchdog = watchdog_interval()
        if watchdog is None:
            del due["watchdog"]
        last_input = clock
        while not self.stopping:
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
            self._drain_wakeup()
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
            self.alerts.open_episodes = self.core.flaps.open_episodes()
        self.printer.refresh()

    def _drain_wakeup(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except BlockingIOError:
            pass

    # -- netlink --------------------------------------------------------------------

    def _try_open(self, name: NetnsName) -> bool:
        """Open the event socket first, then dump: nothing between the two is lost."""
        if not netns_mod.exists(name):
            return False
        try:
            inode = ns_inode(name)
            sock = open_event_socket(name, self.rcvbuf)
        except (OSError, LinkctlError):
            # Not mounted yet (`ip netns add` creates the file first): the next try may do.
            # Not ours to enter: no try will; say why once, and stop trying.
            why = entry_refused(name) if name is not None else None
            if why is not None and self.pending.pop(name, None) is not None:
                self.refused[name] = why
                if self.started:
                    self.printer.note(f"cannot watch namespace {name!r}: {why}")
            return False
        feed = NamespaceFeed(name, sock, inode)
        try:
            links = dump(name)
        except (OSError, LinkctlError):
            feed.close()
            return False
        self.feeds[name] = feed
        self.pending.pop(name, None)
        self.selector.register(sock, selectors.EVENT_READ, feed)
        self.commit(self._on_dump(name, links, DumpReason.STARTUP))
        if self.started:
            self.printer.note(f"watching namespace {name!r}")
        return True

    def _on_dump(self, name: NetnsName, links: list[Link], reason: DumpReason) -> WatchOutput:
        when = now()
        return self.core.on_dump(name, [link_message(link, name, when) for link in links], when, reason)

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
        return self._on_dump(feed.name, dump(feed.name), DumpReason.OVERFLOW)

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
        when = now()
        out = WatchOutput()
        for netns, ifindex in [k for k in self.core.links if k[0] == name]:
            out.merge(self.core.on_link_gone(netns, ifindex, when))
        self.printer.note(f"namespace {name!r} is gone; waiting for it to come back")
        return out

    def _check_namespaces(self) -> None:
        """A safety net for inotify: a name now bound to another namespace."""
        for name, feed in list(self.feeds.items()):
            if name is None:
                continue
            try:
                inode = ns_inode(name)
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
        lines = follower.read_lines()
        out = WatchOutput()
        if isinstance(follower, KmsgFollower) and follower.overwritten > self.counters.kmsg_overwritten:
            self.counters.kmsg_overwritten = follower.overwritten
            self.printer.note(f"{KMSG}: records were overwritten before they were read ({follower.overwritten})")
        source = KMSG if isinstance(follower, KmsgFollower) else str(follower.path)
        # Stamped when read, like the netlink events they are joined to: the
        # kernel's own clock (sched_clock since boot) drifts from the wall clock.
        when = now()
        for line in lines:
            follower.number += 1
            parsed = parse_line(line, source, follower.number)
            if parsed is None or parsed.ifname is None:
                continue
            record = kernel_record_from_log(replace(parsed, time=when))
            if record is not None:
                out.merge(self.core.on_kernel_log(record))
        return out


def ethtool_stats(link: Link, netns: NetnsName) -> dict[str, int] | None:
    """`ethtool -S` of a physical NIC, if the driver has statistics."""
    try:
        from linkctl.kernel.ethtool import Ethtool, EthtoolError
    except ImportError:
        return None
    try:
        return Ethtool(link.name, netns).statistics()
    except (EthtoolError, OSError):
        return None


def run_watch(config: WatchConfig, stdout: TextIO | None = None, live: bool | None = None) -> int:
    """`linkctl watch`: runs until SIGTERM or SIGINT."""
    stream = stdout or sys.stdout
    if live is None:
        live = stream.isatty()
    rcvbuf = os.environ.get(ENV_RCVBUF)
    daemon = WatchDaemon(config, stream, live, int(rcvbuf) if rcvbuf else None)
    return daemon.run()


def _ns_list(names: Iterable[NetnsName]) -> str:
    """Namespaces for a person."""
    return ", ".join(sorted(n or "the host namespace" for n in names)) or "none"

"""`linkctl try`: apply, then hold the change until a person confirms it.

The wait is event-driven: stdin (Enter), SIGUSR1 (sent by `linkctl confirm`),
and, with --stable-for, link notifications from RTNETLINK: a declared link that
was up and loses its carrier in the first N seconds rolls the change back.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

from linkctl.engine.apply import ApplyResult, Context, apply, prepare
from linkctl.engine.changelock import changing_links
from linkctl.engine.runtime import runtime_dir
from linkctl.errors import LinkctlError
from linkctl.kernel import netns as netns_mod
from linkctl.kernel import rtnl
from linkctl.kernel import rtnl_const as C
from linkctl.kernel.nla import iter_messages
from linkctl.model.ops import Plan
from linkctl.model.state import HostState, IfFlag, NetnsName

Echo = Callable[[str], None]


def run_trial(
    ctx: Context,
    timeout: float,
    stable_for: float,
    echo: Echo,
    describe: Callable[[Plan], str] | None = None,
    wait: float = 0,
) -> int:
    """`describe` words the plan for the person who will confirm it (the CLI's plan text);
    `wait`: seconds to wait for another linkctl's change to end."""
    # Held until the change is confirmed or rolled back: nothing else may change links meanwhile.
    with changing_links("try", wait):
        return _trial(ctx, timeout, stable_for, echo, describe)


def _trial(ctx: Context, timeout: float, stable_for: float, echo: Echo, describe: Callable[[Plan], str] | None) -> int:
    host, plan = prepare(ctx)
    if plan.empty:
        echo("no changes: nothing to try")
        return 0
    if describe is not None:
        echo(describe(plan))  # what is about to be held: the person confirming should see it first
    result = apply(ctx, host, plan)
    # Subscribed after the change, so that its own transitions are not taken for a loss.
    watch = _CarrierWatch(ctx.namespaces(), host) if stable_for > 0 else None
    echo(f"applied {plan.size} change(s); confirm within {timeout:g} s (Enter, or `linkctl confirm`)")
    marker = _write_marker()
    try:
        verdict = _wait(ctx, timeout, stable_for, watch, echo)
    finally:
        marker.unlink(missing_ok=True)
        if watch:
            watch.close()
    if verdict == "confirmed":
        echo("confirmed: the change stays")
        return 0
    echo(f"{verdict}: rolling back")
    echo(result.rollback(ctx))
    return 3


def _wait(ctx: Context, timeout: float, stable_for: float, watch: _CarrierWatch | None, echo: Echo) -> str:
    rfd, wfd = socket.socketpair()
    rfd.setblocking(False)
    wfd.setblocking(False)
    old_wakeup = signal.set_wakeup_fd(wfd.fileno())
    old_handler = signal.signal(signal.SIGUSR1, lambda *_: None)
    sel = selectors.DefaultSelector()
    sel.register(rfd, selectors.EVENT_READ, "signal")
    if sys.stdin and not sys.stdin.closed and _readable_stdin():
        sel.register(sys.stdin, selectors.EVENT_READ, "stdin")
    declared = {s.name for s in ctx.decl.interfaces}
    if watch:
        watch.arm(declared)
        for sock in watch.sockets:
            sel.register(sock, selectors.EVENT_READ, "netlink")
    start = time.monotonic()
    try:
        while (left := timeout - (time.monotonic() - start)) > 0:
            window = stable_for - (time.monotonic() - start)
            if watch and watch.pending and window <= 0:
                return f"{watch.pending_name()} has had no carrier since the change ({stable_for:g} s)"
            for key, _ in sel.select(min(left, window) if watch and watch.pending else left):
                if key.data in ("signal", "stdin"):
                    _drain(key.fileobj)
                    return "confirmed"
                assert watch is not None
                lost = watch.read(key.fileobj)  # type: ignore[arg-type]
                if lost and time.monotonic() - start <= stable_for:
                    return f"{lost} lost its carrier within {stable_for:g} s"
        return f"no confirmation within {timeout:g} s"
    finally:
        signal.set_wakeup_fd(old_wakeup)
        signal.signal(signal.SIGUSR1, old_handler)
        sel.close()
        rfd.close()
        wfd.close()


def _readable_stdin() -> bool:
    try:
        return os.isatty(sys.stdin.fileno()) or os.fstat(sys.stdin.fileno()).st_size != 0
    except (OSError, ValueError):
        return False


def _drain(obj: object) -> None:
    try:
        if isinstance(obj, socket.socket):
            obj.recv(4096)
        else:
            os.read(obj.fileno(), 4096)  # type: ignore[attr-defined]
    except (BlockingIOError, OSError):
        pass


class _CarrierWatch:
    """Link notifications of the namespaces involved, subscribed once the change is made.

    A declared link that had a carrier before the change and has none once it is made
    is pending: renegotiating (an MTU or speed change), or cut off by the change itself.
    Pending at the end of the window, or losing the carrier again after regaining it,
    rolls the change back.
    """

    def __init__(self, namespaces: list[NetnsName], before: HostState) -> None:
        self.sockets: list[socket.socket] = []
        self.netns: dict[int, NetnsName] = {}
        self.before = before
        self.watched: set[tuple[NetnsName, str]] = set()  # links with a carrier to keep
        self.pending: set[tuple[NetnsName, str]] = set()
        self.declared: set[str] = set()
        for name in namespaces:
            if not netns_mod.exists(name):
                continue
            with netns_mod.entered(name):
                sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
            sock.bind((0, C.RTMGRP_LINK))
            self.sockets.append(sock)
            self.netns[sock.fileno()] = name

    def arm(self, declared: set[str]) -> None:
        from linkctl.kernel.state import read_state

        self.declared = declared
        now = read_state(list(self.netns.values()))
        existing = {(lk.netns, lk.name) for lk in now if lk.name in declared}
        carrying = {(lk.netns, lk.name) for lk in now if lk.name in declared and lk.flags & IfFlag.LOWER_UP}
        had = {(lk.netns, lk.name) for lk in self.before if lk.name in declared and lk.flags & IfFlag.LOWER_UP}
        had &= existing  # links moved or deleted by the change are not watched where they were
        self.watched = had | carrying
        self.pending = had - carrying

    def pending_name(self) -> str:
        return min(name for _ns, name in self.pending)

    def read(self, sock: socket.socket) -> str | None:
        buf = sock.recv(1 << 20)
        ns = self.netns[sock.fileno()]
        for mtype, _flags, _seq, s, e in iter_messages(buf):
            if mtype != C.RTM_NEWLINK:
                continue
            link = rtnl.decode_link(buf, s, e, ns)
            key = (ns, link.name)
            if key not in self.watched:
                continue
            if link.flags & IfFlag.LOWER_UP:
                self.pending.discard(key)  # renegotiated
            elif key not in self.pending:
                return link.name
        return None

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()


def _run_dir() -> Path:
    base = runtime_dir()
    if base is None:
        raise LinkctlError("`linkctl try` needs a runtime directory for `linkctl confirm`: set LINKCTL_RUNTIME_DIR")
    return Path(base)


def _write_marker() -> Path:
    run_dir = _run_dir()
    run_dir.mkdir(parents=True, exist_ok=True)
    marker = run_dir / f"try-{os.getpid()}.json"
    marker.write_text(json.dumps({"pid": os.getpid(), "started": time.time()}))
    return marker


def confirm_pending() -> str:
    markers = sorted(_run_dir().glob("try-*.json"), key=lambda p: p.stat().st_mtime)
    if not markers:
        raise LinkctlError("no `linkctl try` is waiting for confirmation")
    pid = json.loads(markers[-1].read_text())["pid"]
    try:
        os.kill(pid, signal.SIGUSR1)
    except ProcessLookupError:
        markers[-1].unlink(missing_ok=True)
        raise LinkctlError(f"the `linkctl try` (pid {pid}) waiting for confirmation is gone") from None
    return f"confirmed the change held by `linkctl try` (pid {pid})"


__all__ = ["ApplyResult", "confirm_pending", "run_trial"]

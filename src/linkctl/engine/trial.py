"""`linkctl try`: apply, then hold the change until a person confirms it.

The wait is event-driven: stdin (Enter), SIGUSR1 (sent by `linkctl confirm`),
and, with --stable-for, link notifications from RTNETLINK: a declared link that
was up and loses its carrier in the first N seconds rolls the change back.
Ctrl-C and SIGTERM reject the change at once. Losing the terminal (SIGHUP, the
end of stdin, output that fails) does not cancel the deadline, and neither does
killing this process: the guardian forked before the first change
(engine/guardian.py) rolls back at the deadline when this process is gone.
"""

from __future__ import annotations

import os
import select
import selectors
import signal
import socket
import stat
import sys
import time
from collections.abc import Callable

from linkctl import interrupts
from linkctl.engine import journal, runtime
from linkctl.engine.apply import ApplyFailed, ApplyResult, Context, apply, prepare
from linkctl.engine.changelock import Held, change_session
from linkctl.engine.guardian import Guardian, read_outcome, record_outcome
from linkctl.engine.rollback import Outcome
from linkctl.errors import LinkctlError
from linkctl.kernel import netns as netns_mod
from linkctl.kernel import rtnl
from linkctl.kernel import rtnl_const as C
from linkctl.kernel.host import process_runs
from linkctl.kernel.linkdump import RouteSocket
from linkctl.model.state import HostState, IfFlag, NetnsName
from linkctl.nla import iter_messages
from linkctl.plan.ops import Plan

Echo = Callable[[str], None]
LONGEST = 86400.0  # seconds a trial may hold a change (as the CLI's --timeout allows)


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
    # select() and the guardian's deadline overflow on inf or 1e300 once the change is made: refused first
    # (the CLI words it per option; this is for any other caller).
    if not (0 < timeout <= LONGEST and 0 <= stable_for <= LONGEST):
        raise LinkctlError(
            f"--timeout {timeout:g} --stable-for {stable_for:g}: give a timeout of more than 0 and at most "
            f"{LONGEST:g} s, and --stable-for from 0 to {LONGEST:g} s; nothing was changed"
        )
    # Held until the change is confirmed or rolled back: nothing else may change links meanwhile.
    with change_session("try", wait, echo) as held:
        return _trial(ctx, held, timeout, stable_for, _Voice(echo), describe)


class _Voice:
    """The terminal, for as long as there is one: a dropped session must not end the trial."""

    def __init__(self, echo: Echo) -> None:
        self.echo, self.lost = echo, False

    def __call__(self, text: str) -> None:
        if self.lost:
            return
        try:
            self.echo(text)
        except OSError:  # EIO or EPIPE: the terminal went with the session
            self.lost = True


def _trial(
    ctx: Context,
    held: Held | None,
    timeout: float,
    stable_for: float,
    echo: _Voice,
    describe: Callable[[Plan], str] | None,
) -> int:
    host, plan = prepare(ctx)
    if plan.empty:
        echo("no changes: nothing to try")
        return 0
    if describe is not None:
        echo(describe(plan))  # what is about to be held: the person confirming should see it first
    if held is None:  # no privilege to change links: apply says so, nothing changed
        apply(ctx, host, plan)
        return 1
    guardian = Guardian.arm(held, timeout)  # before the first change: it outlives this process
    try:
        result = apply(ctx, host, plan, rt=held.rt, command="try", hold=True, guardian=guardian.pid)
    except BaseException:
        guardian.done()  # apply rolled back itself (or kept the journal for `linkctl recover`)
        raise
    guardian.applied()

    def listening() -> None:  # `linkctl confirm` signals only a trial with a deadline in its journal
        journal.update(held.rt, deadline=time.time() + timeout)
        echo(f"applied {plan.size} change(s); confirm within {timeout:g} s (Enter, or `linkctl confirm`)")

    try:
        verdict, signum = _hold(ctx, host, plan, timeout, stable_for, echo, listening)
    except Exception as exc:  # a full runtime directory, say: `linkctl confirm` could not find the deadline
        outcome = _undo(ctx, held, guardian, result)
        cause = str(exc) if isinstance(exc, LinkctlError) else f"internal error: {type(exc).__name__}: {exc}"
        code = 1 if outcome.ok else ROLLBACK_FAILED
        raise ApplyFailed(f"{cause}: the change cannot be held for confirmation", outcome.message, code) from None
    if verdict == "confirmed":
        return _confirmed(held, guardian, echo)
    return _rejected(ctx, held, guardian, result, f"{verdict}: rolling back", signum, echo)


def _hold(
    ctx: Context,
    host: HostState,
    plan: Plan,
    timeout: float,
    stable_for: float,
    echo: _Voice,
    listening: Callable[[], None],
) -> tuple[str, int]:
    """Until confirmed, rejected, or the deadline: (verdict, the rejecting signal or 0)."""
    # Subscribed after the change, so that its own transitions are not taken for a loss.
    watch = _CarrierWatch(ctx.namespaces(), host) if stable_for > 0 else None
    try:
        return _wait(ctx, timeout, stable_for, watch, echo, listening)
    finally:
        if watch:
            watch.close()


def _confirmed(held: Held, guardian: Guardian, echo: _Voice) -> int:
    journal.finish(held.rt)
    interrupts.mark_done()  # a signal from now on ends the command; the change stays, and it says so
    record_outcome(held.rt, os.getpid(), "confirmed", "confirmed: the change stays")
    guardian.done()
    echo("confirmed: the change stays")
    return 0


def _rejected(
    ctx: Context, held: Held, guardian: Guardian, result: ApplyResult, why: str, signum: int, echo: _Voice
) -> int:
    echo(why)
    outcome = _undo(ctx, held, guardian, result)
    echo(outcome.message)
    if not outcome.ok:
        return ROLLBACK_FAILED
    return 128 + signum if signum else ROLLED_BACK


def _undo(ctx: Context, held: Held, guardian: Guardian, result: ApplyResult) -> Outcome:
    guardian.rolling_back()  # should this process die now, the guardian finishes at once
    outcome = result.rollback(ctx, held.rt)  # signals held meanwhile (engine/rollback.settle)
    record_outcome(held.rt, os.getpid(), "rolled back" if outcome.ok else "rollback failed", outcome.message)
    guardian.done()
    return outcome


ROLLED_BACK, ROLLBACK_FAILED = 3, 4
_REJECT = {signal.SIGINT: "interrupted", signal.SIGTERM: "stopped by SIGTERM"}


def _wait(
    ctx: Context,
    timeout: float,
    stable_for: float,
    watch: _CarrierWatch | None,
    echo: _Voice,
    listening: Callable[[], None],
) -> tuple[str, int]:
    """(verdict, the signal that rejected the change or 0). Ctrl-C and SIGTERM reject it at once;
    losing the terminal (SIGHUP, stdin closed, output failing) leaves the deadline standing."""
    rfd, wfd = socket.socketpair()
    rfd.setblocking(False)
    wfd.setblocking(False)
    old_wakeup = signal.set_wakeup_fd(wfd.fileno())
    caught = (signal.SIGUSR1, signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    old_handlers = {signum: signal.signal(signum, lambda *_: None) for signum in caught}
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
    # Arrived between the change and this wait: a SIGUSR1 then came from no `linkctl confirm`, which
    # signals only once `listening` has written the deadline, after the handlers above are in place.
    for signum in interrupts.take_noted():
        if signum != signal.SIGUSR1:
            wfd.send(bytes([signum]))
    try:
        listening()  # within the try: should it fail, the signal handlers are put back all the same
        while (left := timeout - (time.monotonic() - start)) > 0:
            window = stable_for - (time.monotonic() - start)
            if watch and watch.pending and window <= 0:
                return f"{watch.pending_name()} has had no carrier since the change ({stable_for:g} s)", 0
            for key, _ in sel.select(min(left, window) if watch and watch.pending else left):
                if key.data == "signal":
                    for signum in rfd.recv(64):
                        if signum == signal.SIGUSR1:
                            return "confirmed", 0
                        if signum in _REJECT:
                            return f"{_REJECT[signal.Signals(signum)]}", signum
                        echo.lost = True  # SIGHUP: the session is gone; the deadline stands
                elif key.data == "stdin":
                    line = _read_line(key.fileobj)
                    if line:
                        return "confirmed", 0
                    if line is False:
                        sel.unregister(key.fileobj)  # end of input: no one left to press Enter
                else:
                    assert watch is not None
                    lost = watch.read(key.fileobj)  # type: ignore[arg-type]
                    if lost and time.monotonic() - start <= stable_for:
                        return f"{lost} lost its carrier within {stable_for:g} s", 0
        return f"no confirmation within {timeout:g} s", 0
    finally:
        signal.set_wakeup_fd(old_wakeup)
        for signum, handler in old_handlers.items():
            signal.signal(signum, handler)
        sel.close()
        rfd.close()
        wfd.close()


def _readable_stdin() -> bool:
    try:
        return os.isatty(sys.stdin.fileno()) or not stat.S_ISCHR(os.fstat(sys.stdin.fileno()).st_mode)
    except (OSError, ValueError):
        return False


def _read_line(obj: object) -> bool | None:
    """True when a line (Enter) came; False at the end of input or when the terminal is gone; None
    when there was nothing to read after all (a wake-up shared with another reader)."""
    try:
        return bool(os.read(obj.fileno(), 4096))  # type: ignore[attr-defined]
    except BlockingIOError:
        return None
    except OSError:
        return False


class _CarrierWatch:
    """Link notifications of the namespaces involved, subscribed once the change is made.

    A declared link that had a carrier before the change and has none once it is made
    is pending: renegotiating (an MTU or speed change), or cut off by the change itself.
    Pending at the end of the window, or losing the carrier again after regaining it,
    rolls the change back.
    """

    def __init__(self, namespaces: list[NetnsName], before: HostState) -> None:
        self.sockets: list[RouteSocket] = []
        self.netns: dict[int, NetnsName] = {}
        self.before = before
        self.watched: set[tuple[NetnsName, str]] = set()  # links with a carrier to keep
        self.pending: set[tuple[NetnsName, str]] = set()
        self.declared: set[str] = set()
        for name in namespaces:
            if not netns_mod.exists(name):
                continue
            with netns_mod.entered(name):
                sock = RouteSocket(groups=C.RTMGRP_LINK)
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

    def read(self, sock: RouteSocket) -> str | None:
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


def confirm_pending() -> str:
    """Confirm the change a `linkctl try` holds: its process if it lives, else its guardian; then
    say what became of the trial, as whoever ended it recorded it."""
    with runtime.checked_dir() as rt:
        intent = journal.read(rt)
        if intent is None or intent.command != "try":
            last = read_outcome(rt)
            tail = f" (the last one, pid {last['pid']}, ended: {last['message']})" if last else ""
            raise LinkctlError(f"no `linkctl try` is waiting for confirmation{tail}")
        if intent.deadline is None:
            raise LinkctlError(
                f"`linkctl try` (pid {intent.pid}) is still making its change: confirm once it says 'confirm within'"
            )
        pidfd = _pidfd(intent.pid, intent.started_at) or _pidfd(intent.guardian, intent.guardian_started_at)
        if pidfd is None:
            raise LinkctlError(
                f"the `linkctl try` (pid {intent.pid}) waiting for confirmation is gone, and so is its guardian: "
                "`linkctl recover` rolls its change back"
            )
        try:
            signal.pidfd_send_signal(pidfd, signal.SIGUSR1)
            # It ends once it has confirmed (or lost the race to its deadline): its record says which.
            if not select.select([pidfd], [], [], 30)[0]:
                raise LinkctlError(f"`linkctl try` (pid {intent.pid}) did not answer the confirmation within 30 s")
        finally:
            os.close(pidfd)
        last = read_outcome(rt)
        if (last is None or last.get("pid") != intent.pid) and _still_held(rt, intent):
            raise LinkctlError(
                f"the `linkctl try` (pid {intent.pid}) and its guardian ended (killed?) with its change neither "
                "confirmed nor rolled back: `linkctl recover` rolls it back"
            )
    if last is None or last.get("pid") != intent.pid:
        raise LinkctlError(f"the `linkctl try` (pid {intent.pid}) ended without saying how")
    if last.get("outcome") != "confirmed":
        raise LinkctlError(f"too late: {last.get('message')}")
    return f"confirmed the change held by `linkctl try` (pid {intent.pid})"


def _still_held(rt: runtime.RuntimeDir, intent: journal.Intent) -> bool:
    """The trial's journal is still there: whoever ended, nothing finished its change."""
    try:
        now = journal.read(rt)
    except journal.JournalUnreadable:
        return False
    return now is not None and (now.pid, now.started_at) == (intent.pid, intent.started_at)


def _pidfd(pid: int | None, started_at: int | None) -> int | None:
    """A pidfd of that very process (its start time matches the journal's), or None: a pid alone may
    have been reused by now, and a pidfd pins the process it names, so no signal goes astray."""
    if not pid or not started_at:
        return None
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return None
    # A zombie (killed, its parent yet to reap it) keeps its pid and start time and takes a signal
    # without a word: it would be signalled instead of the guardian that holds the change.
    if not process_runs(pid, started_at):
        os.close(fd)
        return None
    return fd


__all__ = ["ApplyResult", "confirm_pending", "run_trial"]

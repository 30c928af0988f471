"""SIGINT, SIGTERM and SIGHUP during a change: the change is rolled back, and nothing stops a rollback.

systemd and Ansible end a command that overran with SIGTERM; a dropped SSH session
sends SIGHUP; a person presses Ctrl-C. Each of them, landing while links are being
changed, must leave the links as they were. Python delivers a signal to the main
thread between two bytecodes, so the handler raises `Interrupted` there, once: the
first signal of a change starts the rollback, and any later one is only noted (a
second Ctrl-C must not cut the rollback short). Outside a change, every signal
raises: the command ends, and the message says whether anything had been changed.

kill -9 cannot be caught: the change journal (engine/journal.py) is what covers it.

Every command imports this first, the receipted no-op `apply` too: so the C module `_signal`
(not signal.py's enums), no enum, typing or contextlib (they cost that path ~14 ms).
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # typeshed has signal.py's types only
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType, TracebackType
    from typing import Any

SIGHUP: int = _signal.SIGHUP
SIGINT: int = _signal.SIGINT
SIGTERM: int = _signal.SIGTERM
SIGUSR1: int = _signal.SIGUSR1
CAUGHT = (SIGINT, SIGTERM, SIGHUP)
_NAMES = {SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGTERM: "SIGTERM", SIGUSR1: "SIGUSR1"}


class Interrupted(BaseException):
    """A caught SIGINT, SIGTERM or SIGHUP.

    Not a KeyboardInterrupt: typer turns one raised in a command into a silent exit 130, and the
    guard (cli/guard.py) must say whether anything was changed. A BaseException, as KeyboardInterrupt
    is, so that no `except Exception` takes it for a failure of the code it lands in.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return _NAMES.get(self.signum, f"signal {self.signum}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class Phase:
    """Where the command stands (plain strings: an Enum costs start-up time)."""

    BEFORE = "before"  # nothing changed yet: every signal ends the command
    CHANGING = "changing"  # the first signal starts the rollback; later ones are noted
    HOLDING = "holding"  # a rollback or the last steps of a finished change: signals are noted only
    DONE = "done"  # the change is made and verified: a signal ends the command once it has reported


class _State:
    phase: str = Phase.BEFORE
    noted: list[int] = []  # noqa: RUF012 - one process-wide list, reset by install()
    confirms = 0  # SIGUSR1s received
    hook: Callable[[Any], None] = sys.__unraisablehook__


def install() -> None:
    """Catch the three signals for the rest of the process (cli/entry.py, first thing); SIGUSR1 (what
    `linkctl confirm` sends to `try`) is noted, not the default that would end the process."""
    _State.phase, _State.noted, _State.confirms = Phase.BEFORE, [], 0
    for signum in CAUGHT:
        _signal.signal(signum, _handler)
    if sys.unraisablehook is not _unraisable:
        _State.hook = sys.unraisablehook
        sys.unraisablehook = _unraisable
    _signal.signal(SIGUSR1, _note)


def _unraisable(unraisable: Any) -> None:
    """Python prints "Exception ignored in ..." with a traceback for an exception it had to swallow
    (raised in an import lock's weakref callback, a __del__). An Interrupted swallowed so is noted
    already and acted on at the next check (changing(), or the command's end): nothing to print."""
    if isinstance(unraisable.exc_value, Interrupted):
        return
    _State.hook(unraisable)


def _note(signum: int, _frame: FrameType | None) -> None:
    _State.confirms += 1  # only `try` acts on it (take_noted); nothing else ends on it


def _handler(signum: int, _frame: FrameType | None) -> None:
    # Noted as well as raised: Python swallows an exception raised where it runs a callback (an
    # import lock's weakref callback, a __del__), and the signal must not be lost there.
    _State.noted.append(signum)
    if _State.phase == Phase.HOLDING or _State.phase == Phase.DONE:
        return  # a rollback must finish; a verified change is reported, then the command ends
    if _State.phase == Phase.CHANGING:
        _State.phase = Phase.HOLDING  # one rollback per change: the next signal waits for it
    raise Interrupted(signum)


def phase() -> str:
    """One of Phase's values."""
    return _State.phase


def noted() -> int | None:
    """The first signal noted (not acted on) while signals were held, if any."""
    return _State.noted[0] if _State.noted else None


class changing:  # lower case: used as `with interrupts.changing():`, as a function would be
    """The block changes links: its first signal raises Interrupted, to be rolled back."""

    def __enter__(self) -> None:
        if _State.noted:  # a signal came (and its exception was swallowed, or a rollback held it)
            raise Interrupted(_State.noted[0])
        self.before = _State.phase
        _State.phase = Phase.CHANGING

    def __exit__(self, *exc: object) -> None:
        if _State.phase == Phase.CHANGING:
            _State.phase = self.before


class held:  # lower case: used as `with interrupts.held():`
    """No signal interrupts the block (a rollback); what arrives is noted, see noted()."""

    def __enter__(self) -> None:
        self.before = _State.phase
        _State.phase = Phase.HOLDING

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        _State.phase = self.before if self.before != Phase.CHANGING else Phase.HOLDING


def hold() -> None:
    """From now on signals are only noted, until a handler of the caller's own takes over."""
    _State.phase = Phase.HOLDING


def take_noted() -> list[int]:
    """The signals noted so far, forgotten once taken (the taker acts on them)."""
    noted = _State.noted + [SIGUSR1] * _State.confirms
    _State.noted, _State.confirms = [], 0
    return noted


def mark_done() -> None:
    """The change is made and verified: from now on a signal ends the command, and says it stays."""
    _State.phase = Phase.DONE


def describe(exc: BaseException) -> str:
    """How the command ended, for the message: 'interrupted' or 'terminated by SIGTERM'."""
    if isinstance(exc, Interrupted) and exc.signum != SIGINT:
        return f"stopped by {exc.name}"
    return "interrupted"


def exit_code(exc: BaseException) -> int:
    """128 + the signal for an interrupt (130 for a bare KeyboardInterrupt), else 1."""
    if isinstance(exc, Interrupted):
        return exc.exit_code
    return 130 if isinstance(exc, KeyboardInterrupt) else 1


def within(exc: BaseException) -> Interrupted | None:
    """The Interrupted behind an exception, if any: Python 3.11 wraps one raised in a class's
    __set_name__ (pydantic building a model) in a RuntimeError, and a library may re-raise it.
    Only what caused the exception is followed (its __cause__, or the exception it was raised while
    handling when that is not suppressed), and never behind SystemExit: a command that ended on its
    own, after handling an interrupt (a rollback, reported), has said how it ended."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen and not isinstance(cur, SystemExit):
        if isinstance(cur, Interrupted):
            return cur
        seen.add(id(cur))
        cur = cur.__cause__ if cur.__cause__ is not None else (None if cur.__suppress_context__ else cur.__context__)
    return None


def ignore() -> None:
    """Signals from now on change nothing: the command has said its last word (its teardown), or
    this is a forked worker whose parent handles them (Ctrl-C reaches the whole process group; a
    worker hit between two tasks would print a traceback)."""
    for signum in CAUGHT:
        _signal.signal(signum, _signal.SIG_IGN)


quiet_in_workers = ignore

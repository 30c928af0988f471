"""How every `linkctl` command ends: exit codes, error words, no traceback ever.

Shared by the typer application (cli/main.py) and the plain `apply`/`plan`
forms that cli/entry.py runs without it; imports nothing but linkctl.errors.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from collections.abc import Callable
from typing import NoReturn

from linkctl import interrupts  # the standard library only
from linkctl.errors import LinkctlError, printable

EX_USAGE = 64  # sysexits.h: a usage error must not read as `plan`'s 2, "changes pending"
# audit and diagnose exit 1 and 2 for findings (as Nagios plugins): their own failure is 3, UNKNOWN.
_UNKNOWN = {"audit": 3, "diagnose": 3, "doctor": 3}

# Commands that hold no resource past their return (sockets and files are closed
# by then): they skip the interpreter's teardown, which frees the thousands of
# objects of a large plan one by one (60-90 ms for 2000 links).
QUICK_EXIT = ("apply", "plan", "show")


def guarded(command: Callable[[], object]) -> NoReturn:
    """Run a command; its int result is the exit code (None: 0)."""
    try:
        code = command()
    except LinkctlError as exc:
        _say(f"linkctl: {exc}")
        sys.exit(_error_code(exc))
    except (KeyboardInterrupt, interrupts.Interrupted) as exc:
        interrupted(exc)
    except SystemExit:
        raise
    except Exception as exc:
        cause = interrupts.within(exc)
        signum = interrupts.noted()
        if cause is None and signum is not None and interrupts.phase() == interrupts.Phase.BEFORE:
            # A library swallowed the signal's exception into its own (pydantic-core building a schema
            # says "SchemaError: ... Interrupted: 2"): the signal is what ended it, and nothing changed yet.
            cause = interrupts.Interrupted(signum)
        if cause is not None:
            interrupted(cause)
        if sys.stdout is None or (isinstance(exc, OSError) and _stdout_lost(exc)):
            _output_lost(exc)
        _last_guard(exc)
    leave(code if isinstance(code, int) else 0)


def _error_code(exc: LinkctlError) -> int:
    if exc.exit_code == 1 and sys.argv[1:2]:
        return _UNKNOWN.get(sys.argv[1], 1)
    return exc.exit_code


def interrupted(exc: KeyboardInterrupt | interrupts.Interrupted) -> NoReturn:
    """A signal that ended the command outside a change's own handling (which rolls back)."""
    _say(f"linkctl: {_ended_by(exc)}")
    os._exit(interrupts.exit_code(exc))  # no teardown: a second signal must not print a traceback


# What a command that reads logs leaves when a signal stops it: it changes nothing, but what it
# printed is not the whole log's (it said only "nothing was changed", as an apply does).
_READING = {
    "parse": "the events printed are those read before it, not the whole log's",
    "analyze": "the log was not read to its end: no report",
}


def _ended_by(exc: BaseException) -> str:
    words = interrupts.describe(exc)
    if interrupts.phase() == interrupts.Phase.DONE:
        return f"{words} after the change was made and verified: it stays"
    if sys.argv[1:2] == ["logs"] and (left := _READING.get(sys.argv[2] if len(sys.argv) > 2 else "")):
        return f"{words}: {left}"
    return f"{words}: nothing was changed"


def leave(code: int) -> NoReturn:
    signum = interrupts.noted()
    if signum is not None and code == 0:  # noted, not raised: after a verified change, or swallowed
        _say(f"linkctl: {_ended_by(interrupts.Interrupted(signum))}")
        code = 128 + signum
    _leave(code)


def _leave(code: int) -> NoReturn:
    interrupts.ignore()  # the command is over: a signal in the interpreter's teardown must not kill it
    if sys.argv[1:2] and sys.argv[1] in QUICK_EXIT:
        for stream in (sys.stdout, sys.stderr):
            # `linkctl show | head`: the reader left, as with `ip link | head`; or the stream is full or
            # closed (None when started so): the command said so, or its exit code does.
            with contextlib.suppress(OSError, ValueError, AttributeError):
                stream.flush()
        os._exit(code)
    sys.exit(code)


# What writing to a full disk raises; the reader of a pipe leaving raises EPIPE.
_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO)


def _stdout_lost(exc: OSError) -> bool:
    """The command failed writing its standard output (`plan | head`, `show > /dev/full`, `>&-`): a
    write error with no file named, where standard output is a pipe (EPIPE), a file or a device (a
    full disk) or closed (EBADF). The commands that write files of their own name them."""
    if exc.filename is not None:
        return False
    try:
        mode = os.fstat(1).st_mode
    except OSError:
        return exc.errno == errno.EBADF
    if exc.errno == errno.EPIPE:
        return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)
    return exc.errno in _FULL and (stat.S_ISREG(mode) or stat.S_ISCHR(mode))


def _output_lost(exc: Exception) -> NoReturn:
    """A reader that left (EPIPE) ends the command quietly, as `ip link | head` does; any other failure
    to write is said once on stderr. Commands that change links say what became of the change
    themselves (cli/engine_cmds.py): this is for the others."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # the exit's own flush must not fail again
    if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
        _leave(0)
    why = os.strerror(exc.errno or errno.EIO) if isinstance(exc, OSError) else "it is closed"
    _say(f"linkctl: cannot write to standard output: {why}")
    _leave(1)


def _last_guard(exc: Exception) -> NoReturn:
    """Usage errors print as the CLI library words them; anything else without a traceback."""
    show = getattr(exc, "show", None)
    code = getattr(exc, "exit_code", None)
    if callable(show):
        show()
        sys.exit(EX_USAGE if code in (None, 2) else code)
    if isinstance(code, int):  # Exit / Abort
        sys.exit(code)
    _say(f"linkctl: internal error: {type(exc).__name__}: {exc}")
    _say("linkctl: please report this with the command that caused it")
    sys.exit(1)


def _say(line: str) -> None:
    sys.stderr.write(printable(line) + "\n")  # a message may name a link whose name holds an ESC
    sys.stderr.flush()

"""Parse a large declaration in a forked child while the parent imports the CLI and the schema.

`linkctl apply` of a 2000-link file spends about 0.2 s in PyYAML (libyaml's
composer builds the node tree) and about 0.35 s importing typer, pydantic and
the models; neither needs the other. On a machine with two cores or more, a
child forked before those imports parses while the parent imports, and hands
back plain data (marshal: dicts, lists, strings, numbers) tagged with the digest
of the bytes it read. The parent takes it only for those very bytes; whenever
anything differs or fails, it parses the file itself, which is also how every
YAML error is reported. Below MIN_BYTES the fork costs more than it saves.

Imports only the standard library: this runs before everything else.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import stat

from linkctl.model import source

MIN_BYTES = 32 * 1024
COMMANDS = ("apply", "plan", "try")
_VALUE_OPTIONS = ("--netns", "-n", "--format", "-f", "--timeout", "--stable-for", "--wait")
_DIGEST = 16


class _Pending:
    __slots__ = ("fd", "path", "pid")

    def __init__(self, pid: int, fd: int, path: str) -> None:
        self.pid, self.fd, self.path = pid, fd, path


_pending: _Pending | None = None


def start(argv: list[str]) -> None:
    """For `apply|plan|try FILE ...` with a large FILE: start parsing it in a child."""
    global _pending
    path = file_argument(argv)
    if path is None or _pending is not None or len(os.sched_getaffinity(0)) < 2:
        return
    try:
        st = os.stat(path)
    except OSError:
        return  # the parent reports it, with the file's name
    if not stat.S_ISREG(st.st_mode) or not MIN_BYTES <= st.st_size <= source.MAX_BYTES:
        return  # the parent refuses what is not a regular file of a declaration's size
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        _child(path, wfd)
    os.close(wfd)
    _pending = _Pending(pid, rfd, path)


def file_argument(argv: list[str]) -> str | None:
    """The FILE of `apply|plan|try [OPTIONS] FILE [OPTIONS]`, or None (stdin, other commands)."""
    if argv[:1] not in ([c] for c in COMMANDS):
        return None
    rest = iter(argv[1:])
    for arg in rest:
        if arg in _VALUE_OPTIONS:
            next(rest, None)
        elif arg == "--":
            arg = next(rest, "-")
            return None if arg == "-" else arg
        elif not arg.startswith("-"):
            return arg
    return None


def _child(path: str, wfd: int) -> None:
    """Never returns: parse, write digest + marshalled data, exit. Any failure: exit without a word."""
    code = 1
    try:
        from linkctl.model import yaml_load  # PyYAML and the standard library only

        data = source.read_path(path)  # swapped for a FIFO since start() looked: no wait
        loaded = yaml_load.load(data.decode("utf-8"))
        out = _digest(data) + marshal.dumps(loaded)
        with os.fdopen(wfd, "wb") as pipe:
            pipe.write(out)
        code = 0
    finally:
        os._exit(code)  # not the parent's atexit handlers, not its stdout buffer


def collect(path: str, data: bytes) -> tuple[bool, object]:
    """(True, the parsed data) when the child parsed exactly `data` of `path`, else (False, None)."""
    global _pending
    pending, _pending = _pending, None
    if pending is None:
        return False, None
    with os.fdopen(pending.fd, "rb") as pipe:
        out = pipe.read()
    os.waitpid(pending.pid, 0)
    if pending.path != path or out[:_DIGEST] != _digest(data):
        return False, None
    try:
        return True, marshal.loads(out[_DIGEST:])
    except (EOFError, ValueError, TypeError):
        return False, None


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=_DIGEST).digest()

"""debugfs's dynamic debug control file: queries written to it, call sites read from it."""

from __future__ import annotations

import os
import re
from pathlib import Path


class QueryRefused(Exception):
    """The control file was opened but refused the query (the kernel's reason in `strerror`)."""

    def __init__(self, strerror: str | None) -> None:
        super().__init__(strerror)
        self.strerror = strerror


def write(control: Path, query: str) -> None:
    """One query. Raises OSError when the file cannot be opened, QueryRefused when the
    kernel rejects the query."""
    # One query per write(2): the control file parses each write on its own.
    fd = os.open(control, os.O_WRONLY | os.O_APPEND)  # append: a plain file in tests keeps every query
    try:
        os.write(fd, query.encode())
    except OSError as exc:
        raise QueryRefused(exc.strerror) from None
    finally:
        os.close(fd)


_SITE = re.compile(r"^(?P<file>\S+):(?P<line>\d+) \[(?P<mod>[^\]]+)\]\S* =(?P<flags>\S+)")


def enabled_sites(control: Path, module: str) -> list[tuple[str, str]]:
    """(file, line) of the module's call sites that print already; [] when unreadable."""
    try:
        text = control.read_text()
    except OSError:
        return []
    out: list[tuple[str, str]] = []
    for line in text.splitlines():
        m = _SITE.match(line)
        if m and m["mod"] == module and "p" in m["flags"]:
            out.append((m["file"], m["line"]))
    return out

"""`diagnose --kernel-debug SECONDS`: a driver's dynamic debug on for a while, then off.

`module DRIVER +pfl` through debugfs prints the driver's pr_debug/dev_dbg lines with
function and line; they are collected from /dev/kmsg (opened at its end first, so only
what is printed from now on is read). Debug is turned off again in a `finally`, which
also runs on Ctrl-C, and call sites that were already on before are switched back on.
"""

from __future__ import annotations

import os
import re
import select
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from linkctl.errors import LinkctlError
from linkctl.interrupts import Interrupted
from linkctl.kernel.sysinfo import ROOTS, Roots, dynamic_debug_control
from linkctl.model.ethtool_spec import MODULE_NAME


class KernelDebugError(LinkctlError):
    pass


@dataclass
class DebugCapture:
    driver: str
    lines: list[str] = field(default_factory=list)
    interrupted: bool = False
    restored_sites: int = 0
    switched_off: bool = False

    def to_json(self) -> dict[str, object]:
        return dict(self.__dict__)


def _write(control: Path, query: str) -> None:
    # One query per write(2): the control file parses each write on its own.
    try:
        fd = os.open(control, os.O_WRONLY | os.O_APPEND)  # append: a plain file in tests keeps every query
    except FileNotFoundError:
        raise KernelDebugError(
            f"--kernel-debug: {control} is missing: mount debugfs "
            "(`mount -t debugfs none /sys/kernel/debug`) on a kernel with CONFIG_DYNAMIC_DEBUG"
        ) from None
    except PermissionError:
        raise KernelDebugError(f"--kernel-debug: {control}: permission denied; run as root") from None
    try:
        os.write(fd, query.encode())
    except OSError as exc:
        raise KernelDebugError(
            f"--kernel-debug: `{query}` refused ({exc.strerror}): the module has no debug call sites, or is not loaded"
        ) from None
    finally:
        os.close(fd)


_SITE = re.compile(r"^(?P<file>\S+):(?P<line>\d+) \[(?P<mod>[^\]]+)\]\S* =(?P<flags>\S+)")


def enabled_sites(control: Path, driver: str) -> list[tuple[str, str]]:
    """(file, line) of the driver's call sites that print already, to restore them."""
    try:
        text = control.read_text()
    except OSError:
        return []
    out: list[tuple[str, str]] = []
    for line in text.splitlines():
        m = _SITE.match(line)
        if m and m["mod"] == driver and "p" in m["flags"]:
            out.append((m["file"], m["line"]))
    return out


def capture(
    driver: str,
    seconds: float,
    roots: Roots = ROOTS,
    kmsg: str = "/dev/kmsg",
    match: list[str] | None = None,
    on_tick: Callable[[], None] | None = None,
) -> DebugCapture:
    """Turn debug on, collect the kernel lines naming `match` (default: the driver) for
    `seconds`, turn it off. Ctrl-C ends the collection early; debug still goes off."""
    if not MODULE_NAME.match(driver):
        raise KernelDebugError(f"--kernel-debug: driver {driver!r} is not a module name")
    control = dynamic_debug_control(roots)
    words = match or [driver]
    result = DebugCapture(driver)
    before = enabled_sites(control, driver)
    fd = _open_kmsg_at_end(kmsg)
    try:
        _write(control, f"module {driver} +pfl")
        _collect(fd, seconds, words, result, on_tick)
    except (KeyboardInterrupt, Interrupted):
        result.interrupted = True
    finally:
        os.close(fd)
        _switch_off(control, driver, before, result)
    return result


def _open_kmsg_at_end(path: str) -> int:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise KernelDebugError(f"--kernel-debug: {path}: {exc.strerror}; run as root") from None
    os.lseek(fd, 0, os.SEEK_END)
    return fd


def _collect(
    fd: int, seconds: float, words: list[str], result: DebugCapture, on_tick: Callable[[], None] | None
) -> None:
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if on_tick is not None:
            on_tick()
        ready, _, _ = select.select([fd], [], [], min(left, 0.2))
        if ready:
            _drain(fd, words, result)
    _drain(fd, words, result)


def _drain(fd: int, words: list[str], result: DebugCapture) -> None:
    while True:
        try:
            record = os.read(fd, 16384)
        except BlockingIOError:
            return
        except BrokenPipeError:
            continue
        if not record:
            return
        message = record.split(b"\n", 1)[0].decode("utf-8", "replace").split(";", 1)[-1]
        if any(w in message for w in words):
            result.lines.append(message)


def _switch_off(control: Path, driver: str, before: list[tuple[str, str]], result: DebugCapture) -> None:
    _write(control, f"module {driver} -pfl")
    result.switched_off = True
    for file, line in before:
        _write(control, f"file {file} line {line} +p")
        result.restored_sites += 1

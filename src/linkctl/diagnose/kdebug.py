"""`diagnose --kernel-debug SECONDS`: a driver's dynamic debug on for a while, then off.

`module DRIVER +pfl` through debugfs prints the driver's pr_debug/dev_dbg lines with
function and line; they are collected from /dev/kmsg (opened at its end first, so only
what is printed from now on is read). Debug is turned off again in a `finally`, which
also runs on Ctrl-C, and call sites that were already on before are switched back on.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from linkctl.errors import LinkctlError
from linkctl.interrupts import Interrupted
from linkctl.kernel import dyndebug, klog
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
    try:
        dyndebug.write(control, query)
    except FileNotFoundError:
        raise KernelDebugError(
            f"--kernel-debug: {control} is missing: mount debugfs "
            "(`mount -t debugfs none /sys/kernel/debug`) on a kernel with CONFIG_DYNAMIC_DEBUG"
        ) from None
    except PermissionError:
        raise KernelDebugError(f"--kernel-debug: {control}: permission denied; run as root") from None
    except dyndebug.QueryRefused as exc:
        raise KernelDebugError(
            f"--kernel-debug: `{query}` refused ({exc.strerror}): the module has no debug call sites, or is not loaded"
        ) from None


def enabled_sites(control: Path, driver: str) -> list[tuple[str, str]]:
    """(file, line) of the driver's call sites that print already, to restore them."""
    return dyndebug.enabled_sites(control, driver)


def capture(
    driver: str,
    seconds: float,
    roots: Roots = ROOTS,
    kmsg: str = klog.KMSG,
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
        return klog.open_kmsg(path, at_end=True)
    except OSError as exc:
        raise KernelDebugError(f"--kernel-debug: {path}: {exc.strerror}; run as root") from None


def _collect(
    fd: int, seconds: float, words: list[str], result: DebugCapture, on_tick: Callable[[], None] | None
) -> None:
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if on_tick is not None:
            on_tick()
        if klog.readable_within(fd, min(left, 0.2)):
            _drain(fd, words, result)
    _drain(fd, words, result)


def _drain(fd: int, words: list[str], result: DebugCapture) -> None:
    for record in klog.kmsg_records(fd):
        message = record.decode("utf-8", "replace").split(";", 1)[-1]
        if any(w in message for w in words):
            result.lines.append(message)


def _switch_off(control: Path, driver: str, before: list[tuple[str, str]], result: DebugCapture) -> None:
    _write(control, f"module {driver} -pfl")
    result.switched_off = True
    for file, line in before:
        _write(control, f"file {file} line {line} +p")
        result.restored_sites += 1

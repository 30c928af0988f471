"""The ethtool adapter: read and write a link's PHY, EEE, pause, coalescing, rings,
offloads, driver information and driver statistics, in any namespace.

Which interface, and why: the `ethtool` program, with `--json` where it offers it.
- pyroute2 0.9.7 cannot read or set EEE at all, cannot show link-partner modes, pause,
  driver info or `-S` statistics through its `Ethtool` class, and takes no namespace;
  its ioctl getters are fast (17-120 µs) but its netlink getters cost about 1 ms each,
  the same as the program. EEE on a flapping link is the first thing diagnose must see,
  so pyroute2 would need a second path anyway.
- The program (1.6-2.6 ms per call measured here on a veth, entering the namespace
  included; about 1 ms in the host namespace) speaks ethtool netlink where the kernel
  has it and falls back to the ioctl itself, knows every link mode name, and is what an
  operator would type: the command linkctl runs is the command `plan` prints, word for
  word. Diagnose makes about ten calls for one link and audit two per physical NIC, so
  the cost is milliseconds.
- `--json` is used where the installed program accepts it for that sub-command (`-k` and
  `-a` in ethtool 6.1; later versions add more), probed once per process; the text
  output is parsed otherwise. Text parsing is tested on captures of e1000e, igb, ixgbe
  and mlx5 under tests/diagnose/data.

What it reads, typed, and the parsers of the program's output: kernel/ethtool_settings.py.

Namespaces: the program is started from a thread that has entered the namespace, so its
ioctl and netlink sockets live there (no `ip netns exec`, which would also remount /sys).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from linkctl.errors import LinkctlError
from linkctl.kernel import netns as netns_mod
from linkctl.kernel.ethtool_settings import (
    DriverInfo,
    EeeState,
    Feature,
    LinkSettings,
    PauseState,
    RingState,
    parse_coalesce,
    parse_driver,
    parse_eee,
    parse_features,
    parse_pause,
    parse_rings,
    parse_settings,
    parse_statistics,
)
from linkctl.model.state import NetnsName

ETHTOOL = "ethtool"
TIMEOUT = 15.0


class EthtoolError(LinkctlError):
    pass


class Unsupported(EthtoolError):
    """The driver answers "Operation not supported" for this request."""


@dataclass(frozen=True)
class RunResult:
    returncode: int
    stdout: str
    stderr: str


Runner = Callable[[NetnsName, list[str]], RunResult]


def run_program(netns: NetnsName, argv: list[str]) -> RunResult:
    """Run `argv` with its sockets in `netns`; never through a shell."""
    if shutil.which(argv[0]) is None:
        raise EthtoolError(
            f"{argv[0]}: not installed; install it (Debian/Ubuntu: apt install ethtool, "
            "Fedora/RHEL: dnf install ethtool)"
        )
    with netns_mod.entered(netns):
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    return RunResult(proc.returncode, proc.stdout, proc.stderr)


def shown(netns: NetnsName, argv: list[str]) -> list[str]:
    """The command as a person would type it."""
    return ["ip", "netns", "exec", netns, *argv] if netns else list(argv)


# -- the adapter ---------------------------------------------------------------------

_JSON_OK: dict[str, bool] = {}


@dataclass
class Ethtool:
    """One link's ethtool view; `runner` is replaceable so recorded outputs can stand in."""

    ifname: str
    netns: NetnsName = None
    runner: Runner = run_program
    program: str = ETHTOOL
    json_ok: dict[str, bool] = field(default_factory=lambda: _JSON_OK)

    def _run(self, args: list[str]) -> str:
        result = self.runner(self.netns, [self.program, *args])
        if result.returncode != 0:
            raise self._error(args, result)
        return result.stdout

    def _read(self, option: str, json_first: bool = False) -> str:
        """Prefer `--json OPTION` when this program accepts it for that option."""
        if json_first and self.json_ok.get(option, True):
            result = self.runner(self.netns, [self.program, "--json", option, self.ifname])
            if result.returncode == 0 and result.stdout.lstrip().startswith("["):
                self.json_ok[option] = True
                return result.stdout
            if "bad command line" not in result.stderr:
                raise self._error([option, self.ifname], result)
            self.json_ok[option] = False
        args = [option, self.ifname] if option else [self.ifname]
        return self._run(args)

    def _error(self, args: list[str], result: RunResult) -> EthtoolError:
        msg = (result.stderr or result.stdout).strip().splitlines()
        text = msg[-1] if msg else f"exit {result.returncode}"
        cmd = " ".join(shown(self.netns, [self.program, *args]))
        if "not supported" in text.lower():
            return Unsupported(f"{self.ifname}: the driver does not support this ({cmd})")
        if "No such device" in text:
            return EthtoolError(f"{self.ifname}: no such link{self._where()} ({cmd})")
        if "not permitted" in text:
            return EthtoolError(f"{cmd}: {text}: changing ethtool settings needs root")
        return EthtoolError(f"{cmd}: {text}")

    def _where(self) -> str:
        return f" in netns {self.netns}" if self.netns else ""

    # readers
    def settings(self) -> LinkSettings:
        return parse_settings(self._run([self.ifname]))

    def eee(self) -> EeeState:
        try:
            return parse_eee(self._run(["--show-eee", self.ifname]))
        except Unsupported:
            return EeeState(supported=False)

    def pause(self) -> PauseState:
        return parse_pause(self._read("-a", json_first=True))

    def coalesce(self) -> dict[str, int | bool]:
        return parse_coalesce(self._read("-c", json_first=True))

    def rings(self) -> RingState:
        return parse_rings(self._read("-g", json_first=True))

    def driver(self) -> DriverInfo:
        return parse_driver(self._run(["-i", self.ifname]))

    def features(self) -> dict[str, Feature]:
        return parse_features(self._read("-k", json_first=True))

    def statistics(self) -> dict[str, int]:
        return parse_statistics(self._run(["-S", self.ifname]))

    # writers: each returns the command it ran, as a person would type it
    def set_eee(self, enabled: bool) -> list[str]:
        return self._set(["--set-eee", self.ifname, "eee", _onoff(enabled)])

    def set_pause(self, values: Mapping[str, bool]) -> list[str]:
        return self._set(["-A", self.ifname, *_words(values)])

    def set_features(self, values: Mapping[str, bool]) -> list[str]:
        return self._set(["-K", self.ifname, *_words(values)])

    def set_coalesce(self, values: Mapping[str, int | bool]) -> list[str]:
        return self._set(["-C", self.ifname, *_words(values)])

    def set_rings(self, values: Mapping[str, int]) -> list[str]:
        return self._set(["-G", self.ifname, *_words(values)])

    def set_link(self, values: Mapping[str, int | bool | str]) -> list[str]:
        return self._set(["-s", self.ifname, *_words(values)])

    def _set(self, args: list[str]) -> list[str]:
        self._run(args)
        return shown(self.netns, [self.program, *args])

    def command(self, args: Iterable[str]) -> list[str]:
        return shown(self.netns, [self.program, *args])


def _onoff(value: bool) -> str:
    return "on" if value else "off"


def _words(values: Mapping[str, int | bool | str]) -> list[str]:
    out: list[str] = []
    for key, value in values.items():
        out += [key, _onoff(value) if isinstance(value, bool) else str(value)]
    return out


def version(runner: Runner = run_program) -> str | None:
    """ "6.1" from `ethtool --version`; None when the program is missing."""
    try:
        result = runner(None, [ETHTOOL, "--version"])
    except EthtoolError:
        return None
    m = re.search(r"version\s+(\S+)", result.stdout)
    return m[1] if m else None

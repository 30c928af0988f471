"""Facts about the host that diagnose and doctor read: module parameters, interrupts,
kernel version, capabilities, log access, systemd, tool versions, PCIe power saving.

Every path is under an injectable root (`Roots`) so tests read and write a temp tree.
Nothing here changes the system except `write_param`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

CAP_NET_ADMIN = 12
CAP_SYS_ADMIN = 21


@dataclass(frozen=True)
class Roots:
    """Where /sys, /proc, /etc and /dev are; tests point these at temp dirs."""

    sys: Path = Path("/sys")
    proc: Path = Path("/proc")
    etc: Path = Path("/etc")
    dev: Path = Path("/dev")
    run: Path = Path("/run")
    lib_modules: Path = Path("/lib/modules")


ROOTS = Roots()


# -- kernel modules -----------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One /sys/module/DRIVER/parameters/NAME file."""

    name: str
    value: str | None  # None when it cannot be read (mode 0200, or 0 and not shown)
    writable: bool


def module_params(driver: str, roots: Roots = ROOTS) -> dict[str, Param]:
    """The parameters a loaded module exposes; {} when it exposes none or is not loaded."""
    base = roots.sys / "module" / driver / "parameters"
    out: dict[str, Param] = {}
    try:
        names = sorted(os.listdir(base))
    except OSError:
        return out
    for name in names:
        out[name] = _param(base / name)
    return out


def _param(path: Path) -> Param:
    try:
        value: str | None = path.read_text().strip()
    except OSError:
        value = None
    # The mode bits say what the module allows; os.access would say yes to root always.
    try:
        writable = bool(path.stat().st_mode & 0o222)
    except OSError:
        writable = False
    return Param(path.name, value, writable)


def write_param(driver: str, name: str, value: str, roots: Roots = ROOTS) -> None:
    path = roots.sys / "module" / driver / "parameters" / name
    with open(path, "w", encoding="ascii") as fh:
        fh.write(value)


def module_state(name: str, roots: Roots = ROOTS) -> str:
    """ "loaded", "built-in" or "absent". Built-in modules have /sys/module/NAME (when they
    have parameters or a version) but no line in /proc/modules; modules.builtin lists
    them all."""
    if _in_proc_modules(name, roots):
        return "loaded"
    if name in builtin_modules(roots):
        return "built-in"
    if (roots.sys / "module" / name).is_dir() and not (roots.sys / "module" / name / "initstate").exists():
        return "built-in"
    return "absent"


def _in_proc_modules(name: str, roots: Roots) -> bool:
    try:
        text = (roots.proc / "modules").read_text()
    except OSError:
        return False
    return any(line.split(" ", 1)[0] == name for line in text.splitlines())


def builtin_modules(roots: Roots = ROOTS) -> set[str]:
    path = roots.lib_modules / kernel_release(roots) / "modules.builtin"
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return set()
    return {Path(line).name.removesuffix(".ko").replace("-", "_") for line in lines if line}


def module_available(name: str, roots: Roots = ROOTS) -> bool:
    """Whether `modprobe NAME` could find a module file for the running kernel."""
    base = roots.lib_modules / kernel_release(roots)
    try:
        text = (base / "modules.dep").read_text()
    except OSError:
        return False
    want = {f"{name}.ko", f"{name.replace('_', '-')}.ko"}
    return any(Path(line.split(":", 1)[0]).name.split(".ko")[0] + ".ko" in want for line in text.splitlines())


KERNEL_CONFIG = {  # the kernel option behind each module linkctl may need
    "veth": "CONFIG_VETH",
    "bridge": "CONFIG_BRIDGE",
    "vxlan": "CONFIG_VXLAN",
    "macvlan": "CONFIG_MACVLAN",
    "8021q": "CONFIG_VLAN_8021Q",
    "bonding": "CONFIG_BONDING",
    "dummy": "CONFIG_DUMMY",
    "br_netfilter": "CONFIG_BRIDGE_NETFILTER",
}


def module_advice(module: str, roots: Roots = ROOTS) -> str:
    """How to get a module's kind of link on this host: load it, install it, or build it in."""
    if not modules_supported(roots):
        return (
            f"{module} is not built into this kernel, which loads no modules: use a kernel with "
            f"{KERNEL_CONFIG.get(module, module)}=y (or =m, then `modprobe {module}`)"
        )
    if module_available(module, roots):
        return f"modprobe {module}   (and list it in /etc/modules-load.d/ to keep it across reboots)"
    return (
        f"module {module} is not installed for {kernel_release(roots)}: install the "
        f"kernel's extra modules package (Debian/Ubuntu: linux-modules-extra-$(uname -r)), then modprobe {module}"
    )


def modules_supported(roots: Roots = ROOTS) -> bool:
    """A kernel built without CONFIG_MODULES has no /proc/modules."""
    return (roots.proc / "modules").exists()


def driver_of(ifname: str, roots: Roots = ROOTS) -> str | None:
    """The driver bound to a link's device (our own namespace's /sys only)."""
    link = roots.sys / "class" / "net" / ifname / "device" / "driver"
    try:
        return os.path.basename(os.readlink(link))
    except OSError:
        return None


# -- interrupts -------------------------------------------------------------------


@dataclass(frozen=True)
class IrqLine:
    irq: str
    per_cpu: tuple[int, ...]
    name: str

    @property
    def total(self) -> int:
        return sum(self.per_cpu)

    def to_json(self) -> dict[str, object]:
        return {"irq": self.irq, "per_cpu": list(self.per_cpu), "total": self.total, "name": self.name}


def interrupts(match: list[str], roots: Roots = ROOTS) -> list[IrqLine]:
    """Lines of /proc/interrupts whose action names contain one of `match` (the link's
    name, e.g. eth0-rx-0, or its PCI address for MSI-X vectors named after the device)."""
    try:
        lines = (roots.proc / "interrupts").read_text().splitlines()
    except OSError:
        return []
    if not lines:
        return []
    ncpu = len(lines[0].split())
    out: list[IrqLine] = []
    for line in lines[1:]:
        parsed = _irq_line(line, ncpu)
        if parsed and any(_names_word(parsed.name, m) for m in match if m):
            out.append(parsed)
    return out


def _names_word(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(word)}(?![\w])", text) is not None


def _irq_line(line: str, ncpu: int) -> IrqLine | None:
    parts = line.split()
    if not parts or not parts[0].endswith(":"):
        return None
    counts = parts[1 : 1 + ncpu]
    if not all(c.isdigit() for c in counts):
        return None
    return IrqLine(parts[0][:-1], tuple(int(c) for c in counts), " ".join(parts[1 + ncpu :]))


# -- PCIe: AER counters and ASPM --------------------------------------------------


def pci_errors(bus_info: str, roots: Roots = ROOTS) -> dict[str, int]:
    """AER totals of a PCI device: aer_dev_{correctable,nonfatal,fatal} TOTAL_ERR_* lines."""
    base = roots.sys / "bus" / "pci" / "devices" / bus_info
    out: dict[str, int] = {}
    for kind in ("correctable", "nonfatal", "fatal"):
        try:
            text = (base / f"aer_dev_{kind}").read_text()
        except OSError:
            continue
        m = re.search(r"TOTAL_ERR_\w+\s+(\d+)", text)
        if m:
            out[kind] = int(m[1])
    return out


def aspm(bus_info: str | None, roots: Roots = ROOTS) -> dict[str, str]:
    """The ASPM policy and, per device, which link power states are enabled."""
    out: dict[str, str] = {}
    policy = _read(roots.sys / "module" / "pcie_aspm" / "parameters" / "policy")
    if policy:
        m = re.search(r"\[(\w+)\]", policy)
        out["policy"] = m[1] if m else policy
    if bus_info:
        base = roots.sys / "bus" / "pci" / "devices" / bus_info / "link"
        for name in ("l0s_aspm", "l1_aspm", "l1_1_aspm", "l1_2_aspm"):
            value = _read(base / name)
            if value is not None:
                out[name] = value
    return out


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


# -- the host ---------------------------------------------------------------------


def kernel_release(roots: Roots = ROOTS) -> str:
    value = _read(roots.proc / "sys" / "kernel" / "osrelease")
    return value or os.uname().release


def capabilities(roots: Roots = ROOTS) -> int:
    """The effective capability mask of this process."""
    text = _read(roots.proc / "self" / "status") or ""
    m = re.search(r"^CapEff:\s*([0-9a-fA-F]+)", text, re.M)
    return int(m[1], 16) if m else 0


def has_cap(bit: int, roots: Roots = ROOTS) -> bool:
    return bool(capabilities(roots) >> bit & 1)


def kmsg_readable(roots: Roots = ROOTS) -> tuple[bool, str]:
    path = roots.dev / "kmsg"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        return False, exc.strerror or str(exc)
    os.close(fd)
    return True, "readable"


def systemd_running(roots: Roots = ROOTS) -> bool:
    """sd_booted(): /run/systemd/system exists only when systemd is PID 1."""
    return (roots.run / "systemd" / "system").is_dir()


def journald_available(roots: Roots = ROOTS) -> tuple[bool, str]:
    if shutil.which("journalctl") is None:
        return False, "journalctl not installed"
    if not (roots.run / "systemd" / "journal").exists():
        return False, "journalctl present but journald is not running"
    return True, "journald running"


@dataclass(frozen=True)
class ToolVersion:
    name: str
    version: str | None
    detail: str = ""


def tool_version(argv: list[str], pattern: str) -> ToolVersion:
    if shutil.which(argv[0]) is None:
        return ToolVersion(argv[0], None, "not installed")
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return ToolVersion(argv[0], None, str(exc))
    m = re.search(pattern, proc.stdout + proc.stderr)
    return ToolVersion(argv[0], m[1] if m else None, (proc.stdout or proc.stderr).strip())


def iproute2_version() -> ToolVersion:
    return tool_version(["ip", "-V"], r"iproute2-(?:ss)?([\w.]+)")


def ethtool_version() -> ToolVersion:
    return tool_version(["ethtool", "--version"], r"version\s+(\S+)")


def dynamic_debug_control(roots: Roots = ROOTS) -> Path:
    """debugfs's dynamic debug control file (present when debugfs is mounted and the
    kernel has CONFIG_DYNAMIC_DEBUG)."""
    return roots.sys / "kernel" / "debug" / "dynamic_debug" / "control"

"""`linkctl doctor`: can linkctl do its job on this host? Each check with its fix."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from linkctl.diagnose.findings import Severity
from linkctl.errors import LinkctlError
from linkctl.kernel import sysinfo

# IFLA_INFO_KIND -> the module that provides it (what `modprobe` wants)
KIND_MODULES = {
    "veth": "veth",
    "bridge": "bridge",
    "vxlan": "vxlan",
    "macvlan": "macvlan",
    "vlan": "8021q",
    "bond": "bonding",
    "dummy": "dummy",
}
MODULES = ("vxlan", "bridge", "br_netfilter", "bonding", "8021q", "dummy")


@dataclass(frozen=True)
class Check:
    id: str
    severity: Severity  # INFO means fine
    message: str
    fix: str = ""
    values: dict[str, object] | None = None

    @property
    def ok(self) -> bool:
        return self.severity is Severity.INFO

    def to_json(self) -> dict[str, object]:
        return {
            "check": self.id,
            "severity": self.severity.value,
            "ok": self.ok,
            "message": self.message,
            "fix": self.fix,
            "values": self.values or {},
        }

    def text(self) -> str:
        mark = "ok  " if self.ok else self.severity.value.upper()
        line = f"{mark:8} {self.id}: {self.message}"
        return f"{line}\n         fix: {self.fix}" if self.fix and not self.ok else line


def kernel(roots: sysinfo.Roots) -> Check:
    return Check(
        "kernel",
        Severity.INFO,
        f"Linux {sysinfo.kernel_release(roots)}",
        values={"release": sysinfo.kernel_release(roots)},
    )


def link_kinds(roots: sysinfo.Roots, probe: Callable[[Iterable[str]], frozenset[str]] | None = None) -> list[Check]:
    """Which kinds this kernel creates, tried for real in a throwaway namespace."""
    if probe is None:
        from linkctl.kernel.probe import creatable_kinds

        probe = creatable_kinds
    try:
        can = probe(KIND_MODULES)
    except LinkctlError as exc:
        return [
            Check(
                "link-kinds",
                Severity.WARNING,
                f"could not probe: {exc}",
                "run `linkctl doctor` as root (the probe creates a throwaway namespace)",
            )
        ]
    out = []
    for kind, module in KIND_MODULES.items():
        if kind in can:
            out.append(Check(f"kind-{kind}", Severity.INFO, f"{kind}: this kernel creates it"))
        else:
            out.append(
                Check(
                    f"kind-{kind}",
                    Severity.WARNING,
                    f"{kind}: this kernel cannot create it",
                    sysinfo.module_advice(module, roots),
                    {"module": module},
                )
            )
    return out


def modules(roots: sysinfo.Roots) -> list[Check]:
    out = []
    for name in MODULES:
        state = sysinfo.module_state(name, roots)
        if state != "absent":
            out.append(Check(f"module-{name}", Severity.INFO, f"{name}: {state}"))
            continue
        sev = Severity.INFO if name == "br_netfilter" else Severity.WARNING
        why = " (only needed to filter bridged traffic with iptables)" if name == "br_netfilter" else ""
        out.append(Check(f"module-{name}", sev, f"{name}: not loaded{why}", sysinfo.module_advice(name, roots)))
    return out


def tools() -> list[Check]:
    out = []
    for tv, pkg in ((sysinfo.iproute2_version(), "iproute2"), (sysinfo.ethtool_version(), "ethtool")):
        if tv.version:
            out.append(Check(tv.name, Severity.INFO, f"{pkg} {tv.version}", values={"version": tv.version}))
        else:
            out.append(
                Check(
                    tv.name,
                    Severity.WARNING,
                    f"{pkg}: {tv.detail or 'version unknown'}",
                    f"install {pkg} (apt install {pkg} / dnf install {pkg})",
                )
            )
    return out


def privileges(roots: sysinfo.Roots) -> list[Check]:
    out = []
    for bit, name, need in (
        (sysinfo.CAP_NET_ADMIN, "CAP_NET_ADMIN", "apply, try and ethtool changes"),
        (sysinfo.CAP_SYS_ADMIN, "CAP_SYS_ADMIN", "entering and creating namespaces"),
    ):
        if sysinfo.has_cap(bit, roots):
            out.append(Check(name.lower(), Severity.INFO, f"{name}: held"))
        else:
            out.append(
                Check(
                    name.lower(),
                    Severity.PROBLEM,
                    f"{name}: missing (needed for {need})",
                    "run as root, or grant it: `setcap cap_net_admin,cap_sys_admin+ep` on the "
                    "interpreter, or AmbientCapabilities= in a systemd unit",
                )
            )
    return out


def logs(roots: sysinfo.Roots) -> list[Check]:
    ok, why = sysinfo.kmsg_readable(roots)
    out = [
        Check(
            "kmsg",
            Severity.INFO if ok else Severity.WARNING,
            f"/dev/kmsg: {why}",
            "run as root, or set kernel.dmesg_restrict=0 (sysctl) to let diagnose read the kernel log",
        )
    ]
    jok, jwhy = sysinfo.journald_available(roots)
    out.append(
        Check(
            "journald",
            Severity.INFO if jok else Severity.WARNING,
            f"journald: {jwhy}",
            "without journald, diagnose reads the ring buffer (/dev/kmsg) or --logs FILE",
        )
    )
    sd = sysinfo.systemd_running(roots)
    out.append(
        Check(
            "systemd",
            Severity.INFO if sd else Severity.WARNING,
            "systemd: running" if sd else "systemd: not running as PID 1",
            "`linkctl persist` needs systemd; elsewhere run `linkctl boot-apply` from the init "
            "system's early network hook",
        )
    )
    dd = sysinfo.dynamic_debug_control(roots).exists()
    out.append(
        Check(
            "dynamic-debug",
            Severity.INFO if dd else Severity.WARNING,
            "debugfs dynamic_debug: available" if dd else "debugfs dynamic_debug: not available",
            "`mount -t debugfs none /sys/kernel/debug` (kernel with CONFIG_DYNAMIC_DEBUG) for diagnose --kernel-debug",
        )
    )
    return out


def run_doctor(
    roots: sysinfo.Roots = sysinfo.ROOTS, probe: Callable[[Iterable[str]], frozenset[str]] | None = None
) -> list[Check]:
    kinds = link_kinds(roots, probe)
    return [kernel(roots), *kinds, *_not_twice(modules(roots), kinds), *tools(), *privileges(roots), *logs(roots)]


def _not_twice(mods: list[Check], kinds: list[Check]) -> list[Check]:
    """A missing module behind a kind the kernel cannot create is that kind's warning: said once."""
    said = {c.values["module"] for c in kinds if not c.ok and c.values and "module" in c.values}
    return [c for c in mods if c.ok or c.id.removeprefix("module-") not in said]

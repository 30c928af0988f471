"""`linkctl persist`: install linkctl-apply.service, which applies /etc/linkctl/*.yml at
boot before the network is configured. The root is injectable so tests install into a
temp tree; with the real root and systemd running, systemd is told to reload.

The unit text is kept here (the package ships without the repository's deploy/ folder);
tests/diagnose check that it matches deploy/linkctl-apply.service word for word.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from linkctl.errors import LinkctlError

UNIT_NAME = "linkctl-apply.service"
DEFAULT_EXEC = "/usr/local/bin/linkctl"
UNIT = """# Installed by `linkctl persist`. Applies every /etc/linkctl/*.yml at boot, before the
# network is configured, so the declared links, ethtool settings and module parameters
# are in place when network managers start.
[Unit]
Description=Apply linkctl link declarations (/etc/linkctl/*.yml)
DefaultDependencies=no
After=local-fs.target systemd-modules-load.service systemd-udevd.service systemd-sysctl.service
Wants=network-pre.target
Before=network-pre.target shutdown.target
Conflicts=shutdown.target
ConditionDirectoryNotEmpty=/etc/linkctl

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/bin/linkctl boot-apply --dir /etc/linkctl
# Hardening: netlink, ethtool and /sys/module parameters need CAP_NET_ADMIN; named
# namespaces (/run/netns bind mounts, setns) need CAP_SYS_ADMIN. Nothing else.
CapabilityBoundingSet=CAP_NET_ADMIN CAP_SYS_ADMIN
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=/etc/modprobe.d /run
ProtectHome=yes
PrivateTmp=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_UNIX AF_NETLINK AF_INET AF_INET6 AF_PACKET
RestrictNamespaces=net mnt
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service @mount setns unshare
UMask=0022

[Install]
WantedBy=multi-user.target
"""


class PersistError(LinkctlError):
    pass


@dataclass
class PersistResult:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def linkctl_path() -> str:
    """The entry point next to this interpreter (a venv's bin/linkctl), else on PATH."""
    beside = Path(sys.executable).with_name("linkctl")
    if beside.exists():
        return str(beside)
    return shutil.which("linkctl") or DEFAULT_EXEC


def unit_text(executable: str) -> str:
    if not os.path.isabs(executable) or any(c.isspace() for c in executable):
        raise PersistError(f"--linkctl {executable!r}: an absolute path without spaces, such as {DEFAULT_EXEC}")
    return UNIT.replace(f"ExecStart={DEFAULT_EXEC} ", f"ExecStart={executable} ")


def install(root: Path = Path("/"), executable: str | None = None, enable: bool = True) -> PersistResult:
    result = PersistResult()
    text = unit_text(executable or linkctl_path())
    unit = root / "etc" / "systemd" / "system" / UNIT_NAME
    _write(unit, text, result)
    conf = root / "etc" / "linkctl"
    conf.mkdir(parents=True, exist_ok=True)
    if enable:
        _enable(root, unit, result)
    if root == Path("/") and (Path("/run/systemd/system")).is_dir():
        subprocess.run(["systemctl", "daemon-reload"], check=False, timeout=60)
    else:
        result.notes.append("systemd is not running here (or --root is not /): no daemon-reload")
    result.notes.append(f"put declarations in {conf}/*.yml; they are applied at every boot")
    return result


def remove(root: Path = Path("/")) -> PersistResult:
    """Undo `install`: the unit and its enabling link go; the declarations in /etc/linkctl stay."""
    result = PersistResult()
    system = root / "etc" / "systemd" / "system"
    for path in (system / "multi-user.target.wants" / UNIT_NAME, system / UNIT_NAME):
        if path.is_symlink() or path.exists():
            path.unlink()
            result.written.append(str(path))
        else:
            result.unchanged.append(str(path))
    if root == Path("/") and (Path("/run/systemd/system")).is_dir():
        subprocess.run(["systemctl", "daemon-reload"], check=False, timeout=60)
    result.notes.append(f"the declarations in {root / 'etc' / 'linkctl'} are kept")
    return result


def _write(path: Path, text: str, result: PersistResult) -> None:
    try:
        if path.read_text(encoding="utf-8") == text:
            result.unchanged.append(str(path))
            return
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    result.written.append(str(path))


def _enable(root: Path, unit: Path, result: PersistResult) -> None:
    """What `systemctl enable` does for WantedBy=multi-user.target: one symlink."""
    wants = root / "etc" / "systemd" / "system" / "multi-user.target.wants"
    link = wants / UNIT_NAME
    target = f"/etc/systemd/system/{UNIT_NAME}"
    if link.is_symlink() and os.readlink(link) == target:
        result.unchanged.append(str(link))
        return
    wants.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target)
    result.written.append(str(link))

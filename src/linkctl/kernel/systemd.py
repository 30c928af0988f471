"""systemd's side of the system: unit files under a root, the symlink that enables a unit,
the manager told to reload them, and the notify protocol a Type=notify service (`watch`)
speaks to it. The root is a parameter so tests install into temp trees."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import tempfile
from pathlib import Path

from linkctl.kernel import sysinfo


def system_dir(root: Path) -> Path:
    return root / "etc" / "systemd" / "system"


def write_file(path: Path, text: str) -> bool:
    """`text` into `path` (0644, replaced atomically), a unit or a file a unit reads; False
    when it held that text already."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own: two `persist` at once each replace the file whole, neither moving the
    # other's half-written temporary into place nor failing to find its own.
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()  # a full disk: no empty file left beside the unit
        # A failing write() names no file, and would be taken for standard output's failure.
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    return True


def make_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)


def enable(root: Path, name: str) -> tuple[Path, bool]:
    """What `systemctl enable` does for WantedBy=multi-user.target: one symlink. The link,
    and False when it pointed at the unit already."""
    wants = system_dir(root) / "multi-user.target.wants"
    link = wants / name
    target = f"/etc/systemd/system/{name}"
    if link.is_symlink() and os.readlink(link) == target:
        return link, False
    wants.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target)
    return link, True


def remove(path: Path) -> bool:
    """The file or symlink gone; False when there was none."""
    if path.is_symlink() or path.exists():
        path.unlink()
        return True
    return False


def reload(root: Path) -> bool:
    """`systemctl daemon-reload` when `root` is this system's and systemd runs it; False
    when there was nothing to tell."""
    if root == Path("/") and sysinfo.systemd_running():
        subprocess.run(["systemctl", "daemon-reload"], check=False, timeout=60)
        return True
    return False


def sd_notify(state: str) -> bool:
    """Tell systemd (Type=notify) about readiness and liveness; no-op outside systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # abstract socket
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(state.encode(), address)
    except OSError:
        return False
    return True


def watchdog_interval() -> float | None:
    """Half of WATCHDOG_USEC, as sd_watchdog_enabled() advises; None when off."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2_000_000

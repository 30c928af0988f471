"""Kernel modules as files and programs show them: `modinfo -p`, the modprobe.d files
under `Roots.etc`, whether a module is loaded and its parameters at runtime (read through
`sysinfo`), gathered for the settings planner (`read_module`); and the writes of its ops."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

from linkctl.kernel import sysinfo
from linkctl.kernel.sysinfo import Roots
from linkctl.model.settings_state import ModuleReading, ParamReading


def known_params(driver: str) -> set[str] | None:
    """The parameter names `modinfo -p` lists; None when modinfo cannot tell (not
    installed, no module files, no answer)."""
    if shutil.which("modinfo") is None:
        return None
    try:
        proc = subprocess.run(["modinfo", "-p", driver], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0 or not proc.stdout.strip():
        return None
    return {line.split(":", 1)[0].strip() for line in proc.stdout.splitlines()}


def loaded(driver: str, roots: Roots) -> bool:
    return (roots.sys / "module" / driver).is_dir()


def conf_dir(roots: Roots) -> Path:
    return roots.etc / "modprobe.d"


def conf_files(roots: Roots) -> list[Path] | None:
    """modprobe.d's *.conf files by name; None when the directory cannot be read."""
    try:
        return sorted(p for p in conf_dir(roots).iterdir() if p.suffix == ".conf")
    except OSError:
        return None


def conf_path(driver: str, roots: Roots) -> Path:
    """linkctl's own modprobe.d file for `driver`."""
    return conf_dir(roots) / f"linkctl-{driver}.conf"


def read_module(driver: str, roots: Roots, ask_modinfo: bool) -> ModuleReading:
    """What the settings planner compares a `kernel-modules:` entry with; `modinfo` only when asked
    (the entry has parameters to check)."""
    ours = conf_path(driver, roots)
    is_loaded = loaded(driver, roots)
    params = sysinfo.module_params(driver, roots) if is_loaded else {}
    confs = conf_files(roots)
    return ModuleReading(
        conf_path=str(ours),
        conf_text=read(ours),
        param_dir=str(roots.sys / "module" / driver / "parameters"),
        loaded=is_loaded,
        params={name: ParamReading(p.value, p.writable) for name, p in params.items()},
        known=None if not ask_modinfo or (names := known_params(driver)) is None else frozenset(names),
        others=None if confs is None else tuple((str(p), read(p)) for p in confs if p != ours),
        builtin=not sysinfo.modules_supported(roots) or sysinfo.module_state(driver, roots) == "built-in",
        present=sysinfo.modules_supported(roots) or (roots.sys / "module" / driver).is_dir(),
    )


def read_param(path: Path) -> str | None:
    """A module parameter's value now; None when it cannot be read."""
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def write_param(path: Path, value: str) -> None:
    with open(path, "w", encoding="ascii") as fh:
        fh.write(value)


def read(path: Path) -> str | None:
    """The file's text, None when it does not exist."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def put(path: Path, text: str | None) -> None:
    """Atomic replace (or, for None, removal) of a small file."""
    if text is None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.linkctl-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)

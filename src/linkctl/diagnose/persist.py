"""`linkctl persist [FILE...] [--netns NS]`: install linkctl-apply.service, which applies the
kept declarations at boot before the network is configured, and keep FILEs for it:
/etc/linkctl/*.yml for the host's namespace, /etc/linkctl/netns/NS/*.yml for namespace NS
(`boot-apply` makes NS if it is missing, as `apply --netns NS` does). Also
`linkctl watch --install-unit` (linkctl-watch.service). Both units name the linkctl that
runs this (the venv's or pipx's script), not a fixed /usr/local/bin/linkctl.

The root is injectable so tests install into a temp tree; with the real root and systemd
running, systemd is told to reload. The unit texts are the package's deploy files (linkctl/data).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from linkctl import data
from linkctl.errors import LinkctlError
from linkctl.kernel import systemd

UNIT_NAME = "linkctl-apply.service"
WATCH_UNIT_NAME = "linkctl-watch.service"
DEFAULT_EXEC = "/usr/local/bin/linkctl"
# The units are the package's deploy files (linkctl/data); tests/diagnose check the text.
UNIT = data.read(UNIT_NAME)
# /etc/linkctl/*.yml go to the host's namespace, /etc/linkctl/netns/NS/*.yml to namespace NS.
NETNS_DIR = "netns"
_NETNS_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:@+-]{0,254}")


class PersistError(LinkctlError):
    pass


@dataclass
class PersistResult:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self, removed: bool = False) -> list[str]:
        """What was done, a line a file and a line a note, as `persist` and `watch --install-unit` print it."""
        done, same = ("removed", "absent") if removed else ("wrote", "unchanged")
        return [
            *(f"{done} {path}" for path in self.written),
            *(f"{same} {path}" for path in self.unchanged),
            *(f"note: {note}" for note in self.notes),
        ]


def linkctl_path() -> str:
    """The program running now, as installed: the `linkctl` script this process was started
    from (a venv's or pipx's bin/linkctl, /usr/local/bin/linkctl), else the one next to this
    interpreter, else the one on PATH."""
    started = sys.argv[0] if sys.argv else ""
    if os.path.basename(started) == "linkctl" and os.path.isfile(started):
        return os.path.abspath(started)
    beside = Path(sys.executable).with_name("linkctl")
    if beside.exists():
        return str(beside)
    return shutil.which("linkctl") or DEFAULT_EXEC


def unit_text(executable: str, template: str = UNIT, name: str = UNIT_NAME) -> str:
    """The unit with its ExecStart= naming `executable` instead of /usr/local/bin/linkctl."""
    if not os.path.isabs(executable) or any(c.isspace() for c in executable):
        raise PersistError(f"--linkctl {executable!r}: an absolute path without spaces, such as {DEFAULT_EXEC}")
    marker = f"\nExecStart={DEFAULT_EXEC} "
    if marker not in template:
        raise PersistError(f"{name}: no `ExecStart={DEFAULT_EXEC} ...` line to point at {executable}")
    return template.replace(marker, f"\nExecStart={executable} ")


def install(
    root: Path = Path("/"),
    executable: str | None = None,
    enable: bool = True,
    declarations: Sequence[Path] = (),
    netns: str | None = None,
) -> PersistResult:
    """Install linkctl-apply.service and keep `declarations` for boot (for namespace `netns`)."""
    result = PersistResult()
    program = executable or linkctl_path()
    text = unit_text(program)
    conf = root / "etc" / "linkctl"
    target = declaration_dir(conf, netns)
    copies = [(path, _validated(path)) for path in declarations]  # every file checked before any is kept
    _one_each(declarations, target)
    if netns:
        result.notes += _refused_when_empty(target, [path for path, _text in copies], netns)
    refused = _refused_here([path for path, _text in copies], netns)
    result.notes += refused
    unit = systemd.system_dir(root) / UNIT_NAME
    with _writing(result):
        _write(unit, text, result)
        systemd.make_dir(conf)  # even with no files yet: where to put them
        for path, content in copies:
            _write(target / _boot_name(path), content, result)
        if enable:
            _enable(root, UNIT_NAME, result)
        _reload(root, result)
    _warn_hidden(program, result)
    if declarations:
        where = f"network namespace {netns!r} (made at boot if missing)" if netns else "the host's namespace"
        if refused:
            result.notes.append(f"kept for every boot into {where}, where boot-apply refuses it while the above holds")
        else:
            result.notes.append(f"applied at every boot into {where}")
    else:
        result.notes.append(
            f"put declarations in {conf}/*.yml (host) or {conf}/{NETNS_DIR}/NS/*.yml (namespace NS), "
            "or `linkctl persist FILE [--netns NS]`; they are applied at every boot"
        )
    return result


def install_watch(
    root: Path = Path("/"),
    executable: str | None = None,
    enable: bool = True,
    config: Path | None = None,
) -> PersistResult:
    """Install linkctl-watch.service (pointing at this linkctl) and, if absent, a commented watch.yaml."""
    result = PersistResult()
    program = executable or linkctl_path()
    text = unit_text(program, data.read(WATCH_UNIT_NAME), WATCH_UNIT_NAME)
    default_config = "/etc/linkctl/watch.yaml"
    if config is not None:
        if not config.is_absolute() or any(c.isspace() for c in str(config)):
            raise PersistError(f"--config {str(config)!r}: an absolute path without spaces for the unit")
        text = text.replace(f"--config {default_config}\n", f"--config {config}\n")
    with _writing(result):
        _write(systemd.system_dir(root) / WATCH_UNIT_NAME, text, result)
        if config is None:
            watch_yaml = root / default_config.lstrip("/")
            if watch_yaml.exists():
                result.unchanged.append(str(watch_yaml))
            else:
                _write(watch_yaml, data.read("watch.yaml"), result)
        if enable:
            _enable(root, WATCH_UNIT_NAME, result)
        _reload(root, result)
    _warn_hidden(program, result)
    return result


def declaration_dir(conf: Path, netns: str | None) -> Path:
    """Where the declarations for boot of one namespace live (None: the host's)."""
    if netns is None or netns == "":
        return conf
    if not _NETNS_NAME.fullmatch(netns):
        raise PersistError(f"--netns {netns!r}: a namespace name of letters, digits and _.:@+- (as `ip netns add`)")
    return conf / NETNS_DIR / netns


def boot_files(conf: Path) -> list[tuple[Path, str | None]]:
    """What `boot-apply` applies, in order: conf/*.yml (host, None), then conf/netns/NS/*.yml by NS."""
    found: list[tuple[Path, str | None]] = [(p, None) for p in _declarations(conf)]
    spaces = conf / NETNS_DIR
    if spaces.is_dir():
        for sub in sorted(spaces.iterdir()):
            if sub.is_dir() and _NETNS_NAME.fullmatch(sub.name):
                found += [(p, sub.name) for p in _declarations(sub)]
    return found


def boot_passed_over(conf: Path) -> list[str]:
    """Declarations under conf/netns that `boot_files` cannot apply, each with why: a directory
    whose name no namespace can have (made by hand: `persist` refuses such a name), a file
    beside the namespaces' directories. Said at boot, or they would be left out without a word."""
    spaces = conf / NETNS_DIR
    if not spaces.is_dir():
        return []
    found: list[str] = []
    for sub in sorted(spaces.iterdir()):
        if sub.is_dir() and not _NETNS_NAME.fullmatch(sub.name) and _declarations(sub):
            found.append(
                f"{sub}: not applied: {sub.name!r} is no namespace name (at most 255 letters, digits and _.:@+-, "
                "starting with a letter, digit or _): rename the directory, or `linkctl persist FILE --netns NS`"
            )
        elif not sub.is_dir() and sub.suffix in (".yml", ".yaml"):
            found.append(f"{sub}: not applied: a namespace's declarations go in {spaces}/NS/ (namespace NS)")
    return found


def _declarations(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.yml")) + sorted(directory.glob("*.yaml"))


def _validated(path: Path) -> str:
    """The file's text once it parses as a declaration: a broken file is refused now, not at boot."""
    from linkctl.model.load import load_file

    if str(path) == "-":
        raise PersistError("persist needs a file, not stdin: it keeps a copy for boot")
    load_file(str(path))
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PersistError(f"{path}: {exc.strerror}") from None


def _one_each(declarations: Sequence[Path], target: Path) -> None:
    """Two FILEs kept under one name: the second would replace the first, both said "wrote"."""
    first: dict[str, Path] = {}
    for path in declarations:
        name = _boot_name(path)
        if name in first:
            raise PersistError(
                f"{first[name]} and {path} would both be kept as {target / name}: rename one of them; nothing was kept"
            )
        first[name] = path


def _refused_when_empty(target: Path, paths: list[Path], netns: str) -> list[str]:
    """What each file would be refused for in namespace `netns` as boot-apply makes it, empty: it
    stands on a link that neither it nor a file applied before it there (in name order) declares.
    A note, not a refusal: something before linkctl-apply.service may make the namespace, or put a
    NIC in it; but "applied at every boot" alone would not be so."""
    from linkctl.errors import ValidationFailed
    from linkctl.model.load import load_file
    from linkctl.model.state import HostState
    from linkctl.plan.validate import validate

    new = {_boot_name(p): p for p in paths}
    kept = {p.name: p for p in _declarations(target)} if target.is_dir() else {}
    order = _boot_order({**kept, **new})  # as boot-apply will apply them
    notes: list[str] = []
    declared: set[str] = set()
    for name, path in order:
        with contextlib.suppress(LinkctlError):
            decl = load_file(str(path))
            if name in new:
                host = HostState()
                host.ns(netns)
                try:
                    validate(decl, host, str(path), netns)
                except ValidationFailed as exc:
                    notes += [
                        f"{p} (in namespace {netns!r} as boot-apply makes it, empty: refused at boot unless "
                        "something puts what it needs there first)"
                        for p in exc.problems
                        if p.value not in declared
                    ]
            declared |= {spec.name for spec in decl.interfaces}
    return notes


def _refused_here(paths: list[Path], netns: str | None) -> list[str]:
    """What `plan FILE` refuses each file for on this host now (its namespace there), as a note: a
    driver with no EEE support, a base too small for a VXLAN, refuse it at boot the same way, where
    "applied at every boot" alone said it would be; a NIC plugged in later may still make it fit."""
    from linkctl.engine.apply import Context, prepare
    from linkctl.errors import ValidationFailed
    from linkctl.kernel import netns as namespaces
    from linkctl.model.load import load_file

    if netns and not namespaces.exists(netns):
        return []  # made at boot: _refused_when_empty judges it as boot-apply makes it
    notes: list[str] = []
    for path in paths:
        try:
            prepare(Context(load_file(str(path)), str(path), default_netns=netns or None))
        except ValidationFailed as exc:
            notes += [f"{p}: `linkctl plan` refuses it on this host now, and boot-apply will too" for p in exc.problems]
        except LinkctlError as exc:
            said = " ".join(str(exc).split())
            notes.append(f"{path}: `linkctl plan` refuses it on this host now ({said}), and boot-apply will too")
    return notes


def _boot_order(files: dict[str, Path]) -> list[tuple[str, Path]]:
    """`_declarations`' order: *.yml by name, then *.yaml by name."""
    return sorted(files.items(), key=lambda item: (not item[0].endswith(".yml"), item[0]))


def _boot_name(path: Path) -> str:
    return path.name if path.suffix in (".yml", ".yaml") else f"{path.name}.yml"


def _reload(root: Path, result: PersistResult) -> None:
    if not systemd.reload(root):
        result.notes.append("systemd is not running here (or --root is not /): no daemon-reload")


def _warn_hidden(program: str, result: PersistResult) -> None:
    if program.startswith(("/home/", "/root/")):
        result.notes.append(
            f"{program} is under a home directory, which the unit's ProtectHome=yes hides: "
            "install linkctl elsewhere (pipx with PIPX_HOME=/opt/pipx PIPX_BIN_DIR=/usr/local/bin) or pass --linkctl"
        )


def remove(root: Path = Path("/")) -> PersistResult:
    """Undo `install`: the unit and its enabling link go; the declarations in /etc/linkctl stay."""
    result = PersistResult()
    system = systemd.system_dir(root)
    with _writing(result, "removed"):
        for path in (system / "multi-user.target.wants" / UNIT_NAME, system / UNIT_NAME):
            (result.written if systemd.remove(path) else result.unchanged).append(str(path))
        _reload(root, result)
    result.notes.append(f"the declarations in {root / 'etc' / 'linkctl'} are kept")
    return result


@contextmanager
def _writing(result: PersistResult, done: str = "written") -> Iterator[None]:
    """A file that cannot be written (a full or read-only /etc) is named, with what was done before it."""
    try:
        yield
    except OSError as exc:
        fix = "free space there" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else "make it writable"
        before = f"{done} before it: {', '.join(result.written)}" if result.written else f"nothing was {done}"
        raise PersistError(f"cannot write {exc.filename}: {exc.strerror} ({fix}); {before}") from None


def _write(path: Path, text: str, result: PersistResult) -> None:
    (result.written if systemd.write_file(path, text) else result.unchanged).append(str(path))


def _enable(root: Path, name: str, result: PersistResult) -> None:
    link, changed = systemd.enable(root, name)
    (result.written if changed else result.unchanged).append(str(link))

"""--kernel-debug against a temp control file and the real /dev/kmsg; persist into a
temp root; doctor on this machine."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from linkctl.cli import diag
from linkctl.diagnose import kdebug, persist
from linkctl.diagnose.doctor import run_doctor
from linkctl.kernel.sysinfo import Roots, dynamic_debug_control

from .conftest import kernel

REPO = Path(__file__).resolve().parents[2]


def _control(tmp: Path, text: str = "") -> tuple[Roots, Path]:
    roots = Roots(sys=tmp / "sys")
    control = dynamic_debug_control(roots)
    control.parent.mkdir(parents=True)
    control.write_text(text)
    return roots, control


def _writes(control: Path, before: str = "") -> list[str]:
    """The queries appended to a plain file standing in for debugfs's control file
    (each write(2) is one query; they run together without newlines)."""
    text = control.read_text()[len(before) :]
    for word in ("module ", "file "):
        text = text.replace(word, "\n" + word)
    return [line for line in text.splitlines() if line]


kmsg_writable = pytest.mark.skipif(not os.access("/dev/kmsg", os.W_OK), reason="needs to write /dev/kmsg (root)")


@kmsg_writable
def test_kernel_debug_collects_and_switches_off(tmp_path: Path) -> None:
    site = 'drivers/net/ethernet/intel/e1000e/netdev.c:4242 [e1000e]e1000_watchdog_task =p "link up"\n'
    roots, control = _control(tmp_path, site)
    tag = f"lkdbg{uuid.uuid4().hex[:8]}"
    sent = False

    def tick() -> None:
        nonlocal sent
        if not sent:
            with open("/dev/kmsg", "w") as fh:
                fh.write(f"<7>e1000e: {tag} debug line\n")
            sent = True

    cap = kdebug.capture("e1000e", 0.6, roots, match=[tag], on_tick=tick)
    assert any(tag in line for line in cap.lines)
    writes = _writes(control, site)
    assert writes[0] == "module e1000e +pfl"
    assert writes[1] == "module e1000e -pfl"
    # the call site that printed before is switched back on
    assert writes[2] == "file drivers/net/ethernet/intel/e1000e/netdev.c line 4242 +p"
    assert cap.switched_off and not cap.interrupted


@kmsg_writable
def test_kernel_debug_off_again_on_ctrl_c(tmp_path: Path) -> None:
    roots, control = _control(tmp_path)

    def interrupt() -> None:
        raise KeyboardInterrupt

    cap = kdebug.capture("e1000e", 30, roots, on_tick=interrupt)
    assert cap.interrupted and cap.switched_off
    assert _writes(control) == ["module e1000e +pfl", "module e1000e -pfl"]


def test_kernel_debug_without_debugfs_says_how(tmp_path: Path) -> None:
    with pytest.raises(kdebug.KernelDebugError, match="mount -t debugfs"):
        kdebug._write(dynamic_debug_control(Roots(sys=tmp_path)), "module e1000e +pfl")


def test_kernel_debug_refuses_odd_driver_names(tmp_path: Path) -> None:
    with pytest.raises(kdebug.KernelDebugError):
        kdebug.capture("e1000e +p; file x", 1, Roots(sys=tmp_path))


def test_persist_into_temp_root(tmp_path: Path) -> None:
    assert (REPO / "deploy" / "linkctl-apply.service").read_text() == persist.UNIT
    unit = persist.UNIT
    assert "Before=network-pre.target" in unit and "Wants=network-pre.target" in unit
    assert "NoNewPrivileges=yes" in unit and "CapabilityBoundingSet=CAP_NET_ADMIN CAP_SYS_ADMIN" in unit
    res = persist.install(tmp_path, "/opt/linkctl/bin/linkctl")
    path = tmp_path / "etc" / "systemd" / "system" / "linkctl-apply.service"
    assert "ExecStart=/opt/linkctl/bin/linkctl boot-apply --dir /etc/linkctl" in path.read_text()
    link = tmp_path / "etc" / "systemd" / "system" / "multi-user.target.wants" / "linkctl-apply.service"
    assert os.readlink(link) == "/etc/systemd/system/linkctl-apply.service"
    assert (tmp_path / "etc" / "linkctl").is_dir() and len(res.written) == 2
    again = persist.install(tmp_path, "/opt/linkctl/bin/linkctl")
    assert again.written == [] and len(again.unchanged) == 2
    with pytest.raises(persist.PersistError):
        persist.install(tmp_path, "relative/linkctl")


def test_persist_cli(tmp_path: Path) -> None:
    app = typer.Typer()
    diag.register(app)
    out = CliRunner().invoke(app, ["persist", "--root", str(tmp_path), "--linkctl", "/usr/bin/linkctl", "--no-enable"])
    assert out.exit_code == 0, out.output
    assert "wrote" in out.stdout
    assert not (tmp_path / "etc" / "systemd" / "system" / "multi-user.target.wants").exists()


def test_persist_remove_undoes_the_install_and_keeps_the_declarations(tmp_path: Path) -> None:
    app = typer.Typer()
    diag.register(app)
    assert CliRunner().invoke(app, ["persist", "--root", str(tmp_path), "--linkctl", "/usr/bin/linkctl"]).exit_code == 0
    (tmp_path / "etc" / "linkctl" / "10-links.yml").write_text("interfaces: []\n")
    out = CliRunner().invoke(app, ["persist", "--root", str(tmp_path), "--remove"])
    assert out.exit_code == 0, out.output
    system = tmp_path / "etc" / "systemd" / "system"
    assert not (system / "linkctl-apply.service").exists()
    assert not (system / "multi-user.target.wants" / "linkctl-apply.service").is_symlink()
    assert (tmp_path / "etc" / "linkctl" / "10-links.yml").exists()
    assert out.stdout.count("removed ") == 2
    again = CliRunner().invoke(app, ["persist", "--root", str(tmp_path), "--remove"])
    assert again.exit_code == 0 and again.stdout.count("absent ") == 2


@kernel
def test_doctor_on_this_machine() -> None:
    checks = {c.id: c for c in run_doctor()}
    assert checks["kind-veth"].ok and checks["kind-bridge"].ok
    assert checks["cap_net_admin"].ok
    missing = [k for k in ("dummy", "bond", "vlan") if not checks[f"kind-{k}"].ok]
    if not missing:
        pytest.skip("this kernel creates dummy, bond and vlan: nothing missing to report")
    modules = {"dummy": "dummy", "bond": "bonding", "vlan": "8021q"}
    for kind in missing:
        c = checks[f"kind-{kind}"]
        assert c.severity == "warning" and modules[kind] in c.fix


@kernel
def test_doctor_cli_exit_code() -> None:
    app = typer.Typer()
    diag.register(app)
    out = CliRunner().invoke(app, ["doctor", "--format", "json"])
    worst = max({"info": 0, "warning": 1, "problem": 2}[c.severity] for c in run_doctor())
    assert out.exit_code == worst


def test_doctor_says_a_missing_kind_once_not_again_as_its_module(tmp_path: Path) -> None:
    # No bonding: the kind's warning carries the fix; a second "bonding: not loaded" added nothing.
    roots = Roots(sys=tmp_path / "sys", proc=tmp_path / "proc", etc=tmp_path / "etc", run=tmp_path / "run",
                  lib_modules=tmp_path / "lib" / "modules")  # fmt: skip
    checks = {c.id: c for c in run_doctor(roots, probe=lambda kinds: frozenset({"veth", "bridge"}))}
    assert not checks["kind-bond"].ok and "bonding" in checks["kind-bond"].fix
    assert "module-bonding" not in checks and "module-8021q" not in checks and "module-dummy" not in checks
    assert "module-br_netfilter" in checks  # behind no kind: still reported

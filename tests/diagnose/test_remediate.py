"""Remediation: kernel-modules to a temp /etc and /sys, ethtool sections on a real veth,
idempotence and rollback: planned by the settings planner, carried out by the one executor, put
back by the one rollback path (engine/rollback.restore_settings, what `roll_back` runs)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from linkctl.engine.executor import Executor
from linkctl.engine.remediate import RemediationFailed, RemediationPlan, plan_remediation
from linkctl.engine.rollback import restore_settings
from linkctl.errors import ValidationFailed
from linkctl.kernel.ethtool import Ethtool
from linkctl.kernel.state import read_state
from linkctl.kernel.sysinfo import Roots
from linkctl.model.load import parse_text
from linkctl.model.state import HostState
from linkctl.plan.settings_ops import SetEthtool, SetModuleParam, WriteModprobe

from .conftest import ip, kernel

MODULES = """
kernel-modules:
  e1000e:
    parameters:
      InterruptThrottleRate: 3000
      SmartPowerDownEnable: 0
      copybreak: 256
"""


def _carry_out(plan: RemediationPlan, host: HostState | None = None) -> None:
    Executor(host or HostState()).run(list(plan.ops))


def _roots(tmp: Path, loaded: bool = True) -> Roots:
    """A kernel that loads modules, e1000e loaded from one (built in: `loaded=False`, and no line in
    /proc/modules, as the kernel shows a built-in module)."""
    params = tmp / "sys" / "module" / "e1000e" / "parameters"
    params.mkdir(parents=True)
    (params / "copybreak").write_text("128\n")
    os.chmod(params / "copybreak", 0o644)
    (tmp / "proc").mkdir()
    (tmp / "proc" / "modules").write_text("e1000e 270336 0 - Live 0x0000000000000000\n" if loaded else "")
    if loaded:
        (tmp / "sys" / "module" / "e1000e" / "initstate").write_text("live\n")
    (tmp / "etc" / "modprobe.d").mkdir(parents=True)
    return Roots(sys=tmp / "sys", etc=tmp / "etc", proc=tmp / "proc")


def test_kernel_modules_file_and_runtime(tmp_path: Path) -> None:
    roots = _roots(tmp_path)
    decl = parse_text(MODULES, "m.yml")
    plan = plan_remediation(decl, HostState(), roots=roots)
    kinds = [type(c) for c in plan.ops]
    assert kinds == [WriteModprobe, SetModuleParam]
    reload_notes = [n for n in plan.notes if "takes effect after the module reloads" in n]
    assert {n.split("=")[0] for n in reload_notes} == {"e1000e.InterruptThrottleRate", "e1000e.SmartPowerDownEnable"}
    assert not any("modprobe -r" in " ".join(c.ip_command()) for c in plan.ops)  # never reloads
    _carry_out(plan)
    conf = (tmp_path / "etc" / "modprobe.d" / "linkctl-e1000e.conf").read_text()
    assert conf.splitlines()[-1] == "options e1000e InterruptThrottleRate=3000 SmartPowerDownEnable=0 copybreak=256"
    assert (tmp_path / "sys" / "module" / "e1000e" / "parameters" / "copybreak").read_text() == "256"
    again = plan_remediation(decl, HostState(), roots=roots)
    assert again.empty  # idempotent: nothing to write


def test_read_only_parameter_is_a_note(tmp_path: Path) -> None:
    roots = _roots(tmp_path)
    os.chmod(tmp_path / "sys" / "module" / "e1000e" / "parameters" / "copybreak", 0o444)
    plan = plan_remediation(parse_text(MODULES, "m.yml"), HostState(), roots=roots)
    assert [type(c) for c in plan.ops] == [WriteModprobe]
    assert any(n.startswith("e1000e.copybreak=256 (read-only") for n in plan.notes)


def test_module_not_loaded_and_other_file_clash(tmp_path: Path) -> None:
    roots = Roots(sys=tmp_path / "sys", etc=tmp_path / "etc", proc=tmp_path / "proc")
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "modules").write_text("veth 45056 0 - Live 0x0000000000000000\n")
    (tmp_path / "etc" / "modprobe.d").mkdir(parents=True)
    (tmp_path / "etc" / "modprobe.d" / "e1000e.conf").write_text("options e1000e InterruptThrottleRate=1\n")
    plan = plan_remediation(parse_text(MODULES, "m.yml"), HostState(), roots=roots)
    assert any("not loaded" in n for n in plan.notes)
    assert any("e1000e.conf also sets InterruptThrottleRate=1" in n for n in plan.notes)


def test_parameters_of_a_built_in_module_that_sys_cannot_set_are_refused(tmp_path: Path) -> None:
    """A built-in module never loads: its modprobe.d options never apply. Before, the file was written,
    'applied and verified', with the note 'takes effect after the module reloads', which it never does."""
    roots = _roots(tmp_path, loaded=False)
    with pytest.raises(ValidationFailed) as caught:
        plan_remediation(parse_text(MODULES, "m.yml"), HostState(), roots=roots)
    said = str(caught.value)
    for name, value in (("InterruptThrottleRate", 3000), ("SmartPowerDownEnable", 0)):
        assert f"e1000e.parameters.{name}: {value}: e1000e is built into the kernel" in said
        assert f"boot with e1000e.{name}={value} on the kernel command line" in said
    assert "copybreak" not in said  # writable in /sys: set at runtime, as for a loaded module
    only_runtime = parse_text("kernel-modules:\n  e1000e:\n    parameters: {copybreak: 256}\n", "m.yml")
    plan = plan_remediation(only_runtime, HostState(), roots=roots)
    assert SetModuleParam in [type(op) for op in plan.ops]
    # A kernel that loads no modules at all (no /proc/modules): every driver is built in.
    (tmp_path / "proc" / "modules").unlink()
    (tmp_path / "sys" / "module" / "e1000e" / "initstate").write_text("live\n")
    with pytest.raises(ValidationFailed, match="e1000e is built into the kernel"):
        plan_remediation(parse_text(MODULES, "m.yml"), HostState(), roots=roots)


def test_rollback_restores_the_file(tmp_path: Path) -> None:
    roots = _roots(tmp_path)
    conf = tmp_path / "etc" / "modprobe.d" / "linkctl-e1000e.conf"
    conf.write_text("options e1000e copybreak=64\n")
    plan = plan_remediation(parse_text(MODULES, "m.yml"), HostState(), roots=roots)
    param = tmp_path / "sys" / "module" / "e1000e" / "parameters" / "copybreak"
    param.unlink()
    param.mkdir()  # the runtime write now fails after the file was written
    saved = [op.to_json() for op in plan.undo()]  # what the journal keeps before the first change
    with pytest.raises(RemediationFailed, match="set e1000e parameter copybreak at runtime: 128 -> 256: failed"):
        _carry_out(plan)
    assert conf.read_text() != "options e1000e copybreak=64\n"  # the file was written
    back = restore_settings(saved)
    assert conf.read_text() == "options e1000e copybreak=64\n"
    # The parameter cannot be read (a directory now): named, not taken as put back.
    assert back.undone == 1 and len(back.left) == 1 and "e1000e parameter copybreak" in back.left[0]


def test_parameter_names_cannot_smuggle_modprobe_commands() -> None:
    bad = 'kernel-modules:\n  e1000e:\n    parameters:\n      "x\\ninstall e1000e /bin/sh": 1\n'
    with pytest.raises(ValidationFailed, match="parameter"):
        parse_text(bad, "m.yml")
    with pytest.raises(ValidationFailed, match="value"):
        parse_text("kernel-modules:\n  e1000e:\n    parameters:\n      copybreak: '1 install x'\n", "m.yml")


def _veth(ns: str) -> HostState:
    ip("-n", ns, "link", "add", "ra", "type", "veth", "peer", "name", "rb")
    return read_state([ns])


@kernel
def test_ethtool_feature_on_veth_idempotent(make_netns: Callable[[], str]) -> None:
    ns = make_netns()
    host = _veth(ns)
    was = Ethtool("ra", ns).features()["generic-receive-offload"].active
    want = "true" if not was else "false"
    decl = parse_text(
        f"interfaces:\n- name: ra\n  netns: {ns}\n  ethtool:\n    feature:\n      rx-gro: {want}\n", "f.yml"
    )
    plan = plan_remediation(decl, host)
    assert len(plan.ops) == 1 and isinstance(plan.ops[0], SetEthtool)
    assert plan.ops[0].ip_command() == [
        "ip",
        "netns",
        "exec",
        ns,
        "ethtool",
        "-K",
        "ra",
        "rx-gro",
        "on" if not was else "off",
    ]
    _carry_out(plan, host)
    assert Ethtool("ra", ns).features()["generic-receive-offload"].active is (not was)
    assert plan_remediation(decl, host).empty


@kernel
def test_unsupported_and_unknown_are_refused_before_any_change(make_netns: Callable[[], str]) -> None:
    ns = make_netns()
    host = _veth(ns)
    text = (
        f"interfaces:\n- name: ra\n  netns: {ns}\n  ethtool:\n    eee: {{enabled: false}}\n"
        "    ring: {rx: 512}\n    feature: {no-such-feature: true}\n"
    )
    with pytest.raises(ValidationFailed) as err:
        plan_remediation(parse_text(text, "f.yml"), host)
    fields = {p.field for p in err.value.problems}
    assert fields == {"ethtool.eee.enabled", "ethtool.ring", "ethtool.feature.no-such-feature"}


@kernel
def test_ethtool_change_rolled_back_when_a_later_step_fails(make_netns: Callable[[], str], tmp_path: Path) -> None:
    ns = make_netns()
    host = _veth(ns)
    was = Ethtool("ra", ns).features()["generic-receive-offload"].active
    decl = parse_text(
        f"interfaces:\n- name: ra\n  netns: {ns}\n  ethtool:\n    feature:\n      rx-gro: {str(not was).lower()}\n",
        "f.yml",
    )
    plan = plan_remediation(decl, host)
    _roots(tmp_path)
    bad = tmp_path / "sys" / "module" / "e1000e" / "parameters" / "copybreak"
    bad.unlink()
    bad.mkdir()
    param = SetModuleParam("e1000e", None, param="copybreak", path=str(bad), old="128", new="256")
    failing = RemediationPlan([*plan.ops, param])
    saved = [op.to_json() for op in failing.undo()]
    with pytest.raises(RemediationFailed):
        _carry_out(failing, host)
    assert Ethtool("ra", ns).features()["generic-receive-offload"].active is (not was)  # set before the failure
    assert restore_settings(saved).undone == 1
    assert Ethtool("ra", ns).features()["generic-receive-offload"].active is was


def test_parameters_of_a_driver_a_kernel_without_modules_does_not_have_are_not_called_built_in(
    tmp_path: Path,
) -> None:
    """A kernel that loads no modules (no /proc/modules) and has no /sys/module/e1000e: e1000e is
    not in it. It was said to be 'built into the kernel', with the kernel command line as the fix."""
    roots = _roots(tmp_path, loaded=False)
    (tmp_path / "proc" / "modules").unlink()
    shutil.rmtree(tmp_path / "sys" / "module" / "e1000e")
    with pytest.raises(ValidationFailed) as caught:
        plan_remediation(parse_text(MODULES, "m.yml"), HostState(), roots=roots)
    said = str(caught.value)
    assert "built into the kernel" not in said
    assert (
        f"e1000e.parameters.InterruptThrottleRate: 3000: this kernel loads no modules and has no "
        f"{tmp_path}/sys/module/e1000e: e1000e is not in it (or built in without parameters)"
    ) in said


def test_a_kind_a_kernel_without_modules_lacks_is_said_without_loading_it(tmp_path: Path) -> None:
    """The advice read "load module bonding: this kernel has no loadable module support", which
    contradicts itself: a kernel that loads no modules has the kind built in or not at all."""
    from linkctl.kernel.sysinfo import Roots, module_advice

    roots = Roots(proc=tmp_path)  # no /proc/modules: a kernel built without CONFIG_MODULES
    said = module_advice("bonding", roots)
    assert said == (
        "bonding is not built into this kernel, which loads no modules: use a kernel with "
        "CONFIG_BONDING=y (or =m, then `modprobe bonding`)"
    )

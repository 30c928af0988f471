"""The settings planner, pure: ethtool sections and kernel modules against readings made up here, its
ops' commands and undo, their journal form, and the rollback's re-declaration."""

from __future__ import annotations

import json

import pytest

from linkctl.errors import ValidationFailed
from linkctl.model.load import parse_text
from linkctl.model.settings_state import ModuleReading, ParamReading, SectionReading, SettingsState
from linkctl.model.state import HostState, Link, NetnsState
from linkctl.plan.settings import plan_settings, query, redeclare, redeclared_query
from linkctl.plan.settings_ops import SetEthtool, SetModuleParam, WriteModprobe, from_json

NS = "red"


def _host(*names: str) -> HostState:
    host = HostState()
    host.namespaces[NS] = NetnsState(NS, {n: Link(i, n, netns=NS) for i, n in enumerate(names, 2)})
    return host


def _decl(body: str) -> str:
    return f"interfaces:\n- name: eth0\n  type: ethernet\n  netns: {NS}\n{body}"


def test_only_what_differs_is_set_with_the_command_a_person_would_type() -> None:
    decl = parse_text(
        _decl("  ethtool:\n    feature: {rx-gro: false, tso: true}\n    eee: {enabled: false}\n"), "d.yml"
    )
    host = _host("eth0")
    assert query(decl, host).sections == ((NS, "eth0", "eee"), (NS, "eth0", "feature"))
    state = SettingsState(
        sections={
            (NS, "eth0", "eee"): SectionReading({"enabled": True}),
            (NS, "eth0", "feature"): SectionReading(
                {"generic-receive-offload": True, "tcp-segmentation-offload": True}
            ),
        }
    )
    plan = plan_settings(decl, host, state, source="d.yml")
    assert [op.describe() for op in plan.ops] == [
        f"set ethtool eee of eth0 (netns {NS}): enabled true -> false",
        f"set ethtool feature of eth0 (netns {NS}): rx-gro true -> false",
    ]
    assert plan.ops[0].ip_command() == ["ip", "netns", "exec", NS, "ethtool", "--set-eee", "eth0", "eee", "off"]
    assert plan.lines()[1] == (
        f"set ethtool feature of eth0 (netns {NS}): rx-gro true -> false\n"
        f"    ip netns exec {NS} ethtool -K eth0 rx-gro off"
    )


def test_what_the_driver_cannot_do_is_refused_naming_every_field() -> None:
    decl = parse_text(
        _decl(
            "  ethtool:\n    feature: {rx-lro: true, no-such: true}\n    ring: {rx: 9000}\n"
            "    coalesce: {rx-usecs: 3}\n    eee: {enabled: false}\n    pause: {rx: true}\n"
        ),
        "d.yml",
    )
    state = SettingsState(
        sections={
            (NS, "eth0", "feature"): SectionReading(
                {"large-receive-offload": False}, frozenset({"large-receive-offload"})
            ),
            (NS, "eth0", "ring"): SectionReading({"rx": 256}, maximum={"rx": 4096}),
            (NS, "eth0", "coalesce"): SectionReading({"rx-frames": 1}),
            (NS, "eth0", "eee"): SectionReading({"enabled": None}),
            (NS, "eth0", "pause"): SectionReading(unsupported=True),
        }
    )
    with pytest.raises(ValidationFailed) as err:
        plan_settings(decl, _host("eth0"), state, source="d.yml")
    said = {p.field: p.allowed for p in err.value.problems}
    assert said == {
        "ethtool.feature.rx-lro": "fixed off by the driver: remove the key",
        "ethtool.feature.no-such": "a feature `ethtool -k` lists for this link",
        "ethtool.ring.rx": "at most 4096 on this NIC",
        "ethtool.coalesce.rx-usecs": "the driver does not report this setting: remove the key",
        "ethtool.eee.enabled": "the driver has no EEE support: remove the key",
        "ethtool.pause": "the driver does not support this (`ethtool` answers 'Operation not supported'): remove the key",
    }


def test_a_link_not_there_yet_is_planned_once_it_is() -> None:
    decl = parse_text(_decl("  ethtool:\n    feature: {rx-gro: false}\n"), "d.yml")
    assert query(decl, _host()).sections == ()
    plan = plan_settings(decl, _host(), SettingsState())
    assert plan.empty and plan.notes == ["eth0: does not exist yet; its ethtool settings are planned once it does"]


def test_undo_puts_back_what_was_found_and_autonegotiation_as_itself() -> None:
    op = SetEthtool(
        "eth0", NS, section="ethernet", before=(("speed", 1000), ("autoneg", True)), after=(("speed", 100),)
    )
    assert op.undo() == SetEthtool("eth0", NS, section="ethernet", before=(("speed", 100),), after=(("autoneg", True),))
    fixed = SetEthtool(
        "eth0", None, section="ethernet", before=(("speed", 1000), ("autoneg", False)), after=(("speed", 100),)
    )
    assert dict(fixed.undo().after) == {"speed": 1000, "autoneg": False}
    assert fixed.undo().ip_command() == ["ethtool", "-s", "eth0", "speed", "1000", "autoneg", "off"]


def test_ops_come_back_whole_from_the_journal() -> None:
    ops = [
        SetEthtool("eth0", NS, section="coalesce", before=(("rx-usecs", 3),), after=(("rx-usecs", 50),)),
        WriteModprobe("e1000e", None, path="/etc/modprobe.d/linkctl-e1000e.conf", old=None, new="options e1000e x=1\n"),
        SetModuleParam(
            "e1000e", None, param="copybreak", path="/sys/module/e1000e/parameters/copybreak", old="Y", new="0"
        ),
    ]
    assert [from_json(json.loads(json.dumps(op.to_json()))) for op in ops] == ops


def test_a_rollback_re_declares_the_values_found_and_names_what_it_cannot_read() -> None:
    targets = [
        SetEthtool("eth0", NS, section="feature", before=(("rx-gro", False),), after=(("rx-gro", True),)),
        SetEthtool("eth1", NS, section="ring", before=(("rx", 512),), after=(("rx", 256),)),
        WriteModprobe("e1000e", None, path="/m.conf", old="options e1000e x=1\n", new=None),
        SetModuleParam("e1000e", None, param="p", path="/p", old="1", new="Y"),
    ]
    asked = redeclared_query(targets)
    assert (asked.sections, asked.files, asked.params) == (
        ((NS, "eth0", "feature"), (NS, "eth1", "ring")),
        ("/m.conf",),
        ("/p",),
    )
    state = SettingsState(
        sections={
            (NS, "eth0", "feature"): SectionReading({"generic-receive-offload": False}),
            (NS, "eth1", "ring"): SectionReading(error="eth1: no such link"),
        },
        files={"/m.conf": "options e1000e x=1\n"},
        params={"/p": "1"},  # sysfs spells a bool parameter Y or N; 1 is Y
    )
    ops, unreadable = redeclare(targets, state)
    assert ops == [
        SetEthtool("eth0", NS, section="feature", before=(("rx-gro", False),), after=(("rx-gro", True),)),
        WriteModprobe("e1000e", None, path="/m.conf", old="options e1000e x=1\n", new=None),
    ]
    assert unreadable == [f"ethtool ring of eth1 (netns {NS}): eth1: no such link"]


def _module(**changes: object) -> ModuleReading:
    base = {
        "conf_path": "/etc/modprobe.d/linkctl-e1000e.conf",
        "conf_text": None,
        "param_dir": "/sys/module/e1000e/parameters",
        "loaded": True,
        "params": {"copybreak": ParamReading("128", True), "SmartPowerDownEnable": ParamReading("N", True)},
        "known": frozenset({"copybreak", "SmartPowerDownEnable", "InterruptThrottleRate"}),
        "others": (("/etc/modprobe.d/e1000e.conf", "options e1000e copybreak=1\n"),),
    }
    return ModuleReading(**{**base, **changes})  # type: ignore[arg-type]


MODULES = "kernel-modules:\n  e1000e:\n    parameters: {copybreak: 256, SmartPowerDownEnable: false, InterruptThrottleRate: 3000}\n"


def test_kernel_modules_file_runtime_parameters_and_notes() -> None:
    decl = parse_text(MODULES, "m.yml")
    assert query(decl, HostState()).modules == (("e1000e", True),)
    plan = plan_settings(decl, HostState(), SettingsState(modules={"e1000e": _module()}))
    # SmartPowerDownEnable=false is N already; copybreak is set at runtime; the third is not in /sys.
    assert [op.describe() for op in plan.ops] == [
        "write /etc/modprobe.d/linkctl-e1000e.conf: options e1000e InterruptThrottleRate=3000 "
        "SmartPowerDownEnable=0 copybreak=256",
        "set e1000e parameter copybreak at runtime: 128 -> 256",
    ]
    assert plan.ops[1].ip_command() == ["tee", "/sys/module/e1000e/parameters/copybreak"]
    assert any(n.startswith("e1000e.InterruptThrottleRate=3000 (not exposed in /sys at runtime)") for n in plan.notes)
    assert any(n.startswith("/etc/modprobe.d/e1000e.conf also sets copybreak=1") for n in plan.notes)
    unknown = _module(known=frozenset({"copybreak"}))
    with pytest.raises(ValidationFailed, match="a parameter of e1000e"):
        plan_settings(decl, HostState(), SettingsState(modules={"e1000e": unknown}))
    unloaded = plan_settings(decl, HostState(), SettingsState(modules={"e1000e": _module(loaded=False, params={})}))
    assert [type(op) for op in unloaded.ops] == [WriteModprobe]
    assert "e1000e is not loaded: its options apply when it loads" in unloaded.notes

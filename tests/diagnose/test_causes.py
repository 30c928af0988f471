"""The diagnose ranking on recorded evidence sets of real drivers: the top cause and
the evidence it rests on."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import yaml

from linkctl.diagnose.report import Diagnosis, diagnose, fix_file, text
from linkctl.model.load import load_file
from linkctl.model.state import HostState, NetnsState

from .conftest import UNSUPPORTED, recorded_host, recorded_sources


def _run(name: str, tmp: Path) -> Diagnosis:
    host, ifname = recorded_host(name)
    return diagnose(ifname, None, recorded_sources(name, tmp), host)


def _texts(points: list[object]) -> str:
    return " | ".join(p.text for p in points)  # type: ignore[attr-defined]


def test_eee_induced_flap(tmp_path: Path) -> None:
    d = _run("e1000e-eee-flap", tmp_path)
    assert d.top.id == "power-saving" and d.top.verdict == "likely"
    assert "EEE is enabled and active" in _texts(d.top.evidence_for)
    assert "ASPM" not in _texts(d.top.evidence_against)
    assert d.evidence.log.downs == 5 and set(d.evidence.log.up_speeds) == {1000}
    cable = next(c for c in d.causes if c.id == "cable-or-switch-port")
    assert "no CRC" in _texts(cable.evidence_against)
    first = d.fixes()[0][1]
    assert first.to_json()["declaration"] == {"interfaces": [{"name": "eth0", "ethtool": {"eee": {"enabled": False}}}]}
    assert d.evidence.interrupts[0].total == 9182771
    assert d.evidence.aspm == {"policy": "default", "l1_aspm": "1"}
    assert d.bond_proposal is not None
    bond = d.bond_proposal["interfaces"][0]
    assert bond["link-aggregation"]["mode"] == "active-backup"
    assert bond["link-aggregation"]["port"] == ["eth0", "eth1"]


def test_bad_cable(tmp_path: Path) -> None:
    d = _run("igb-bad-cable", tmp_path)
    assert d.top.id == "cable-or-switch-port"
    pro = _texts(d.top.evidence_for)
    assert "CRC" in pro and "different speeds: 100, 1000" in pro and "both ends advertise 1000" in pro
    assert d.evidence.log.up_speeds == {1000: 2, 100: 2}
    assert any("cable" in p for p in d.person_checks())
    power = next(c for c in d.causes if c.id == "power-saving")
    assert "EEE is disabled" in _texts(power.evidence_against)
    assert d.bond_proposal is None  # no second NIC


def test_duplex_mismatch(tmp_path: Path) -> None:
    d = _run("e1000e-duplex-mismatch", tmp_path)
    assert d.top.id == "duplex-mismatch"
    pro = _texts(d.top.evidence_for)
    assert "half duplex" in pro and "late collisions" in pro and "does not autonegotiate" in pro
    assert d.top.evidence_for[0].values == {"duplex": "half", "speed": 100}
    assert any("switch port" in p for p in d.person_checks())


def test_driver_hang(tmp_path: Path) -> None:
    d = _run("e1000e-driver-hang", tmp_path)
    assert d.top.id == "driver-or-firmware"
    log = d.evidence.log
    assert (log.watchdog, log.unit_hang, log.resets) == (3, 3, 3)
    pro = _texts(d.top.evidence_for)
    coalesce = [f.to_json()["declaration"] for _, f in d.fixes() if "coalesce" in str(f.to_json()["declaration"])]
    assert coalesce == [{"interfaces": [{"name": "eth0", "ethtool": {"coalesce": {"rx-usecs": 100}}}]}]
    assert "NETDEV WATCHDOG" in pro and "Unit Hang" in pro and "3.2.6-k" in pro
    assert d.fixes()[0][1].to_json()["declaration"] == {
        "interfaces": [
            {"name": "eth0", "ethtool": {"feature": {"tx-tcp-segmentation": False, "tx-generic-segmentation": False}}}
        ]
    }


def test_text_and_json_report(tmp_path: Path) -> None:
    d = _run("e1000e-eee-flap", tmp_path)
    out = text(d)
    assert "1. power saving" in out and "only a person can check:" in out
    assert "store: no --store given" in out
    assert "  repeated carrier loss: yes (2+ link-downs in the kernel log, 3+ carrier losses counted" in out
    data = d.to_json()
    assert data["causes"][0]["id"] == "power-saving"
    assert [f["risk"] for f in data["fixes_by_risk"]] == sorted(
        [f["risk"] for f in data["fixes_by_risk"]], key=["none", "low", "medium", "high"].index
    )
    assert data["evidence"]["store"] == "not available"
    # the verdict names the definition it applied: diagnose's, not watch's or the log report's
    assert data["flaps"]["flapping"] is True and data["flaps"]["rule"] == "repeated-carrier-loss"


def test_write_fix_is_a_loadable_declaration(tmp_path: Path) -> None:
    d = _run("e1000e-eee-flap", tmp_path)
    path = tmp_path / "fix.yml"
    content = fix_file(d)
    path.write_text(content)
    decl = load_file(str(path))
    eth0 = decl.interfaces[0]
    assert eth0.ethtool is not None and eth0.ethtool.eee is not None and eth0.ethtool.eee.enabled is False
    assert decl.kernel_modules is not None
    assert decl.kernel_modules["e1000e"].parameters == {"SmartPowerDownEnable": 0}
    assert "# Fallback (bonding module needed" in content
    assert yaml.safe_load(content)["interfaces"][0]["name"] == "eth0"


def test_paravirtual_nic_is_not_called_a_duplex_mismatch(tmp_path: Path) -> None:
    # Captured from this machine's virtio_net eth0: no speed, no duplex, autoneg "off".
    d = _run("virtio-net", tmp_path)
    duplex = next(c for c in d.causes if c.id == "duplex-mismatch")
    assert duplex.verdict == "unlikely"
    assert "no PHY" in _texts(duplex.evidence_against)
    assert "speed and duplex unknown" in text(d)


def test_a_healthy_link_is_told_so_and_handed_no_fixes(tmp_path: Path) -> None:
    # This machine's virtio_net eth0: a carrier, no link-down in the log, every cause unlikely.
    d = _run("virtio-net", tmp_path)
    assert d.nothing_wrong and d.fixes() == [] and d.person_checks() == []
    out = text(d)
    # No kernel log could be read here (no --logs, no kmsg): it is not said to hold no link-down.
    assert not d.evidence.log.available
    assert "none: nothing wrong was seen (a carrier, the kernel log not read, no cause likely)" in out
    assert "kernel log: " in out and "0 down" not in out and "no link-down in the kernel log" not in out
    assert "ethtool -r" not in out and "only a person can check" not in out
    empty = tmp_path / "kern.log"
    empty.write_text("")
    host, ifname = recorded_host("virtio-net")
    read = diagnose(ifname, None, replace(recorded_sources("virtio-net", tmp_path), logs=[str(empty)]), host)
    assert "none: nothing wrong was seen (a carrier, no link-down in the kernel log, no cause likely)" in text(read)
    assert f"kernel log (files: {empty}): 0 down, 0 up" in text(read)


def test_no_crc_errors_is_not_evidence_when_no_counter_was_read(tmp_path: Path) -> None:
    """Neither `ethtool -S` nor the kernel's stats64: "without CRC errors" was still counted for
    power saving, on counters that were never read."""
    host, ifname = recorded_host("e1000e-eee-flap")
    (only,) = [lk for lk in host if lk.name == ifname]
    host = HostState({None: NetnsState.of(None, [replace(only, stats=None), *(lk for lk in host if lk is not only)])})
    sources = recorded_sources("e1000e-eee-flap", tmp_path)
    recorded_run = sources.runner
    sources = replace(sources, runner=lambda ns, argv: UNSUPPORTED if argv[1:2] == ["-S"] else recorded_run(ns, argv))
    d = diagnose(ifname, None, sources, host)
    assert not d.evidence.has_counters and d.evidence.log.downs == 5
    power = next(c for c in d.causes if c.id == "power-saving")
    assert "CRC" not in _texts(power.evidence_for), _texts(power.evidence_for)
    assert all("CRC" not in _texts(c.evidence_against) for c in d.causes)


def test_a_built_in_driver_s_parameter_is_proposed_for_the_kernel_command_line(tmp_path: Path) -> None:
    """e1000e built in (here: a kernel that loads no modules): the proposal was a `kernel-modules:`
    declaration, which never applies to it (and which apply now refuses, failing the whole file)."""
    host, ifname = recorded_host("e1000e-eee-flap")
    sources = recorded_sources("e1000e-eee-flap", tmp_path)
    (sources.roots.proc / "modules").unlink()
    d = diagnose(ifname, None, sources, host)
    assert d.evidence.driver_builtin
    texts = [f.text for _, f in d.fixes() if "SmartPowerDown" in f.text]
    assert texts == [
        "disable SmartPowerDown in the e1000e module: e1000e is built into this kernel: "
        "boot with e1000e.SmartPowerDownEnable=0"
    ]
    proposed = yaml.safe_load(fix_file(d))
    assert "kernel-modules" not in proposed and proposed["interfaces"][0]["ethtool"] == {"eee": {"enabled": False}}

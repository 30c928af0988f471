"""The fleet pieces: Prometheus rules checked and unit-tested by promtool, and the Ansible
rollout run for real against this host (connection: local) into a throwaway namespace."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus"
PLAYBOOK = ROOT / "deploy" / "ansible" / "linkctl.yml"


def _promtool() -> str:
    tool = shutil.which("promtool")
    if tool is None:
        pytest.skip("promtool is not installed (Debian package prometheus; scripts/setup.sh --test installs it)")
    return tool


def test_rules_are_valid() -> None:
    res = subprocess.run(
        [_promtool(), "check", "rules", str(RULES / "linkctl-rules.yml")], capture_output=True, text=True, check=False
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "9 rules found" in res.stdout


def test_rules_fire_when_they_should() -> None:
    res = subprocess.run(
        [_promtool(), "test", "rules", "linkctl-rules.test.yml"], cwd=RULES, capture_output=True, text=True, check=False
    )
    assert res.returncode == 0 and "SUCCESS" in res.stdout, res.stdout + res.stderr


def _ansible() -> str:
    tool = Path(sys.executable).parent / "ansible-playbook"
    if not tool.exists():
        pytest.skip("ansible-core is not installed in the venv (it is in the dev extra)")
    return str(tool)


def _run_playbook(tmp_path: Path, netns: str, decl: Path, check: bool = False) -> dict[str, int]:
    extra = {
        "linkctl_bin": str(Path(sys.executable).parent / "linkctl"),
        "linkctl_root": str(tmp_path / "root"),
        "linkctl_stage": str(tmp_path / "stage"),
        "linkctl_files": [str(decl)],
        "linkctl_netns": netns,
        "linkctl_hosts": "localhost",
        "ansible_python_interpreter": sys.executable,
    }
    env = {**os.environ, "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_NOCOLOR": "1"}
    env["ANSIBLE_HOME"] = str(tmp_path / "ansible-home")
    cmd = [_ansible(), "-i", "localhost,", "-c", "local", str(PLAYBOOK), "-e", json.dumps(extra)]
    res = subprocess.run(
        [*cmd, "--check"] if check else cmd, capture_output=True, text=True, env=env, check=False, timeout=300
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    # The PLAY RECAP line: "localhost : ok=4 changed=2 unreachable=0 failed=0 skipped=1 ..."
    recap = next(line for line in res.stdout.splitlines() if line.startswith("localhost") and "ok=" in line)
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", recap)}


def test_ansible_rollout_plans_applies_and_is_idempotent(netns: str, tmp_path: Path) -> None:
    decl = tmp_path / "10-bridge.yml"
    decl.write_text("interfaces:\n- {name: br9, type: linux-bridge, mtu: 1400}\n")
    checked = _run_playbook(tmp_path, netns, decl, check=True)
    assert checked["failed"] == 0
    assert (
        "br9"
        not in subprocess.run(["ip", "-n", netns, "-br", "link"], capture_output=True, text=True, check=True).stdout
    )
    conf = tmp_path / "root" / "etc" / "linkctl"
    assert not conf.exists()  # --check keeps nothing for boot
    first = _run_playbook(tmp_path, netns, decl)
    # staged already by the --check run (check_mode: false); one task planned, applied and kept for boot
    assert first["changed"] == 1 and first["failed"] == 0
    # linkctl_netns set: kept for that namespace (boot-apply applies it there), not for the host's
    assert (conf / "netns" / netns / "10-bridge.yml").read_text() == decl.read_text()
    assert not (conf / "10-bridge.yml").exists()
    assert (tmp_path / "root" / "etc" / "systemd" / "system" / "linkctl-apply.service").exists()
    shown = json.loads(
        subprocess.run(
            ["ip", "-n", netns, "-j", "link", "show", "br9"], capture_output=True, text=True, check=True
        ).stdout
    )
    assert shown[0]["mtu"] == 1400
    second = _run_playbook(tmp_path, netns, decl)
    assert second["changed"] == 0 and second["failed"] == 0

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


def _outage_series(scrapes: list[bytes]) -> list[str]:
    """The exporter's linkctl_store_outages_total{cause="disk_full"}, one value per scrape as
    Prometheus would store it ("_" while the series is not served)."""
    from prometheus_client.parser import text_string_to_metric_families

    values = []
    for text in scrapes:
        found = [
            s.value
            for family in text_string_to_metric_families(text.decode())
            for s in family.samples
            if s.name == "linkctl_store_outages_total" and s.labels.get("cause") == "disk_full"
        ]
        values.append(f"{found[0]:g}" if found else "_")
    return values


def test_disk_full_alert_fires_on_the_exporters_first_outage(tmp_path: Path) -> None:
    """The watcher's own output scraped each minute: 3 scrapes before the disk fills, 10
    after. A series the exporter first served at 1 had no increase() and
    LinkctlStoreDiskFull never fired for a watcher's first full disk."""
    import yaml

    from linkctl.watch.metrics import WatchMetrics

    metrics = WatchMetrics()
    scrapes = [metrics.render() for _ in range(3)]
    metrics.store.writable.set(0)
    metrics.store.outages.labels("disk_full").inc()  # what the recorder does when a commit finds the disk full
    scrapes += [metrics.render() for _ in range(10)]
    values = " ".join(_outage_series(scrapes))
    rules = yaml.safe_load((RULES / "linkctl-rules.yml").read_text())
    (rule,) = [r for g in rules["groups"] for r in g["rules"] if r.get("alert") == "LinkctlStoreDiskFull"]
    summary = rule["annotations"]["summary"].replace("{{ $labels.instance }}", "h")
    test = {
        "rule_files": [str(RULES / "linkctl-rules.yml")],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": 'linkctl_store_outages_total{instance="h",cause="disk_full"}', "values": values}
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "5m",
                        "alertname": "LinkctlStoreDiskFull",
                        "exp_alerts": [
                            {
                                "exp_labels": {"severity": "warning", "instance": "h", "cause": "disk_full"},
                                "exp_annotations": {**rule["annotations"], "summary": summary},
                            }
                        ],
                    }
                ],
            }
        ],
    }
    (tmp_path / "t.yml").write_text(yaml.safe_dump(test))
    res = subprocess.run(
        [_promtool(), "test", "rules", "t.yml"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert res.returncode == 0 and "SUCCESS" in res.stdout, values + "\n" + res.stdout + res.stderr


def _ansible() -> str:
    tool = Path(sys.executable).parent / "ansible-playbook"
    if not tool.exists():
        pytest.skip("ansible-core is not installed in the venv (it is in the dev extra)")
    return str(tool)


def _run_playbook(tmp_path: Path, netns: str, decl: Path, check: bool = False, **more: object) -> dict[str, int]:
    res = _playbook(tmp_path, netns, decl, check, **more)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    # The PLAY RECAP line: "localhost : ok=4 changed=2 unreachable=0 failed=0 skipped=1 ..."
    recap = next(line for line in res.stdout.splitlines() if line.startswith("localhost") and "ok=" in line)
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", recap)}


def _playbook(
    tmp_path: Path, netns: str, decl: Path, check: bool = False, **more: object
) -> subprocess.CompletedProcess[str]:
    extra = {
        "linkctl_bin": str(Path(sys.executable).parent / "linkctl"),
        "linkctl_root": str(tmp_path / "root"),
        "linkctl_stage": str(tmp_path / "stage"),
        "linkctl_files": [str(decl)],
        "linkctl_netns": netns,
        "linkctl_hosts": "localhost",
        "ansible_python_interpreter": sys.executable,
        **more,
    }
    env = {**os.environ, "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_NOCOLOR": "1"}
    env["ANSIBLE_HOME"] = str(tmp_path / "ansible-home")
    cmd = [_ansible(), "-i", "localhost,", "-c", "local", str(PLAYBOOK), "-e", json.dumps(extra)]
    return subprocess.run(
        [*cmd, "--check"] if check else cmd, capture_output=True, text=True, env=env, check=False, timeout=300
    )


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


@pytest.mark.parametrize(
    ("variable", "value"),
    [("linkctl_files", "files/10-bridge.yml"), ("linkctl_wait", "soon"), ("linkctl_files", [["a.yml"]])],
)
def test_a_wrong_variable_fails_the_rollout_before_any_change(
    netns: str, tmp_path: Path, variable: str, value: object
) -> None:
    # `-e linkctl_files=files/x.yml` (a string, not a list) made the staging directory, then
    # failed in `loop` with Ansible's words; a wait of "soon" got as far as the module.
    decl = tmp_path / "10-bridge.yml"
    decl.write_text("interfaces:\n- {name: br9, type: linux-bridge}\n")
    res = _playbook(tmp_path, netns, decl, False, **{variable: value})
    assert res.returncode != 0
    assert f"{variable} " in res.stdout and "must be" in res.stdout, res.stdout[-3000:]
    assert "changed=0" in res.stdout and "ok=0" in res.stdout
    assert not (tmp_path / "stage").exists() and not (tmp_path / "root").exists()

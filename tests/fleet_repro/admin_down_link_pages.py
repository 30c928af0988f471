"""A link an operator set down on purpose (a spare port, a standby uplink) pages as LinkDown.

`linkctl_network_up` is 1 only when the link is admin up with carrier, and nothing else the
exporter serves says whether the link was set down by hand: the shipped rule
`linkctl_network_up == 0 for 5m` (severity critical) fires for every admin-down link of the
fleet, and no rule can tell them apart. Run: .venv/bin/python -m tests.fleet_repro.admin_down_link_pages
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from linkctl.watch.core import DumpReason, WatchCore
from linkctl.watch.flap import FlapConfig
from linkctl.watch.metrics import WatchMetrics
from tests.watch.helpers import at, msg

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "linkctl-rules.yml"


def rendered() -> str:
    """The exporter's text for two links: eth0 up, eth1 set down by hand (`ip link set eth1 down`)."""
    core = WatchCore(FlapConfig(nagios_enabled=False))
    metrics = WatchMetrics(core)
    links = [msg(0, 1, 0), msg(0, 1, 0, carrier=False, admin_up=False, ifindex=8, ifname="eth1")]
    metrics.observe(core.on_dump(None, links, at(0), DumpReason.STARTUP))
    return metrics.render().decode()


def main() -> None:
    text = rendered()
    print("\n".join(line for line in text.splitlines() if 'device="eth1"' in line))
    work = Path(tempfile.mkdtemp())
    try:
        shutil.copy(RULES, work)
        (work / "t.yml").write_text(
            "rule_files: [linkctl-rules.yml]\nevaluation_interval: 1m\ntests:\n- interval: 1m\n"
            '  input_series:\n  - {series: \'linkctl_network_up{instance="h",netns="",device="eth1"}\', '
            "values: '0x10'}\n"
            '  - {series: \'linkctl_network_admin_up{instance="h",netns="",device="eth1"}\', '
            "values: '0x10'}\n  alert_rule_test:\n  - {eval_time: 6m, alertname: LinkDown, exp_alerts: []}\n"
        )
        res = subprocess.run(["promtool", "test", "rules", "t.yml"], cwd=work, capture_output=True, text=True)
        print(
            "promtool, LinkDown expected silent for the admin-down eth1:", "SUCCESS" if res.returncode == 0 else "FIRES"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""The HTML report in a real browser (headless Chromium): the timeline is there, its
down-period bars have a width, and a screenshot is taken."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from logs_helpers import run_linkctl

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="chromium is not installed (apt-get install -y chromium; the project's test script does it)",
    ),
]

# Runs in the page after load: measures the bars as the browser laid them out.
PROBE = """
<script>
window.addEventListener('load', () => {
  const bars = [...document.querySelectorAll('#timeline rect.down')]
    .map(r => r.getBoundingClientRect().width);
  const marks = document.querySelectorAll('#timeline line.speed').length;
  const rows = document.querySelectorAll('#summary tr').length;
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify({bars, marks, rows});
  document.body.appendChild(pre);
});
</script>
"""


def _report(tmp_path: Path, seed_file: Path) -> Path:
    log = tmp_path / "kern.log"
    log.write_text(
        seed_file.read_text() + "Mar 30 06:33:40 aurora kernel: [566378.100000] e1000e: eth0 NIC Link is Down\n"
        "Mar 30 06:33:44 aurora kernel: [566382.200000] e1000e: eth0 NIC Link is Up "
        "100 Mbps Full Duplex\n"
        "Mar 30 06:33:50 aurora kernel: [566388.000000] r8152 2-1:1.0 eth1: carrier on\n"
    )
    page = tmp_path / "report.html"
    done = run_linkctl("logs", "analyze", str(log), "--format", "html", "-o", str(page))
    assert done.returncode == 0, done.stderr
    return page


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    profile = tmp_path / "profile"
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=120
    )


def test_report_is_self_contained(tmp_path: Path, seed_file: Path) -> None:
    html = _report(tmp_path, seed_file).read_text()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    assert "<link " not in html and "@import" not in html


def test_timeline_bars_have_width_in_the_browser(tmp_path: Path, seed_file: Path) -> None:
    page = _report(tmp_path, seed_file)
    probed = tmp_path / "probed.html"
    probed.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    done = _chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom", probed.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.S)
    assert found, done.stdout[-2000:]
    probe = json.loads(found.group(1).replace("&quot;", '"'))
    assert len(probe["bars"]) == 3
    assert all(width > 0 for width in probe["bars"])
    assert probe["marks"] >= 1  # the renegotiation at 100 Mb/s is marked
    assert probe["rows"] == 3  # header + eth0 + eth1


def test_screenshot(tmp_path: Path, seed_file: Path) -> None:
    page = _report(tmp_path, seed_file)
    shot = Path("/tmp/linkctl-report-screenshot.png")
    shot.unlink(missing_ok=True)
    done = _chromium(
        tmp_path, "--window-size=1000,900", "--virtual-time-budget=3000", f"--screenshot={shot}", page.as_uri()
    )
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000

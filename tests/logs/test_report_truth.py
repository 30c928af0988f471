"""What `logs analyze`'s page tells its reader, read back from headless Chromium: the
figures as the browser shows them against what the log holds, and hostile names and
lines shown, never run."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from logs_helpers import run_linkctl
from test_logs_browser import CHROMIUM, _chromium

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)"),
]

# Before the page's own scripts: every dialog is recorded instead of shown.
HOOK = """<script>
window.__dialogs = [];
window.__errors = [];
window.addEventListener('error', e => window.__errors.push(e.message));
for (const f of ['alert', 'confirm', 'prompt', 'print', 'open'])
  window[f] = (...a) => { window.__dialogs.push(f + ': ' + String(a[0])); };
</script>"""

# After load: what the reader sees, as the browser laid it out.
PROBE = """<script>
window.addEventListener('load', () => setTimeout(() => {
  const texts = sel => [...document.querySelectorAll(sel)].map(t => t.textContent);
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify({
    dialogs: window.__dialogs,
    errors: window.__errors,
    fetched: performance.getEntriesByType('resource').map(e => e.name),
    shares: texts('#timeline text.share'),
    labels: texts('#timeline text.label'),
    bars: [...document.querySelectorAll('#timeline rect.down')].map(r => r.getBoundingClientRect().width),
    ticks: texts('#timeline text.tick'),
    zoomticks: texts('#zoom text.tick'),
    zoomwords: document.getElementById('zoomwords').textContent,
    cells: [...document.querySelectorAll('#summary tr')].slice(1).map(r => [...r.cells].map(c => c.textContent)),
    text: document.body.innerText,
    page_width: document.documentElement.scrollWidth,
    window_width: document.documentElement.clientWidth,
    label_ends: [...document.querySelectorAll('#timeline text.label')]
      .map(t => [t.textContent, t.getBoundingClientRect().right]),
    bars_left: document.querySelector('#timeline rect.up')?.getBoundingClientRect().left,
  });
  document.body.appendChild(pre);
}, 100));
</script>"""


def _seen(tmp_path: Path, *logs: Path) -> dict[str, object]:
    """`logs analyze LOG... --format html` opened in Chromium: what its probe read."""
    page = tmp_path / "report.html"
    done = run_linkctl("logs", "analyze", *map(str, logs), "--year", "2026", "--format", "html", "-o", str(page))
    assert done.returncode == 0, done.stderr
    probed = tmp_path / "probed.html"
    probed.write_text(page.read_text().replace("<head>", "<head>" + HOOK, 1).replace("</body>", PROBE + "</body>"))
    done = _chromium(tmp_path, "--window-size=1000,900", "--virtual-time-budget=5000", "--dump-dom", probed.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.S)
    assert found, done.stdout[-2000:]
    seen: dict[str, object] = json.loads(html.unescape(found.group(1)))
    assert seen["errors"] == [], seen["errors"]  # the page's script ran to its end
    return seen


def test_a_link_still_down_is_down_to_its_own_host_s_log_end(tmp_path: Path) -> None:
    """Two hosts' logs: alpha's ends at 07:00:05 with eth0 down since 06:50:00, beta's runs to
    16:00:10. alpha/eth0 was seen down 10 s + 605 s of its host's 3605 s: 17 %, its open bar
    605 s long; it was drawn to beta's last line (9 h 10 min, 651 px) and said 100 % down."""
    log = tmp_path / "kern.log"
    log.write_text(
        "Mar 30 06:00:00 alpha kernel: [1000.000000] e1000e: eth0: NIC Link is Down\n"
        "Mar 30 06:00:10 alpha kernel: [1010.000000] e1000e: eth0: NIC Link is Up 1000 Mbps Full Duplex\n"
        "Mar 30 06:50:00 alpha kernel: [4000.000000] e1000e: eth0: NIC Link is Down\n"
        "Mar 30 07:00:00 alpha kernel: [4600.000000] e1000e: eth1: NIC Link is Down\n"
        "Mar 30 07:00:05 alpha kernel: [4605.000000] e1000e: eth1: NIC Link is Up 1000 Mbps Full Duplex\n"
        "Mar 30 06:00:00 beta kernel: [2000.000000] e1000e: eth0: NIC Link is Down\n"
        "Mar 30 06:00:10 beta kernel: [2010.000000] e1000e: eth0: NIC Link is Up 1000 Mbps Full Duplex\n"
        "Mar 30 16:00:00 beta kernel: [38000.000000] e1000e: eth0: NIC Link is Down\n"
        "Mar 30 16:00:10 beta kernel: [38010.000000] e1000e: eth0: NIC Link is Up 1000 Mbps Full Duplex\n"
    )
    seen = _seen(tmp_path, log)
    labels, shares, bars = seen["labels"], seen["shares"], seen["bars"]
    assert isinstance(labels, list) and isinstance(shares, list) and isinstance(bars, list)
    assert shares[labels.index("alpha/eth0")] == "17 % down, 2 down periods"
    assert shares[labels.index("beta/eth0")] == "0.056 % down, 2 down periods"
    assert seen["ticks"] == ["2026-03-30 06:00:00", "2026-03-30 16:00:10"]
    # The axis: 36,010 s over 710 px (WIDTH - LEFT - 20). alpha/eth0's bars come first.
    px_per_s = 710 / 36010
    assert bars[1] == pytest.approx(605 * px_per_s, abs=0.5)


def test_the_closer_look_tells_time_in_the_log_s_zone(tmp_path: Path) -> None:
    """A log stamped in +02:00 (rsyslog's RFC 3339 form): the closer look's axis said its
    first down was at 04:33:40.100, UTC with the Z cut off, where the overview, the tables
    and the log say 06:33:40.100+02:00."""
    log = tmp_path / "kern.log"
    log.write_text(
        "2026-03-30T06:33:40.100000+02:00 aurora kernel: [566378.100000] e1000e: eth0: NIC Link is Down\n"
        "2026-03-30T06:33:44.200000+02:00 aurora kernel: [566382.200000] e1000e: eth0: NIC Link is Up "
        "1000 Mbps Full Duplex\n"
        "2026-03-30T07:33:44.200000+02:00 aurora kernel: [569982.200000] e1000e: eth0: NIC Link is Down\n"
    )
    seen = _seen(tmp_path, log)
    assert seen["ticks"] == ["2026-03-30 06:33:40.100000+02:00", "2026-03-30 07:33:44.200000+02:00"]
    zoomticks = seen["zoomticks"]
    assert isinstance(zoomticks, list) and len(zoomticks) == 5
    assert zoomticks[0] == "2026-03-30 06:33:40.100+02:00"
    assert zoomticks[-1] == "2026-03-30 07:33:40.100+02:00"


def test_hostile_names_and_lines_are_shown_not_run_nor_turned_around(tmp_path: Path) -> None:
    """A host named as a script, another as an attribute's end and an SVG onload, a log file
    named as an image with an onerror, a link named e<U+202E>th1 (the kernel takes a bidi
    override in a name): no dialog, nothing fetched, and the name spelt e\\u202eth1 as `show`
    spells it. It was shown raw: 'e1ht' in the table, and the closer look's sentence after
    it right to left."""
    rlo = "\u202e"
    log = tmp_path / "x<img src=x onerror=alert(5)>.log"
    log.write_text(
        f"Mar 30 06:10:40 aurora kernel: [1000.100000] e1000e: e{rlo}th1: NIC Link is Down\n"
        f"Mar 30 06:10:44 aurora kernel: [1004.100000] e1000e: e{rlo}th1: NIC Link is Up 1000 Mbps Full Duplex\n"
        "Mar 30 06:40:00 <script>alert(9)</script> kernel: [3000.0] r8152 2-1:1.0 eth9: carrier off\n"
        "Mar 30 06:41:00 '\"><svg/onload=alert(7)> kernel: [3060.0] r8152 2-1:1.0 eth9: carrier off\n"
    )
    seen = _seen(tmp_path, log)
    assert seen["dialogs"] == [] and seen["fetched"] == []
    text, cells = seen["text"], seen["cells"]
    assert isinstance(text, str) and isinstance(cells, list)
    assert rlo not in text
    rows = [row[:2] for row in cells]
    assert ["aurora", "e\\u202eth1"] in rows
    assert ["<script>alert(9)</script>", "eth9"] in rows
    assert f"from {log}." in text


def test_a_log_without_link_events_makes_a_page_whose_script_runs(tmp_path: Path) -> None:
    """An empty log: the closer look's script stopped on 'Cannot read properties of undefined
    (reading 'name')', and its words said it needs JavaScript, which was running."""
    log = tmp_path / "kern.log"
    log.write_text("")
    seen = _seen(tmp_path, log)
    assert seen["zoomwords"] == "no link to draw: nothing to look at closer"
    assert seen["labels"] == [] and seen["bars"] == []


def test_a_long_name_stays_left_of_its_row_s_bars_and_keeps_the_link_s_name(tmp_path: Path) -> None:
    """A host's FQDN: 'ip-10-0-12-34.eu-west-1.compute.internal/eth0' ran 119 px under its row's
    bars, and eth0's row and eth1's read the same. Now cut in the middle, the link's name kept."""
    host = "ip-10-0-12-34.eu-west-1.compute.internal"
    log = tmp_path / "kern.log"
    log.write_text(
        f"Mar 30 06:00:00 {host} kernel: [100.0] r8152 2-1:1.0 eth0: carrier off\n"
        f"Mar 30 06:00:30 {host} kernel: [130.0] r8152 2-1:1.0 eth0: carrier on\n"
        f"Mar 30 06:20:00 {host} kernel: [1300.0] r8152 2-1:1.0 eth1: carrier off\n"
        f"Mar 30 06:30:00 {host} kernel: [1900.0] r8152 2-1:1.0 {'w' * 15}: carrier off\n"
    )
    seen = _seen(tmp_path, log)
    # Each label's text and where it ends, against where the bars begin (the row's title
    # holds the whole name).
    ends, bars = seen["label_ends"], seen["bars_left"]
    assert isinstance(ends, list) and isinstance(bars, (int, float))
    assert [text for text, _ in ends] == [
        "ip-10-0-12-34.eu-w…/eth0",
        "ip-10-0-12-34.eu-w…/eth1",
        "ip-10-0…/wwwwwwwwwwwwwww",
    ]
    assert all(right < bars for _, right in ends), (ends, bars)


def test_a_dmesg_read_with_a_syslog_leaves_the_syslog_s_axis_whole(tmp_path: Path) -> None:
    """A dmesg (only [uptime]s: seconds since its boot) and a dated syslog: the axis ran from
    '[100.0]' to 2026-03-30 16:00:10 and every bar of both was 1 px at one end. Now the dated
    links are drawn on their own axis and the undated ones named as not drawn."""
    dmesg = tmp_path / "dmesg.txt"
    dmesg.write_text(
        "[100.000000] r8152 2-1:1.0 usb0: carrier off\n[101.000000] r8152 2-1:1.0 usb0: carrier on\n"
        "[400.000000] r8152 2-1:1.0 usb0: carrier off\n[402.000000] r8152 2-1:1.0 usb0: carrier on\n"
    )
    log = tmp_path / "kern.log"
    log.write_text(
        "Mar 30 06:00:00 alpha kernel: [1000.000000] e1000e: eth0: NIC Link is Down\n"
        "Mar 30 06:30:00 alpha kernel: [2800.000000] e1000e: eth0: NIC Link is Up 1000 Mbps Full Duplex\n"
        "Mar 30 07:00:00 alpha kernel: [4600.000000] e1000e: eth0: NIC Link is Down\n"
    )
    seen = _seen(tmp_path, log, dmesg)
    assert seen["ticks"] == ["2026-03-30 06:00:00", "2026-03-30 07:00:00"]
    assert seen["labels"] == ["alpha/eth0"]
    bars = seen["bars"]
    assert isinstance(bars, list) and bars[0] == pytest.approx(355, abs=1)  # 30 of 60 minutes, of 710 px
    assert "1 link(s) not drawn: their lines carry no date" in str(seen["text"])
    assert "(usb0)" in str(seen["text"])


def test_a_very_long_log_line_wraps_in_its_cell(tmp_path: Path) -> None:
    """A link-down line with 3,000 characters of one word after it (a driver's hex dump): the
    events table was 22,167 px wide, the page scrolling sideways over it."""
    log = tmp_path / "kern.log"
    log.write_text(
        f"Mar 30 06:00:00 h kernel: [100.0] e1000e: eth0: NIC Link is Down {'X' * 3000}\n"
        "Mar 30 06:00:05 h kernel: [105.0] e1000e: eth0: NIC Link is Up 1000 Mbps Full Duplex\n"
    )
    seen = _seen(tmp_path, log)
    assert "X" * 3000 in str(seen["text"]).replace("\n", "")  # all of it still there
    assert seen["page_width"] == seen["window_width"], seen

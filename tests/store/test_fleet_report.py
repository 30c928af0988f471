"""`linkctl report`: the fleet's flap report from a shared store (SQLite, and a real PostgreSQL)
holding several hosts' rows, with the same link names and indexes on every host; the HTML page
in a real browser (headless Chromium)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from linkctl.domain.events import DriverWords
from linkctl.store import HostId, SqlStore, open_store
from linkctl.store.fleet import FleetReport, fleet_report
from linkctl.watch.core import DumpReason, WatchCore, WatchOutput
from linkctl.watch.flap import FlapConfig
from linkctl.watch.recorder import catch_up
from tests.conftest import LINKCTL

from ..watch.helpers import at, msg

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ISO = "%Y-%m-%dT%H:%M:%S+00:00"
SINCE, UNTIL = at(0), at(200)


@contextmanager
def as_host(url: str, name: str) -> Iterator[SqlStore]:
    store = open_store(url, host=HostId(name, "", chosen=True))
    try:
        yield store
    finally:
        store.close()


class Host:
    """One host's watcher, as its WatchCore writes to the store: eth0 (ifindex 2) and eth1 (3)."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.core = WatchCore(FlapConfig(nagios_enabled=False))
        self.episodes: set[str] = set()
        boot = [msg(0, 1, 0, ifindex=2, ifname="eth0"), msg(0, 1, 0, ifindex=3, ifname="eth1")]
        self.write(self.core.on_dump(None, boot, at(0), DumpReason.STARTUP))

    def write(self, out: WatchOutput) -> None:
        self.episodes |= {ep.key for ep in out.episodes}
        self.store.record(out)

    def carrier(self, seconds: float, up: int, down: int, ifname: str = "eth0", driver: str = "") -> None:
        out = self.core.on_link(msg(seconds, up, down, ifindex=2 if ifname == "eth0" else 3, ifname=ifname))
        if driver:
            out.driver_updates = [(ev, DriverWords(text=f"{driver}: link", driver=driver)) for ev in out.events]
        self.write(out)

    def gap(self, seconds: float, up: int, down: int) -> None:
        """eth1's transitions counted by the kernel while the store was down: one gap event."""
        committed = dict(self.core.links)
        self.core.on_link(msg(seconds, up, down, ifindex=3, ifname="eth1"))
        out = catch_up(committed, self.core.links, at(seconds), "store unwritable")
        out.episodes = list(self.core.flaps.open_episodes())  # as the recorder's catch-up writes them
        self.write(out)


def fill(url: str) -> dict[str, int]:
    """Three hosts: web-01's eth0 flaps 3 times (down 2 + 5 + 1 s), web-02's eth0 goes down at
    100 s and stays down, db-01's eth1 went through 6 transitions during a store outage and its
    eth0 is quiet. Returns each host's flap episodes."""
    episodes = {}
    with as_host(url, "web-01") as store:
        web1 = Host(store)
        for t, up, down in ((10, 1, 1), (12, 2, 1), (20, 2, 2), (25, 3, 2), (30, 3, 3), (31, 4, 3)):
            web1.carrier(t, up, down, driver="e1000e" if t == 10 else "")
        episodes["web-01"] = len(web1.episodes)
    with as_host(url, "web-02") as store:
        web2 = Host(store)
        web2.carrier(100, 1, 1)
        episodes["web-02"] = len(web2.episodes)
    with as_host(url, "db-01") as store:
        db1 = Host(store)
        db1.gap(150, 4, 3)
        episodes["db-01"] = len(db1.episodes)
    return episodes


def report(url: str, host: str | None = None) -> FleetReport:
    with open_store(url, readonly=True) as store:
        return fleet_report(store, SINCE, UNTIL, host, source="test")


def test_per_host_and_link_worst_first(store_url: str) -> None:
    episodes = fill(store_url)
    assert episodes["web-01"] >= 1 and episodes["db-01"] == 1 and episodes["web-02"] == 0
    got = report(store_url)
    assert got.hosts == ["db-01", "web-01", "web-02"]
    assert [(link.host, link.ifname) for link in got.links] == [
        ("web-01", "eth0"),  # flapping now, 6 transitions, down 8 s
        ("db-01", "eth1"),  # flapping now, 6 transitions, down time not measured
        ("web-02", "eth0"),  # 1 transition
    ]
    assert got.quiet == 3  # web-01's and web-02's eth1, db-01's eth0
    web1, db1, web2 = got.links
    assert web1.flapping and web1.transitions == 6 and web1.in_gaps == 0
    assert web1.down_s == pytest.approx(8.0) and web1.down_exact and len(web1.downs) == 3
    assert not web1.down_now and web1.drivers == ["e1000e"]
    assert len(web1.episodes) == episodes["web-01"]
    assert db1.transitions == db1.in_gaps == 6 and not db1.down_exact and db1.flapping
    assert len(db1.episodes) == 1 and db1.downs == []
    assert web2.transitions == 1 and web2.down_now and web2.down_s == pytest.approx(100.0)
    assert not web2.flapping and web2.episodes == []


def test_host_glob_and_window(store_url: str) -> None:
    fill(store_url)
    assert {link.host for link in report(store_url, "web-*").links} == {"web-01", "web-02"}
    assert report(store_url, "web-*").hosts == ["web-01", "web-02"]
    with open_store(store_url, readonly=True) as store:
        late = fleet_report(store, at(26), UNTIL, "web-01")
    (eth0,) = late.links
    # From 26 s: down at 30, up at 31 (the earlier flaps are outside the window).
    assert eth0.transitions == 2 and eth0.down_s == pytest.approx(1.0)
    with open_store(store_url, readonly=True) as store:
        mid = fleet_report(store, at(22), at(28), "web-01")
    # Its first event in the window is the link-up at 25: down since the window opened.
    assert mid.links[0].down_s == pytest.approx(3.0) and mid.links[0].downs[0].inferred


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LINKCTL, *args], capture_output=True, text=True, timeout=120, check=False)


def _window() -> list[str]:
    return ["--since", SINCE.strftime(ISO), "--until", UNTIL.strftime(ISO)]


def test_cli_json_and_text_against_postgresql(pg_url: str) -> None:
    fill(pg_url)
    done = _cli("report", "--store", pg_url, *_window(), "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data == json.loads(json.dumps(report(pg_url).to_json() | {"store": data["store"]}))
    assert [(link["host"], link["transitions"]) for link in data["links"]] == [
        ("web-01", 6),
        ("db-01", 6),
        ("web-02", 1),
    ]
    assert data["links"][1]["transitions_in_gaps"] == 6
    text = _cli("report", "--store", pg_url, *_window(), "--host", "web-*")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].startswith("2 host(s), 2 link(s) with transitions, down time, episodes or admin downs, 2 quiet")
    # watch's rule under its own name: not the log report's verdict, not diagnose's repeated carrier loss
    assert lines[2].split()[:6] == ["host", "netns", "link", "flapping", "now", "transitions"]
    assert lines[3].split()[:5] == ["web-01", "-", "eth0", "yes", "6"]
    assert lines[4].split()[:5] == ["web-02", "-", "eth0", "no", "1"]


def test_cli_refusals(tmp_path: Path) -> None:
    missing = _cli("report", "--store", f"sqlite://{tmp_path}/none.db")
    assert missing.returncode != 0 and "no store at" in missing.stderr
    assert not (tmp_path / "none.db").exists()
    html = _cli("report", "--store", f"sqlite://{tmp_path}/none.db", "--format", "html")
    assert html.returncode == 1 and "--format html needs -o FILE" in html.stderr
    backwards = _cli("report", "--store", f"sqlite://{tmp_path}/none.db", "--since", "1h", "--until", "2h")
    assert backwards.returncode == 1 and "--until 2h is before --since 1h" in backwards.stderr


# Runs in the page after load: what the browser laid out.
PROBE = """
<script>
window.addEventListener('load', () => {
  const bars = [...document.querySelectorAll('#timeline rect.down')].map(r => r.getBoundingClientRect().width);
  const labels = [...document.querySelectorAll('#timeline text.label')].map(t => t.textContent);
  const fleet = [...document.querySelectorAll('#fleet tr')].slice(1).map(r => r.cells[0].textContent + '/' + r.cells[2].textContent);
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify({bars, labels, fleet, zoom: document.getElementById('zoomwords').textContent});
  document.body.appendChild(pre);
});
</script>
"""


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_html_in_a_real_browser(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path}/events.db"
    fill(url)
    page = tmp_path / "fleet.html"
    done = _cli("report", "--store", url, *_window(), "--format", "html", "-o", str(page))
    assert done.returncode == 0, done.stderr
    html = page.read_text()
    assert "<h1>Fleet flap report</h1>" in html and "<table id='summary'>" in html  # logs analyze's page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)  # self-contained
    probed = tmp_path / "probed.html"
    probed.write_text(html.replace("</body>", PROBE + "</body>"))
    assert CHROMIUM is not None
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={tmp_path / 'p'}"]
    dom = subprocess.run(
        [CHROMIUM, *flags, "--virtual-time-budget=5000", "--dump-dom", probed.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom.stdout, re.S)
    assert found, dom.stdout[-2000:]
    probe = json.loads(found.group(1).replace("&quot;", '"'))
    assert probe["fleet"] == ["web-01/eth0", "db-01/eth1", "web-02/eth0"]
    # The timeline in the fleet's order: db-01's eth1 has no recorded down period to draw.
    assert probe["labels"] == ["web-01/eth0", "web-02/eth0"]
    assert len(probe["bars"]) == 4 and all(width > 0 for width in probe["bars"])
    assert probe["zoom"].startswith("web-01/eth0")
    shot = tmp_path / "fleet.png"
    done = subprocess.run(
        [
            CHROMIUM,
            *flags,
            "--window-size=1000,900",
            "--virtual-time-budget=3000",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_timeline_draws_the_worst_links_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from linkctl.cli import report as cli_report
    from linkctl.logs import report_html

    url = f"sqlite://{tmp_path}/events.db"
    fill(url)
    monkeypatch.setattr(report_html, "TIMELINE_LINKS", 1)
    page = cli_report.render_fleet_html(report(url))
    assert re.findall(r"<text class='label'[^>]*>([^<]*)</text>", page) == ["web-01/eth0"]
    assert "draws the 1 worst links with recorded down periods; 1 more are in the table above only" in page
    assert page.count("<tr><td>") >= 3  # the fleet table still lists all three


def test_the_page_names_watch_s_rule_and_the_log_rule_apart(tmp_path: Path) -> None:
    from linkctl.cli import report as cli_report

    url = f"sqlite://{tmp_path}/events.db"
    fill(url)
    page = cli_report.render_fleet_html(report(url))
    # watch's flap episodes and "flapping now" (the fleet table), the log rule's down bursts and
    # verdict (logs analyze's tables below it): one page, two rules, each under its own name
    assert "<th>flapping now</th>" in page and "<th>episodes</th>" in page
    assert "<h2>Down bursts</h2>" in page and "<h2>Episodes</h2>" not in page
    assert "flapping: a down burst of 3 link-downs within 20 s" in page  # web-01's recorded periods, by the log rule


def test_the_page_spells_out_a_bidi_override_in_a_name() -> None:
    # A link named e<U+202E>th0 (the kernel takes it) on a host named as a script: the fleet
    # table's cells are escaped and the override spelt e\u202eth0, as text and `show` spell
    # it; raw, the cell read 'e0ht'.
    from linkctl.cli.report import render_fleet_html
    from linkctl.store.fleet import DownSpan, FleetLink

    link = FleetLink("<script>x</script>", "", "e\u202eth0", transitions=2, down_s=5.0, walked=True)
    link.downs = [DownSpan(at(10), at(15))]
    page = render_fleet_html(FleetReport(SINCE, UNTIL, "test", [link.host], [link], 0))
    assert "\u202e" not in page and "<script>x" not in page
    assert "<td>&lt;script&gt;x&lt;/script&gt;</td><td>-</td><td>e\\u202eth0</td>" in page

"""One convention for every command: -f is --format, times take durations, -o - is stdout."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

LINKCTL = [sys.executable, "-m", "linkctl"]
LINE = "Dec  6 10:00:00 aurora kernel: e1000e: eth0 NIC Link is Down\n"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LINKCTL, *args], capture_output=True, text=True, timeout=120, check=False)


def test_f_is_format_in_audit_and_doctor_too() -> None:
    for command in (["audit"], ["doctor"]):
        res = _run(*command, "-f", "json")
        assert res.returncode in (0, 1, 2), res.stderr  # findings or none: it ran, and printed JSON
        json.loads(res.stdout)
    missing = _run("audit", "-d", "/nonexistent/d.yml")  # the declaration moved to -d
    assert missing.returncode == 3 and "/nonexistent/d.yml" in missing.stderr, missing.stderr


def test_logs_analyze_takes_a_duration_as_history_does(tmp_path: Path) -> None:
    log = tmp_path / "kern.log"
    log.write_text(LINE)
    res = _run("logs", "analyze", str(log), "--since", "24h", "--year", "2025", "--format", "json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)  # the old line is before the window: a report with no link in it
    bad = _run("logs", "analyze", str(log), "--since", "yesterday")
    assert bad.returncode == 1 and "a duration back from now (90s, 30m, 24h, 7d, 2w)" in bad.stderr


def test_html_to_stdout_with_o_dash(tmp_path: Path) -> None:
    log = tmp_path / "kern.log"
    log.write_text(LINE)
    res = _run("logs", "analyze", str(log), "--year", "2025", "--format", "html", "-o", "-")
    assert res.returncode == 0, res.stderr
    assert res.stdout.lstrip().lower().startswith("<!doctype html") and "eth0" in res.stdout
    assert not (Path.cwd() / "-").exists()


def test_f_is_format_in_history_and_status(tmp_path: Path) -> None:
    from linkctl.store import open_store

    missing = f"sqlite:///{tmp_path / 'missing.db'}"
    for command in ("history", "status"):
        # A store that does not exist is not made by a reader: refused (not a usage error), nothing created.
        res = _run(command, "--store", missing, "-f", "json")
        assert res.returncode == 1 and "no store at" in res.stderr, res.stderr
        assert not (tmp_path / "missing.db").exists()
    url = f"sqlite:///{tmp_path / 'events.db'}"
    with open_store(url):  # a fresh, empty store (made as `linkctl watch` makes it)
        pass
    for command in ("history", "status"):
        res = _run(command, "--store", url, "-f", "json")
        assert res.returncode == 0, res.stderr
        assert json.loads(res.stdout) == []
        table = _run(command, "--store", url, "-f", "table")
        assert table.returncode == 0, table.stderr
        bad = _run(command, "--store", url, "-f", "xml")
        assert bad.returncode == 64 and "'--format' / '-f'" in bad.stderr, bad.stderr

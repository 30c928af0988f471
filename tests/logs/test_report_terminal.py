"""What `logs analyze` and `logs parse` print for a terminal: a link's name the kernel
took (a bidi override, wide characters) reaches the reader as what it is, and columns
stay in line."""

from __future__ import annotations

from pathlib import Path

from logs_helpers import run_linkctl

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: a terminal shows what follows it reversed


def _log(path: Path, *names: str) -> Path:
    lines = []
    for i, name in enumerate(names):
        lines.append(f"Mar 30 06:{10 + i}:40 aurora kernel: [{1000 + 60 * i}.100000] e1000e: {name}: NIC Link is Down")
        lines.append(
            f"Mar 30 06:{10 + i}:44 aurora kernel: [{1004 + 60 * i}.100000] e1000e: {name}: NIC Link is Up "
            "1000 Mbps Full Duplex"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def test_analyze_text_escapes_a_bidi_override_in_a_link_s_name(tmp_path: Path) -> None:
    """`e<RLO>th1` (a name `ip link add` takes) printed raw turned the rest of its line, the
    verdict with it, right to left: '(e1000e): DEGRADED' read backwards."""
    log = _log(tmp_path / "kern.log", f"e{RLO}th1", "eth0")
    done = run_linkctl("logs", "analyze", str(log), "--year", "2026")
    assert done.returncode == 0, done.stderr
    assert RLO not in done.stdout
    assert "aurora/e\\u202eth1 (e1000e): DEGRADED" in done.stdout.splitlines()
    assert "aurora/eth0 (e1000e): DEGRADED" in done.stdout.splitlines()

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


def test_parse_table_keeps_its_columns_for_wide_escaped_and_long_names(tmp_path: Path) -> None:
    """`logs parse -f table`: a name of wide characters took twice the cells it was padded for
    (SPEED onwards out of line), a bidi override went out raw, and a 15-character name (the
    kernel's longest) was cut to 14, the same as another 14-character one."""
    log = _log(tmp_path / "kern.log", "eth0", "ＥＴＨ漢字", f"e{RLO}th1", "n" * 15, "n" * 14)
    done = run_linkctl("logs", "parse", "-f", "table", str(log), "--year", "2026")
    assert done.returncode == 0, done.stderr
    assert RLO not in done.stdout
    lines = done.stdout.splitlines()
    from rich.cells import cell_len

    # Every row's WHERE column (FILE:N) starts in the same terminal cell as the header's.
    where = cell_len(lines[0][: lines[0].index("WHERE")])
    assert len(lines) == 11
    assert all(cell_len(line[: line.index(str(log))]) == where for line in lines[1:]), lines
    names = [line.split()[4] for line in lines[1:]]
    assert names[::2] == ["eth0", "ＥＴＨ漢字", "e\\u202eth1", "n" * 15, "n" * 14]

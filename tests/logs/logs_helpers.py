from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from linkctl.logs import scan
from linkctl.logs.capture import YearHint
from linkctl.logs.lines import parse_line

SEED = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "link-flapping-e1000e.txt"
LINKCTL = str(Path(sys.executable).with_name("linkctl"))

# `parse --format jsonl` keys in the order the issue gives them (restated here, not imported).
ISSUE_KEYS = ["event", "ifname", "driver", "bus_id", "speed_mbps", "duplex", "flow_control", "time", "uptime", "host", "file", "line", "raw"]  # fmt: skip

SEED_LINES = """\
Mar 30 06:32:45 aurora kernel: [566322.867110] e1000e: eth0 NIC Link is Down
Mar 30 06:32:47 aurora kernel: [566325.313634] e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex
Mar 30 06:32:59 aurora kernel: [566337.632930] e1000e: eth0 NIC Link is Down
Mar 30 06:33:18 aurora kernel: [566356.543664] e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex
"""


@pytest.fixture
def seed_file(tmp_path: Path) -> Path:
    """The four e1000e lines of the seed (from shared/ when it is there)."""
    path = tmp_path / "kern.log"
    if SEED.exists():
        lines = [x for x in SEED.read_text().splitlines() if " aurora kernel: [" in x]
        assert len(lines) == 4
        path.write_text("\n".join(lines) + "\n")
    else:
        path.write_text(SEED_LINES)
    return path


def run_linkctl(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [LINKCTL, *args], input=stdin.decode() if stdin else None, capture_output=True, text=True, timeout=120, env=env
    )


def write_kmsg(*messages: str) -> None:
    """Real lines into the real kernel log, at level 6; skipped where /dev/kmsg is not writable."""
    try:
        fd = os.open("/dev/kmsg", os.O_WRONLY)
    except OSError as exc:
        pytest.skip(f"/dev/kmsg not writable here: {exc.strerror}")
    try:
        for message in messages:
            os.write(fd, f"<6>{message}\n".encode())
    finally:
        os.close(fd)


def assert_form(line: str, expect: dict[str, object], years: YearHint) -> None:
    """The line gives an event whose JSON (and `detail`) has every key of `expect` with its value."""
    event = parse_line(line, years=years)
    assert event is not None, f"no event from {line!r}"
    got = event.to_json()
    got["detail"] = event.detail
    for key, value in expect.items():
        assert got[key] == value, f"{key}: {got[key]!r} != {value!r} in {line!r}"


def taken_by_both_scans(lines: list[str], years: YearHint) -> list[int]:
    """The numbers of the lines parsing alone turns into events, after checking that the fast scan
    (its literals' prefilter) hands on each of them: a recogniser's message without a literal is lost."""
    data = "\n".join(lines).encode()
    slow = [n for n, line in enumerate(data.split(b"\n"), 1) if parse_line(line, years=years) is not None]
    fast = [c.line for c in scan.candidates(io.BytesIO(data)) if parse_line(c.text, years=years) is not None]
    assert fast == slow
    return slow

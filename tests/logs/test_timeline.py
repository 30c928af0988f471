"""The timeline tells the truth (issue 19): a link down 2 s every 5 minutes for a day
(0.7 % down) is drawn as 288 short marks, not as one solid red bar, and the page says
"0.7 % down". Checked in headless Chromium, on its screenshot's pixels."""

from __future__ import annotations

import re
import struct
import zlib
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from logs_helpers import run_linkctl
from test_logs_browser import CHROMIUM, _chromium

from linkctl.logs.report_html import percent

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)"),
]

RED = (0xD9, 0x36, 0x36)  # .down
WIDENED = (0x8A, 0x1C, 0x7C)  # .widened: drawn wider than it lasted
UP = (0xCF, 0xE8, 0xCF)  # .up: the row's background


def _day_of_short_drops(path: Path) -> None:
    """eth0 down 2 s every 5 minutes for 24 h, as e1000e logs it (288 Down/Up pairs)."""
    start, uptime, lines = datetime(2024, 3, 30, 0, 0, 0), 1000.0, []
    for i in range(288):
        down = start + timedelta(seconds=300 * i)
        up = down + timedelta(seconds=2)
        t = uptime + 300 * i
        lines.append(f"{down:%b %d %H:%M:%S} aurora kernel: [{t:.6f}] e1000e: eth0 NIC Link is Down\n")
        lines.append(
            f"{up:%b %d %H:%M:%S} aurora kernel: [{t + 2:.6f}] e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex, "
            "Flow Control: Rx/Tx\n"
        )
    path.write_text("".join(lines))


def _png_rgb(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and RGB rows of an 8-bit RGB or RGBA, non-interlaced PNG (what
    Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    height = depth = colour = interlace = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
    bpp = 3 if colour == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        prev = line
        rows.append(bytes(v for j, v in enumerate(line) if bpp == 3 or j % 4 != 3))
    return width, height, rows


def _near(px: tuple[int, ...], colour: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(px, colour, strict=True))


def row_shares(png: bytes) -> dict[str, float]:
    """In the timeline's first row (found by its background colour): the share of its
    pixels that are down-red and the share drawn in the widened style."""
    width, _, rows = _png_rgb(png)
    band = []  # (y, x range) of the pixel rows where the row's background shows
    for y, line in enumerate(rows):
        xs = [x for x in range(width) if _near(tuple(line[3 * x : 3 * x + 3]), UP, 6)]
        if len(xs) > 100:
            band.append((y, xs[0], xs[-1]))
    assert band, "no timeline row found in the screenshot"
    y0 = band[0][0]
    band = [b for b in band if b[0] - y0 < 30]  # the first row only
    x0, x1 = min(b[1] for b in band), max(b[2] for b in band)
    red = widened = total = 0
    for y, _, _ in band:
        for x in range(x0, x1 + 1):
            px = tuple(rows[y][3 * x : 3 * x + 3])
            total += 1
            red += _near(px, RED)
            widened += _near(px, WIDENED)
    return {"red": red / total, "widened": widened / total, "pixels": total}


def test_percent_keeps_small_shares_readable() -> None:
    assert percent(576 / 86102) == "0.7"
    assert percent(0.0) == "0" and percent(1.0) == "100"
    assert percent(0.00012) == "0.012"
    assert percent(0.5) == "50" and percent(0.025) == "2.5"
    assert percent(0.9996) == "99.96"  # not "100" for a link that came up at all


def test_short_drops_are_not_one_solid_bar(tmp_path: Path) -> None:
    log = tmp_path / "kern.log"
    _day_of_short_drops(log)
    page = tmp_path / "report.html"
    done = run_linkctl("logs", "analyze", str(log), "--year", "2024", "--format", "html", "-o", str(page))
    assert done.returncode == 0, done.stderr
    html = page.read_text()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)  # still self-contained

    shot = tmp_path / "timeline.png"
    done = _chromium(
        tmp_path, "--window-size=1000,900", "--virtual-time-budget=3000", f"--screenshot={shot}", page.as_uri()
    )
    assert done.returncode == 0, done.stderr[-2000:]
    shares = row_shares(shot.read_bytes())
    # 576 s down in a day: the red on the row is its true length (a 2 s drop is 1/60
    # of a pixel here); each drop shows as a 1 px mark in the widened style instead.
    assert shares["red"] < 0.05, shares
    assert shares["widened"] > 0.05, shares

    done = _chromium(tmp_path, "--virtual-time-budget=3000", "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert "0.7 % down, 288 down periods" in dom
    assert "drawn wider than it lasted" in dom
    # The closer look drew the link's first hour: 12 drops, at their true length.
    zoom = re.search(r'<svg id="zoom".*?</svg>', dom, re.S)
    assert zoom and zoom.group(0).count('class="down') == 12, zoom
    assert re.search(r'id="zoomwords">aurora/eth0, 1\.0 h shown .*: 12 down period\(s\) here', dom)

"""The terminal tables: aligned columns, one line per row, nothing a terminal would act on."""

from __future__ import annotations

import io

import pytest

from linkctl.cli.table import write_table


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_columns_line_up_on_the_widest_cell() -> None:
    out = io.StringIO()
    write_table(["IFACE", "MTU"], [["lo", "65536"], ["a-long-name", "1500"]], out)
    assert out.getvalue().splitlines() == [
        "IFACE        MTU",
        "lo           65536",
        "a-long-name  1500",
    ]


def test_wide_characters_count_as_two_cells() -> None:
    out = io.StringIO()
    write_table(["A", "B"], [["網卡", "x"], ["ab", "y"]], out)
    first, second = out.getvalue().splitlines()[1:]
    assert first == "網卡  x" and second == "ab    y"  # x and y both at cell 6: '網卡' is 4 cells wide


def test_control_characters_are_shown_escaped_not_sent_to_the_terminal() -> None:
    out = io.StringIO()
    write_table(["IFACE"], [["ev\x1b]0;pwned\x07il"], ["two\nlines"]], out)
    text = out.getvalue()
    assert "\x1b" not in text and "\x07" not in text
    assert text.splitlines() == ["IFACE", "ev\\x1b]0;pwned\\x07il", "two\\nlines"]


def test_header_is_bold_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    piped, tty = io.StringIO(), Terminal()
    write_table(["IFACE"], [["lo"]], piped)
    write_table(["IFACE"], [["lo"]], tty)
    assert piped.getvalue() == "IFACE\nlo\n"
    assert tty.getvalue() == "\x1b[1mIFACE\x1b[0m\nlo\n"
    monkeypatch.setenv("NO_COLOR", "1")
    plain = Terminal()
    write_table(["IFACE"], [["lo"]], plain)
    assert plain.getvalue() == "IFACE\nlo\n"


def test_no_rows_prints_the_header() -> None:
    out = io.StringIO()
    write_table(["netns", "link"], [], out)
    assert out.getvalue() == "netns  link\n"


def test_bridge_timers_read_in_seconds_as_the_declaration_writes_them() -> None:
    from linkctl.cli.render import link_record
    from linkctl.cli.table import _row
    from tests.helpers.states import topology

    host = topology()
    br0 = host.find("br0", None)
    assert br0 is not None
    rec = link_record(br0, host, stats=False)
    info = rec["info"]
    assert isinstance(info, dict)
    assert (info["forward_delay"], info["ageing_time"]) == (15, 300)  # the kernel's 1500 and 30000 ticks
    assert "forward_delay=15s" in _row(rec, stats=False)[-1] and "ageing_time=300s" in _row(rec, stats=False)[-1]

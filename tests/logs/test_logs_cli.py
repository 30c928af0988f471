"""The `linkctl logs` commands, run as a user runs them."""

from __future__ import annotations

import contextlib
import gzip
import json
import signal
import subprocess
import threading
from pathlib import Path

from logs_helpers import ISSUE_KEYS, LINKCTL, run_linkctl


def test_parse_jsonl_has_exactly_the_issues_keys(seed_file: Path) -> None:
    done = run_linkctl("logs", "parse", str(seed_file), "--year", "2024")
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(events) == 4
    assert all(list(e) == ISSUE_KEYS for e in events)
    assert events[0]["time"] == "2024-03-30T06:32:45"
    assert events[0]["uptime"] == 566322.86711
    assert [e["line"] for e in events] == [1, 2, 3, 4]


def test_parse_table(seed_file: Path) -> None:
    done = run_linkctl("logs", "parse", str(seed_file), "--format", "table")
    assert done.returncode == 0
    assert done.stdout.splitlines()[0].startswith("TIME")
    assert done.stdout.count("link_down") == 2


def test_parse_stdin_and_gzip(seed_file: Path, tmp_path: Path) -> None:
    done = run_linkctl("logs", "parse", "-", stdin=seed_file.read_bytes())
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 4
    gz = tmp_path / "kern.log.1.gz"
    gz.write_bytes(gzip.compress(seed_file.read_bytes()))
    done = run_linkctl("logs", "parse", str(gz), str(seed_file))
    files = [json.loads(line)["file"] for line in done.stdout.splitlines()]
    assert files == [str(gz)] * 4 + [str(seed_file)] * 4


def test_analyze_text_lists_worst_first(seed_file: Path, tmp_path: Path) -> None:
    log = tmp_path / "two.log"
    log.write_text(
        seed_file.read_text() + "Mar 30 06:40:00 aurora kernel: tg3 0000:03:00.0 eth1: Link is up at 1000 "
        "Mbps, full duplex\n"
    )
    done = run_linkctl("logs", "analyze", str(log))
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert text.index("aurora/eth0") < text.index("aurora/eth1")
    assert "FLAPPING" in text and "2.45 s" in text and "18.91 s" in text


def test_analyze_html_needs_output(seed_file: Path) -> None:
    done = run_linkctl("logs", "analyze", str(seed_file), "--format", "html")
    assert done.returncode == 1 and "needs -o" in done.stderr
    assert "Traceback" not in done.stderr


def test_errors_are_messages_not_tracebacks(tmp_path: Path) -> None:
    done = run_linkctl("logs", "parse", str(tmp_path / "missing.log"))
    assert done.returncode == 1 and "no such file" in done.stderr
    done = run_linkctl("logs", "analyze", str(tmp_path), "--since", "yesterday-ish")
    assert done.returncode == 1 and "not a time" in done.stderr
    done = run_linkctl("logs", "parse", str(tmp_path))
    assert done.returncode == 1 and "directory" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_symlink_loop_is_named_so_not_a_missing_file(tmp_path: Path) -> None:
    (tmp_path / "kern.log").symlink_to("kern.log.0")
    (tmp_path / "kern.log.0").symlink_to("kern.log")
    for command in ("parse", "analyze"):
        done = run_linkctl("logs", command, str(tmp_path / "kern.log"))
        assert done.returncode == 1
        assert done.stderr == f"linkctl: {tmp_path / 'kern.log'}: Too many levels of symbolic links\n"


def test_no_events_is_success(tmp_path: Path) -> None:
    log = tmp_path / "quiet.log"
    log.write_text("Mar 30 06:32:45 aurora sshd[1]: hello\n")
    assert run_linkctl("logs", "parse", str(log)).stdout == ""
    done = run_linkctl("logs", "analyze", str(log))
    assert done.returncode == 0 and "No link events" in done.stdout


def _modules_after(*args: str) -> tuple[str, str]:
    """stdout of `linkctl ARGS`, and whether typer was loaded by the time it ended."""
    import subprocess
    import sys

    # Said at exit, whether through the interpreter's (atexit) or around it (os._exit: the plain path).
    code = (
        "import atexit, os, sys\n"
        "say = lambda: sys.stderr.write('TYPER' if 'typer' in sys.modules else 'PLAIN')\n"
        "atexit.register(say)\n"
        "quick = os._exit\n"
        "os._exit = lambda code: (say(), sys.stderr.flush(), quick(code))\n"
        f"sys.argv = ['linkctl', *{list(args)!r}]\n"
        "from linkctl.cli.entry import run\n"
        "run()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout, done.stderr[-5:]


def test_plain_parse_skips_the_cli_library_and_prints_the_same(seed_file: Path, tmp_path: Path) -> None:
    """`logs parse FILE... [-f jsonl] [-q]` runs without typer (0.1 s less); any other form goes
    through the typer command. Both print the same events."""
    second = tmp_path / "kern.log.1"
    second.write_text(seed_file.read_text())
    plain, loaded = _modules_after("logs", "parse", "-q", "-f", "jsonl", str(second), str(seed_file))
    assert loaded == "PLAIN"
    full, loaded = _modules_after("logs", "parse", "--format", "jsonl", "--year", "2024", str(second), str(seed_file))
    assert loaded == "TYPER"
    assert plain == full.replace('"2024-', f'"{_mtime_year(seed_file)}-') and len(plain.splitlines()) == 8
    # Forms the plain path leaves to typer: an error is still said by the typer command.
    for args in (["logs", "parse", str(tmp_path / "missing")], ["logs", "parse", "-f", "table", str(seed_file)]):
        done = run_linkctl(*args)
        assert done.returncode == (1 if "missing" in args[-1] else 0), done.stderr
    assert "no such file" in run_linkctl("logs", "parse", str(tmp_path / "missing")).stderr


def _mtime_year(path: Path) -> int:
    from datetime import datetime

    return datetime.fromtimestamp(path.stat().st_mtime).year


def test_a_report_of_a_gzip_cut_short_says_it_was_read_in_part(tmp_path: Path) -> None:
    # The warning went to stderr only: the text, JSON and page said "No link events found" /
    # "0 events", as of a log with no link-down, on a kern.log.2.gz that held them past the cut.
    down = "Mar 30 06:32:45 h kernel: [ 10.0] e1000e 0000:00:19.0 eth0: NIC Link is Down\n"
    noise = "".join(f"Mar 30 06:32:46 h sshd[{i}]: {i * 7919:x} session {i * 104729:x}\n" for i in range(40000))
    data = gzip.compress((noise + down).encode())
    log = tmp_path / "kern.log.2.gz"
    log.write_bytes(data[: len(data) // 2])
    text = run_linkctl("logs", "analyze", str(log))
    assert text.returncode == 0
    assert text.stdout.splitlines() == [
        f"Read in part: {log}: compressed data ends early (Compressed file ended before the end-of-stream marker "
        "was reached); read up to there",
        "No link events found in what could be read (0 events read).",
    ]
    report = json.loads(run_linkctl("logs", "analyze", "-f", "json", str(log)).stdout)
    assert report["events"] == 0 and report["read_in_part"][0].startswith(f"{log}: compressed data ends early")
    page = tmp_path / "report.html"
    assert run_linkctl("logs", "analyze", "-f", "html", "-o", str(page), str(log)).returncode == 0
    assert f"<p class='partly'>Read in part: {log}: compressed data ends early" in page.read_text()
    whole = tmp_path / "kern.log.1.gz"
    whole.write_bytes(gzip.compress(down.encode()))
    assert "read_in_part" not in json.loads(run_linkctl("logs", "analyze", "-f", "json", str(whole)).stdout)


def test_a_report_is_not_written_over_the_log_it_reads(seed_file: Path, tmp_path: Path) -> None:
    # `logs analyze kern.log -o kern.log` (or through a link) replaced the log with its report.
    log = seed_file.read_text()
    link = tmp_path / "latest"
    link.symlink_to(seed_file)
    for output in (str(seed_file), str(link)):
        done = run_linkctl("logs", "analyze", str(seed_file), "-f", "html", "-o", output)
        assert done.returncode == 1
        assert done.stderr == (
            f"linkctl: -o {output}: is the input {seed_file}; the report would replace the log: give another FILE\n"
        )
    assert seed_file.read_text() == log


def test_a_parse_stopped_by_a_signal_says_its_output_is_partial() -> None:
    # 8 MiB of events on stdin, kept open: once the first events are out, linkctl is reading,
    # printing or waiting for the rest when SIGTERM comes. It said "nothing was changed", as an
    # apply stopped early does, of a parse whose output stopped halfway.
    down = b"Mar 30 06:32:45 h kernel: [ 10.0] e1000e 0000:00:19.0 eth0: NIC Link is Down\n"
    proc = subprocess.Popen(
        [LINKCTL, "logs", "parse", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    feed = proc.stdin

    def write() -> None:
        with contextlib.suppress(BrokenPipeError):
            feed.write(down * ((8 << 20) // len(down)))
            feed.flush()

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        assert json.loads(proc.stdout.readline())["event"] == "link_down"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 128 + signal.SIGTERM
    finally:
        proc.kill()
        writer.join(60)
        feed.close()
    assert proc.stderr.read() == (
        b"linkctl: stopped by SIGTERM: the events printed are those read before it, not the whole log's\n"
    )

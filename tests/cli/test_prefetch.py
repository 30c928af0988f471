"""cli/prefetch.py: a large declaration parsed in a forked child while the parent imports."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from linkctl.cli import prefetch
from linkctl.model import yaml_load
from tests.conftest import LINKCTL

two_cores = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="prefetch runs only with two cores or more")


def big_declaration(n: int = 600) -> str:
    lines = ["interfaces:"]
    for i in range(n):
        lines.append(f"- {{name: v{i}, type: veth, mtu: 9000, txqueuelen: 2000, state: absent, veth: {{peer: p{i}}}}}")
    # Unquoted, YAML 1.1 would read this QEMU/KVM MAC as a base-60 number: both parsers must not.
    lines.append("- {name: kvm0, type: veth, state: absent, mac-address: 52:54:00:12:34:56, veth: {peer: kvm1}}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["apply", "f.yml"], "f.yml"),
        (["plan", "--netns", "ns1", "f.yml", "--format", "json"], "f.yml"),
        (["try", "-n", "ns1", "--timeout", "5", "f.yml"], "f.yml"),
        (["apply", "--debug", "--", "-odd.yml"], "-odd.yml"),
        (["apply", "-"], None),
        (["apply", "--", "-"], None),
        (["apply", "--netns", "ns1"], None),
        (["show", "f.yml"], None),
        ([], None),
    ],
)
def test_the_file_argument_is_found_as_typer_would(argv: list[str], expected: str | None) -> None:
    assert prefetch.file_argument(argv) == expected


@two_cores
def test_the_child_parses_exactly_what_pyyaml_parses(tmp_path: Path) -> None:
    path = tmp_path / "big.yml"
    path.write_text(big_declaration())
    prefetch.start(["apply", str(path)])
    parsed, loaded = prefetch.collect(str(path), path.read_bytes())
    assert parsed
    assert loaded == yaml_load.load(path.read_text())
    assert isinstance(loaded, dict) and loaded["interfaces"][-1]["mac-address"] == "52:54:00:12:34:56"


@two_cores
def test_bytes_changed_after_the_fork_are_parsed_again_by_the_caller(tmp_path: Path) -> None:
    path = tmp_path / "big.yml"
    path.write_text(big_declaration())
    prefetch.start(["plan", str(path)])
    edited = big_declaration().replace("mtu: 9000", "mtu: 1500", 1).encode()
    assert prefetch.collect(str(path), edited) == (False, None)


@two_cores
def test_what_marshal_cannot_carry_is_left_to_the_caller(tmp_path: Path) -> None:
    path = tmp_path / "big.yml"
    path.write_text(big_declaration() + "when: 2026-11-30 10:00:00\n")  # a timestamp: a datetime
    prefetch.start(["apply", str(path)])
    assert prefetch.collect(str(path), path.read_bytes()) == (False, None)


def test_small_files_are_parsed_in_process(tmp_path: Path) -> None:
    path = tmp_path / "small.yml"
    path.write_text("interfaces: []\n")
    prefetch.start(["apply", str(path)])
    assert prefetch.collect(str(path), path.read_bytes()) == (False, None)


@two_cores
@pytest.mark.parametrize("tail", ["", "- {name: bad name, type: veth}\n", "- {name: x: y}\n"])
def test_the_command_says_the_same_with_and_without_prefetch(tmp_path: Path, tail: str) -> None:
    """Output, errors and exit codes: pinned to one CPU, linkctl parses in process."""
    path = tmp_path / "big.yml"
    path.write_text(big_declaration() + tail)
    cmd = [*LINKCTL, "plan", str(path), "--netns", "lkt-does-not-exist"]
    forked = subprocess.run(cmd, capture_output=True, text=True, check=False)
    pinned = subprocess.run(["taskset", "-c", "0", *cmd], capture_output=True, text=True, check=False)
    assert (forked.returncode, forked.stdout, forked.stderr) == (pinned.returncode, pinned.stdout, pinned.stderr)
    assert forked.returncode == (1 if tail else 0)

"""Shared fixtures: throwaway namespaces (always removed) and the linkctl command."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator

import pytest

LINKCTL = [sys.executable, "-m", "linkctl"]


def _is_root() -> bool:
    return os.geteuid() == 0


@pytest.fixture(autouse=True, scope="session")
def _receipts_in_a_scratch_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """`linkctl apply` keeps receipts (fastpath/receipt.py): the tests' go to a scratch directory, not /run."""
    before = os.environ.get("LINKCTL_RUNTIME_DIR")
    os.environ["LINKCTL_RUNTIME_DIR"] = str(tmp_path_factory.mktemp("runtime"))
    yield
    if before is None:
        os.environ.pop("LINKCTL_RUNTIME_DIR", None)
    else:
        os.environ["LINKCTL_RUNTIME_DIR"] = before


@pytest.fixture
def netns() -> Iterator[str]:
    """A fresh network namespace with a unique name, deleted after the test even if it fails."""
    if not _is_root():
        pytest.skip("needs root to create network namespaces")
    name = f"lkt-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


@pytest.fixture
def netns_factory() -> Iterator[Callable[[], str]]:
    made: list[str] = []

    def make() -> str:
        name = f"lkt-{uuid.uuid4().hex[:8]}"
        subprocess.run(["ip", "netns", "add", name], check=True)
        made.append(name)
        return name

    if not _is_root():
        pytest.skip("needs root to create network namespaces")
    try:
        yield make
    finally:
        for name in made:
            subprocess.run(["ip", "netns", "del", name], check=False)


def run_linkctl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LINKCTL, *args], capture_output=True, text=True, input=stdin, timeout=120, check=False)


def ip(*args: str) -> str:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=True).stdout


_KIND_CACHE: dict[str, bool] = {}


def kernel_can_create(kind: str) -> bool:
    if kind not in _KIND_CACHE:
        from linkctl.kernel.probe import creatable_kinds

        _KIND_CACHE[kind] = kind in creatable_kinds([kind])
    return _KIND_CACHE[kind]


def require_kind(kind: str, module: str) -> None:
    if not kernel_can_create(kind):
        pytest.skip(f"this kernel cannot create {kind} links (module {module} not available)")

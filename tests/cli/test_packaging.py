"""The built wheel, installed into a fresh venv: `linkctl --version`, the deploy files inside the
package, and units whose ExecStart= names that venv's linkctl.

The wheel is built by pip (hatchling from the package index, in pip's isolated build
environment). The fresh venv gets the wheel itself with `pip install --no-deps`; its
dependencies are lent by this venv's site-packages through a .pth line, which adds the
directory to sys.path without running this venv's own .pth files (the editable linkctl),
so every `linkctl` module imported there comes from the wheel.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(REPO)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = (work / "dist").glob("linkctl-*.whl")
    env = work / "venv"
    venv.create(env, with_pip=True)
    py = env / "bin" / "python"
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", wheel], check=True, capture_output=True, timeout=300)
    site = subprocess.run(
        [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    Path(site.stdout.strip(), "zz_deps_from_the_test_venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return env


def test_the_installed_linkctl_runs_from_the_wheel(installed: Path) -> None:
    linkctl = installed / "bin" / "linkctl"
    out = subprocess.run([linkctl, "--version"], capture_output=True, text=True, check=True)
    from linkctl import __version__

    assert out.stdout == f"linkctl {__version__}\n"
    where = subprocess.run(
        [installed / "bin" / "python", "-c", "import linkctl.data as d; print(d.__file__); print(d.directory())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert where[0].startswith(str(installed)) and where[1].startswith(str(installed))
    data = Path(where[1])
    for name in ("linkctl-apply.service", "linkctl-watch.service", "watch.yaml", "prometheus/linkctl-rules.yml"):
        assert (data / name).read_text() == (REPO / "deploy" / name).read_text(), name


def test_units_name_the_installed_program(installed: Path, tmp_path: Path) -> None:
    linkctl = installed / "bin" / "linkctl"
    subprocess.run([linkctl, "persist", "--root", tmp_path], capture_output=True, text=True, check=True)
    subprocess.run([linkctl, "watch", "--install-unit", "--root", tmp_path], capture_output=True, check=True)
    units = tmp_path / "etc" / "systemd" / "system"
    apply_unit = (units / "linkctl-apply.service").read_text()
    watch_unit = (units / "linkctl-watch.service").read_text()
    assert f"\nExecStart={linkctl} boot-apply --dir /etc/linkctl\n" in apply_unit
    assert f"\nExecStart={linkctl} watch --config /etc/linkctl/watch.yaml\n" in watch_unit
    assert "/usr/local/bin" not in apply_unit + watch_unit

"""The deploy files shipped inside the package: systemd units, watch.yaml, Prometheus rules.

The wheel carries the repository's deploy/ folder here as package data (pyproject.toml,
`[tool.hatch.build.targets.wheel.force-include]`), so `pip install` / `pipx install` of the
wheel has them: `linkctl persist` and `linkctl watch --install-unit` read their units from
here. In a source checkout (the editable install of scripts/setup.sh) deploy/ itself is read.
"""

from __future__ import annotations

from pathlib import Path

from linkctl.errors import LinkctlError

_HERE = Path(__file__).resolve().parent
_CHECKOUT = _HERE.parents[2] / "deploy"  # src/linkctl/data -> the repository's deploy/


class MissingDataError(LinkctlError):
    pass


def directory() -> Path:
    """Where the deploy files are: inside the installed package, else the checkout's deploy/."""
    if (_HERE / "linkctl-apply.service").is_file():
        return _HERE
    if (_CHECKOUT / "linkctl-apply.service").is_file():
        return _CHECKOUT
    raise MissingDataError(f"linkctl's deploy files are missing (neither {_HERE} nor {_CHECKOUT}): reinstall linkctl")


def path(name: str) -> Path:
    """One deploy file by its name under deploy/, e.g. `linkctl-watch.service`, `prometheus/linkctl-rules.yml`."""
    found = directory() / name
    if not found.is_file():
        raise MissingDataError(f"{name}: not among linkctl's deploy files ({directory()})")
    return found


def read(name: str) -> str:
    return path(name).read_text(encoding="utf-8")

"""The base of every part of the declarative format."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


def _kebab(name: str) -> str:
    return name.replace("_", "-")


class Section(BaseModel):
    """Every part of the format: kebab-case keys, unknown keys refused.

    Validators are built on first use (defer_build): a file is validated as a
    whole Declaration, whose one validator holds every section, so the ~20
    section models need none of their own at import (pydantic's documented use
    of the option; 10-14 % of `apply`'s import-and-validate time here).
    """

    model_config = ConfigDict(
        extra="forbid", alias_generator=_kebab, populate_by_name=True, frozen=True, defer_build=True
    )

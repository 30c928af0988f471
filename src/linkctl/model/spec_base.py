"""The base of every part of the declarative format."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


def _kebab(name: str) -> str:
    return name.replace("_", "-")


class Section(BaseModel):
    """Every part of the format: kebab-case keys, unknown keys refused.

    Validators are built on first use (defer_build): a file is validated as a
    whole Declaration, whose one validator holds every section, and `show`
    (table, json) validates nothing. Import and first validation cost the same
    instructions either way (584 vs 588 M, callgrind); the import alone, which
    is all `show` needs of the models, 430 vs 531 M.
    """

    model_config = ConfigDict(
        extra="forbid", alias_generator=_kebab, populate_by_name=True, frozen=True, defer_build=True
    )

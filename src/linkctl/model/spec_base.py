"""The base of every part of the declarative format."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


def _kebab(name: str) -> str:
    return name.replace("_", "-")


class Section(BaseModel):
    """Every part of the format: kebab-case keys, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", alias_generator=_kebab, populate_by_name=True, frozen=True)

"""The base of every part of the declarative format."""

from __future__ import annotations

from enum import StrEnum

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


def other_name(data: object, other: str, name: str) -> object:
    """A mapping with nmstate's other name for a key (`ports` for `port`) read as the key itself.

    Both at once are refused: which list would win is not for linkctl to guess.
    """
    if not isinstance(data, dict) or other not in data:
        return data
    if name in data:
        raise ValueError(f"{name} and {other} are one setting ({other} is nmstate's other name for it): give one")
    return {(name if k == other else k): v for k, v in data.items()}


class NumberedEnum(StrEnum):
    """An enum nmstate also reads as the kernel's number for it (`mode: 1`, `lacp_rate: 0`).

    The members are listed in the kernel's order, so a number is a member's position.
    """

    @classmethod
    def _missing_(cls, value: object) -> NumberedEnum | None:
        index = value if isinstance(value, int) and not isinstance(value, bool) else None
        if isinstance(value, str) and value.isdigit():
            index = int(value)
        members = list(cls)
        return members[index] if index is not None and 0 <= index < len(members) else None

"""The ethernet section's duplex: the one Duplex of domain/events, of which a declaration may set two."""

from __future__ import annotations

import pytest

from linkctl.domain.events import Duplex
from linkctl.errors import ValidationFailed
from linkctl.model.load import parse_text


def duplex_of(value: str) -> Duplex | None:
    decl = parse_text(f"interfaces: [{{name: eth9, type: ethernet, ethernet: {{duplex: {value}}}}}]", "f.yml")
    ethernet = decl.interfaces[0].ethernet
    assert ethernet is not None
    return ethernet.duplex


@pytest.mark.parametrize("value", ["full", "half"])
def test_full_and_half_are_settings(value: str) -> None:
    assert duplex_of(value) is Duplex(value)


def test_unknown_is_refused_naming_the_field_the_value_and_the_fix() -> None:
    with pytest.raises(ValidationFailed) as err:
        duplex_of("unknown")
    assert (
        "interface eth9: ethernet.duplex: 'unknown': what a driver reports when it cannot tell, not a setting: "
        "declare full or half, or leave duplex out to keep the link's"
    ) in str(err.value)


def test_another_word_gets_the_words_it_always_got() -> None:
    with pytest.raises(ValidationFailed) as err:
        duplex_of("quarter")
    assert "interface eth9: ethernet.duplex: 'quarter': Input should be 'full' or 'half'" in str(err.value)

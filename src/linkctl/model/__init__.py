"""The pure model: declarations, current state, validation, diff and plan. No I/O here."""

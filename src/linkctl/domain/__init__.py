"""Types every package shares: the bottom layer, importing nothing else of linkctl."""

from __future__ import annotations

from logs_helpers import seed_file

__all__ = ["seed_file"]

#!/usr/bin/env bash
# Set up, then run the linters, the import contracts and the whole test suite (needs root for the kernel tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy
.venv/bin/lint-imports --no-cache --no-logo  # the layers of pyproject.toml (README, "Layout")
exec .venv/bin/pytest -q -p no:cacheprovider "$@"

#!/usr/bin/env bash
# Set up, then run the linters and the whole test suite (needs root for the kernel tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
# Lint findings are printed and counted in the summary; they do not hide the test results.
.venv/bin/ruff check src tests bench || echo "lint: ruff reported findings (above)"
.venv/bin/mypy || echo "lint: mypy reported findings (above)"
exec .venv/bin/pytest -q -p no:cacheprovider "$@"

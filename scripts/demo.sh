#!/usr/bin/env bash
# Set up, then run the demonstration (throwaway network namespaces only; needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec bash demo/run.sh

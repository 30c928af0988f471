# Sourced by the repro scripts: a private runtime dir, linkctl of this worktree, throwaway namespaces.
set -u
WT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
LINKCTL="$WT/.venv/bin/linkctl"
RT=$(mktemp -d); chmod 700 "$RT"
export LINKCTL_RUNTIME_DIR="$RT" PYTHONDONTWRITEBYTECODE=1
NSES=()
mkns() { ip netns add "$1"; NSES+=("$1"); }
cleanup() { for n in "${NSES[@]}"; do ip netns del "$n" 2>/dev/null; done; rm -rf "$RT"; }
trap cleanup EXIT
lk() { "$LINKCTL" "$@"; }

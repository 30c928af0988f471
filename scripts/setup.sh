#!/usr/bin/env bash
# Create .venv in the repository root with linkctl (editable) and its development tools,
# and install the system programs the tests drive for real. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v ip >/dev/null || need+=(iproute2)
command -v ethtool >/dev/null || need+=(ethtool)
if [ "${1:-}" = "--test" ]; then
  command -v chromium >/dev/null || need+=(chromium)
  command -v tmux >/dev/null || need+=(tmux)
  command -v promtool >/dev/null || need+=(prometheus)
  command -v prometheus-alertmanager >/dev/null || [ -x /usr/bin/alertmanager ] || need+=(prometheus-alertmanager)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  # The dashboard's node_exporter panels, and the zsh and fish completion scripts, are run for real.
  command -v prometheus-node-exporter >/dev/null || need+=(prometheus-node-exporter)
  command -v zsh >/dev/null || need+=(zsh)
  command -v fish >/dev/null || need+=(fish)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Debian starts these services on install; the tests start their own on free ports.
  for svc in prometheus prometheus-alertmanager prometheus-node-exporter postgresql; do
    systemctl stop "$svc" >/dev/null 2>&1 || true
  done
fi

# The interpreter: the distribution's python3 when it is 3.11 or newer. Debian builds it with
# profile-guided and link-time optimisation and links libpython in; a Python built from source
# with default options (pyenv's, say: no PGO, a shared libpython) ran linkctl 19% slower here
# (bench/apply_veth.py 1000: 1.27 s against 1.57 s, same run). LINKCTL_PYTHON overrides the choice.
pick_python() {
  local py
  for py in ${LINKCTL_PYTHON:-} /usr/bin/python3 python3; do
    if "$py" -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$py"
      return
    fi
  done
  echo "setup: no Python 3.11 or newer with venv and ensurepip (Debian: apt-get install python3-venv)" >&2
  exit 1
}
if [ ! -x .venv/bin/python ]; then
  python=$(pick_python)
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q -e '.[dev]' 2>&1 | grep -v '^WARNING: Location' || true
# Bytecode now, even where PYTHONDONTWRITEBYTECODE is set: every command starts faster.
.venv/bin/python -m compileall -q src >/dev/null
.venv/bin/linkctl --help >/dev/null
echo "setup: .venv ready ($(.venv/bin/python --version))"

#!/usr/bin/env bash
# The linkctl demonstration: everything happens in a throwaway network namespace.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
linkctl=${LINKCTL:-$here/../.venv/bin/linkctl}
ns="linkctl-demo-$$"
cleanup() { ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT
# Bold headings on a terminal only: a log file or CI keeps plain text.
if [ -t 1 ]; then BOLD=$'\033[1m' PLAIN=$'\033[0m'; else BOLD='' PLAIN=''; fi
step() { printf '\n%s== %s%s\n' "$BOLD" "$*" "$PLAIN"; }
run() { printf '$ %s\n' "$*"; "$@"; }

ip netns add "$ns"
step "1. Apply a bridge-and-veth topology (with a VXLAN, a macvlan, an address and a route) in netns $ns"
run "$linkctl" apply "$here/topology.yml" --netns "$ns"
run "$linkctl" show --netns "$ns"

step "2. Apply it again: nothing differs, nothing is sent"
run "$linkctl" apply "$here/topology.yml" --netns "$ns"

step "3. Plan a change (exit code 2: changes pending), then apply it"
set +e; "$linkctl" plan "$here/change.yml" --netns "$ns"; rc=$?; set -e
echo "plan exit code: $rc"
run "$linkctl" apply "$here/change.yml" --netns "$ns"

step "4. A declaration with mistakes is refused before any change"
cat > "/tmp/$ns-typo.yml" <<YML
interfaces:
- {name: this-name-is-too-long, type: veth, veth: {peer: p0}}
- {name: veth1, mac-address: "01:00:5e:00:00:01", mtu: 40}
YML
set +e; "$linkctl" plan "/tmp/$ns-typo.yml" --netns "$ns"; echo "exit code: $?"; set -e
rm -f "/tmp/$ns-typo.yml"
set +e; "$linkctl" plan "$here/bad.yml" --netns "$ns"; echo "exit code: $?"; set -e

step "5. A change the kernel refuses half-way is rolled back"
"$linkctl" show --netns "$ns" --format yaml > "/tmp/$ns-before.yml"
set +e; "$linkctl" apply "$here/failing.yml" --netns "$ns"; echo "exit code: $?"; set -e
"$linkctl" show --netns "$ns" --format yaml > "/tmp/$ns-after.yml"
if diff -u "/tmp/$ns-before.yml" "/tmp/$ns-after.yml"; then echo "state after rollback: identical to before"; fi
rm -f "/tmp/$ns-before.yml" "/tmp/$ns-after.yml"

step "6. Rehearse the same change in a throwaway copy: the host is not touched"
set +e; "$linkctl" plan "$here/failing.yml" --netns "$ns" --rehearse; echo "exit code: $?"; set -e

step "7. try: a change applied, not confirmed within 3 s, rolled back"
cat > "/tmp/$ns-try.yml" <<YML
interfaces:
- {name: veth1, txqueuelen: 3000}
YML
set +e; "$linkctl" try "/tmp/$ns-try.yml" --netns "$ns" --timeout 3 </dev/null; echo "exit code: $?"; set -e
rm -f "/tmp/$ns-try.yml"
run "$linkctl" show veth1 --netns "$ns" --format json

step "8. Audit: a port left in promiscuous mode and a link without carrier are found"
ip -n "$ns" link set dev veth0 promisc on
ip -n "$ns" link set dev veth1-p down
set +e; "$linkctl" audit --netns "$ns" --interval 0.2; echo "exit code: $?"; set -e

step "9. Watch: flap a link, the watcher records every transition and detects the flapping"
db="/tmp/$ns-events.db"
"$linkctl" watch --netns "$ns" --store "sqlite://$db" --listen "" > "/tmp/$ns-watch.out" 2>&1 &
watcher=$!
sleep 2
for _ in 1 2 3 4 5 6; do ip -n "$ns" link set dev veth1-p up; ip -n "$ns" link set dev veth1-p down; done
sleep 2
kill -TERM "$watcher"; wait "$watcher" || true
head -n 8 "/tmp/$ns-watch.out"
run "$linkctl" status --store "sqlite://$db"
rm -f "$db" "$db"-wal "$db"-shm "/tmp/$ns-watch.out"

step "10. Kernel logs: the seeds' e1000e lines become down periods and a verdict"
run "$linkctl" logs analyze "$here/e1000e-flap.log" --year 2025

step "11. Clean up: delete the namespace"
cleanup
echo "done: netns $ns removed"

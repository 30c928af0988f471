#!/bin/bash
# `try --timeout inf` (or 1e300) is not refused: the change is made, "confirm within inf s" is said,
# then `try` and its guardian both die of an OverflowError ("internal error ... please report"):
# the change stays, unconfirmed, with nobody left to roll it back, and the message does not say so.
source "$(dirname "$0")/common.sh"
NS=lkrv-t1; mkns $NS
D=$(mktemp -d); trap 'cleanup; rm -rf $D' EXIT
printf 'interfaces:\n- {name: rv0, type: veth, state: up, mtu: 1500, veth: {peer: rp0}}\n- {name: rp0, type: veth, state: up, mtu: 1500}\n' > $D/x.yml
printf 'interfaces:\n- {name: rv0, type: veth, state: up, mtu: 9000, veth: {peer: rp0}}\n- {name: rp0, type: veth, state: up, mtu: 9000}\n' > $D/y.yml
lk apply $D/x.yml -n $NS >/dev/null
for t in inf 1e300; do
  echo "=== try --timeout $t"
  lk try $D/y.yml -n $NS --timeout $t </dev/null; echo "exit $?"
  sleep 2
  echo "mtu now: $(ip -n $NS link show rv0 | grep -o 'mtu [0-9]*')"
  echo "journal left: $(ls $RT | grep -c '^change.journal$'); try/guardian processes: $(pgrep -fc 'linkctl try' || true)"
  lk recover; lk apply $D/x.yml -n $NS >/dev/null
done
echo "=== --wait inf / nan (before any change)"
lk apply $D/y.yml -n $NS --wait inf; echo "exit $?"
lk apply $D/y.yml -n $NS --wait nan; echo "exit $?"

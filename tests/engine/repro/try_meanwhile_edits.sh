#!/bin/bash
# While `try` holds a change (veth pair rv0/rp0 mtu 1500 -> 9000), someone else edits the links with
# `ip`; then the deadline rolls back. What does it say, and what does the kernel show? (These held:
# each rollback put the pair back as before, and named a pair made meanwhile as left alone.)
source "$(dirname "$0")/common.sh"
D=$(mktemp -d); trap 'cleanup; rm -rf $D' EXIT
printf 'interfaces:\n- {name: rv0, type: veth, state: up, mtu: 1500, veth: {peer: rp0}}\n- {name: rp0, type: veth, state: up, mtu: 1500}\n' > $D/x.yml
printf 'interfaces:\n- {name: rv0, type: veth, state: up, mtu: 9000, veth: {peer: rp0}}\n- {name: rp0, type: veth, state: up, mtu: 9000}\n' > $D/y.yml
i=0
for edit in "link set rv0 down; ip -n NS link set rv0 name rw0" "link del rv0" "link set rv0 mtu 4000" "link set rv0 netns lkrv-eT" "link add rv1 type veth peer name rp1" "link set rp0 down; ip -n NS link set rp0 name zz0"; do
  i=$((i+1)); NS=lkrv-e$i; mkns $NS; ip netns add lkrv-eT 2>/dev/null; NSES+=(lkrv-eT)
  lk apply $D/x.yml -n $NS >/dev/null
  "$LINKCTL" try $D/y.yml -n $NS --timeout 2 </dev/null >$D/try.out 2>&1 &
  P=$!
  for j in $(seq 100); do grep -q "confirm within" $D/try.out && break; sleep 0.05; done
  echo "=== meanwhile: ip -n $NS ${edit//NS/$NS}"
  eval "ip -n $NS ${edit//NS/$NS}"
  wait $P; echo "try exit $?"; grep -v '^\s*\$\|^  [0-9]\|change(s):$' $D/try.out
  echo "kernel: $(ip -n $NS -br link | grep -v '^lo' | awk '{print $1}' | tr '\n' ' ') mtus: $(ip -n $NS -o link | grep -o '^[0-9]*: [^:]*\|mtu [0-9]*' | paste -sd' ')"
  ls $RT | grep -q '^change.journal$' && echo "journal kept"
  rm -f $RT/change.journal
done

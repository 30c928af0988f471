#!/bin/bash
# A plain `apply FILE` answered from its receipt ignores the change lock and the journal: while a
# `linkctl try` holds a change (and will roll it back at its deadline), `apply` of the very file
# says "no changes ... already as declared" and exits 0; then the try's deadline undoes it.
source "$(dirname "$0")/common.sh"
NS=lkrv-r1; mkns $NS
D=$(mktemp -d)
printf 'interfaces:\n- {name: rv0, type: veth, state: up, mtu: 1500, veth: {peer: rp0}}\n- {name: rp0, type: veth, state: up, mtu: 1500}\n' > $D/x.yml
printf 'interfaces:\n- {name: rv0, type: veth, state: up, mtu: 9000, veth: {peer: rp0}}\n- {name: rp0, type: veth, state: up, mtu: 9000}\n' > $D/y.yml
lk apply $D/y.yml -n $NS >/dev/null          # leaves a receipt for y.yml
lk apply $D/x.yml -n $NS >/dev/null          # back to 1500
lk try $D/y.yml -n $NS --timeout 6 </dev/null >$D/try.out 2>&1 &
TRY=$!
for i in $(seq 50); do grep -q "confirm within" $D/try.out && break; sleep 0.2; done
echo "--- second operator: linkctl apply y.yml while the try holds it"
lk apply $D/y.yml -n $NS; echo "exit $?"
echo "--- the same with --wait 0 (typer path, no receipt):"
lk apply $D/y.yml -n $NS --wait 0; echo "exit $?"
wait $TRY; echo "--- try exit $?"; cat $D/try.out
echo "--- kernel now (the apply above said y.yml is applied):"
ip -n $NS -br link show rv0; ip -n $NS -d link show rv0 | grep -o 'mtu [0-9]*'
echo "--- and apply y.yml once more:"
lk apply $D/y.yml -n $NS; echo "exit $?"
rm -rf $D

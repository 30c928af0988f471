#!/bin/bash
# While `try` holds y.yml, `plan y.yml` says the try was "cut off half-way (killed?)", finds nothing to
# do and leaves a receipt; `apply y.yml` is then answered from it ("no changes", exit 0), lock or not.
source "$(dirname "$0")/common.sh"
NS=lkrv-pt; mkns $NS
D=$(mktemp -d); trap 'cleanup; rm -rf $D' EXIT
printf 'interfaces:\n- {name: rv0, type: veth, state: up, mtu: 1500, veth: {peer: rp0}}\n- {name: rp0, type: veth, state: up, mtu: 1500}\n' > $D/x.yml
printf 'interfaces:\n- {name: rv0, type: veth, state: up, mtu: 9000, veth: {peer: rp0}}\n- {name: rp0, type: veth, state: up, mtu: 9000}\n' > $D/y.yml
lk apply $D/x.yml -n $NS >/dev/null
"$LINKCTL" try $D/y.yml -n $NS --timeout 4 </dev/null >$D/try.out 2>&1 &
P=$!
for i in $(seq 100); do grep -q "confirm within" $D/try.out && break; sleep 0.05; done
echo "--- plan y.yml while the try (pid $P) holds it:"; lk plan $D/y.yml -n $NS; echo "plan exit $?"
echo "--- apply y.yml:"; lk apply $D/y.yml -n $NS; echo "apply exit $?"
wait $P; echo "try exit $? ; mtu now $(ip -n $NS link show rv0 | grep -o 'mtu [0-9]*')"

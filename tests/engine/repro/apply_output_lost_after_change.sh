#!/bin/bash
# `linkctl apply FILE | head -1`: the change is made and verified, then writing "applied and verified"
# fails (EPIPE): linkctl says "internal error: BrokenPipeError ... please report this" and exits 1,
# which the README's table reads as "refused before any change, or failed and rolled back (checked)".
# The change stays. (With stdout closed or /dev/full the plan's own echo fails first, inside the
# change: that one is rolled back, as "internal error: ... rolled back: 0 change(s) undone".)
source "$(dirname "$0")/common.sh"
NS=lkrv-o1; mkns $NS
D=$(mktemp -d); trap 'cleanup; rm -rf $D' EXIT
printf 'interfaces:\n- {name: rv0, type: veth, state: up, mtu: 1500, veth: {peer: rp0}}\n- {name: rp0, type: veth, state: up, mtu: 1500}\n' > $D/x.yml
printf 'interfaces:\n- {name: rv0, type: veth, state: up, mtu: 9000, veth: {peer: rp0}}\n- {name: rp0, type: veth, state: up, mtu: 9000}\n' > $D/y.yml
lk apply $D/x.yml -n $NS >/dev/null
lk apply $D/y.yml -n $NS | head -1; echo "apply exit ${PIPESTATUS[0]}"
echo "mtu now: $(ip -n $NS link show rv0 | grep -o 'mtu [0-9]*')"
lk apply $D/x.yml -n $NS >/dev/null
echo "--- stdout closed:"; lk apply $D/y.yml -n $NS >&-; echo "apply exit $?"
echo "mtu now: $(ip -n $NS link show rv0 | grep -o 'mtu [0-9]*')"

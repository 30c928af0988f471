#!/bin/bash
# A veth v0 in netns A whose peer p0 lives in netns C, where p0 is a bridge port, up, with its own MTU
# and txqueuelen. The file (for A) deletes v0 (which deletes p0 too); `try` rolls it back at its
# deadline and says "checked: ... as they were before". What about p0 in C?
source "$(dirname "$0")/common.sh"
A=lkrv-pa; C=lkrv-pc; mkns $A; mkns $C
D=$(mktemp -d); trap 'cleanup; rm -rf $D' EXIT
ip -n $A link add v0 type veth peer name p0 netns $C
ip -n $C link add br0 type bridge
ip -n $C link set p0 mtu 1400 txqueuelen 77 master br0 up
ip -n $C link set br0 up
ip -n $A link set v0 up
echo "before:"; ip -n $C -o link show p0 | sed 's/link\/ether.*//'
printf 'interfaces:\n- {name: v0, type: veth, state: absent}\n' > $D/del.yml
lk try $D/del.yml -n $A --timeout 1 </dev/null; echo "try exit $?"
echo "after the rollback:"; ip -n $C -o link show p0 | sed 's/link\/ether.*//'; ip -n $A -o link show v0 | sed 's/link\/ether.*//'
sleep 2
echo "journal left: $(ls $RT)"; cat $RT/try-outcome.json 2>/dev/null; echo
echo "--- recover:"; lk recover; echo "recover exit $?"
ip -n $C -o link show p0 | sed 's/link\/ether.*//'; ip -n $A -o link show v0 | sed 's/link\/ether.*//'

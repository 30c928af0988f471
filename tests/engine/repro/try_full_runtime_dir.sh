#!/bin/bash
# `try` on a runtime directory with room for the journal but not for its rewrite: the deadline's
# journal.update fails after the change is made. What does `try` say, and what happens to the links?
source "$(dirname "$0")/common.sh"
NS=lkrv-f1; mkns $NS
D=$(mktemp -d)
mount -t tmpfs -o size=64k,mode=0700 tmpfs "$RT"
trap 'umount "$RT"; cleanup; rm -rf $D' EXIT
printf 'interfaces:\n- {name: rv0, type: veth, state: up, mtu: 1500, veth: {peer: rp0}}\n- {name: rp0, type: veth, state: up, mtu: 1500}\n' > $D/x.yml
printf 'interfaces:\n- {name: rv0, type: veth, state: up, mtu: 9000, veth: {peer: rp0}}\n- {name: rp0, type: veth, state: up, mtu: 9000}\n' > $D/y.yml
LINKCTL_RECEIPTS=off lk apply $D/x.yml -n $NS >/dev/null
ls -la $RT; df -B4096 $RT | tail -1
FREE=$(df -B4096 --output=avail $RT | tail -1)
dd if=/dev/zero of=$RT/fill bs=4096 count=$((FREE-1)) 2>/dev/null   # one page left: the journal fits once
df -B4096 $RT | tail -1
echo "--- try y.yml (timeout 5)"
LINKCTL_RECEIPTS=off lk try $D/y.yml -n $NS --timeout 5 </dev/null; echo "try exit $?"
echo "--- right after try ended: mtu"; ip -n $NS -d link show rv0 | grep -o 'mtu [0-9]*' | head -1
ls -la $RT
echo "--- plan/apply now:"; LINKCTL_RECEIPTS=off lk apply $D/x.yml -n $NS; echo "exit $?"
sleep 7
echo "--- 7 s later: mtu"; ip -n $NS -d link show rv0 | grep -o 'mtu [0-9]*' | head -1
ls -la $RT; cat $RT/try-outcome.json 2>/dev/null; echo
dmesg | grep 'linkctl\[' | tail -2

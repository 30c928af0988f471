#!/bin/bash
# `apply` with a full runtime directory: the journal cannot be written before the first change.
source "$(dirname "$0")/common.sh"
NS=lkrv-f2; mkns $NS
D=$(mktemp -d)
mount -t tmpfs -o size=64k,mode=0700 tmpfs "$RT"
trap 'umount "$RT"; cleanup; rm -rf $D' EXIT
printf 'interfaces:\n- {name: rv0, type: veth, state: up, mtu: 1500, veth: {peer: rp0}}\n- {name: rp0, type: veth, state: up, mtu: 1500}\n' > $D/x.yml
printf 'interfaces:\n- {name: rv0, type: veth, state: up, mtu: 9000, veth: {peer: rp0}}\n- {name: rp0, type: veth, state: up, mtu: 9000}\n' > $D/y.yml
lk apply $D/x.yml -n $NS >/dev/null
FREE=$(df -B4096 --output=avail $RT | tail -1)
dd if=/dev/zero of=$RT/fill bs=4096 count=$((FREE)) 2>/dev/null
df -B4096 $RT | tail -1
echo "--- apply y.yml"; lk apply $D/y.yml -n $NS; echo "exit $?"
ip -n $NS -d link show rv0 | grep -o 'mtu [0-9]*' | head -1
echo "--- try y.yml"; lk try $D/y.yml -n $NS --timeout 3 </dev/null; echo "exit $?"
ip -n $NS -d link show rv0 | grep -o 'mtu [0-9]*' | head -1
ls -la $RT

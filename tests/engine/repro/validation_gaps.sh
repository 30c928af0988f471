#!/bin/bash
# Declarations the kernel refuses at step N (after 50 links were made), not refused before the first
# change: rolled back and checked every time, but the message names no field and no fix.
# And one refusal whose fix cannot be carried out (an MTU above 65535).
source "$(dirname "$0")/common.sh"
D=$(mktemp -d); trap 'cleanup; rm -rf $D' EXIT
pre() { echo 'interfaces:'; for i in $(seq 0 49); do echo "- {name: q$i, type: veth, state: up, veth: {peer: r$i}}"; done; }
{ pre; echo "- {name: br0, type: linux-bridge, state: up, bridge: {port: [{name: lo}]}}"; } > $D/lo_as_a_bridge_port.yml
{ pre; echo "- {name: b0, type: veth, state: up, veth: {peer: c0}}"; echo "- {name: m1, type: mac-vlan, mac-vlan: {base-iface: b0, mode: passthru}}"; echo "- {name: m2, type: mac-vlan, mac-vlan: {base-iface: b0, mode: passthru}}"; } > $D/two_passthru_on_one_base.yml
{ pre; echo "- {name: b0, type: veth, state: up, veth: {peer: c0}}"; echo "- {name: mt, type: mac-vtap, mac-vtap: {base-iface: b0, mode: bridge}}"; echo "- {name: m1, type: mac-vlan, mac-vlan: {base-iface: mt, mode: bridge}}"; } > $D/macvlan_on_a_macvtap.yml
{ pre; echo "- {name: b0, type: veth, state: up, mtu: 65535, veth: {peer: c0}}"; echo "- {name: br0, type: linux-bridge, state: up, mtu: 65535, bridge: {port: [{name: b0}]}}"; echo "- {name: vx, type: vxlan, mtu: 65535, vxlan: {id: 9, base-iface: br0, remote: 192.0.2.1}}"; } > $D/vxlan_at_65535.yml
i=0
for f in $D/*.yml; do
  i=$((i+1)); NS=lkrv-v$i; mkns $NS
  echo "=== $(basename $f)"
  lk apply $f -n $NS 2>&1 | grep -v '^\s*\$\|^  [0-9]*\. create [qr]\|^[0-9]* change' | cut -c1-300
  echo "exit ${PIPESTATUS[0]}; links left: $(ip -n $NS -o link | wc -l)"
done

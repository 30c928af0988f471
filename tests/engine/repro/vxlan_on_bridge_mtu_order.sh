#!/bin/bash
# A valid declaration that apply cannot carry out: a new bridge (mtu 9000) whose port's MTU goes
# 1500 -> 9000, and a VXLAN (mtu 8950) on that bridge. The VXLAN is created while the bridge still
# follows its 1500 port, the kernel clamps it to 1450, verification fails, everything is rolled back.
source "$(dirname "$0")/common.sh"
NS=lkrv-x1; mkns $NS
D=$(mktemp -d); trap 'cleanup; rm -rf $D' EXIT
printf 'interfaces:\n- {name: v5, type: veth, state: up, mtu: 1500, veth: {peer: p5}}\n- {name: p5, type: veth, state: up, mtu: 1500}\n' > $D/before.yml
cat > $D/change.yml <<'Y'
interfaces:
- {name: br1, type: linux-bridge, state: up, mtu: 9000, bridge: {options: {stp: {enabled: false}}, port: [{name: v5}]}}
- {name: v5, type: veth, state: up, mtu: 9000, veth: {peer: p5}}
- {name: p5, type: veth, state: up, mtu: 9000}
- {name: vx9, type: vxlan, state: up, mtu: 8950, vxlan: {id: 9, base-iface: br1, remote: 192.0.2.9, destination-port: 4789}}
Y
lk apply $D/before.yml -n $NS >/dev/null
lk plan $D/change.yml -n $NS | grep -v '^\s*\$'
echo "--- apply"; lk apply $D/change.yml -n $NS; echo "exit $?"
echo "--- the same by hand, in the order a person would:"
ip -n $NS link add br1 mtu 9000 type bridge && ip -n $NS link set v5 mtu 9000 && ip -n $NS link set p5 mtu 9000 && ip -n $NS link set v5 master br1 \
 && ip -n $NS link add vx9 mtu 8950 type vxlan id 9 dev br1 remote 192.0.2.9 dstport 4789 && ip -n $NS -br link show vx9 && ip -n $NS link show vx9 | grep -o 'mtu [0-9]*'

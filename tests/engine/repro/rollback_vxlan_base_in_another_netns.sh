#!/bin/bash
# A VXLAN made on v0 in netns A, then moved to netns C (its base stays in A, as `ip -d link` shows:
# link-netns A, vx7@ifN). The file for C deletes it; `try` rolls back at its deadline and says
# "rolled back ... checked: ... as they were before": the VXLAN comes back without its base device.
source "$(dirname "$0")/common.sh"
A=lkrv-va; C=lkrv-vc; mkns $A; mkns $C
D=$(mktemp -d); trap 'cleanup; rm -rf $D' EXIT
ip -n $A link add v0 type veth peer name p0
ip -n $A addr add 192.0.2.1/24 dev v0; ip -n $A link set v0 up
ip -n $A link add vx7 type vxlan id 7 dev v0 remote 192.0.2.7 dstport 4789
ip -n $A link set vx7 netns $C
echo "before:"; ip -n $C -d link show vx7 | grep -o 'vx7@[a-z0-9]*\|link-netns [a-z-]*\|vxlan id.*' | tr '\n' ' '; echo
printf 'interfaces:\n- {name: vx7, state: absent}\n' > $D/del.yml
lk try $D/del.yml -n $C --timeout 1 </dev/null 2>&1 | grep -v '^\s*\$'; echo "try exit ${PIPESTATUS[0]}"
echo "after:"; ip -n $C -d link show vx7 | grep -o 'vx7@[a-z0-9]*\|vx7:\|link-netns [a-z-]*\|vxlan id.*' | tr '\n' ' '; echo

#!/bin/bash
# A veth pair whose names are not UTF-8 (the kernel takes any bytes but '/', ':', white space):
# linkctl reads them as U+FFFD. A file deletes the pair (by that name, as `show -f yaml` prints it);
# `try` rolls back at its deadline, says "checked: ... as they were before", and the pair comes back
# under other names (U+FFFD's UTF-8 bytes), which read the same to linkctl's check.
source "$(dirname "$0")/common.sh"
NS=lkrv-u8; mkns $NS
D=$(mktemp -d); trap 'cleanup; rm -rf $D' EXIT
ip -n $NS link add $'v\xff' type veth peer name $'p\xfe'
echo "before: $(ip netns exec $NS ls /sys/class/net | od -An -c | tr -s ' \n' ' ')"
lk show -n $NS -f yaml | grep 'name:'
printf 'interfaces:\n- {name: "v\\uFFFD", type: veth, state: absent}\n' > $D/del.yml
lk try $D/del.yml -n $NS --timeout 1 </dev/null 2>&1 | grep -v '^\s*\$'; echo "try exit ${PIPESTATUS[0]}"
echo "after:  $(ip netns exec $NS ls /sys/class/net | od -An -c | tr -s ' \n' ' ')"

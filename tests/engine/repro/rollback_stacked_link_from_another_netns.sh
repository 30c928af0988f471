#!/bin/bash
# A macvlan (and a VXLAN) made on a base in netns A, then moved to netns C: its base is in another
# namespace. The file for C deletes it; `try` rolls back at its deadline. Can the rollback make it again?
source "$(dirname "$0")/common.sh"
A=lkrv-sa; C=lkrv-sc; mkns $A; mkns $C
D=$(mktemp -d); trap 'cleanup; rm -rf $D' EXIT
ip -n $A link add v0 type veth peer name p0
ip -n $A link add m0 link v0 type macvlan mode bridge
ip -n $A link set m0 netns $C
ip -n $A addr add 192.0.2.1/24 dev v0; ip -n $A link set v0 up
ip -n $A link add vx7 type vxlan id 7 dev v0 remote 192.0.2.7 dstport 4789
ip -n $A link set vx7 netns $C
ip -n $C -d -o link | sed 's/link\/ether.\{40\}//' | cut -c1-200
for n in m0 vx7; do
  printf 'interfaces:\n- {name: %s, state: absent}\n' $n > $D/del.yml
  echo "=== try: $n absent (netns C)"
  lk try $D/del.yml -n $C --timeout 1 </dev/null 2>&1 | grep -v '^\s*\$'; echo "try exit ${PIPESTATUS[0]}"
  sleep 2; ls $RT | grep -q '^change.journal$' && { echo "journal left; recover:"; lk recover; echo "recover exit $?"; ls $RT | grep -q "^change.journal$" && { echo "(journal still there: removed by hand to go on)"; rm $RT/change.journal; }; }
  ip -n $C -d -o link show $n 2>&1 | sed 's/link\/ether.\{40\}//' | cut -c1-200
done

#!/bin/bash
# kill -9 of an apply that creates 300 veth pairs, right as its journal appears; then a person (or
# another tool) makes a link by hand with one of the names the change would have created; then
# `linkctl recover`. README: "A link that appeared meanwhile and is not the change's is named and
# left alone." Is it?
source "$(dirname "$0")/common.sh"
NS=lkrv-m1; mkns $NS
D=/tmp/rv16  # tests/engine/repro/gen_scenarios.py writes pabsent.yml and p9000.yml there
[ -e $D/p9000.yml ] || python3 "$(dirname "$0")/gen_scenarios.py" $D
lk apply $D/pabsent.yml -n $NS >/dev/null
"$LINKCTL" apply $D/p9000.yml -n $NS >/dev/null 2>&1 &
P=$!
while [ ! -e $RT/change.journal ]; do sleep 0.001; done
kill -9 $P; wait $P 2>/dev/null
echo "links made before the kill: $(ip -n $NS -o link | grep -c '@')"
if ip -n $NS link show v299 >/dev/null 2>&1; then echo "v299 was made by the change already: run again"; exit 2; fi
ip -n $NS link add v299 type veth peer name hand299
echo "made by hand: $(ip -n $NS -br link show v299)"
lk recover; echo "recover exit $?"
echo "after recover: $(ip -n $NS -br link show v299 2>&1)"

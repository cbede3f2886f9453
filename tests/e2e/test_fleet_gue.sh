#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Second chance in the fleet (docs/GUE.md): three xlb hosts behind the ECMP
# router (scripts/fleet.sh, gue mode), the IPv4 VIP in GUE and, beside it
# on the same backends, FLEET_CMP_VIP in IPIP. CONNS long-lived connections
# to each; then at the same moment lb3 dies and be4 joins both VIPs on the
# other hosts. A connection that ECMP moves to a host that never saw it and
# whose Maglev slot went to be4 breaks in IPIP; in GUE be4 hands its packets
# to the backend the previous table named, which has the socket: none may
# break. Prints both break shares; fails if a GUE connection broke, or if
# no packet was handed on (the event did not test the second chance).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
source "$XLBT_ROOT/scripts/fleet.sh"

require_root
require_cmd ip ethtool python3 curl bird birdc
require_build build/xlbd build/xlbctl build/xlb-decap build/tests/xdp_pass.bpf.o

P=$XLBT_PREFIX
R=$XLBT_RUN
CONNS=${FLEET_CONNS:-200}
T_START=$SECONDS
BE4=$(topo_be4 4)

path_count_is() { [ "$(fleet_path_count "$P" "$2")" = "$1" ]; }
has_path() { fleet_paths "$P" "$2" | grep -qx "$1"; }
# backends up on lbI, over its VIPs
ups() {
	fleet_xlbctl "$P" "$1" -j health | python3 -c '
import json, sys
print(sum(b["up"] for v in json.load(sys.stdin)["vips"] for b in v["backends"]))'
}

broken() { jget "$R/$1.json" 'd["resets"] + d["timeouts"] + d["other_errors"]'; }

fleet_up "$P" 3 4 gue 3 || fail "fleet did not come up"
for i in 1 2 3; do
	wait_until 20 fleet_established "$P" $i || fail "lb$i: no BGP session to the router"
done
for v in "$FLEET_VIP4" "$FLEET_CMP_VIP4"; do
	wait_until 20 path_count_is 3 "$v" || fail "router: 3 paths expected for $v"
done
echo "setup: $((SECONDS - T_START)) s"

longconn_start gue "$FLEET_VIP4" "$FLEET_PORT" "$CONNS"
longconn_start ipip "$FLEET_CMP_VIP4" "$FLEET_PORT" "$CONNS"
longconn_ready gue "$CONNS"
longconn_ready ipip "$CONNS"
sleep 1

echo "== lb3 dies while be4 joins both VIPs on lb1 and lb2"
fleet_kill "$P" 3 &
pids=($!)
for i in 1 2; do
	for v in "$FLEET_VIP" "$FLEET_CMP_VIP"; do
		fleet_xlbctl "$P" $i backend add "$v" "$BE4" >/dev/null &
		pids+=($!)
	done
done
for p in "${pids[@]}"; do wait "$p" || fail "host death or backend add failed"; done
wait_until 5 eval '! has_path lb3 "$FLEET_VIP4"' || fail "lb3 still in the FIB 5 s after its death"
for i in 1 2; do
	# VIP4 and the IPIP VIP with 4 backends each, VIP6 with 3
	wait_until 5 eval '[ "$(ups '$i')" = 11 ]' || fail "lb$i: be4 not up on both VIPs"
done
sleep 3 # retransmissions, and alternates' MACs being resolved
longconn_stop gue
longconn_stop ipip

redirected=0
for b in 1 2 3 4; do
	n=$(in_ns "be$b" "$XLBT_ROOT/build/xlb-decap" stats eth0 | awk '$1 == "gue_redirected" { print $2 }')
	redirected=$((redirected + ${n:-0}))
done
alt=0
for i in 1 2; do
	n=$(fleet_metric "$P" $i 'xlb_gue_packets_total{alternate="yes"}')
	alt=$((alt + ${n:-0}))
done
g=$(broken gue)
p=$(broken ipip)
share() { python3 -c 'import sys; print("%.1f" % (100 * int(sys.argv[1]) / int(sys.argv[2])))' "$@"; }
echo
echo "fleet, lb3 dead while be4 joins ($((SECONDS - T_START)) s):"
echo "  gue:  $g/$CONNS broken ($(share "$g" "$CONNS") %), longest stall $(jget "$R/gue.json" 'd["longest_stall_ms"]') ms;" \
	"$alt packets sent with an alternate, $redirected handed on by backends"
echo "  ipip: $p/$CONNS broken ($(share "$p" "$CONNS") %), longest stall $(jget "$R/ipip.json" 'd["longest_stall_ms"]') ms"
assert_eq 0 "$g" "GUE connections broken"
assert_eq "$CONNS" "$(jget "$R/gue.json" 'd["alive"]')" "GUE connections alive at the end"
[ "$redirected" -gt 0 ] || fail "no backend handed a packet on: the event did not test the second chance"
echo ok

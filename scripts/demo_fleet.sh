#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# make demo-fleet: three xlb hosts behind an ECMP router, narrated. Each
# host runs xlbd (announcing its ready VIPs in table 100) and BIRD with
# contrib/bird/bird.conf (BGP + BFD to the router); the router spreads the
# client's connections over the hosts. One host dies, the connections keep
# answering, the host comes back. Everything is removed on exit, Ctrl-C
# included. Needs root.
set -uo pipefail
XLBT_PREFIX=xlbfleet$$
source "$(dirname "$0")/../tests/e2e/lib.sh"
source "$XLBT_ROOT/scripts/fleet.sh"

[ "$(id -u)" -eq 0 ] || { echo "make demo-fleet needs root (network namespaces, XDP)" >&2; exit 1; }
require_cmd bird birdc
P=$XLBT_PREFIX
R=$XLBT_RUN
CONNS=240
LONGCONN=$XLBT_ROOT/tests/lib/longconn.py

if [ -t 1 ]; then B=$'\033[1m' N=$'\033[0m'; else B= N=; fi
say() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
now_ms() { date +%s%3N; }
has_path() { fleet_paths "$P" | grep -x "$1" >/dev/null; }
path_count_is() { [ "$(fleet_path_count "$P")" = "$1" ]; }
new_flows() { fleet_metric "$P" "$1" "xlb_vip_new_flows_total{vip=\"$FLEET_VIP\"}"; }
jget() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
# "COUNT NAME" lines -> bars
chart() {
	awk '{ bar = ""; for (i = 0; i < $1 / 4; i++) bar = bar "#";
	       printf "   %-7s %4d  %s\n", $2, $1, bar }'
}
router_route() { in_ns router ip route show "$FLEET_VIP4" | sed 's/^/   /'; }

say "Building: a client, a router, 3 xlb hosts and 3 backends in namespaces $P-*"
echo "   client 198.18.2.1 -> router -> ECMP over lb1..lb3 (198.18.0.2-4) -> backends 198.18.0.11-13"
echo "   each lb: xlbd (Maglev, L2 DSR, announce in table 100) + BIRD (contrib/bird/bird.conf)"
fleet_up "$P" 3 3 l2dsr || fail "the fleet did not come up"
for i in 1 2 3; do
	wait_until 20 fleet_established "$P" $i || fail "lb$i: no BGP session"
done
wait_until 20 path_count_is 3 || fail "the router has not 3 paths: $(fleet_paths "$P" | tr '\n' ' ')"

say "lb1: xlbctl announce (xlbd's view: which VIP addresses are in table 100, and why)"
fleet_xlbctl "$P" 1 announce
echo "   lb1's table 100, which its BIRD exports:"
in_ns lb1 ip route show table $FLEET_TABLE | sed 's/^/   /'
say "The router: BGP + BFD sessions to the lbs, and the VIP's route with one next hop per lb"
fleet_birdc "$P" router show protocols | grep -E '^Name|lb[1-3]_4' | sed 's/^/   /'
router_route

say "$CONNS long-lived connections from the client, each asking every 100 ms"
for i in 1 2 3; do n0[$i]=$(new_flows $i); done
bg_in_ns client "$R/demo.out" python3 "$LONGCONN" client "$FLEET_VIP4" "$FLEET_PORT" \
	--conns $CONNS --duration 60 --report "$R/demo.json" --ready "$R/demo.ready"
cpid=$BG_PID
wait_until 20 test -f "$R/demo.ready" || fail "connections not open: $(cat "$R/demo.out")"
echo "   per xlb host (new flows by its own counters), spread by the router's hash:"
for i in 1 2 3; do echo "$(($(new_flows $i) - n0[i])) lb$i"; done | chart

say "lb2 dies: link down, its xlbd and BIRD killed (kill -9)"
fleet_kill "$P" 2
wait_until 5 eval '! has_path lb2' || fail "lb2 still in the router's FIB"
echo "   the router dropped lb2 $(($(now_ms) - $(cat "$R/lb2/killed_at"))) ms after its death (BFD, 3 x 100 ms):"
router_route
echo "   lb2's connections now reach lb1 and lb3, whose Maglev tables are the same: same backend"
sleep 3

say "The connections, 3 s later"
kill -TERM $cpid
wait $cpid
echo "   $(cat "$R/demo.out")"
[ "$(jget "$R/demo.json" 'd["alive"]')" = $CONNS ] || fail "connections broke"
echo "   all $CONNS still answering; longest wait for an answer: $(jget "$R/demo.json" 'd["longest_stall_ms"]') ms"
echo "   per backend:"
jget "$R/demo.json" '"\n".join("%d %s" % (n, b) for b, n in sorted(d["per_backend"].items()))' | chart

say "lb2 comes back: link up, xlbd (adopts its pinned maps) and BIRD"
t0=$(now_ms)
fleet_join "$P" 2 || fail "lb2 did not start"
wait_until 20 has_path lb2 || fail "lb2 not back in the router's FIB"
echo "   back in the router's FIB $(($(now_ms) - t0)) ms after its start:"
router_route
for i in 1 2 3; do n0[$i]=$(new_flows $i); done
in_ns client python3 "$LONGCONN" client "$FLEET_VIP4" "$FLEET_PORT" --conns 120 --duration 2 \
	--report "$R/demo2.json" >/dev/null || fail "new connections failed"
echo "   120 new connections, per xlb host:"
for i in 1 2 3; do echo "$(($(new_flows $i) - n0[i])) lb$i"; done | chart

say "Done. Removing the namespaces, processes and pinned maps"
topology_down
echo "   demo-fleet ok"

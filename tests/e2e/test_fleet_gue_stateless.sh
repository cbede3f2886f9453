#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# A stateless GUE VIP in the fleet (docs/GUE.md, "Stateless VIPs"): two xlb
# hosts behind the ECMP router (scripts/fleet.sh, gue mode), the IPv4 VIP
# made `stateless: true` (no connection table: every packet goes by the
# live Maglev table), CONNS long-lived connections each phase.
#   change:  lb2 dies while one `config apply` on lb1 adds be4 and drains
#            be2 (one table change). The router moves lb2's flows to lb1,
#            which never saw them and needs not have; every connection
#            whose slot moved reaches a backend without its socket, which
#            hands it to the alternate: none may break, and packets must
#            have been handed on.
#   removal: be1 removed on lb1 (new connections). Exactly be1's
#            connections end (a removed backend is never an alternate);
#            every other one lives.
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
DECAP=$XLBT_ROOT/build/xlb-decap

# The fleet's VIP4 alone, stateless, with backends be1..be4 as given
# (ADDR or ADDR,drain), no health checks: a backend is in the table the
# moment it is configured, so one apply is one table change.
stateless_conf() {
	local b
	cat <<EOF
interfaces:
  - {name: eth0, mode: native}
announce: {table: $FLEET_TABLE, min_healthy: 1}
vips:
  - vip: "$FLEET_VIP"
    algorithm: maglev
    forward: gue
    stateless: true
    table_size: 4099
    circuit_breaker: {slow_start_ms: 0}
    backends:
EOF
	for b in "$@"; do
		case $b in
		*,drain) echo "      - {address: \"$(topo_be4 "${b%,drain}")\", weight: 100, drain: true}" ;;
		*) echo "      - {address: \"$(topo_be4 "$b")\", weight: 100}" ;;
		esac
	done
}
HOSTS="1 2" # the live xlb hosts
# apply_all FILE: the same configuration on every live host at once.
apply_all() {
	local pids=() i p
	for i in $HOSTS; do
		fleet_xlbctl "$P" $i config apply "$1" >"$R/apply.$i.out" 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || fail "config apply $1: $(cat "$R"/apply.*.out)"; done
}
# in_table_is N: every live host has N backends of the VIP in the table.
in_table_is() {
	local i n
	for i in $HOSTS; do
		n=$(fleet_xlbctl "$P" $i -j health | python3 -c '
import json, sys
print(sum((b.get("table_weight") or 0) > 0 for v in json.load(sys.stdin)["vips"] for b in v["backends"]))')
		[ "$n" = "$1" ] || return 1
	done
}
redirected() {
	local b n sum=0
	for b in 1 2 3 4; do
		n=$(in_ns "be$b" "$DECAP" stats eth0 | awk '$1 == "gue_redirected" { print $2 }')
		sum=$((sum + ${n:-0}))
	done
	echo "$sum"
}
# What NAME's connections look like now, and the backends' GUE counters: for failures.
state() {
	local b
	longconn_progress "$1" '"outcomes %s; unanswered since the snapshot, by backend: %s" % (
		{o: sum(1 for x in c if x[3] == o) for o in set(x[3] for x in c)},
		{b: sum(1 for x in c if x[1] == b and x[2] <= json.load(open("'"$R/$1.snap"'")).get(str(x[0]), 0))
		 for b in set(x[1] for x in c)})'
	for b in 1 2 3 4; do
		echo "be$b: $(in_ns "be$b" "$DECAP" stats eth0 | grep -E '^(gue|decap)' | tr '\n' ' ')"
	done
}
snapshot() { longconn_progress "$1" 'json.dumps({str(x[0]): x[2] for x in c})' >"$R/$1.snap"; }
# Every connection of NAME for which EXPR (Python, x its row) holds has
# answered since the snapshot.
answered_since() {
	longconn_progress "$1" 'all(x[2] > json.load(open("'"$R/$1.snap"'")).get(str(x[0]), 1 << 62)
	                            for x in c if '"$2"')' | grep -qx True
}

fleet_up "$P" 2 4 gue 3 || fail "fleet did not come up"
for i in 1 2; do
	wait_until 20 fleet_established "$P" $i || fail "lb$i: no BGP session to the router"
done
stateless_conf 1 2 3 >"$R/stateless.yaml"
apply_all "$R/stateless.yaml"
wait_until 10 in_table_is 3 || fail "be1..be3 not in the stateless VIP's table"
fleet_xlbctl "$P" 1 -j vip show "$FLEET_VIP" | grep -q '"stateless": *true' || fail "the VIP is not stateless"
wait_until 20 eval '[ "$(fleet_path_count "$P" "$FLEET_VIP4")" = 2 ]' || fail "router: 2 paths expected"
echo "setup: $((SECONDS - T_START)) s"

echo "== change: lb2 dies while be4 is added and be2 drained in one apply"
longconn_start change "$FLEET_VIP4" "$FLEET_PORT" "$CONNS" --interval 0.3
longconn_ready change "$CONNS"
r0=$(redirected)
# The hosts know be4's MAC: xlbd keeps a backend whose MAC it has to ask
# for out of the table until the answer, which would make this apply two
# table changes, drain then join (docs/GUE.md, "How long").
in_ns lb1 curl -sf -o /dev/null --max-time 2 "http://$(topo_be4 4)/" || fail "lb1 cannot reach be4"
stateless_conf 1 2,drain 3 4 >"$R/change.yaml"
fleet_kill "$P" 2 &
kill_pid=$!
HOSTS=1
apply_all "$R/change.yaml"
wait "$kill_pid" || fail "lb2's death failed"
wait_until 5 eval '[ "$(fleet_path_count "$P" "$FLEET_VIP4")" = 1 ]' || fail "lb2 still in the router's paths"
wait_until 10 in_table_is 3 || fail "after the change: not be1, be3, be4 in the table"
snapshot change
wait_until 20 answered_since change True || fail "change: connections unanswered after the change: $(state change)"
longconn_stop change
r1=$(redirected)
assert_eq 0 "$(jget "$R/change.json" 'd["resets"]')" "change: connections reset"
assert_eq 0 "$(jget "$R/change.json" 'd["timeouts"] + d["other_errors"]')" "change: connections timed out or failed"
assert_eq "$CONNS" "$(jget "$R/change.json" 'd["alive"]')" "change: connections alive"
[ "$r1" -gt "$r0" ] || fail "change: no backend handed a packet on: the change did not test the second chance"
echo "  change: 0/$CONNS broken, $((r1 - r0)) packets handed on by backends"

echo "== removal: be1 removed"
longconn_start removal "$FLEET_VIP4" "$FLEET_PORT" "$CONNS" --interval 0.3
longconn_ready removal "$CONNS"
on_be1=$(longconn_progress removal 'sum(1 for x in c if x[1] == "be1")')
[ "$on_be1" -gt 0 ] || fail "removal: no connection on be1"
r0=$(redirected)
snapshot removal
stateless_conf 2,drain 3 4 >"$R/removal.yaml"
apply_all "$R/removal.yaml"
wait_until 10 in_table_is 2 || fail "after the removal: not be3, be4 in the table"
# be1's connections end at their next question; the others keep answering.
wait_until 20 eval "longconn_progress removal 'all(x[3] != \"alive\" for x in c if x[1] == \"be1\")' | grep -qx True" ||
	fail "removal: be1's connections still alive 20 s after its removal"
wait_until 20 answered_since removal 'x[1] != "be1"' ||
	fail "removal: other connections unanswered after the removal: $(state removal)"
longconn_stop removal
r1=$(redirected)
broken=$(jget "$R/removal.json" 'd["resets"] + d["timeouts"] + d["other_errors"]')
broken_elsewhere=$(jget "$R/removal.json" 'sum(1 for c in d["conns"] if c["outcome"] != "alive" and c["backend"] != "be1")')
assert_eq 0 "$broken_elsewhere" "removal: connections of other backends broken"
assert_eq "$on_be1" "$broken" "removal: connections broken (be1 had $on_be1)"
assert_eq $((CONNS - on_be1)) "$(jget "$R/removal.json" 'd["alive"]')" "removal: connections alive"
echo "  removal: $broken/$CONNS broken, all be1's ($on_be1); $((r1 - r0)) packets handed on by backends"
echo "stateless GUE ($((SECONDS - T_START)) s): ok"
echo ok

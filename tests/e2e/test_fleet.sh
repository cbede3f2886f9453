#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The fleet: xlb hosts behind an ECMP router, each announcing
# its VIPs through xlbd's table 100 and BIRD (contrib/bird/bird.conf) over
# BGP + BFD; scripts/fleet.sh builds it once, the scenarios run in turn,
# each with CONNS long-lived connections asking every 100 ms
# (tests/lib/longconn.py) and new connections on the IPv6 VIP:
#  1. host death: lb2 loses its link, its xlbd and BIRD are SIGKILLed: no
#     connection reset, lb2 out of the router's FIB within 1 s (BFD);
#  2. host join: lb4 starts: no reset, new connections reach it within 3 s
#     of its BGP session being Established (its IPv6 new-flow counter);
#  3. drain: `xlbctl announce drain` on lb1: out of the FIB within 1 s, no
#     reset, no new connection on lb1 from 2 s after; undrain: back;
#  4. daemon restart: lb1's xlbd kill -9 and started again: the router's
#     path count never changes, no reset;
#  5. last backend: every backend fails its check: every host withdraws
#     within interval x fall + 1 s, a new connection fails at once (ICMP
#     unreachable from the router); one backend back: announced again;
#  6. host death while a backend is added: the share of connections broken,
#     printed beside the prediction (share ECMP moved x share of Maglev
#     slots changed); no pass/fail on it.
# Prints each scenario's figures (convergence times, stalls, break share)
# and the total time at the end. FLEET_MODE=ipip runs it with IPIP
# backends (default l2dsr), FLEET_CONNS sets the connections (240);
# FLEET_ANNOUNCE=manual (debugging BIRD without xlbd's announce) runs 1, 2,
# 4 and 6 with hand-added routes.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
source "$XLBT_ROOT/scripts/fleet.sh"

require_root
require_cmd ip ethtool python3 curl bird birdc bpftool
require_build build/xlbd build/xlbctl build/tests/xdp_pass.bpf.o

P=$XLBT_PREFIX
R=$XLBT_RUN
CONNS=${FLEET_CONNS:-240}
MANUAL=0
[ "${FLEET_ANNOUNCE:-xlbd}" = manual ] && MANUAL=1
LONGCONN=$XLBT_ROOT/tests/lib/longconn.py
T_START=$SECONDS
SUMMARY=()

now_ms() { date +%s%3N; }
note() { echo "$*"; SUMMARY+=("$*"); }
paths() { fleet_paths "$P" "$@" | sort | tr '\n' ' ' | sed 's/ $//'; }
has_path() { fleet_paths "$P" | grep -x "$1" >/dev/null; }
path_count_is() { [ "$(fleet_path_count "$P" "${2:-}")" = "$1" ]; }
# wait_ms TIMEOUT_S CMD...: like wait_until, printing the ms it took
wait_ms() {
	local t0 deadline
	t0=$(now_ms)
	deadline=$((t0 + $1 * 1000))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(now_ms)" -ge $deadline ] && return 1
		sleep 0.02
	done
	echo $(($(now_ms) - t0))
}
# new flows of a VIP on lbI by its own counters
new_flows() { fleet_metric "$P" "$1" "xlb_vip_new_flows_total{vip=\"$2\"}"; }

# conns_start NAME: CONNS long-lived connections to the IPv4 VIP and 20 new
# ones a second to the IPv6 VIP, from the client, until conns_stop (60 s
# at most); returns once every long-lived one has had an answer.
conns_start() {
	local name=$1
	rm -f "$R/$name.ready" "$R/$name.json"
	bg_in_ns client "$R/$name.out" python3 "$LONGCONN" client "$FLEET_VIP4" "$FLEET_PORT" \
		--conns "$CONNS" --duration 60 --new-per-s 20 --new-host "$FLEET_VIP6" \
		--report "$R/$name.json" --ready "$R/$name.ready"
	CONN_PID=$BG_PID
	wait_until 20 test -f "$R/$name.ready" || fail "$name: connections not all open in 20 s: $(cat "$R/$name.out")"
	[ "$(cat "$R/$name.ready")" = "$CONNS" ] || fail "$name: only $(cat "$R/$name.ready") of $CONNS connections opened"
}
# conns_stop NAME: stops them, prints the figures; fails on any broken one
# unless a second argument says "measure".
conns_stop() {
	local name=$1 f=$R/$1.json
	kill -TERM "$CONN_PID" 2>/dev/null
	wait "$CONN_PID" 2>/dev/null
	[ -f "$f" ] || fail "$name: no report: $(cat "$R/$name.out")"
	echo "  $name: $(cat "$R/$name.out")"
	STALL=$(jget "$f" 'd["longest_stall_ms"]')
	[ "${2:-}" = measure ] && return 0
	assert_eq "$CONNS" "$(jget "$f" 'd["opened"]')" "$name: connections opened"
	assert_eq 0 "$(jget "$f" 'd["resets"]')" "$name: connections reset"
	assert_eq 0 "$(jget "$f" 'd["timeouts"] + d["other_errors"]')" "$name: connections timed out or failed"
	assert_eq "$CONNS" "$(jget "$f" 'd["alive"]')" "$name: connections alive at the end"
	assert_eq 0 "$(jget "$f" 'd["new"]["failed"]')" "$name: new connections failed"
}

# route_of_ports PORT...: the next hop the router's FIB (its L4 hash)
# picks for each of the client's connections from these ports.
route_of_ports() {
	local p
	for p in "$@"; do
		echo "route get $FLEET_VIP4 from $FLEET_CLIENT4 iif eth1 ipproto tcp sport $p dport $FLEET_PORT"
	done | ip -n "$(topo_ns "$P" router)" -batch - | awk '/ via / { print $5 }'
}

# The live Maglev table of the IPv4 VIP on lbI: one backend id per line.
maglev_table() {
	in_ns "lb$1" sh -c '
		m=/sys/fs/bpf/xlb/eth0
		slot=$(bpftool -j map dump pinned $m/xlb_vips4 | python3 -c "
import json, sys
v = json.load(sys.stdin)[0][\"formatted\"][\"value\"]
s = v[\"vip_id\"] * 2 + v[\"table_slot\"]
print(\" \".join(str((s >> (8 * i)) & 255) for i in range(4)))")
		id=$(bpftool -j map lookup pinned $m/xlb_tables key $slot | python3 -c "
import json, sys
print(int.from_bytes(bytes(int(b, 16) for b in json.load(sys.stdin)[\"value\"]), \"little\"))")
		bpftool -j map dump id $id' | python3 -c '
import json, sys
for e in sorted(json.load(sys.stdin), key=lambda e: int.from_bytes(bytes(int(b, 16) for b in e["key"]), "little")):
    print(int.from_bytes(bytes(int(b, 16) for b in e["value"]), "little"))'
}

# ---- topology: 3 lbs, 4 backends of which 3 configured (be4: scenario 6)
MODE=${FLEET_MODE:-l2dsr} # or ipip
fleet_up "$P" 3 4 "$MODE" 3 || fail "fleet did not come up"
for i in 1 2 3; do
	wait_until 20 fleet_established "$P" $i || fail "lb$i: no BGP session to the router"
done
wait_until 20 path_count_is 3 || fail "router: 3 paths expected for $FLEET_VIP4, got: $(paths)"
wait_until 10 path_count_is 3 "$FLEET_VIP6" || fail "router: 3 paths expected for $FLEET_VIP6"
note "setup: 3 lbs announcing both VIPs after $((SECONDS - T_START)) s; router paths: $(paths)"

# ---- 1. host death -----------------------------------------------------------
echo "== 1. host death: lb2"
conns_start death
sleep 1
fleet_kill "$P" 2
ms=$(wait_ms 5 eval '! has_path lb2') || fail "lb2 still in the router's FIB 5 s after its death"
conv=$(($(now_ms) - $(cat "$R/lb2/killed_at")))
sleep 2 # retransmissions of what was sent to lb2 meanwhile
conns_stop death
[ $conv -le 1000 ] || fail "lb2 left the router's FIB $conv ms after its death (> 1 s)"
assert_eq "lb1 lb3" "$(paths)" "router paths after lb2's death"
note "1 host death: FIB without lb2 after $conv ms (BFD); 0/$CONNS reset; longest stall $STALL ms"

# ---- 2. host join ------------------------------------------------------------
echo "== 2. host join: lb4"
conns_start join
t0=$(now_ms)
fleet_join "$P" 4 || fail "lb4 did not start"
wait_until 20 fleet_established "$P" 4 || fail "lb4: no BGP session"
t_est=$(now_ms)
ms=$(wait_ms 5 eval '[ "$(new_flows 4 "$FLEET_VIP6_NAME")" -gt 0 ]') ||
	fail "no new connection reached lb4 within 5 s of its session (paths: $(paths))"
reach=$(($(now_ms) - t_est))
sleep 1
conns_stop join
[ $reach -le 3000 ] || fail "new connections reached lb4 $reach ms after its session came up (> 3 s)"
assert_eq "lb1 lb3 lb4" "$(paths)" "router paths after lb4's join"
note "2 host join: session up $((t_est - t0)) ms after start; new connections on lb4 $reach ms after; 0/$CONNS reset; longest stall $STALL ms"

# ---- 3. drain ----------------------------------------------------------------
if [ $MANUAL = 0 ]; then
	echo "== 3. drain: lb1"
	conns_start drain
	fleet_xlbctl "$P" 1 announce drain >/dev/null || fail "xlbctl announce drain"
	ms=$(wait_ms 5 eval '! has_path lb1') || fail "lb1 still in the router's FIB 5 s after the drain"
	[ "$ms" -le 1000 ] || fail "lb1 left the FIB $ms ms after the drain (> 1 s)"
	fleet_paths "$P" "$FLEET_VIP6" | grep -x lb1 >/dev/null && fail "lb1 still a path for $FLEET_VIP6"
	fleet_xlbctl "$P" 1 announce
	sleep 2
	n4=$(new_flows 1 "$FLEET_VIP") n6=$(new_flows 1 "$FLEET_VIP6_NAME")
	sleep 2
	assert_eq "$n4 $n6" "$(new_flows 1 "$FLEET_VIP") $(new_flows 1 "$FLEET_VIP6_NAME")" \
		"lb1's new flows (IPv4 IPv6) from 2 s to 4 s after the drain"
	[ "$(fleet_metric "$P" 1 "xlb_vip_announced{vip=\"$FLEET_VIP\"}")" = 0 ] ||
		fail "lb1: xlb_vip_announced is not 0 while drained"
	fleet_xlbctl "$P" 1 announce undrain >/dev/null || fail "xlbctl announce undrain"
	back=$(wait_ms 5 has_path lb1) || fail "lb1 not back in the FIB 5 s after undrain"
	n6=$(new_flows 1 "$FLEET_VIP6_NAME")
	wait_until 3 eval '[ "$(new_flows 1 "$FLEET_VIP6_NAME")" -gt '"$n6"' ]' ||
		fail "no new connection on lb1 within 3 s of the undrain"
	conns_stop drain
	note "3 drain: lb1 out of the FIB after $ms ms, no new flow on it from 2 s on; undrain: back after $back ms; 0/$CONNS reset; longest stall $STALL ms"
else
	echo "== 3. drain: needs xlbd's announce (FLEET_ANNOUNCE=manual), not run"
fi

# ---- 4. daemon restart -------------------------------------------------------
echo "== 4. daemon restart: lb1's xlbd, kill -9 and start"
conns_start restart
before=$(fleet_path_count "$P")
counts=()
fleet_xlbd "$P" 1 kill || fail "lb1's xlbd survived SIGKILL"
fleet_xlbd "$P" 1 start >"$R/restart.start" 2>&1 &
spid=$!
# Poll through the restart and 3 s beyond it (at most ~15 s).
t_end=
for ((k = 0; k < 500; k++)); do
	counts+=("$(fleet_path_count "$P")")
	if [ -z "$t_end" ] && ! kill -0 $spid 2>/dev/null; then
		wait $spid || fail "lb1's xlbd did not start again: $(cat "$R/restart.start")"
		t_end=$(($(now_ms) + 3000))
	fi
	[ -n "$t_end" ] && [ "$(now_ms)" -ge "$t_end" ] && break
	sleep 0.02
done
[ -n "$t_end" ] || fail "lb1's xlbd start did not finish"
conns_stop restart
changed=$(printf '%s\n' "${counts[@]}" | grep -cvx "$before")
[ "$changed" = 0 ] || fail "router's path count changed during the restart: $(printf '%s\n' "${counts[@]}" | uniq -c | tr '\n' ' ')"
note "4 daemon restart: path count $before in all ${#counts[@]} polls through the restart; 0/$CONNS reset; longest stall $STALL ms"

# ---- 5. last backend ---------------------------------------------------------
if [ $MANUAL = 0 ]; then
	echo "== 5. last backend: every backend fails its check"
	bound=$((FLEET_HC_INTERVAL_MS * FLEET_HC_FALL + 1000))
	for b in 1 2 3; do touch "$R/be$b/down"; done
	ms=$(wait_ms 10 path_count_is 0) || fail "VIP still routed 10 s after its backends failed: $(paths)"
	[ "$ms" -le "$bound" ] || fail "VIP withdrawn $ms ms after its backends failed (> $bound ms)"
	for i in 1 3 4; do
		in_ns "lb$i" ip route show table $FLEET_TABLE | grep "^$FLEET_VIP4 " >/dev/null &&
			fail "lb$i still has $FLEET_VIP4 in table $FLEET_TABLE"
	done
	probe=$(in_ns client python3 "$LONGCONN" probe "$FLEET_VIP4" "$FLEET_PORT" --timeout 5)
	read -r res pms <<<"$probe"
	case $res in EHOSTUNREACH | ENETUNREACH) ;; *) fail "connect to the withdrawn VIP: '$probe', not unreachable" ;; esac
	[ "$pms" -le 1000 ] || fail "connect to the withdrawn VIP failed only after $pms ms"
	rm -f "$R/be1/down"
	back=$(wait_ms 10 path_count_is 3) || fail "VIP not announced again 10 s after be1 came back: $(paths)"
	probe2=$(in_ns client python3 "$LONGCONN" probe "$FLEET_VIP4" "$FLEET_PORT")
	assert_eq "ok be1" "${probe2% *}" "a connection once be1 is back"
	rm -f "$R/be2/down" "$R/be3/down"
	for i in 1 3 4; do
		wait_until 10 eval '[ "$(fleet_xlbctl "$P" '$i' -j health | python3 -c "
import json, sys
print(sum(b[\"up\"] for v in json.load(sys.stdin)[\"vips\"] for b in v[\"backends\"]))")" = 6 ]' ||
			fail "lb$i: backends not all up again"
	done
	note "5 last backend: withdrawn by every host after $ms ms (bound $bound); connect: $res after $pms ms; be1 back: announced after $back ms"
else
	echo "== 5. last backend: needs xlbd's announce (FLEET_ANNOUNCE=manual), not run"
fi

# ---- 6. host death while a backend is added ----------------------------------
echo "== 6. host death (lb3) while be4 is added on the other hosts"
conns_start change
# The long-lived connections' source ports, from the client's sockets.
ports=$(in_ns client ss -Htn state established "( dport = :$FLEET_PORT and dst $FLEET_VIP4 )" |
	awk '{ n = split($3, a, ":"); print a[n] }' | sort -n)
[ "$(wc -w <<<"$ports")" = "$CONNS" ] || fail "ss: $(wc -w <<<"$ports") connections, not $CONNS"
via_before=$(route_of_ports $ports)
maglev_table 1 >"$R/maglev.before" || fail "reading lb1's table"
fleet_kill "$P" 3 &
pids=($!)
for i in 1 4; do
	fleet_xlbctl "$P" $i backend add "$FLEET_VIP" "$(topo_be4 4)" >/dev/null &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "host death or backend add failed"; done
wait_until 5 eval '! has_path lb3' || fail "lb3 still in the FIB 5 s after its death"
wait_until 5 eval '[ "$(maglev_table 1 | sort -u | wc -l)" = 4 ]' || fail "be4 not in lb1's table"
via_after=$(route_of_ports $ports)
maglev_table 1 >"$R/maglev.after"
sleep 2
conns_stop change measure
moved=$(paste <(echo "$via_before") <(echo "$via_after") | awk '$1 != $2' | wc -l)
slots=$(paste "$R/maglev.before" "$R/maglev.after" | awk '$1 != $2' | wc -l)
size=$(wc -l <"$R/maglev.after")
broken=$(jget "$R/change.json" 'd["resets"] + d["timeouts"] + d["other_errors"]')
read -r share pred <<<"$(python3 -c '
import sys
c, m, s, n, b = map(int, sys.argv[1:])
print("%.1f %.1f" % (100 * b / c, 100 * (m / c) * (s / n)))' "$CONNS" "$moved" "$slots" "$size" "$broken")"
note "6 death + backend added: $broken/$CONNS broken ($share %); predicted $pred % = ECMP moved $moved/$CONNS x Maglev slots changed $slots/$size; longest stall $STALL ms"

echo
echo "fleet figures ($((SECONDS - T_START)) s):"
printf '  %s\n' "${SUMMARY[@]}"
echo ok

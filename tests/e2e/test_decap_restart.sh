#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# xlb-decap restarted under long-lived connections (docs/GUE.md, "The
# backend: xlb-decap"): the fleet in gue mode (scripts/fleet.sh, one xlb
# host, three backends), CONNS connections to the IPv4 GUE VIP and CONNS/4
# to the IPv6 one. be1's xlb-decap is killed (SIGKILL), then stopped
# (SIGTERM, what `systemctl restart` sends), and started again each time.
# While it is down its program must stay attached and keep decapsulating
# from the pinned maps: every connection on be1 gets answers and the pinned
# counters move. Started again, it must adopt the pins (the program
# replaced in place, the VIPs and counters kept). No connection may break.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
source "$XLBT_ROOT/scripts/fleet.sh"

require_root
require_cmd ip ethtool python3 curl bird birdc bpftool
require_build build/xlbd build/xlbctl build/xlb-decap build/tests/xdp_pass.bpf.o

P=$XLBT_PREFIX
R=$XLBT_RUN
CONNS=${FLEET_CONNS:-200}
T_START=$SECONDS
DECAP=$XLBT_ROOT/build/xlb-decap
PINS=/sys/fs/bpf/xlb-decap/eth0

# Packets be1's program decapsulated, read from its pinned counters (no
# xlb-decap needed): struct xlb_decap_stats's decap4, decap6 and decap4in6,
# the 2nd to 4th u64, summed over the CPUs (bpftool prints raw bytes).
pinned_decapsulated() {
	in_ns be1 bpftool -j map dump pinned "$PINS/xlb_decap_stats" | python3 -c '
import json, struct, sys
n = 0
for e in json.load(sys.stdin):
    for v in e["values"]:
        b = bytes(int(x, 16) for x in v["value"])
        n += sum(struct.unpack_from("<3Q", b, 8))
print(n)'
}
decap_stat() { in_ns be1 "$DECAP" stats eth0 | awk -v k="$1" '$1 == k { print $2 }'; }
attached() { in_ns be1 ip -d link show eth0 | grep -q 'prog/xdp.*name xlb_decap'; }
be1_conns() { longconn_progress "$1" 'sum(1 for x in c if x[1] == "be1")'; }
# Every connection of NAME on be1 has answered since the snapshot FILE.
be1_answered_since() {
	longconn_progress "$1" 'all(x[2] > json.load(open("'"$2"'")).get(str(x[0]), 1 << 62)
	                            for x in c if x[1] == "be1")' | grep -qx True
}

# restart SIGNAL N: be1's xlb-decap ended by SIGNAL, checked while it is
# down, then started again (its log: $R/be1/decap.N.log).
restart() {
	local sig=$1 n=$2 p s d0 d1 name
	read -r p s <"$R/be1/decap.pid"
	_topo_alive "$p" "$s" || fail "be1's xlb-decap is not running before the $sig"
	kill -"$sig" "$p"
	wait_until 5 eval '! _topo_alive '"$p $s" || fail "be1's xlb-decap still runs 5 s after SIG$sig"
	attached || fail "SIG$sig: xlb_decap no longer attached to be1's eth0"
	in_ns be1 test -e "$PINS/xlb_decap_vips" || fail "SIG$sig: pins gone"
	d0=$(pinned_decapsulated) || fail "SIG$sig: pinned counters unreadable"
	for name in gue4 gue6; do
		longconn_progress $name 'json.dumps({str(x[0]): x[2] for x in c if x[1] == "be1"})' \
			>"$R/$name.snap.$n"
		wait_until 10 be1_answered_since $name "$R/$name.snap.$n" ||
			fail "SIG$sig: $name connections on be1 unanswered while xlb-decap was down"
	done
	d1=$(pinned_decapsulated)
	[ "$d1" -gt "$d0" ] || fail "SIG$sig: the pinned counters did not move while xlb-decap was down ($d0, $d1)"
	echo "  [$((SECONDS - T_START)) s] SIG$sig: xlb-decap gone; still attached, every be1 connection answered, $((d1 - d0)) packets decapsulated meanwhile"

	bg_in_ns be1 "$R/be1/decap.$n.log" "$DECAP" attach eth0 $TOPO_VIPS
	_topo_record "$R/be1/decap.pid" "$BG_PID"
	wait_until 10 in_ns be1 "$DECAP" list eth0 ||
		fail "SIG$sig: xlb-decap did not start again: $(cat "$R/be1/decap.$n.log")"
	grep -q "replaced xlb_decap program [0-9]* on eth0 atomically" "$R/be1/decap.$n.log" ||
		fail "SIG$sig: the restarted xlb-decap did not replace the program in place: $(cat "$R/be1/decap.$n.log")"
	grep -q "adopted the pinned maps of eth0" "$R/be1/decap.$n.log" ||
		fail "SIG$sig: the restarted xlb-decap did not adopt the pins"
	attached || fail "SIG$sig: nothing attached after the restart"
	assert_eq "$(wc -w <<<"$TOPO_VIPS")" "$(in_ns be1 "$DECAP" list eth0 | wc -l)" "VIPs after the restart"
	[ "$(($(decap_stat decap4) + $(decap_stat decap6) + $(decap_stat decap4in6)))" -ge "$d1" ] ||
		fail "SIG$sig: counters did not carry on over the restart"
	echo "  [$((SECONDS - T_START)) s] SIG$sig: started again, program replaced in place, VIPs and counters adopted"
}

fleet_up "$P" 1 3 gue || fail "fleet did not come up"
wait_until 20 fleet_established "$P" 1 || fail "lb1: no BGP session to the router"
for v in "$FLEET_VIP4" "$FLEET_VIP6"; do
	wait_until 20 eval '[ "$(fleet_path_count "$P" '"$v"')" = 1 ]' || fail "router: no path for $v"
done
echo "setup: $((SECONDS - T_START)) s"

# A question every 0.3 s each, not every 0.1 s: on 2 CPUs the client would
# otherwise starve the commands that check on be1.
longconn_start gue4 "$FLEET_VIP4" "$FLEET_PORT" "$CONNS" --interval 0.3
longconn_start gue6 "$FLEET_VIP6" "$FLEET_PORT" $((CONNS / 4)) --interval 0.3
longconn_ready gue4 "$CONNS"
longconn_ready gue6 $((CONNS / 4))
on4=$(be1_conns gue4)
on6=$(be1_conns gue6)
[ "$on4" -gt 0 ] && [ "$on6" -gt 0 ] || fail "no connection on be1 ($on4 IPv4, $on6 IPv6): nothing to test"
echo "== [$((SECONDS - T_START)) s] be1's xlb-decap restarted twice under $on4 + $on6 of its connections"
restart KILL 1
restart TERM 2
sleep 1 # traffic through the restarted one
longconn_stop gue4
longconn_stop gue6

for name in gue4 gue6; do
	assert_eq 0 "$(jget "$R/$name.json" 'd["resets"]')" "$name: connections reset"
	assert_eq 0 "$(jget "$R/$name.json" 'd["timeouts"] + d["other_errors"]')" "$name: connections timed out or failed"
	assert_eq "$(jget "$R/$name.json" 'd["opened"]')" "$(jget "$R/$name.json" 'd["alive"]')" "$name: connections alive"
done
in_ns be1 "$DECAP" detach eth0 || fail "xlb-decap detach"
attached && fail "xlb_decap still attached after detach"
in_ns be1 test -e "$PINS" && fail "pins left after detach"
echo "decap restart ($((SECONDS - T_START)) s): $CONNS + $((CONNS / 4)) connections, none broken"
echo ok

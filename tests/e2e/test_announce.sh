#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Announcement on one host, read straight from the kernel table a routing
# daemon would export (no BGP here; tests/e2e/test_fleet.sh has the
# routers):
#  - at start xlbd takes the table over: a stale xlb route of a VIP that is
#    gone is removed, an operator's own route in the same table is kept;
#  - a host route per ready VIP address (IPv4 and IPv6), protocol 173;
#  - every backend failing its checks withdraws the address, within
#    interval x fall + 1 s, and `xlbctl announce` says why; one back
#    announces it again;
#  - drain withdraws everything while the data path still answers; the
#    drain survives a restart (persisted) and `config apply`; undrain;
#  - kill -9 and a restart touch no route (watched with ip monitor);
#  - the program detached, or the interface down, withdraws;
#  - a table change moves the routes; bad input is refused, nothing applied.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ethtool python3 curl
require_build build/xlbd build/xlbctl

V4=198.18.1.100
V6=2001:2::100
WRR=198.18.1.101

write_config() { # TABLE MIN_HEALTHY FILE
	cat >"$3" <<YAML
interfaces:
  - {name: eth0, mode: native}
announce: {table: $1, min_healthy: $2}
vips:
  - vip: "$V4:80/tcp"
    forward: l2dsr
    health_check: {type: http, port: 80, path: /, interval_ms: 300, timeout_ms: 250,
                   rise: 1, fall: 2}
    circuit_breaker: {base_ejection_ms: 1000}
    backends:
      - {address: 198.18.0.11}
      - {address: 198.18.0.12}
  - vip: "[$V6]:80/tcp"
    forward: l2dsr
    health_check: {type: none}
    backends:
      - {address: "2001:2::11"}
  - vip: "$WRR:80/tcp"
    algorithm: wrr
    forward: l2dsr
    health_check: {type: none}
    backends:
      - {address: 198.18.0.11}
YAML
}

# routes TABLE: xlb's routes in TABLE, one address per line, sorted
routes() {
	{
		in_ns lb ip -4 route show table "$1" proto 173
		in_ns lb ip -6 route show table "$1" proto 173
	} | awk '{print $1}' | sort | tr '\n' ' '
}
routes_are() { [ "$(routes "$1")" = "$2" ]; }
# table_has TABLE PATTERN: a line of `ip route show table TABLE` matches
# (read whole first: grep -q would end the pipe early, and pipefail fail it)
table_has() { local t; t=$(in_ns lb ip route show table "$1") && grep -q "$2" <<<"$t"; }
announced() { # ADDRESS: "true"/"false" from xlbctl -j announce
	xlbctl_lb -j announce | python3 -c '
import json, sys
for a in json.load(sys.stdin)["addresses"]:
    if a["address"] == sys.argv[1]:
        print("true" if a["announced"] else "false")' "$1"
}
reason() {
	xlbctl_lb -j announce | python3 -c '
import json, sys
for a in json.load(sys.stdin)["addresses"]:
    if a["address"] == sys.argv[1]:
        print(a.get("reason", ""))' "$1"
}
ALL="$V4 $WRR $V6 "

topology_up 2 l2dsr
write_config 100 1 "$XLBT_RUN/xlb.yaml"
# Left over: a route of xlb's for a VIP no longer configured, and the
# operator's own (proto static) route in the same table.
in_ns lb ip route add 198.18.1.199/32 dev eth0 table 100 proto 173 || fail "stale route"
in_ns lb ip route add blackhole 198.18.1.150/32 table 100 proto static || fail "foreign route"

# Without CAP_NET_ADMIN xlbd cannot write routes: it says so and does not start.
out=$(in_ns lb setpriv --bounding-set=-net_admin --inh-caps=-net_admin \
	"$XLBT_ROOT/build/xlbd" --config "$XLBT_RUN/xlb.yaml" --state-dir "$XLBT_RUN/noperm" \
	--socket "$XLBT_RUN/noperm.sock" --foreground --metrics 127.0.0.1:9643 2>&1) &&
	fail "xlbd started without CAP_NET_ADMIN"
[[ $out == *"announce.table 100: xlbd cannot write routes without CAP_NET_ADMIN"* ]] ||
	fail "xlbd without CAP_NET_ADMIN: '$out'"
echo "without CAP_NET_ADMIN: refused at start, saying why"

start_xlbd "$XLBT_RUN/xlb.yaml"
wait_until 5 routes_are 100 "$ALL" || fail "routes at start: '$(routes 100)', want '$ALL'"
table_has 100 "^blackhole 198.18.1.150 proto static" ||
	fail "the operator's own route in table 100 was touched: $(in_ns lb ip route show table 100)"
table_has 100 198.18.1.199 && fail "the stale xlb route stayed"
route=$(in_ns lb ip route show table 100 "$V4/32")
[[ $route == *"dev eth0"*"proto 173"*"scope link"* ]] || fail "route form: '$route'"
assert_eq 1 "$(metric "xlb_vip_announced{vip=\"$V4:80/tcp\"}")" "xlb_vip_announced"
grep -q "VIP $WRR:80/tcp uses wrr, which keeps per-host state" "$XLBD_LOG" ||
	fail "no warning about the wrr VIP"
xlbctl_lb announce | grep "$WRR:80/tcp .*warning: per-host state" >/dev/null ||
	fail "xlbctl announce has no warning for wrr: $(xlbctl_lb announce)"
echo "start: routes $(routes 100); stale removed, foreign kept"

# Every backend of the IPv4 VIP fails its checks: withdrawn within
# interval x fall + 1 s = 1.6 s (0.6 s to notice, one more interval of
# slack for the check in flight).
touch "$XLBT_RUN/be1/down" "$XLBT_RUN/be2/down"
t0=$(date +%s%N)
wait_until 3 routes_are 100 "$WRR $V6 " || fail "not withdrawn: '$(routes 100)'"
ms=$((($(date +%s%N) - t0) / 1000000))
echo "all backends down: withdrawn in $ms ms"
[ "$ms" -le 1600 ] || fail "withdrawn after $ms ms, more than interval x fall + 1 s"
assert_eq 0 "$(metric "xlb_vip_announced{vip=\"$V4:80/tcp\"}")" "xlb_vip_announced after"
[[ $(reason $V4) == *"0 of 2 backends up, min_healthy 1"* ]] || fail "reason: '$(reason $V4)'"
rm -f "$XLBT_RUN/be1/down"
wait_until 3 routes_are 100 "$ALL" || fail "not announced again: '$(routes 100)'"
rm -f "$XLBT_RUN/be2/down"
echo "one backend back: announced again"

# Drain: everything withdrawn at once, the data path still answers.
xlbctl_lb announce drain >/dev/null || fail "drain refused"
routes_are 100 "" || fail "routes after drain: '$(routes 100)'"
[[ $(reason $V4) == drained ]] || fail "reason after drain: '$(reason $V4)'"
http_get_from_client "http://$V4/" >/dev/null || fail "the data path stopped answering when drained"
grep -q 'drained: true' "$XLBD_STATE_DIR/state.yaml" || fail "drain not in the state file"
stop_xlbd TERM || fail "xlbd did not stop"
start_xlbd "$XLBT_RUN/xlb.yaml"
sleep 1.2 # one attach tick
routes_are 100 "" || fail "a restart undid the drain: '$(routes 100)'"
xlbctl_lb config apply "$XLBT_RUN/xlb.yaml" >/dev/null || fail "config apply refused"
routes_are 100 "" || fail "config apply undid the drain: '$(routes 100)'"
xlbctl_lb announce undrain >/dev/null || fail "undrain refused"
routes_are 100 "$ALL" || fail "routes after undrain: '$(routes 100)'"
echo "drain: withdrawn, still forwarding, kept over a restart and config apply; undrain"

# kill -9 and a restart: not one route deleted or added.
bg_in_ns lb "$XLBT_RUN/monitor.log" ip -o monitor route
mon=$BG_PID
sleep 0.3
stop_xlbd KILL || fail "xlbd did not die"
sleep 1
routes_are 100 "$ALL" || fail "routes after kill -9: '$(routes 100)'"
start_xlbd "$XLBT_RUN/xlb.yaml"
sleep 1.5
kill "$mon" 2>/dev/null
if grep -E "198\.18\.1\.10[01]|2001:2::100" "$XLBT_RUN/monitor.log"; then
	fail "the restart after kill -9 changed routes (above)"
fi
routes_are 100 "$ALL" || fail "routes after the restart: '$(routes 100)'"
echo "kill -9 and restart: no route changed"

# The program detached from under xlbd: withdrawn on the next check.
in_ns lb ip link set dev eth0 xdp off || fail "xdp off"
wait_until 3 routes_are 100 "" || fail "not withdrawn with the program detached: '$(routes 100)'"
[[ $(reason $V4) == *"not attached to eth0"* ]] || fail "reason: '$(reason $V4)'"
stop_xlbd TERM || fail "xlbd did not stop"
start_xlbd "$XLBT_RUN/xlb.yaml"
wait_until 3 routes_are 100 "$ALL" || fail "not announced after the restart attached it"
echo "program detached: withdrawn; attached again by a restart: announced"

# The interface down: withdrawn, back with it.
in_ns lb ip link set dev eth0 down || fail "link down"
wait_until 3 routes_are 100 "" || fail "not withdrawn with eth0 down: '$(routes 100)'"
wait_until 3 eval '[[ $(reason $V4) == *"eth0 is down"* ]]' || fail "reason: '$(reason $V4)'"
in_ns lb ip link set dev eth0 up || fail "link up"
# While eth0 was down every check failed and the breakers backed off (1, 2,
# then 4 s): the backends return within one ejection and a check.
wait_until 10 routes_are 100 "$ALL" || fail "not announced with eth0 up again: '$(routes 100)'"
echo "interface down: withdrawn; up: announced"

# Another table: the routes move, the old table keeps only the operator's.
write_config 200 1 "$XLBT_RUN/t200.yaml"
xlbctl_lb config apply "$XLBT_RUN/t200.yaml" >/dev/null || fail "apply table 200"
routes_are 200 "$ALL" || fail "table 200: '$(routes 200)'"
routes_are 100 "" || fail "table 100 kept xlb routes: '$(routes 100)'"
table_has 100 "^blackhole 198.18.1.150 " || fail "the foreign route went"
echo "table 100 -> 200: moved"

# Bad input: refused with the problem named, nothing applied.
refused() { # FILE PATTERN
	local out
	out=$(xlbctl_lb config apply "$1" 2>&1) && fail "accepted: $1"
	[[ $out == *"$2"* ]] || fail "message for $1: '$out' (want '$2')"
}
write_config 254 1 "$XLBT_RUN/bad1.yaml"
refused "$XLBT_RUN/bad1.yaml" "announce.table 254 is the kernel's main table"
write_config 200 3 "$XLBT_RUN/bad2.yaml"
refused "$XLBT_RUN/bad2.yaml" "announce.min_healthy 3 is above the 2 backends of VIP $V4:80/tcp"
routes_are 200 "$ALL" || fail "a refused apply changed routes: '$(routes 200)'"
write_config 0 1 "$XLBT_RUN/off.yaml"
xlbctl_lb config apply "$XLBT_RUN/off.yaml" >/dev/null || fail "apply announce off"
routes_are 200 "" || fail "announce off kept routes: '$(routes 200)'"
out=$(xlbctl_lb announce drain 2>&1) && fail "drain accepted with announcing off"
[[ $out == *"announcing is off"* ]] || fail "drain with announcing off: '$out'"
echo "bad input refused; announce off withdrew everything"

# A route for a VIP address that is someone else's is not overwritten.
in_ns lb ip route add blackhole "$V4/32" table 300 proto static || fail "foreign VIP route"
write_config 300 1 "$XLBT_RUN/t300.yaml"
xlbctl_lb config apply "$XLBT_RUN/t300.yaml" >/dev/null || fail "apply table 300"
routes_are 300 "$WRR $V6 " || fail "table 300: '$(routes 300)'"
table_has 300 "^blackhole $V4 proto static" ||
	fail "the operator's route for $V4 was replaced: $(in_ns lb ip route show table 300)"
[[ $(reason $V4) == "table 300 already has a route for it that is not xlb's" ]] ||
	fail "reason: '$(reason $V4)'"
echo "someone else's route for a VIP address: left alone, and said so"
echo ok

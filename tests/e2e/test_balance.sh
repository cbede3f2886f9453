#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# xlbd end to end, in both forwarding modes, IPv4 and IPv6: real HTTP
# through the VIP from a client namespace to backend namespaces.
#  - 90 fresh connections all succeed and every backend serves a fair share;
#  - backend add / drain / del through xlbctl steer new connections, while
#    long downloads started before the change complete;
#  - kill -9 of xlbd during a request loop loses no request, and a restart
#    brings back the same state from the state file and the pinned maps;
#  - bad input is refused with the state file unchanged.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ethtool python3 curl sha256sum
require_build build/xlbd build/xlbctl build/xlb-decap

VIP4=198.18.1.100
VIP6=2001:2::100

write_config() { # MODE
	cat >"$XLBT_RUN/xlb.yaml" <<-YAML
	interfaces:
	  - {name: eth0, mode: native}
	vips:
	  - vip: "$VIP4:80/tcp"
	    forward: $1
	    backends:
	      - {address: 198.18.0.11}
	      - {address: 198.18.0.12}
	      - {address: 198.18.0.13}
	  - vip: "[$VIP6]:80/tcp"
	    forward: $1
	    backends:
	      - {address: "2001:2::11"}
	      - {address: "2001:2::12"}
	      - {address: "2001:2::13"}
	YAML
}

# wrr with weights 1:2:3 on the IPv4 VIP, applied live and then undone:
# new connections split 10/20/30 of 60 (each CPU deals the smooth sequence
# from its own cursor, so a CPU's unfinished cycle may shift a few).
wrr_shares() { # MODE URL
	local tally
	cat >"$XLBT_RUN/wrr.yaml" <<-YAML
	interfaces:
	  - {name: eth0, mode: native}
	vips:
	  - vip: "$VIP4:80/tcp"
	    forward: $1
	    algorithm: wrr
	    backends:
	      - {address: 198.18.0.11, weight: 1}
	      - {address: 198.18.0.12, weight: 2}
	      - {address: 198.18.0.13, weight: 3}
	  - vip: "[$VIP6]:80/tcp"
	    forward: $1
	    backends:
	      - {address: "2001:2::11"}
	      - {address: "2001:2::12"}
	      - {address: "2001:2::13"}
	YAML
	xlbctl_lb config apply "$XLBT_RUN/wrr.yaml" >/dev/null || fail "$1: config apply wrr"
	grep -q '"wrr"' <<<"$(xlbctl_lb -j vip list)" || fail "$1: wrr not applied"
	tally=$(http_tally 60 "$2") || fail "$1 wrr: failed requests: $tally"
	for bw in be1:10 be2:20 be3:30; do
		local got
		got=$(count "${bw%:*}" "$tally")
		[ "$got" -ge $((${bw#*:} - 5)) ] && [ "$got" -le $((${bw#*:} + 5)) ] ||
			fail "$1 wrr 1:2:3: $(echo $tally)"
	done
	echo "$1 wrr 1:2:3 IPv4: $(echo $tally)"

	# lc: closed connections leave no active flows; a scrape shows the
	# estimate for every backend of the lc VIP.
	sed -e 's/algorithm: wrr/algorithm: lc/' -e 's/, weight: [0-9]//' \
		"$XLBT_RUN/wrr.yaml" >"$XLBT_RUN/lc.yaml"
	xlbctl_lb config apply "$XLBT_RUN/lc.yaml" >/dev/null || fail "$1: config apply lc"
	tally=$(http_tally 30 "$2") || fail "$1 lc: failed requests: $tally"
	for b in be1 be2 be3; do
		[ "$(count $b "$tally")" -ge 3 ] || fail "$1 lc: unfair share: $(echo $tally)"
	done
	in_ns lb curl -sf --max-time 5 "http://$XLBD_METRICS/metrics" >"$XLBT_RUN/metrics" ||
		fail "$1 lc: scrape"
	assert_eq 3 "$(grep -c "^xlb_backend_active_flows{vip=\"$VIP4:80/tcp\"" "$XLBT_RUN/metrics")" \
		"$1 lc: active-flow series"
	local open
	open=$(grep "^xlb_backend_active_flows{vip=\"$VIP4:80/tcp\"" "$XLBT_RUN/metrics" |
		awk '{s += $2} END {print s + 0}')
	# every connection was closed by its client (FIN): none should be open
	[ "$open" -le 3 ] || fail "$1 lc: $open flows still counted as active"
	echo "$1 lc IPv4: $(echo $tally); active flows after: $open"
	xlbctl_lb config apply "$XLBT_RUN/xlb.yaml" >/dev/null || fail "$1: config apply back"
}

fair_share() { # URL WHAT
	local tally
	tally=$(http_tally 90 "$1") || fail "$2: failed requests: $tally"
	for b in be1 be2 be3; do
		# 30 expected; below 15 is beyond 3 standard deviations
		[ "$(count $b "$tally")" -ge 15 ] || fail "$2: unfair share: $(echo $tally)"
	done
	echo "$2: $(echo $tally)"
}

state_sum() { sha256sum "$XLBD_STATE_DIR/state.yaml" | cut -d' ' -f1; }

run_mode() { # MODE
	local mode=$1 url4="http://$VIP4/" url6="http://[$VIP6]/" tally before pids=()
	topology_up 4 "$mode"
	write_config "$mode"
	start_xlbd "$XLBT_RUN/xlb.yaml"

	fair_share "$url4" "$mode IPv4"
	fair_share "$url6" "$mode IPv6"
	[ "$mode" = l2dsr ] && wrr_shares "$mode" "$url4"

	# explain: the backend it names for a client flow is the one that answered.
	# Source ports below the ephemeral range (32768-60999), which the
	# requests before may have left in TIME_WAIT (curl: bind failed).
	for port in 30001 30002 30003 30004; do
		local who ex
		who=$(http_get_from_client "$url4" --local-port "$port") || fail "request from port $port"
		ex=$(xlbctl_lb -j explain "$VIP4:80/tcp" "198.18.0.1:$port") || fail "explain"
		python3 -c 'import json,sys; e=json.loads(sys.argv[1]); assert e["in_conntrack"], e
assert e["goes_to"] == "198.18.0.1" + sys.argv[2][-1], (e["goes_to"], sys.argv[2])' "$ex" "$who" ||
			fail "$mode: explain says $(echo "$ex" | tr -d '\n') for a flow served by $who"
	done
	xlbctl_lb explain "$VIP4:80/tcp" 198.18.0.1:30001 |
		grep -q "^  goes to  *198.18.0.1[1-3]: an established flow" || fail "$mode: xlbctl explain"

	# Long downloads in flight while the backend set changes.
	for i in 1 2 3 4 5 6 7 8; do
		bg_in_ns client "$XLBT_RUN/dl$i" curl -gsS --fail --max-time 60 --limit-rate 2M \
			-o "$XLBT_RUN/dl$i.body" "http://$VIP4/bytes/6000000"
		pids+=("$BG_PID")
	done
	# in flight: every download has its first bytes
	dl_started() { local i; for i in 1 2 3 4 5 6 7 8; do [ -s "$XLBT_RUN/dl$i.body" ] || return 1; done; }
	wait_until 10 dl_started || fail "$mode: downloads did not start within 10 s"
	xlbctl_lb backend add "$VIP4:80/tcp" 198.18.0.14 || fail "backend add"
	tally=$(http_tally 40 "$url4") || fail "$mode: requests after add failed: $tally"
	[ "$(count be4 "$tally")" -ge 1 ] || fail "$mode: be4 takes no new connections: $tally"
	for p in "${pids[@]}"; do wait "$p" || fail "$mode: a download broke when be4 was added"; done
	for i in 1 2 3 4 5 6 7 8; do
		assert_eq 6000000 "$(stat -c %s "$XLBT_RUN/dl$i.body")" "$mode download $i size"
	done

	xlbctl_lb backend set "$VIP4:80/tcp" 198.18.0.11 --drain || fail "drain"
	tally=$(http_tally 30 "$url4") || fail "$mode: requests after drain failed: $tally"
	assert_eq 0 "$(count be1 "$tally")" "$mode: new connections to drained be1"
	xlbctl_lb backend del "$VIP4:80/tcp" 198.18.0.12 || fail "backend del"
	tally=$(http_tally 30 "$url4") || fail "$mode: requests after del failed: $tally"
	assert_eq 0 "$(count be2 "$tally")" "$mode: new connections to removed be2"

	# A backend that answers no ARP/ND is accepted and waits out of the
	# table for its MAC (docs/OPERATIONS.md): no request goes to it.
	xlbctl_lb backend add "$VIP4:80/tcp" 198.18.0.99 || fail "$mode: dark backend refused"
	tally=$(http_tally 20 "$url4") || fail "$mode: requests failed with a dark backend: $tally"
	xlbctl_lb backend del "$VIP4:80/tcp" 198.18.0.99 || fail "$mode: dark backend del"

	# Bad input: refused, named, nothing changed.
	before=$(state_sum)
	xlbctl_lb backend add "$VIP4:80/tcp" 198.18.9.99 2>"$XLBT_RUN/err" && fail "unroutable backend accepted"
	grep -q 198.18.9.99 "$XLBT_RUN/err" || fail "error does not name the backend: $(cat "$XLBT_RUN/err")"
	xlbctl_lb backend add 198.18.9.9:80/tcp 198.18.0.13 2>"$XLBT_RUN/err"
	assert_eq 1 $? "missing VIP exit code"
	xlbctl_lb backend add "$VIP4:80/tcp" 198.18.0.13 --weight 0 2>/dev/null
	assert_eq 2 $? "weight 0 exit code"
	xlbctl_lb vip add 198.18.1.100:99999/tcp 2>/dev/null
	assert_eq 2 $? "bad port exit code"
	assert_eq "$before" "$(state_sum)" "state file after refused changes"
	tally=$(http_tally 10 "$url4") || fail "$mode: forwarding broken after refused changes"

	# kill -9 while a client loop runs: the data path keeps forwarding.
	xlbctl_lb -j vip list >"$XLBT_RUN/vips.before" || fail "vip list"
	bg_in_ns client "$XLBT_RUN/loop" bash -c \
		"for i in \$(seq 80); do curl -sS --fail --connect-timeout 2 --max-time 5 http://$VIP4/ || echo FAILED; done"
	local loop=$BG_PID
	# the loop is under way: a few answers in
	loop_answered() { [ "$(grep -c '^be' "$XLBT_RUN/loop")" -ge 3 ]; }
	wait_until 10 loop_answered || fail "$mode: the client loop got no answers within 10 s"
	stop_xlbd KILL || fail "xlbd did not die"
	wait "$loop"
	assert_eq 80 "$(grep -c '^be' "$XLBT_RUN/loop")" "$mode: answers during kill -9"
	grep -q FAILED "$XLBT_RUN/loop" && fail "$mode: requests failed during kill -9"
	start_xlbd "$XLBT_RUN/xlb.yaml"
	grep -q "adopted pinned state" "$XLBD_LOG" || fail "restart did not adopt the pins"
	grep -q "replaced xlb program .* atomically" "$XLBD_LOG" || fail "program not replaced atomically"
	xlbctl_lb -j vip list >"$XLBT_RUN/vips.after" || fail "vip list after restart"
	cmp -s "$XLBT_RUN/vips.before" "$XLBT_RUN/vips.after" || fail "state differs after restart"
	tally=$(http_tally 20 "$url4") || fail "$mode: forwarding after restart: $tally"
	assert_eq 0 "$(count be2 "$tally")" "$mode: removed be2 back after restart"

	# SIGHUP re-reads --config (all or nothing): a broken file changes nothing,
	# a good one is applied whole (here: the original pool of three).
	before=$(state_sum)
	cp "$XLBT_RUN/xlb.yaml" "$XLBT_RUN/good.yaml"
	echo "  - {vip: broken" >>"$XLBT_RUN/xlb.yaml"
	kill -HUP "$XLBD_PID"
	wait_until 5 grep -q "reload rejected" "$XLBD_LOG" || fail "broken config on SIGHUP not rejected"
	assert_eq "$before" "$(state_sum)" "state file after a rejected SIGHUP"
	cp "$XLBT_RUN/good.yaml" "$XLBT_RUN/xlb.yaml"
	kill -HUP "$XLBD_PID"
	wait_until 5 grep -q "reload applied" "$XLBD_LOG" || fail "SIGHUP not applied"
	tally=$(http_tally 30 "$url4") || fail "$mode: requests after SIGHUP: $tally"
	[ "$(count be2 "$tally")" -ge 1 ] || fail "$mode: be2 not back after SIGHUP: $tally"
	[ "$(count be4 "$tally")" -eq 0 ] || fail "$mode: be4 still in after SIGHUP: $tally"

	stop_xlbd TERM || fail "xlbd did not stop on SIGTERM"
	topology_down
}

run_mode l2dsr
run_mode ipip
echo "ok"

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# kill -9 at random points (docs/TESTING.md). KILL_ITERATIONS times (12 in
# `make test`, 30 in `make chaos`):
# start a change (`xlbctl config apply` of the other of two configs, or a
# backend added/removed), SIGKILL xlbd after a random 0-50 ms
# (or 1.5 x the time a change takes here, if longer), restart it, and check:
#  - the state file parses and is exactly the old or the new state, never a
#    mix, and no temporary file is left beside it;
#  - the API's view is the state file's;
#  - the data path is the state file's: the VIP map holds exactly its VIPs,
#    and requests reach exactly its backends.
# Before the random points, one kill point is made on purpose: a backend's
# map entry written but its VIP's table not flipped (a defect the random
# kills found). Prints how many kills landed before and after the change
# was saved.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ethtool python3 curl bpftool
require_build build/xlbd build/xlbctl

ITER=${KILL_ITERATIONS:-12}
V1=198.18.1.100:80/tcp
V2=198.18.1.101:80/tcp

conf() { # conf NAME VIP=BACKENDS...: a config with these VIPs and backends
	local f=$XLBT_RUN/$1.yaml vb v b
	shift
	{
		echo "interfaces:"
		echo "  - {name: eth0, mode: native}"
		echo "vips:"
		for vb in "$@"; do
			v=${vb%%=*}
			echo "  - vip: \"$v\""
			echo "    forward: l2dsr"
			echo "    health_check: {type: http, port: 80, interval_ms: 200, timeout_ms: 150, rise: 1, fall: 2}"
			# full weight once up: the backends answering are checked at once
			echo "    circuit_breaker: {slow_start_ms: 0}"
			echo "    backends:"
			for b in ${vb#*=}; do echo "      - {address: $b}"; done
		done
	} >"$f"
}

# A state (file or API export) reduced to "VIP=B1,B2 VIP=..." sorted.
summary() {
	python3 -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]) if sys.argv[1] != "-" else sys.stdin)
out = []
for v in d.get("vips") or []:
    bs = sorted(b["address"] for b in v.get("backends") or [])
    out.append(v["vip"] + "=" + ",".join(bs))
print(" ".join(sorted(out)))' "$1"
}
# The VIPs in the data path's map, as "ADDR:PORT/tcp" sorted.
map_vips() {
	in_ns lb bpftool -j map dump pinned /sys/fs/bpf/xlb/eth0/xlb_vips4 | python3 -c '
import json, socket, struct, sys
out = []
for e in json.load(sys.stdin):
    k = e["formatted"]["key"]
    addr = socket.inet_ntoa(struct.pack("=I", k["addr"]))
    port = socket.ntohs(k["port"])
    out.append("%s:%d/%s" % (addr, port, {6: "tcp", 17: "udp"}[k["proto"]]))
print(" ".join(sorted(out)))'
}
state_vips() { tr ' ' '\n' <<<"$1" | cut -d= -f1 | sort | tr '\n' ' ' | sed 's/ $//'; }
backends_of() { tr ' ' '\n' <<<"$1" | grep "^$2=" | cut -d= -f2 | tr ',' '\n' | sort; }
all_up() { # all_up N: N backends up across the VIPs
	[ "$(xlbctl_lb -j health | python3 -c '
import json, sys
print(sum(b["up"] for v in json.load(sys.stdin)["vips"] for b in v["backends"]))')" = "$1" ]
}
# Which backends answer for a VIP address, from 16 requests.
answering() { # one namespace entry for all 16 (each costs ~0.1 s here)
	in_ns client bash -c 'for ((i = 0; i < 16; i++)); do
		curl -gsS --fail --connect-timeout 2 --max-time 5 -H "Connection: close" "http://$1/" 2>/dev/null ||
			echo FAILED
	done' _ "$1" | sort -u
}
addr_of() { case $1 in be1) echo 198.18.0.11 ;; be2) echo 198.18.0.12 ;; *) echo "$1" ;; esac; }

topology_up 2 l2dsr
conf a "$V1=198.18.0.11"
conf b "$V1=198.18.0.11 198.18.0.12" "$V2=198.18.0.12"
cp "$XLBT_RUN/a.yaml" "$XLBT_RUN/xlb.yaml"
start_xlbd "$XLBT_RUN/xlb.yaml"
wait_until 5 all_up 1 || fail "be1 never came up"

# First the kill point that the random ones found: xlbd dies after writing
# a new backend's entry (xlb_backends) but before flipping the VIP's table.
# Made on purpose: stop xlbd, write be2's entry for V1 into the pinned map
# and put be2 in the state file. The restarted xlbd must not take the entry
# for a published backend: be2 has to be in the table and take requests.
stop_xlbd || fail "stop"
vip_id=$(in_ns lb bpftool -j map dump pinned /sys/fs/bpf/xlb/eth0/xlb_vips4 |
	python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["formatted"]["value"]["vip_id"])')
# struct xlb_backend: addr[4], mac[6], family 4, flags ALLOCATED|SERVING,
# vip_id, gen, weight 100, reserved; little-endian host.
value=$(python3 -c '
import socket, struct, sys
v = socket.inet_aton("198.18.0.12") + bytes(12) + bytes(6) + struct.pack("<BBIIHHI", 4, 3, int(sys.argv[1]), 1, 100, 0, 0)
print(" ".join("0x%02x" % b for b in v))' "$vip_id")
in_ns lb bpftool map update pinned /sys/fs/bpf/xlb/eth0/xlb_backends key 0xe8 0x03 0x00 0x00 value $value ||
	fail "writing the half-published backend"
conf half "$V1=198.18.0.11 198.18.0.12"
cp "$XLBT_RUN/half.yaml" "$XLBD_STATE_DIR/state.yaml"
start_xlbd "$XLBT_RUN/xlb.yaml"
wait_until 5 all_up 2 || fail "be1 and be2 not up after the restart"
seen=$(answering 198.18.1.100 | tr '\n' ' ')
assert_eq "be1 be2 " "$seen" "backends answering after a kill between entry and table"
echo "kill between a backend's entry and its table: the restarted xlbd republished the table ($seen)"
cp "$XLBT_RUN/a.yaml" "$XLBT_RUN/xlb.yaml"
xlbctl_lb config apply "$XLBT_RUN/a.yaml" >/dev/null || fail "back to a"

# How long a change takes here, so that the kills spread over all of it:
# the delay is random in 0..max(50 ms, 1.5 x the slowest change).
span=50
for f in b a b a; do
	t0=$(date +%s%N)
	xlbctl_lb config apply "$XLBT_RUN/$f.yaml" >/dev/null || fail "apply $f"
	t=$((($(date +%s%N) - t0) / 1000000 * 3 / 2))
	[ $t -gt $span ] && span=$t
done
echo "a change takes up to $((span * 2 / 3)) ms: kills within 0-$span ms"

old_saved=0 new_saved=0
for ((it = 1; it <= ITER; it++)); do
	old=$(summary "$XLBD_STATE_DIR/state.yaml") || fail "iteration $it: state unreadable"
	if ((RANDOM % 2)); then
		# Apply the other config: all of it or none of it.
		if [[ $old == *"$V2"* ]]; then next=a; else next=b; fi
		new=$(summary "$XLBT_RUN/$next.yaml")
		cmd=(config apply "$XLBT_RUN/$next.yaml")
	else
		if backends_of "$old" "$V1" | grep -qx 198.18.0.12; then
			cmd=(backend del "$V1" 198.18.0.12)
			new=$(sed "s#$V1=198.18.0.11,198.18.0.12#$V1=198.18.0.11#" <<<"$old")
		else
			cmd=(backend add "$V1" 198.18.0.12)
			new=$(sed "s#$V1=198.18.0.11#$V1=198.18.0.11,198.18.0.12#" <<<"$old")
		fi
	fi
	delay_ms=$((RANDOM % (span + 1)))
	xlbctl_lb "${cmd[@]}" >/dev/null 2>&1 &
	ctl=$!
	sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
	stop_xlbd KILL 2>/dev/null || fail "iteration $it: xlbd survived SIGKILL"
	wait "$ctl"
	# What a kill inside the write leaves: xlbd removes it when it starts.
	((it % 5 == 0)) && echo "torn" >"$XLBD_STATE_DIR/.state.yaml.Xy12Zq"
	start_xlbd "$XLBT_RUN/xlb.yaml"

	got=$(summary "$XLBD_STATE_DIR/state.yaml") || fail "iteration $it: torn state file"
	if [ "$got" = "$old" ]; then
		old_saved=$((old_saved + 1)) w=old
	elif [ "$got" = "$new" ]; then
		new_saved=$((new_saved + 1)) w=new
	else
		fail "iteration $it (${cmd[*]}, kill after $delay_ms ms): state is neither old ($old) nor new ($new): $got"
	fi
	left=$(find "$XLBD_STATE_DIR" -mindepth 1 ! -name state.yaml)
	[ -z "$left" ] || fail "iteration $it: left in the state directory: $left"
	api=$(xlbctl_lb config export | summary -) || fail "iteration $it: config export"
	assert_eq "$got" "$api" "iteration $it: API view"
	assert_eq "$(state_vips "$got")" "$(map_vips)" "iteration $it: VIPs in the map"
	n=$(tr ' ' '\n' <<<"$got" | cut -d= -f2 | tr ',' '\n' | grep -c .)
	wait_until 5 all_up "$n" || fail "iteration $it: $n backends not all up"
	for vb in $got; do
		v=${vb%%=*} a=${v%%:*}
		want=$(backends_of "$got" "$v" | tr '\n' ' ')
		seen=$(answering "$a" | while read -r b; do addr_of "$b"; done | sort | tr '\n' ' ')
		assert_eq "$want" "$seen" "iteration $it: backends answering for $v"
	done
	echo "iteration $it: ${cmd[*]##*/}: killed after $delay_ms ms -> $w state; maps and API agree"
done
echo "kill -9 at $ITER random points: $old_saved kept the old state, $new_saved the new one; none torn"
echo ok

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# xlbd (the plain build, build/xlbd) under valgrind memcheck through a
# start / apply / stop cycle: start from a config, a stream of xlbctl
# changes (VIPs, backends, drain, config apply and dry run) and reads
# (status, stats, health, export, /metrics), SIGTERM; then a restart that
# adopts the state file (and pins), and a second stop. Any memcheck error or
# definite/indirect leak fails (exit 1).
#
# Two cycles: on no interface (the whole daemon but the data path), with
# every memcheck check; then, as root, on a veth in a namespace of its own
# (attach, maps, pins, adoption) with --undef-value-errors=no: valgrind does
# not know that the kernel fills the buffers of several bpf() commands
# (BPF_MAP_LOOKUP_BATCH, BPF_OBJ_GET_INFO_BY_FD, per-CPU lookups), so every
# counter read would be an "uninitialised" false alarm; invalid accesses
# and leaks are still checked there. Exit 77 (skipped) without valgrind.
set -u
cd "$(dirname "$0")/../.."

command -v valgrind >/dev/null || { echo "valgrind not installed"; exit 77; }
for f in build/xlbd build/xlbctl; do
	[ -x "$f" ] || { echo "missing $f (make all)"; exit 1; }
done

run=$(mktemp -d /tmp/xlb-valgrind.XXXXXX)
ns= ifname= pid=
cleanup() {
	local rc=$?
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	if [ -n "$ns" ]; then
		ip netns exec "$ns" build/xlbd --cleanup "$ifname" >/dev/null 2>&1
		ip netns del "$ns" 2>/dev/null
	fi
	if [ $rc = 0 ]; then rm -rf "$run"; else echo "logs kept in $run"; fi
}
trap cleanup EXIT

# The command prefix that runs in the namespace (none without one).
ns_cmd=()
in_ns() {
	"${ns_cmd[@]}" "$@"
}

# A namespace with a veth whose neighbours are the backends 198.18.0.x and
# 2001:2::x (static entries: xlbd resolves their MACs).
make_netns() {
	ns=xlbvg$$
	ifname=xvg$$
	ns_cmd=(ip netns exec "$ns")
	ip netns add "$ns" &&
		ip -n "$ns" link add "$ifname" type veth peer name "${ifname}p" &&
		ip -n "$ns" link set "$ifname" up && ip -n "$ns" link set "${ifname}p" up &&
		ip -n "$ns" link set lo up &&
		ip -n "$ns" addr add 198.18.0.1/24 dev "$ifname" &&
		ip -n "$ns" addr add 2001:2::1/64 dev "$ifname" nodad || return 1
	for i in 11 12 21 31 32; do
		ip -n "$ns" neigh add "198.18.0.$i" lladdr "02:00:00:00:04:$i" dev "$ifname" \
			nud permanent &&
			ip -n "$ns" neigh add "2001:2::$i" lladdr "02:00:00:00:06:$i" dev "$ifname" \
				nud permanent || return 1
	done
}

write_configs() {
	cat >"$run/config.yaml" <<EOF
$1
vips:
  - vip: "198.18.1.100:80/tcp"
    health_check: {type: tcp, interval_ms: 200, timeout_ms: 100, rise: 1, fall: 1}
    backends:
      - {address: 198.18.0.11}
      - {address: 198.18.0.12, weight: 50}
  - vip: "[2001:2::100]:53/udp"
    algorithm: source-hash
    backends:
      - {address: "2001:2::11"}
EOF
	cat >"$run/apply.yaml" <<EOF
vips:
  - vip: "198.18.1.101:0/tcp"
    forward: l2dsr
    health_check: {type: http, port: 8080, path: /healthz, interval_ms: 200, timeout_ms: 100}
    backends:
      - {address: 198.18.0.21}
  - vip: "198.18.1.100:80/tcp"
    rate_limit: {pps: 1000, source_new_flows: 10}
    backends:
      - {address: 198.18.0.11}
EOF
}

sock=$run/xlbd.sock
port=$((20000 + $$ % 20000))
vg=(valgrind --tool=memcheck --error-exitcode=99 --leak-check=full
    --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect
    --num-callers=30)

# start NAME [VALGRIND_ARG...]: xlbd under valgrind, until it answers (its
# socket exists a little before it handles SIGTERM).
start() {
	local name=$1
	shift
	# not through in_ns: $! must be xlbd's (valgrind's) own PID
	"${ns_cmd[@]}" "${vg[@]}" "$@" --log-file="$run/valgrind.$name.log" build/xlbd \
		--config "$run/config.yaml" --state-dir "$run/state.$cycle" --socket "$sock" \
		--metrics "127.0.0.1:$port" --foreground --log-level info \
		>>"$run/xlbd.log" 2>&1 &
	pid=$!
	for _ in $(seq 600); do
		[ -S "$sock" ] && in_ns build/xlbctl --socket "$sock" status >/dev/null 2>&1 &&
			return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "FAIL: xlbd did not start under valgrind ($name)"
	tail -n 20 "$run/xlbd.log" "$run/valgrind.$name.log"
	exit 1
}

# stop NAME: SIGTERM, then judge the valgrind log.
stop() {
	local rc
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	pid=
	rm -f "$sock"
	if [ $rc -ne 0 ]; then
		echo "FAIL: xlbd under valgrind ($1) exited $rc (99: memcheck errors)"
		grep -E -A30 'Invalid|uninitiali|definitely lost|indirectly lost|Mismatched|overlap' \
			"$run/valgrind.$1.log" | head -n 80
		tail -n 10 "$run/xlbd.log"
		exit 1
	fi
	grep -E 'ERROR SUMMARY|definitely lost|indirectly lost' "$run/valgrind.$1.log" |
		sed "s/^==[0-9]*==/  $1:/"
}

# ctl ARG...: an xlbctl command that must succeed; refused ARG...: one xlbd
# must refuse (exit 1).
ctl() {
	echo "\$ xlbctl $*" >>"$run/xlbctl.log"
	in_ns build/xlbctl --socket "$sock" "$@" >>"$run/xlbctl.log" 2>&1 ||
		{ echo "FAIL: xlbctl $* (exit $?)"; tail -n 5 "$run/xlbctl.log"; exit 1; }
}
refused() {
	local rc=0
	echo "\$ xlbctl $*" >>"$run/xlbctl.log"
	in_ns build/xlbctl --socket "$sock" "$@" >>"$run/xlbctl.log" 2>&1 || rc=$?
	[ $rc = 1 ] || { echo "FAIL: xlbctl $*: exit $rc, expected 1 (refused)"; exit 1; }
}

# cycle NAME [VALGRIND_ARG...]
cycle() {
	local t0=$SECONDS
	cycle=$1
	shift
	start "$cycle" "$@"
	ctl status
	ctl vip add "198.18.1.102:443/tcp" --algo source-hash --rate 500/50
	ctl backend add "198.18.1.102:443/tcp" 198.18.0.31 --weight 3
	ctl backend add "198.18.1.102:443/tcp" 198.18.0.32
	ctl backend set "198.18.1.102:443/tcp" 198.18.0.31 --drain
	ctl backend set "198.18.1.100:80/tcp" 198.18.0.12 --weight 200
	refused backend add "198.18.9.9:80/tcp" 198.18.0.40
	refused vip add "198.18.1.100:80/tcp"
	refused vip del "198.18.9.9:80/tcp"
	ctl vip list
	ctl -j stats
	ctl health
	ctl config apply --dry-run "$run/apply.yaml"
	sleep 1 # a few rounds of health checks
	ctl config apply "$run/apply.yaml"
	ctl backend del "198.18.1.101:0/tcp" 198.18.0.21
	ctl vip del "198.18.1.101:0/tcp"
	ctl config export
	in_ns curl -sf "http://127.0.0.1:$port/metrics" | grep -q '^xlb_' ||
		{ echo "FAIL: no xlb_ metrics"; exit 1; }
	in_ns curl -s "http://127.0.0.1:$port/other" >/dev/null
	stop "$cycle"
	# a restart adopts the state file (and, on an interface, the pins)
	start "$cycle-restart" "$@"
	ctl status
	ctl -j stats
	stop "$cycle-restart"
	echo "  $cycle: clean through start, changes, stop, restart, stop ($((SECONDS - t0))s)"
}

write_configs "interfaces: []"
cycle no-interface --track-origins=yes
if [ "$(id -u)" = 0 ]; then
	make_netns || { echo "FAIL: cannot make the namespace"; exit 1; }
	write_configs "interfaces: [{name: $ifname, mode: generic}]"
	cycle veth --undef-value-errors=no
else
	echo "  veth: skipped (needs root)"
fi
echo "valgrind: xlbd memcheck clean"

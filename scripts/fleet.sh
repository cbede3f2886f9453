#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Fleet topology (docs/OPERATIONS.md, "Several xlb hosts"): a client
# behind a router that spreads the VIPs over several xlb hosts by ECMP,
# learnt over BGP + BFD from each host's BIRD, which announces what that
# host's xlbd keeps in table 100.
# Built on scripts/topology.sh: same run directory, PID files, bpffs per
# namespace, backends and `down`.
#
#   scripts/fleet.sh up PREFIX N_LBS N_BACKENDS l2dsr|ipip|gue [N_CONFIGURED]
#   scripts/fleet.sh down PREFIX
#   scripts/fleet.sh join PREFIX I         # lbI: namespace if new, link up, xlbd, BIRD
#   scripts/fleet.sh kill PREFIX I         # lbI: link down, SIGKILL xlbd and BIRD
#   scripts/fleet.sh xlbd PREFIX I start|stop|kill
#   scripts/fleet.sh paths PREFIX [VIP]    # the router's next hops for VIP: lbI per line
#   scripts/fleet.sh exec PREFIX ROLE CMD...
#
# Sourced (after scripts/topology.sh, which it sources), it defines
# fleet_up, fleet_down, fleet_join, fleet_kill, fleet_xlbd, fleet_paths,
# fleet_path_count, fleet_xlbctl, fleet_birdc, fleet_established,
# fleet_metric, fleet_lb4 and the FLEET_* variables below.
#
#   PREFIX-client  eth0 198.18.2.1/24 2001:2:0:2::1/64, default via the router
#   PREFIX-router  eth1 198.18.2.254/24 2001:2:0:2::fe/64 to the client;
#                  eth0 198.18.0.254/24 2001:2::fe/64 on the bridge. BIRD:
#                  passive BGP + BFD to lb1..lb8, `merge paths on` (ECMP),
#                  L4 multipath hash; `unreachable` routes for the VIP
#                  ranges, so a VIP nobody announces fails fast.
#   PREFIX-lbI     eth0 198.18.0.(1+I)/24 2001:2::(1+I)/64, I = 1..8; xlbd
#                  with RUN/xlb.yaml (the same on every lb; announce on) and
#                  BIRD with contrib/bird/bird.conf (RUN/lbI/bird.conf:
#                  only its define and log lines substituted)
#   PREFIX-beI     as in topology.sh (HTTP :80 is the health check), plus
#                  the fleet's VIP6 on lo, a route to the client via the
#                  router, and tests/lib/longconn.py's server on :7000
#   VIPs           198.18.1.100:7000/tcp and [2001:2:0:1::100]:7000/tcp,
#                  Maglev, backends be1..beN_CONFIGURED (default all)
#
# MODE gue: the VIPs forward in GUE (docs/GUE.md); backends run xlb-decap
# as for ipip, with forwarding on eth0 (bpf_fib_lookup finds an alternate's
# MAC only there) and xdp_pass on their switch port (they XDP_TX packets on
# to the alternate: trap 1). FLEET_CMP_VIP, the same backends in ipip,
# lets one event be measured in both modes at once.
#
# Backends share the lbs' segment: XDP_TX leaves by the interface it came in
# on, and the backends answer the client through the router (DSR).
# Veth trap 1: each lb's switch port gets xdp_pass. The lb ports also have
# unknown-unicast flooding off: a frame for a dead lb's MAC must not reach
# the other lbs, whose data path does not check the destination MAC.
#
# FLEET_ANNOUNCE=manual (a debugging aid for the BIRD side, not for tests):
# xlbd runs without `announce`, and `xlbd start` adds the VIP routes to
# table 100 by hand instead.

XLB_FLEET_SCRIPT=$(readlink -f "${BASH_SOURCE[0]}")
# shellcheck source=scripts/topology.sh
source "$(dirname "$XLB_FLEET_SCRIPT")/topology.sh"

FLEET_ROUTER4=198.18.0.254
FLEET_ROUTER6=2001:2::fe
FLEET_CLIENT4=198.18.2.1
FLEET_CLIENT6=2001:2:0:2::1
FLEET_RCLIENT4=198.18.2.254 # the router on the client's link
FLEET_RCLIENT6=2001:2:0:2::fe
FLEET_VIP4=$TOPO_VIP4
FLEET_VIP6=2001:2:0:1::100 # off the lbs' /64, so only a route reaches it
FLEET_PORT=7000
FLEET_VIP=$FLEET_VIP4:$FLEET_PORT/tcp
FLEET_VIP6_NAME=[$FLEET_VIP6]:$FLEET_PORT/tcp
FLEET_CMP_VIP4=$TOPO_VIP4_SPARE # gue mode only: the ipip VIP beside the gue ones
FLEET_CMP_VIP=$FLEET_CMP_VIP4:$FLEET_PORT/tcp
FLEET_TABLE=100
FLEET_MAX_LBS=8
FLEET_LOCAL_AS=65101
FLEET_ROUTER_AS=65100
# Health checks: a VIP whose backends all fail is withdrawn within
# interval x fall (+ the check's timeout).
FLEET_HC_INTERVAL_MS=${FLEET_HC_INTERVAL_MS:-300}
FLEET_HC_FALL=${FLEET_HC_FALL:-2}
# Backends' servers answer on the fleet's VIP6 as well.
TOPO_VIPS="$TOPO_VIPS $FLEET_VIP6"

fleet_lb4() { echo "198.18.0.$((1 + $1))"; }
fleet_lb6() { echo "2001:2::$((1 + $1))"; }

fleet_up() { bash "$XLB_FLEET_SCRIPT" up "$@"; }
fleet_down() { topo_down "$@"; }
fleet_join() { bash "$XLB_FLEET_SCRIPT" join "$@"; }
fleet_kill() { bash "$XLB_FLEET_SCRIPT" kill "$@"; }
fleet_xlbd() { bash "$XLB_FLEET_SCRIPT" xlbd "$@"; }

# fleet_paths PREFIX [VIP]: the router's next hops for VIP (default the
# IPv4 VIP), one lbI per line, from its FIB.
fleet_paths() {
	local vip=${2:-$FLEET_VIP4} fam=-4
	[[ $vip == *:* ]] && fam=-6
	ip -n "$(topo_ns "$1" router)" $fam route show "$vip" 2>/dev/null |
		awk '{ for (i = 1; i < NF; i++) if ($i == "via") print $(i + 1) }' |
		while read -r a; do
			case $a in
			198.18.0.*) echo "lb$((${a##*.} - 1))" ;;
			2001:2::*) echo "lb$((${a##*:} - 1))" ;;
			*) echo "$a" ;;
			esac
		done
}
fleet_path_count() { fleet_paths "$@" | grep -c . ; }

# fleet_xlbctl PREFIX I ARG...: xlbctl against lbI's xlbd.
fleet_xlbctl() {
	local p=$1 i=$2
	shift 2
	topo_exec "$p" "lb$i" "$XLB_TOPO_ROOT/build/xlbctl" \
		--socket "$(topo_run_dir "$p")/lb$i/xlbd.sock" "$@"
}

# fleet_birdc PREFIX ROLE ARG...: birdc against the BIRD of lbI or router.
fleet_birdc() {
	local p=$1 role=$2
	shift 2
	birdc -s "$(topo_run_dir "$p")/$role/bird.ctl" "$@"
}

# fleet_established PREFIX I: lbI's IPv4 session to the router is up.
fleet_established() {
	fleet_birdc "$1" "lb$2" show protocols router4 2>/dev/null | grep -q Established
}

# fleet_metric PREFIX I SERIES: its value in lbI's /metrics ("" if absent).
fleet_metric() {
	topo_exec "$1" "lb$2" curl -sf --max-time 5 http://127.0.0.1:9642/metrics |
		awk -v s="$3" 'index($0, s " ") == 1 { print $2 }'
}

# ---- internals -------------------------------------------------------------

_fleet_log() { echo "fleet: $*" >&2; }

_fleet_check_lb() {
	if ! [[ $1 =~ ^[1-9]$ ]] || [ "$1" -gt $FLEET_MAX_LBS ]; then
		_fleet_log "lb number must be 1..$FLEET_MAX_LBS: '$1'"
		exit 2
	fi
}

_fleet_ns_exists() {
	ip netns list 2>/dev/null | awk -v n="$1" '$1 == n { f = 1 } END { exit !f }'
}

# _fleet_pid_alive FILE: the process recorded in FILE ("PID START") runs.
_fleet_pid_alive() {
	local p s
	[ -f "$1" ] && read -r p s <"$1" && _topo_alive "$p" "$s"
}

# _fleet_signal FILE SIGNAL: SIGNAL to the recorded process; with KILL,
# waits (<= 5 s) until it is gone. The file goes once the process is.
_fleet_signal() {
	local f=$1 sig=$2 p s
	[ -f "$f" ] || return 0
	read -r p s <"$f"
	if _topo_alive "$p" "$s"; then
		kill -"$sig" "$p" 2>/dev/null
		for _ in $(seq 50); do
			_topo_alive "$p" "$s" || break
			sleep 0.1
		done
	fi
	_topo_alive "$p" "$s" && return 1
	rm -f "$f"
}

# contrib/bird/bird.conf with its defines and its log line replaced: each
# must be found, so a renamed define fails here rather than silently.
_fleet_bird_conf() {
	local i=$1 out=$2 run=$3 sed=() kv name
	for kv in "XLB_TABLE=$FLEET_TABLE" "LOCAL_AS=$FLEET_LOCAL_AS" \
		"ROUTER_AS=$FLEET_ROUTER_AS" "ROUTER4=$FLEET_ROUTER4" \
		"ROUTER6=$FLEET_ROUTER6" "VIP4_RANGES=[ 198.18.1.0/24+ ]" \
		"VIP6_RANGES=[ 2001:2:0:1::/64+ ]"; do
		name=${kv%%=*}
		grep -q "^define $name = " "$XLB_TOPO_ROOT/contrib/bird/bird.conf" ||
			{ _fleet_log "contrib/bird/bird.conf has no 'define $name'"; return 1; }
		sed+=(-e "s|^define $name = [^;]*;|define $name = ${kv#*=};|")
	done
	grep -q '^log syslog all;' "$XLB_TOPO_ROOT/contrib/bird/bird.conf" ||
		{ _fleet_log "contrib/bird/bird.conf has no 'log syslog all;'"; return 1; }
	sed "${sed[@]}" -e "s|^log syslog all;|log \"$run/lb$i/bird.log\" all;|" \
		"$XLB_TOPO_ROOT/contrib/bird/bird.conf" >"$out"
}

# The router: BGP to every possible lb (passive: the lbs connect), routes
# merged into one multipath route per VIP.
_fleet_router_conf() {
	local run=$1 i
	cat <<EOF
# Generated by scripts/fleet.sh: the fleet test's router.
log "$run/router/bird.log" all;
router id $FLEET_ROUTER4;
protocol device {
}
# One ECMP route per VIP address into the FIB, a next hop per lb.
protocol kernel {
	merge paths on;
	ipv4 { import none; export all; };
}
protocol kernel {
	merge paths on;
	ipv6 { import none; export all; };
}
protocol bfd {
	interface "*" {
		interval 100 ms;
		multiplier 3;
	};
}
filter vips4 { if net ~ [ 198.18.1.0/24{32,32} ] then accept; reject; }
filter vips6 { if net ~ [ 2001:2:0:1::/64{128,128} ] then accept; reject; }
template bgp lb {
	local as $FLEET_ROUTER_AS;
	passive on;
	bfd on;
	hold time 3;
	keepalive time 1;
	error wait time 1, 10;
	graceful restart off;
	debug { states, events };
}
EOF
	for ((i = 1; i <= FLEET_MAX_LBS; i++)); do
		echo "protocol bgp lb${i}_4 from lb { neighbor $(fleet_lb4 $i) as $FLEET_LOCAL_AS; ipv4 { import filter vips4; export none; }; }"
		echo "protocol bgp lb${i}_6 from lb { neighbor $(fleet_lb6 $i) as $FLEET_LOCAL_AS; ipv6 { import filter vips6; export none; }; }"
	done
}

# The xlbd config every lb shares: the VIPs with backends be1..beK.
_fleet_xlb_conf() {
	local k=$1 mode=$2 v b i
	echo "# Generated by scripts/fleet.sh: the same on every lb."
	echo "interfaces:"
	echo "  - {name: eth0, mode: native}"
	[ "${FLEET_ANNOUNCE:-xlbd}" = manual ] ||
		echo "announce: {table: $FLEET_TABLE, min_healthy: 1}"
	echo "vips:"
	local vips=("$FLEET_VIP" "$FLEET_VIP6_NAME")
	[ "$mode" = gue ] && vips+=("$FLEET_CMP_VIP")
	for v in "${vips[@]}"; do
		echo "  - vip: \"$v\""
		echo "    algorithm: maglev"
		if [ "$v" = "$FLEET_CMP_VIP" ]; then
			echo "    forward: ipip"
		else
			echo "    forward: $mode"
		fi
		# Small enough to dump and compare (test_fleet.sh), >= 100 x backends.
		echo "    table_size: 4099"
		echo "    health_check: {type: http, port: 80, path: /, expect: \"200-399\","
		echo "                   interval_ms: $FLEET_HC_INTERVAL_MS, timeout_ms: 200, rise: 1, fall: $FLEET_HC_FALL}"
		# Every backend may be ejected (else panic mode keeps the last ones
		# and the VIP is never withdrawn); back after 1 s; no slow start, so
		# every lb builds the same table at every moment.
		echo "    circuit_breaker: {base_ejection_ms: 1000, max_ejection_ms: 2000,"
		echo "                      max_ejection_percent: 100, slow_start_ms: 0}"
		echo "    backends:"
		for ((i = 1; i <= k; i++)); do
			case $v in
			\[*) b=$(topo_be6 $i) ;;
			*) b=$(topo_be4 $i) ;;
			esac
			echo "      - {address: \"$b\", weight: 100}"
		done
	done
}

_fleet_spawn_bird() { # PREFIX ROLE
	local run=$(topo_run_dir "$1") role=$2
	topo_exec_argv "$1" "$role"
	"${TOPO_EXEC[@]}" bird -f -c "$run/$role/bird.conf" -s "$run/$role/bird.ctl" \
		-P "$run/$role/bird.pidfile" </dev/null >>"$run/$role/bird.out" 2>&1 &
	_topo_record "$run/$role/bird.pid" $!
	# Ready when its control socket answers.
	for _ in $(seq 50); do
		birdc -s "$run/$role/bird.ctl" show status >/dev/null 2>&1 && return 0
		_fleet_pid_alive "$run/$role/bird.pid" || break
		sleep 0.1
	done
	_fleet_log "$role: BIRD did not start:"
	cat "$run/$role/bird.out" "$run/$role/bird.log" >&2 2>/dev/null
	return 1
}

_fleet_manual_routes() { # PREFIX I add|del
	local ns
	ns=$(topo_ns "$1" "lb$2")
	ip -n "$ns" route "$3" "$FLEET_VIP4/32" dev eth0 scope link proto 173 table $FLEET_TABLE
	ip -n "$ns" -6 route "$3" "$FLEET_VIP6/128" dev eth0 proto 173 table $FLEET_TABLE
}

_fleet_xlbd() { # PREFIX I start|stop|kill
	local prefix=$1 i=$2 op=$3 run d
	_topo_check_prefix "$prefix"
	_fleet_check_lb "$i"
	run=$(topo_run_dir "$prefix")
	d=$run/lb$i
	[ -d "$d" ] || { _fleet_log "no lb$i in $prefix"; exit 1; }
	case $op in
	start)
		_fleet_pid_alive "$d/xlbd.pid" && { _fleet_log "lb$i: xlbd already runs"; exit 1; }
		mkdir -p "$d/state"
		rm -f "$d/xlbd.sock"
		echo "=== start $(date +%T.%N)" >>"$d/xlbd.log"
		topo_exec_argv "$prefix" "lb$i"
		"${TOPO_EXEC[@]}" "$XLB_TOPO_ROOT/build/xlbd" --config "$run/xlb.yaml" \
			--state-dir "$d/state" --socket "$d/xlbd.sock" --foreground \
			--metrics 127.0.0.1:9642 </dev/null >>"$d/xlbd.log" 2>&1 &
		_topo_record "$d/xlbd.pid" $!
		for _ in $(seq 100); do
			[ -S "$d/xlbd.sock" ] && break
			_fleet_pid_alive "$d/xlbd.pid" || break
			sleep 0.1
		done
		if ! [ -S "$d/xlbd.sock" ]; then
			_fleet_log "lb$i: xlbd did not start:"
			tail -n 20 "$d/xlbd.log" >&2
			exit 1
		fi
		if [ "${FLEET_ANNOUNCE:-xlbd}" = manual ]; then
			_fleet_manual_routes "$prefix" "$i" replace
		fi ;;
	stop) _fleet_signal "$d/xlbd.pid" TERM ;;
	kill) _fleet_signal "$d/xlbd.pid" KILL ;;
	*) _fleet_log "xlbd: start, stop or kill"; exit 2 ;;
	esac
}

# lbI's namespace: on the bridge, xdp_pass on its port (trap 1), no
# unknown-unicast flooding to it, its BIRD config.
_fleet_new_lb() {
	local prefix=$1 i=$2 mtu=$3 run ns sw
	run=$(topo_run_dir "$prefix")
	ns=$(topo_ns "$prefix" "lb$i")
	sw=$(topo_ns "$prefix" sw)
	_topo_node "$prefix" "lb$i" "$mtu"
	# Its IPv6 address survives `kill` taking the link down, for a join.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.eth0.keep_addr_on_down=1
	ip -n "$ns" addr add "$(fleet_lb4 "$i")/24" dev eth0
	ip -n "$ns" addr add "$(fleet_lb6 "$i")/64" dev eth0 nodad
	_topo_xdp_pass "$prefix" "lb$i"
	ip -n "$sw" link set dev "lb$i" type bridge_slave flood off
	mkdir -p "$run/lb$i"
	_fleet_bird_conf "$i" "$run/lb$i/bird.conf" "$run"
}

_fleet_join() {
	local prefix=$1 i=$2 run mode mtu ns
	_topo_check_prefix "$prefix"
	_fleet_check_lb "$i"
	run=$(topo_run_dir "$prefix")
	[ -f "$run/fleet" ] || { _fleet_log "join: $prefix is not up"; exit 1; }
	read -r mode _ <"$run/topology"
	mtu=1500
	[ "$mode" != l2dsr ] && mtu=$TOPO_IPIP_MTU
	trap '_fleet_log "join $prefix lb$i failed at line $LINENO"; exit 1' ERR
	set -eE -o pipefail
	ns=$(topo_ns "$prefix" "lb$i")
	if _fleet_ns_exists "$ns"; then
		ip -n "$ns" link set eth0 up
	else
		_fleet_new_lb "$prefix" "$i" $mtu
	fi
	_fleet_pid_alive "$run/lb$i/xlbd.pid" || _fleet_xlbd "$prefix" "$i" start
	_fleet_pid_alive "$run/lb$i/bird.pid" || _fleet_spawn_bird "$prefix" "lb$i"
	trap - ERR
}

# Host death: the link goes down, then xlbd and BIRD are SIGKILLed. In
# that order, as when a host loses power: the killed BIRD's TCP reset never
# reaches the router, which has to notice by BFD.
_fleet_kill() {
	local prefix=$1 i=$2 run f p s pids=()
	_topo_check_prefix "$prefix"
	_fleet_check_lb "$i"
	run=$(topo_run_dir "$prefix")
	for f in "$run/lb$i/xlbd.pid" "$run/lb$i/bird.pid"; do
		[ -f "$f" ] && read -r p s <"$f" && _topo_alive "$p" "$s" && pids+=("$p")
	done
	# When it died, for the caller's convergence figures (ms since the epoch).
	date +%s%3N >"$run/lb$i/killed_at"
	ip -n "$(topo_ns "$prefix" "lb$i")" link set eth0 down
	[ ${#pids[@]} -gt 0 ] && kill -KILL "${pids[@]}" 2>/dev/null
	_fleet_signal "$run/lb$i/xlbd.pid" KILL
	_fleet_signal "$run/lb$i/bird.pid" KILL
}

_fleet_up() {
	local prefix=$1 nlb=$2 nbe=$3 mode=$4 ncfg=${5:-$3} run sw ns r c i mtu
	_topo_check_prefix "$prefix"
	if ! [[ $nlb =~ ^[1-8]$ ]]; then _fleet_log "N_LBS must be 1..$FLEET_MAX_LBS: '$nlb'"; exit 2; fi
	if ! [[ $nbe =~ ^[0-9]+$ ]] || [ "$nbe" -lt 1 ] || [ "$nbe" -gt 40 ]; then
		_fleet_log "N_BACKENDS must be 1..40: '$nbe'"; exit 2
	fi
	if ! [[ $ncfg =~ ^[0-9]+$ ]] || [ "$ncfg" -gt "$nbe" ]; then
		_fleet_log "N_CONFIGURED must be 0..N_BACKENDS: '$ncfg'"; exit 2
	fi
	case $mode in l2dsr | ipip | gue) ;; *) _fleet_log "MODE must be l2dsr, ipip or gue: '$mode'"; exit 2 ;; esac
	[ "$(id -u)" = 0 ] || { _fleet_log "needs root"; exit 1; }
	command -v bird >/dev/null || { _fleet_log "needs bird (package bird2)"; exit 1; }
	run=$(topo_run_dir "$prefix")
	if [ -e "$run" ] || [ -n "$(_topo_namespaces "$prefix")" ]; then
		_fleet_log "$prefix is already up (or left over): run 'down $prefix' first"
		exit 1
	fi
	cd "$XLB_TOPO_ROOT"
	for f in build/tests/xdp_pass.bpf.o build/xlbd build/xlbctl; do
		[ -e $f ] || { _fleet_log "$f is not built (make all)"; exit 1; }
	done
	[ $mode != l2dsr ] && { [ -x build/xlb-decap ] || { _fleet_log "build/xlb-decap is not built"; exit 1; }; }

	mkdir -p "$run"
	trap 'set +eE; trap - ERR; _fleet_log "up $prefix failed at line $LINENO; tearing down"
	      _topo_down "$prefix"; exit 1' ERR
	set -eE -o pipefail
	echo "$mode $nbe" >"$run/topology"
	echo "$nlb" >"$run/fleet"

	sw=$(topo_ns "$prefix" sw)
	mtu=1500
	[ $mode != l2dsr ] && mtu=$TOPO_IPIP_MTU
	_topo_switch "$sw" $mtu

	# Router: eth0 on the bridge, eth1 to the client.
	_topo_node "$prefix" router $mtu
	r=$(topo_ns "$prefix" router)
	c=$(topo_ns "$prefix" client)
	ip netns add "$c"
	ip netns exec "$c" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
	ip -n "$c" link set lo up
	ip -n "$r" link add eth1 type veth peer name eth0 netns "$c"
	ip -n "$r" addr add $FLEET_ROUTER4/24 dev eth0
	ip -n "$r" addr add $FLEET_ROUTER6/64 dev eth0 nodad
	ip -n "$r" addr add $FLEET_RCLIENT4/24 dev eth1
	ip -n "$r" addr add $FLEET_RCLIENT6/64 dev eth1 nodad
	ip -n "$r" link set eth1 up
	# Forwarding, ECMP hashed on the 5-tuple (not on addresses only: one
	# client would else take one lb), no reverse-path filter.
	ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.fib_multipath_hash_policy=1 net.ipv6.fib_multipath_hash_policy=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	# A VIP no lb announces is unreachable at once (ICMP), not blackholed.
	ip -n "$r" route add unreachable 198.18.1.0/24 metric 4000
	ip -n "$r" -6 route add unreachable 2001:2:0:1::/64 metric 4000
	mkdir -p "$run/router"
	_fleet_router_conf "$run" >"$run/router/bird.conf"

	# Client: everything via the router; trap 2, checksum offload off.
	ip -n "$c" addr add $FLEET_CLIENT4/24 dev eth0
	ip -n "$c" addr add $FLEET_CLIENT6/64 dev eth0 nodad
	ip -n "$c" link set eth0 up
	ip -n "$c" route add default via $FLEET_RCLIENT4
	ip -n "$c" -6 route add default via $FLEET_RCLIENT6
	ip netns exec "$c" ethtool -K eth0 tx off >/dev/null

	# Backends: topology.sh's, answering the client through the router,
	# with the long-lived connections' server.
	_topo_write_server "$run/server.py"
	for ((i = 1; i <= nbe; i++)); do
		_topo_node "$prefix" "be$i" $mtu
		if [ $mode = gue ]; then # xlb-decap does both
			_topo_backend "$prefix" $i ipip
		else
			_topo_backend "$prefix" $i $mode
		fi
		ns=$(topo_ns "$prefix" "be$i")
		if [ $mode = gue ]; then
			ip netns exec "$ns" sysctl -qw net.ipv4.conf.eth0.forwarding=1 \
				net.ipv6.conf.eth0.forwarding=1
			_topo_xdp_pass "$prefix" "be$i"
		fi
		ip -n "$ns" route add 198.18.2.0/24 via $FLEET_ROUTER4
		ip -n "$ns" -6 route add 2001:2:0:2::/64 via $FLEET_ROUTER6
		topo_exec_argv "$prefix" "be$i"
		"${TOPO_EXEC[@]}" python3 "$XLB_TOPO_ROOT/tests/lib/longconn.py" server "be$i" $FLEET_PORT \
			</dev/null >>"$run/be$i/longconn.log" 2>&1 &
		_topo_record "$run/be$i/longconn.pid" $!
	done
	for ((i = 1; i <= nbe; i++)); do
		_topo_wait_http "$prefix" $i
		[ $mode != l2dsr ] && _topo_wait_decap "$prefix" $i
	done

	_fleet_xlb_conf "$ncfg" $mode >"$run/xlb.yaml"
	_fleet_spawn_bird "$prefix" router
	for ((i = 1; i <= nlb; i++)); do
		_fleet_new_lb "$prefix" $i $mtu
		_fleet_xlbd "$prefix" $i start
		_fleet_spawn_bird "$prefix" "lb$i"
	done
	trap - ERR
	_fleet_log "$prefix up: $nlb lb(s), $nbe backend(s) ($ncfg configured), $mode, state in $run"
}

_fleet_main() {
	local cmd=${1:-}
	shift || true
	case $cmd in
	up)
		[ $# = 4 ] || [ $# = 5 ] ||
			{ _fleet_log "usage: up PREFIX N_LBS N_BACKENDS l2dsr|ipip|gue [N_CONFIGURED]"; exit 2; }
		_fleet_up "$@" ;;
	down)
		[ $# = 1 ] || { _fleet_log "usage: down PREFIX"; exit 2; }
		_topo_down "$1" ;;
	join)
		[ $# = 2 ] || { _fleet_log "usage: join PREFIX I"; exit 2; }
		_fleet_join "$@" ;;
	kill)
		[ $# = 2 ] || { _fleet_log "usage: kill PREFIX I"; exit 2; }
		_fleet_kill "$@" ;;
	xlbd)
		[ $# = 3 ] || { _fleet_log "usage: xlbd PREFIX I start|stop|kill"; exit 2; }
		_fleet_xlbd "$@" ;;
	paths)
		[ $# = 1 ] || [ $# = 2 ] || { _fleet_log "usage: paths PREFIX [VIP]"; exit 2; }
		fleet_paths "$@" ;;
	exec)
		[ $# -ge 3 ] || { _fleet_log "usage: exec PREFIX ROLE CMD..."; exit 2; }
		topo_exec "$@" ;;
	*)
		sed -n '10,16p' "$XLB_FLEET_SCRIPT" | sed 's/^# \{0,1\}//' >&2
		exit 2 ;;
	esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	_fleet_main "$@"
fi

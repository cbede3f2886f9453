#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Test topology in network namespaces: a client, a load balancer and N
# backends, one veth each, joined by a Linux bridge that lives in its own
# namespace, so nothing is added to the host's root network namespace.
#
#   scripts/topology.sh up PREFIX N_BACKENDS l2dsr|ipip
#   scripts/topology.sh down PREFIX
#   scripts/topology.sh add-lb PREFIX ROLE V4 [xdp-pass] # ROLE: lbNAME, V4: 198.18.0.3-9
#   scripts/topology.sh exec PREFIX ROLE CMD...     # ROLE: client, lb, be1.., sw
#
# Sourced, it defines topo_up, topo_down, topo_add_lb, topo_exec, topo_exec_argv,
# topo_backend_http (stop|start a backend's server), topo_ns, topo_run_dir,
# topo_be4, topo_be6 and the TOPO_* address variables below. topo_up,
# topo_down, topo_add_lb and topo_backend_http run this file as a child process, so a
# failure never depends on the caller's `set -e` state.
#
#   PREFIX-sw      bridge br0; ports "client", "lb", "be1".. (veth peers)
#   PREFIX-client  eth0 198.18.0.1/24 2001:2::1/64; VIPs routed via the lb
#   PREFIX-lb      eth0 198.18.0.2/24 2001:2::2/64
#   PREFIX-lbNAME  (add-lb) eth0 V4/24: another balancer beside the lb
#   PREFIX-router  (scripts/fleet.sh, which builds on this file)
#   PREFIX-beI     eth0 198.18.0.(10+I)/24 2001:2::(10+I)/64; VIPs on lo;
#                  HTTP on :80 answering "beI\n" (GET /bytes/N: N bytes;
#                  503 while the file RUN/beI/down exists); UDP on :53
#                  answering "beI\n" from the address that was asked
#   VIPs           198.18.1.100, 2001:2::100 (spares 198.18.1.101, 2001:2::101)
#
# MODE l2dsr: backends keep the VIPs off ARP (arp_ignore=1, arp_announce=2).
# MODE ipip:  build/xlb-decap runs on each backend's eth0 (native XDP) for
#             the VIPs, and every link but the client's has MTU 1600 so a
#             full-size client packet still fits once encapsulated.
#
# Run state lives in RUN=/tmp/xlb-PREFIX: PID files (*.pid: "PID STARTTIME"),
# logs, the backends' document roots, and one bpffs per lb/backend namespace
# mounted at RUN/bpf/ROLE. `topo_exec` bind-mounts that bpffs on /sys/fs/bpf
# inside `ip netns exec` (which otherwise gives every command a fresh /sys
# with no bpffs, docs/KERNEL.md veth trap 3), so objects pinned there by one command
# (xlbd) are still there for the next one, e.g. a restarted xlbd. `down`
# kills those PIDs and any other process left in the PREFIX namespaces,
# deletes the namespaces, unmounts the bpffs (dropping the pins) and
# removes RUN. It succeeds when there is nothing to remove.
#
# The veth traps of docs/KERNEL.md handled here:
#  1. XDP_TX from the lb's eth0 is delivered only when its peer ("lb" in
#     PREFIX-sw) has a native XDP program: tests/bpf/xdp_pass.bpf.o goes there.
#  2. The client sends with checksum offload, which XDP forwarding loses:
#     `ethtool -K eth0 tx off` in the client.
#  3. The bpffs, as above.

XLB_TOPO_SCRIPT=$(readlink -f "${BASH_SOURCE[0]}")
XLB_TOPO_ROOT=$(dirname "$(dirname "$XLB_TOPO_SCRIPT")")

# python3's own directory first on PATH, once: a version manager's shim
# (pyenv's) costs ~0.4 s a call, and the tests call python3 in their polls.
if [ -z "${XLB_PY_RESOLVED:-}" ]; then
	export XLB_PY_RESOLVED=1
	_topo_py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || _topo_py=
	if [ -x "$_topo_py" ] && [ "$(command -v python3)" != "${_topo_py%/*}/python3" ] &&
		[ -x "${_topo_py%/*}/python3" ]; then
		export PATH="${_topo_py%/*}:$PATH"
	fi
	unset _topo_py
fi

TOPO_CLIENT4=198.18.0.1
TOPO_CLIENT6=2001:2::1
TOPO_LB4=198.18.0.2
TOPO_LB6=2001:2::2
TOPO_VIP4=198.18.1.100
TOPO_VIP6=2001:2::100
TOPO_VIP4_SPARE=198.18.1.101
TOPO_VIP6_SPARE=2001:2::101
TOPO_VIPS="$TOPO_VIP4 $TOPO_VIP6 $TOPO_VIP4_SPARE $TOPO_VIP6_SPARE"
TOPO_IPIP_MTU=1600

topo_run_dir() { echo "/tmp/xlb-$1"; }
topo_ns() { echo "$1-$2"; }
topo_be4() { echo "198.18.0.$((10 + $1))"; }
topo_be6() { echo "2001:2::$((10 + $1))"; }

# topo_exec_argv PREFIX ROLE: sets the array TOPO_EXEC to the command prefix
# that runs a command inside PREFIX-ROLE, with the role's bpffs on
# /sys/fs/bpf when it has one. Each step execs the next, so in
#   "${TOPO_EXEC[@]}" CMD... &
# $! is CMD's own PID (a function run with & would be a subshell's).
topo_exec_argv() {
	local bpf
	bpf=$(topo_run_dir "$1")/bpf/$2
	TOPO_EXEC=(ip netns exec "$(topo_ns "$1" "$2")")
	if mountpoint -q "$bpf" 2>/dev/null; then
		TOPO_EXEC+=(sh -c 'mount --bind "$0" /sys/fs/bpf && exec "$@"' "$bpf")
	fi
}

# topo_exec PREFIX ROLE CMD... : CMD inside PREFIX-ROLE, in the foreground.
topo_exec() {
	local TOPO_EXEC
	topo_exec_argv "$1" "$2"
	shift 2
	"${TOPO_EXEC[@]}" "$@"
}

topo_up() { bash "$XLB_TOPO_SCRIPT" up "$@"; }
topo_down() { bash "$XLB_TOPO_SCRIPT" down "$@"; }
# topo_add_lb PREFIX ROLE V4 [xdp-pass]
topo_add_lb() { bash "$XLB_TOPO_SCRIPT" add-lb "$@"; }
# topo_backend_http PREFIX I stop|start
topo_backend_http() { bash "$XLB_TOPO_SCRIPT" backend-http "$@"; }

# ---- internals (lib.sh uses _topo_starttime and _topo_alive) -------------

_topo_log() { echo "topology: $*" >&2; }

# Start time of a live (not zombie) process: with the PID it names the
# process despite PID reuse.
_topo_starttime() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) } # fields from 3 on; comm may hold anything
	set -- $stat
	[ "$1" != Z ] && [ "$1" != X ] || return 1
	echo "${20}"
}

# _topo_record FILE PID: "PID STARTTIME", or "PID dead" if it already ended.
_topo_record() {
	local st
	st=$(_topo_starttime "$2") || st=dead
	echo "$2 $st" >"$1"
}

# _topo_alive PID STARTTIME: true if that very process still runs.
_topo_alive() {
	local st
	st=$(_topo_starttime "$1") || return 1
	[ "$st" = "$2" ]
}

# _topo_kill PID STARTTIME...(pairs): TERM, wait up to 3 s, then KILL.
_topo_kill() {
	local pairs=("$@") i left
	for ((i = 0; i < ${#pairs[@]}; i += 2)); do
		_topo_alive "${pairs[i]}" "${pairs[i + 1]}" && kill -TERM "${pairs[i]}" 2>/dev/null
	done
	for _ in $(seq 30); do
		left=0
		for ((i = 0; i < ${#pairs[@]}; i += 2)); do
			_topo_alive "${pairs[i]}" "${pairs[i + 1]}" && left=1
		done
		[ $left = 0 ] && return 0
		sleep 0.1
	done
	for ((i = 0; i < ${#pairs[@]}; i += 2)); do
		_topo_alive "${pairs[i]}" "${pairs[i + 1]}" && kill -KILL "${pairs[i]}" 2>/dev/null
	done
	return 0
}

_topo_namespaces() {
	ip netns list 2>/dev/null | awk '{print $1}' |
		grep -E "^$1-(sw|client|router|lb[a-z0-9]*|be[0-9]+)\$" || true
}

_topo_check_prefix() {
	if ! [[ $1 =~ ^[A-Za-z0-9_]{1,20}$ ]]; then
		_topo_log "PREFIX must be 1-20 letters, digits or _: '$1'"
		exit 2
	fi
}

_topo_down() {
	local prefix=$1 run ns f pairs=() p s
	_topo_check_prefix "$prefix"
	run=$(topo_run_dir "$prefix")
	# Our own processes first, gracefully (TERM; xlb-decap leaves its program
	# attached, gone with the namespace, and its pins, gone with the bpffs).
	for f in "$run"/*.pid "$run"/*/*.pid; do
		[ -f "$f" ] || continue
		while read -r p s _; do
			[[ $p =~ ^[0-9]+$ ]] && pairs+=("$p" "$s")
		done <"$f"
	done
	[ ${#pairs[@]} -gt 0 ] && _topo_kill "${pairs[@]}"
	# Then anything else still running inside our namespaces.
	pairs=()
	for ns in $(_topo_namespaces "$prefix"); do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			s=$(_topo_starttime "$p") && pairs+=("$p" "$s")
		done
	done
	[ ${#pairs[@]} -gt 0 ] && _topo_kill "${pairs[@]}"
	for ns in $(_topo_namespaces "$prefix"); do
		ip netns del "$ns" 2>/dev/null || _topo_log "cannot delete namespace $ns"
	done
	if [ -d "$run" ]; then
		for f in "$run"/bpf/*; do
			mountpoint -q "$f" 2>/dev/null || continue
			umount "$f" 2>/dev/null || umount -l "$f" ||
				_topo_log "cannot unmount $f"
		done
		rm -rf --one-file-system "$run"
	fi
	if [ -n "$(_topo_namespaces "$prefix")" ] || [ -e "$run" ]; then
		_topo_log "down $prefix: something is left behind"
		return 1
	fi
	return 0
}

# The backends' server: HTTP on :80 (dual-stack wildcard, so it answers on
# the VIPs and its own addresses) and UDP on :53 bound to each address, so a
# reply leaves from the address the client asked.
_topo_write_server() {
	cat >"$1" <<'EOF'
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# Test backend: python3 server.py NAME DIR UDP_ADDR...
import http.server, os, socket, socketserver, sys, threading

name, root, udp_addrs = sys.argv[1], sys.argv[2], sys.argv[3:]
body = (name + "\n").encode()
CHUNK = b"x" * 65536


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if os.path.exists(os.path.join(root, "down")):
            self.reply(503, b"down\n")
        elif self.path.startswith("/bytes/"):
            try:
                n = int(self.path[len("/bytes/"):])
            except ValueError:
                return self.reply(400, b"bad length\n")
            self.send_response(200)
            self.send_header("Content-Length", str(n))
            self.send_header("X-Backend", name)
            self.end_headers()
            while n > 0:
                k = min(n, len(CHUNK))
                self.wfile.write(CHUNK[:k])
                n -= k
        else:
            self.reply(200, body)

    def reply(self, code, data):
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Backend", name)
        self.end_headers()
        self.wfile.write(data)


class Server(socketserver.ThreadingTCPServer):
    address_family = socket.AF_INET6
    allow_reuse_address = True
    # socketserver's default backlog is 5: a burst of clients overflows it,
    # the kernel drops their SYNs and the passive signal rightly sees a
    # backend that does not answer.
    request_queue_size = 128
    daemon_threads = True

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def udp(addr):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((addr, 53))
    while True:
        _, peer = s.recvfrom(2048)
        s.sendto(body, peer)


for a in udp_addrs:
    threading.Thread(target=udp, args=(a,), daemon=True).start()
srv = Server(("::", 80), Handler)
print("listening", flush=True)
srv.serve_forever()
EOF
}

_topo_spawn_http() {
	local prefix=$1 i=$2 run role
	run=$(topo_run_dir "$prefix")
	role=be$i
	topo_exec_argv "$prefix" "$role"
	"${TOPO_EXEC[@]}" python3 "$run/server.py" "$role" "$run/$role" \
		$TOPO_VIPS "$(topo_be4 "$i")" "$(topo_be6 "$i")" \
		</dev/null >>"$run/$role/http.log" 2>&1 &
	_topo_record "$run/$role/http.pid" $!
}

# Ready when it accepts connections on its own address.
_topo_wait_http() {
	local prefix=$1 i=$2 run role p s
	run=$(topo_run_dir "$prefix")
	role=be$i
	read -r p s <"$run/$role/http.pid"
	for _ in $(seq 100); do
		if ! _topo_alive "$p" "$s"; then
			_topo_log "$role: HTTP server exited:"
			cat "$run/$role/http.log" >&2
			return 1
		fi
		if ip netns exec "$(topo_ns "$prefix" "$role")" \
			bash -c "exec 3<>/dev/tcp/$(topo_be4 "$i")/80" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	_topo_log "$role: HTTP server not listening after 10 s"
	return 1
}

_topo_wait_decap() {
	local prefix=$1 i=$2 run p s
	run=$(topo_run_dir "$prefix")
	read -r p s <"$run/be$i/decap.pid"
	for _ in $(seq 100); do
		if ! _topo_alive "$p" "$s"; then
			_topo_log "be$i: xlb-decap exited:"
			cat "$run/be$i/decap.log" >&2
			return 1
		fi
		topo_exec "$prefix" "be$i" "$XLB_TOPO_ROOT/build/xlb-decap" list eth0 \
			>/dev/null 2>&1 && return 0
		sleep 0.1
	done
	_topo_log "be$i: xlb-decap not answering after 10 s:"
	cat "$run/be$i/decap.log" >&2
	return 1
}

# _topo_switch NS MTU: the namespace holding bridge br0 that joins the
# hosts (IPv6 off in it: the bridge only forwards).
_topo_switch() {
	ip netns add "$1"
	ip -n "$1" link set lo up
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$1" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	ip -n "$1" link add br0 mtu "$2" type bridge
	ip -n "$1" link set br0 up
}

_topo_backend_http() {
	local prefix=$1 i=$2 op=$3 run f p s
	run=$(topo_run_dir "$prefix")
	f=$run/be$i/http.pid
	[ -d "$run/be$i" ] || { _topo_log "no backend be$i in $prefix"; exit 1; }
	case $op in
	stop)
		if [ -f "$f" ]; then
			read -r p s <"$f"
			_topo_kill "$p" "$s"
			rm -f "$f"
		fi ;;
	start)
		[ -f "$f" ] && { read -r p s <"$f"; _topo_alive "$p" "$s" && return 0; }
		_topo_spawn_http "$prefix" "$i" && _topo_wait_http "$prefix" "$i" ;;
	*) _topo_log "backend-http: stop or start"; exit 2 ;;
	esac
}

# _topo_node PREFIX ROLE MTU: namespace PREFIX-ROLE with eth0 on the bridge
# (port ROLE), and a bpffs of its own unless it is the client.
_topo_node() {
	local prefix=$1 role=$2 mtu=$3 run ns sw
	run=$(topo_run_dir "$prefix")
	sw=$(topo_ns "$prefix" sw)
	ns=$(topo_ns "$prefix" "$role")
	ip netns add "$ns"
	# No DAD: until its link-local address has passed DAD the kernel
	# sends no neighbour solicitation without a packet to answer (xlbd
	# resolving a backend at start), and on an idle machine DAD outlasts
	# the setup. Set before eth0 exists, which takes the defaults.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.accept_dad=0
	ip -n "$ns" link set lo up
	# Both ends are made in the switch namespace; eth0 moves out.
	ip -n "$sw" link add "$role" mtu $mtu type veth peer name eth0 netns "$ns"
	ip -n "$sw" link set "$role" master br0 up
	ip -n "$ns" link set eth0 mtu $mtu up
	if [ "$role" != client ]; then
		mkdir -p "$run/bpf/$role"
		mount -t bpf bpf "$run/bpf/$role"
	fi
}

# _topo_xdp_pass PREFIX PORT: trap 1, an XDP program on the switch side of
# PORT's veth. iproute2 keeps its work dir in the first bpffs it finds:
# give it a private one, gone when the command ends, not a run's bpffs.
_topo_xdp_pass() {
	ip netns exec "$(topo_ns "$1" sw)" sh -c 'mount -t bpf bpf /sys/fs/bpf &&
		exec ip -force link set dev "$1" xdpdrv obj "$0" sec xdp' \
		"$XLB_TOPO_ROOT/build/tests/xdp_pass.bpf.o" "$2"
}

# _topo_backend PREFIX I MODE: beI's namespace (made by _topo_node) gets its
# addresses, every VIP of $TOPO_VIPS on lo, xlb-decap for them in ipip mode,
# and its server (not waited for). scripts/fleet.sh uses it too.
_topo_backend() {
	local prefix=$1 i=$2 mode=$3 run role ns v
	run=$(topo_run_dir "$prefix")
	role=be$i
	ns=$(topo_ns "$prefix" "$role")
	mkdir -p "$run/$role"
	echo "$role" >"$run/$role/index.html"
	ip -n "$ns" addr add "$(topo_be4 "$i")/24" dev eth0
	ip -n "$ns" addr add "$(topo_be6 "$i")/64" dev eth0 nodad
	for v in $TOPO_VIPS; do
		case $v in
		*:*) ip -n "$ns" addr add "$v/128" dev lo nodad ;;
		*) ip -n "$ns" addr add "$v/32" dev lo ;;
		esac
	done
	# Never answer ARP for the VIPs on lo, never source from them.
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.arp_ignore=1 \
		net.ipv4.conf.all.arp_announce=2 \
		net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2
	if [ "$mode" = ipip ]; then
		topo_exec_argv "$prefix" "$role"
		"${TOPO_EXEC[@]}" "$XLB_TOPO_ROOT/build/xlb-decap" attach eth0 $TOPO_VIPS \
			</dev/null >"$run/$role/decap.log" 2>&1 &
		_topo_record "$run/$role/decap.pid" $!
	fi
	_topo_spawn_http "$prefix" "$i"
}

# add-lb: a further lb-like namespace on the bridge, for benchmarks that
# run other balancers next to xlb's lb (scripts/bench_e2e.sh). No backend
# routes or VIPs: the caller sets up what it runs there.
_topo_add_lb() {
	local prefix=$1 role=$2 v4=$3 pass=${4:-} run mode mtu
	_topo_check_prefix "$prefix"
	if ! [[ $role =~ ^lb[a-z0-9]{1,6}$ ]]; then
		_topo_log "add-lb: ROLE must be 'lb' and 1-6 letters or digits: '$role'"
		exit 2
	fi
	if ! [[ $v4 =~ ^198\.18\.0\.([3-9])$ ]]; then
		_topo_log "add-lb: V4 must be 198.18.0.3 to 198.18.0.9 (the others are taken): '$v4'"
		exit 2
	fi
	case $pass in "" | xdp-pass) ;; *) _topo_log "add-lb: 'xdp-pass' or nothing: '$pass'"; exit 2 ;; esac
	run=$(topo_run_dir "$prefix")
	[ -f "$run/topology" ] || { _topo_log "add-lb: $prefix is not up"; exit 1; }
	if [ -n "$(ip netns list 2>/dev/null | awk -v n="$(topo_ns "$prefix" "$role")" '$1 == n')" ]; then
		_topo_log "add-lb: $role already exists"
		exit 1
	fi
	read -r mode _ <"$run/topology"
	mtu=1500
	[ "$mode" = ipip ] && mtu=$TOPO_IPIP_MTU
	# A failure leaves the namespace to `down`, which removes it with the rest.
	trap '_topo_log "add-lb $prefix $role failed at line $LINENO"; exit 1' ERR
	set -eE -o pipefail
	_topo_node "$prefix" "$role" $mtu
	ip -n "$(topo_ns "$prefix" "$role")" addr add "$v4/24" dev eth0
	[ -z "$pass" ] || _topo_xdp_pass "$prefix" "$role"
	trap - ERR
}

_topo_up() {
	local prefix=$1 n=$2 mode=$3 run sw ns role i mtu pid
	_topo_check_prefix "$prefix"
	if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ] || [ "$n" -gt 40 ]; then
		_topo_log "N_BACKENDS must be 1..40: '$n'"
		exit 2
	fi
	case $mode in l2dsr | ipip) ;; *) _topo_log "MODE must be l2dsr or ipip: '$mode'"; exit 2 ;; esac
	[ "$(id -u)" = 0 ] || { _topo_log "needs root"; exit 1; }
	run=$(topo_run_dir "$prefix")
	if [ -e "$run" ] || [ -n "$(_topo_namespaces "$prefix")" ]; then
		_topo_log "$prefix is already up (or left over): run 'down $prefix' first"
		exit 1
	fi
	cd "$XLB_TOPO_ROOT"
	local xdp_pass=build/tests/xdp_pass.bpf.o decap=build/xlb-decap
	[ -f $xdp_pass ] || make -s $xdp_pass >&2 || exit 1
	[ $mode = ipip ] && { [ -x $decap ] || make -s $decap >&2 || exit 1; }

	# From here on, any failure tears down what was built.
	mkdir -p "$run"
	trap 'set +eE; trap - ERR; _topo_log "up $prefix failed at line $LINENO; tearing down"
	      _topo_down "$prefix"; exit 1' ERR
	set -eE -o pipefail
	echo "$mode $n" >"$run/topology"

	sw=$(topo_ns "$prefix" sw)
	mtu=1500
	[ $mode = ipip ] && mtu=$TOPO_IPIP_MTU
	_topo_switch "$sw" $mtu

	local roles="client lb"
	for ((i = 1; i <= n; i++)); do roles+=" be$i"; done
	for role in $roles; do
		_topo_node "$prefix" "$role" $mtu
	done

	_topo_addr() { # ROLE V4 V6
		local ns
		ns=$(topo_ns "$prefix" "$1")
		ip -n "$ns" addr add "$2/24" dev eth0
		ip -n "$ns" addr add "$3/64" dev eth0 nodad
	}

	# Client: the VIPs are behind the lb; trap 2, checksum offload off.
	ns=$(topo_ns "$prefix" client)
	ip -n "$ns" link set eth0 mtu 1500
	_topo_addr client $TOPO_CLIENT4 $TOPO_CLIENT6
	ip -n "$ns" route add $TOPO_VIP4/32 via $TOPO_LB4
	ip -n "$ns" route add $TOPO_VIP4_SPARE/32 via $TOPO_LB4
	ip -n "$ns" route add $TOPO_VIP6/128 via $TOPO_LB6
	ip -n "$ns" route add $TOPO_VIP6_SPARE/128 via $TOPO_LB6
	ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null

	# Load balancer: trap 1, an XDP program on the switch side of its veth.
	_topo_addr lb $TOPO_LB4 $TOPO_LB6
	_topo_xdp_pass "$prefix" lb

	_topo_write_server "$run/server.py"
	for ((i = 1; i <= n; i++)); do
		_topo_backend "$prefix" $i $mode
	done
	for ((i = 1; i <= n; i++)); do
		_topo_wait_http "$prefix" "$i"
	done

	if [ $mode = ipip ]; then
		# Ready when it answers, i.e. attached with its VIPs added.
		for ((i = 1; i <= n; i++)); do
			_topo_wait_decap "$prefix" "$i"
		done
	fi
	trap - ERR
	_topo_log "$prefix up: $mode, $n backend(s), state in $run"
}

_topo_main() {
	local cmd=${1:-}
	shift || true
	case $cmd in
	up)
		[ $# = 3 ] || { _topo_log "usage: up PREFIX N_BACKENDS l2dsr|ipip"; exit 2; }
		_topo_up "$@" ;;
	down)
		[ $# = 1 ] || { _topo_log "usage: down PREFIX"; exit 2; }
		_topo_down "$1" ;;
	exec)
		[ $# -ge 3 ] || { _topo_log "usage: exec PREFIX ROLE CMD..."; exit 2; }
		topo_exec "$@" ;;
	add-lb)
		[ $# = 3 ] || [ $# = 4 ] || { _topo_log "usage: add-lb PREFIX ROLE V4 [xdp-pass]"; exit 2; }
		_topo_add_lb "$@" ;;
	backend-http)
		[ $# = 3 ] || { _topo_log "usage: backend-http PREFIX I stop|start"; exit 2; }
		_topo_backend_http "$@" ;;
	*)
		sed -n '8,11p' "$XLB_TOPO_SCRIPT" | sed 's/^# \{0,1\}//' >&2
		exit 2 ;;
	esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	_topo_main "$@"
fi

# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# shellcheck shell=bash
#
# End-to-end test library, sourced by tests/e2e/test_*.sh. tests/run.sh runs
# each script with bash from the repository root; exit 0 passes, 77 skips
# (the last output line says why), anything else fails.
#
#   source "$(dirname "$0")/lib.sh"
#   require_root
#   topology_up 3 l2dsr
#   start_xlbd "$XLBT_RUN/xlb.yaml"
#   assert_eq be1 "$(http_get_from_client http://198.18.0.11/)"
#
# Sourcing it picks a per-run prefix (XLBT_PREFIX, "xlbt<pid>"), changes to
# the repository root and sets a trap: on EXIT, INT and TERM the topology
# of the prefix is taken down, which ends every process this run started in
# its namespaces (xlbd, xlb-decap, servers, client loops), by PID, deletes
# the namespaces and unmounts the per-namespace bpffs holding the pins.
#
# Namespaces, addresses and VIPs: scripts/topology.sh (also sourced here,
# for topo_* and TOPO_* names). Run state: XLBT_RUN=/tmp/xlb-$XLBT_PREFIX.
#
# Functions (all return non-zero rather than exit, except skip/fail/require_*):
#   skip REASON                  exit 77, REASON as the last output line
#   fail MSG                     print MSG (and the xlbd log tail), exit 1
#   assert_eq EXPECTED ACTUAL [WHAT]
#   require_root                 skip unless root
#   require_cmd CMD...           skip unless each CMD is installed
#   require_build FILE...        fail unless each build output exists
#   topology_up N_BACKENDS l2dsr|ipip    fail if it cannot be built
#   topology_down                take the topology down now (the trap also does)
#   in_ns NAME CMD...            CMD in NAME (client, lb, be1.., sw, or the
#                                full namespace name), with that namespace's
#                                bpffs on /sys/fs/bpf
#   bg_in_ns NAME OUTFILE CMD... CMD in the background, stdout+stderr to
#                                OUTFILE; sets BG_PID; ended by the trap
#   http_get_from_client URL [CURL_ARG...]
#                                one request on a fresh connection from the
#                                client (2 s connect, 5 s total); prints the
#                                body; non-zero on any error or HTTP >= 400
#   http_tally N URL             N sequential http_get_from_client; prints
#                                "COUNT BODY" per distinct body and
#                                "COUNT FAILED" for failures; returns 1 if any
#                                request failed
#   count BACKEND TALLY          how many of TALLY's answers BACKEND gave
#   wait_until TIMEOUT_S CMD...  polls CMD every 0.1 s; 0 once it succeeds,
#                                1 after TIMEOUT_S
#   ipip_udp_probe NAME OUTER_DST INNER_SRC VIP [TIMEOUT_S]
#                                from NAME, send a UDP datagram INNER_SRC ->
#                                VIP:53 inside IPIP (4in4, 6in6, or 4in6 when
#                                OUTER_DST is IPv6 and VIP IPv4) to OUTER_DST,
#                                print the answering backend ("be1")
#   start_xlbd CONFIG [ARG...]   xlbd in the lb namespace, in the background
#                                (XLBD_PID), log appended to $XLBD_LOG; returns
#                                once its API socket exists, fails if not
#                                within 10 s or if xlbd exits; a command in
#                                the array XLBD_WRAP (e.g. setpriv ...) runs
#                                first and must exec xlbd
#   stop_xlbd [SIGNAL]           SIGNAL (TERM, KILL, 9, -9..; default TERM) to
#                                xlbd, wait <= 10 s for it to end
#   xlbctl_lb ARG...             build/xlbctl --socket $XLBD_SOCK ARG... in lb
#   jget FILE EXPR               EXPR (Python; d is FILE's JSON), printed
#   longconn_start NAME HOST PORT N [ARG...]
#                                N long-lived TCP connections from the client
#                                to HOST:PORT (tests/lib/longconn.py, 60 s at
#                                most), its files $XLBT_RUN/NAME.{out,json,
#                                ready,progress}; ended by the trap
#   longconn_ready NAME N        fails unless all N open and answered in 20 s
#   longconn_stop NAME           SIGTERM, its report written; prints its line
#   longconn_progress NAME EXPR  EXPR (Python) over the connections so far:
#                                c is the list of [port, backend, answers,
#                                outcome], one per connection
#
# Variables: XLBT_ROOT, XLBT_PREFIX, XLBT_RUN, XLBD_SOCK, XLBD_LOG,
# XLBD_STATE_DIR, XLBD_METRICS (127.0.0.1:9642 inside the lb namespace, so
# it never collides with another run), XLBD_PID, BG_PID, XLBD_WRAP.

XLBT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$XLBT_ROOT" || exit 1
# shellcheck source=scripts/topology.sh
source "$XLBT_ROOT/scripts/topology.sh"

XLBT_PREFIX=${XLBT_PREFIX:-xlbt$$}
XLBT_RUN=$(topo_run_dir "$XLBT_PREFIX")
XLBD_SOCK=$XLBT_RUN/xlbd.sock
XLBD_LOG=$XLBT_RUN/xlbd.log
XLBD_STATE_DIR=$XLBT_RUN/state
XLBD_METRICS=127.0.0.1:9642
XLBD_WRAP=() # a command that execs xlbd (e.g. setpriv), in start_xlbd
XLBD_PID=
BG_PID=
_XLBT_BG_PIDS=()
_XLBT_CLEANED=0

# TERM to our own jobs, topology down (which ends whatever still runs in
# the namespaces, by PID), then reap the jobs.
_xlbt_teardown() {
	local p rc=0
	[ $_XLBT_CLEANED = 1 ] && return 0
	_XLBT_CLEANED=1
	for p in "${_XLBT_BG_PIDS[@]}" $XLBD_PID; do
		kill -0 "$p" 2>/dev/null && kill -TERM "$p" 2>/dev/null
	done
	topo_down "$XLBT_PREFIX" || rc=1
	for p in "${_XLBT_BG_PIDS[@]}" $XLBD_PID; do
		kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	# a config written before topology_up, left when it failed
	rm -f "$XLBT_RUN.yaml"
	return $rc
}

_xlbt_on_exit() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	if ! _xlbt_teardown; then
		echo "cleanup: topology $XLBT_PREFIX not fully removed" >&2
		[ $rc = 0 ] && rc=1
	fi
	exit $rc
}
trap _xlbt_on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

skip() {
	# Clean up first so that the reason is the last line of the output.
	_xlbt_teardown >/dev/null 2>&1
	echo "$*"
	exit 77
}

fail() {
	echo "FAIL: $*" >&2
	if [ -s "$XLBD_LOG" ]; then
		echo "--- last lines of $XLBD_LOG:" >&2
		tail -n 20 "$XLBD_LOG" >&2
	fi
	exit 1
}

assert_eq() {
	local expected=$1 actual=$2 what=${3:-value}
	[ "$expected" = "$actual" ] ||
		fail "$what: expected '$expected', got '$actual'"
}

require_root() {
	[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, XDP)"
}

require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "needs $c"
	done
}

require_build() {
	local f
	for f in "$@"; do
		[ -e "$f" ] || fail "$f is not built (run make)"
	done
}

topology_up() {
	require_root
	require_cmd ip ethtool python3 curl mountpoint
	require_build build/tests/xdp_pass.bpf.o
	[ "$2" = ipip ] && require_build build/xlb-decap
	topo_up "$XLBT_PREFIX" "$@" || fail "topology $XLBT_PREFIX ($*) did not come up"
}

topology_down() {
	XLBD_PID=
	topo_down "$XLBT_PREFIX"
}

_xlbt_role() {
	case $1 in
	"$XLBT_PREFIX"-*) echo "${1#"$XLBT_PREFIX"-}" ;;
	*) echo "$1" ;;
	esac
}

in_ns() {
	local role
	role=$(_xlbt_role "$1")
	shift
	topo_exec "$XLBT_PREFIX" "$role" "$@"
}

bg_in_ns() {
	local role out=$2
	role=$(_xlbt_role "$1")
	shift 2
	topo_exec_argv "$XLBT_PREFIX" "$role"
	"${TOPO_EXEC[@]}" "$@" </dev/null >"$out" 2>&1 &
	BG_PID=$!
	_XLBT_BG_PIDS+=("$BG_PID")
}

# One request on a fresh connection, as every test's client makes it.
XLBT_CURL=(curl -gsS --fail --connect-timeout 2 --max-time 5 -H 'Connection: close')

http_get_from_client() {
	local url=$1
	shift
	in_ns client "${XLBT_CURL[@]}" "$@" "$url"
}

http_tally() {
	local n=$1 url=$2 raw out
	if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -gt 100000 ]; then
		echo "http_tally: bad N '$n'" >&2
		return 2
	fi
	# http_get_from_client's request N times in one namespace entry (the
	# entry costs as much as the request)
	raw=$(in_ns client bash -c 'n=$1 url=$2; shift 2; for ((i = 0; i < n; i++)); do
		"$@" "$url" 2>/dev/null || echo FAILED
	done' _ "$n" "$url" "${XLBT_CURL[@]}") || raw+=$'\nFAILED'
	out=$(printf '%s' "$raw" | sort | uniq -c | sed 's/^ *//')
	echo "$out"
	! grep -q ' FAILED$' <<<"$out"
}

wait_until() {
	local timeout=$1 deadline
	shift
	deadline=$((SECONDS + timeout))
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.1
	done
}

_XLBT_IPIP_PY='
import socket, struct, sys

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

outer, src, vip, timeout = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
v6 = ":" in vip
fam = socket.AF_INET6 if v6 else socket.AF_INET
u = socket.socket(fam, socket.SOCK_DGRAM)
u.bind((src, 0))
u.settimeout(timeout)
sport, data = u.getsockname()[1], b"?"
ulen = 8 + len(data)
s, d = socket.inet_pton(fam, src), socket.inet_pton(fam, vip)
if v6:
    c = csum(s + d + struct.pack("!I3xB", ulen, 17) +
             struct.pack("!HHHH", sport, 53, ulen, 0) + data) or 0xffff
    inner = (struct.pack("!IHBB", 6 << 28, ulen, 17, 64) + s + d +
             struct.pack("!HHHH", sport, 53, ulen, c) + data)
else:
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 1, 0, 64, 17, 0, s, d)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    inner = hdr + struct.pack("!HHHH", sport, 53, ulen, 0) + data
ofam = socket.AF_INET6 if ":" in outer else socket.AF_INET
r = socket.socket(ofam, socket.SOCK_RAW, 41 if v6 else 4)
r.sendto(inner, (outer, 0))
body, peer = u.recvfrom(2048)
if peer[0] != vip:
    sys.exit("answer from %s, not %s" % (peer[0], vip))
sys.stdout.write(body.decode())
'

ipip_udp_probe() {
	local role=$1 outer=$2 src=$3 vip=$4 timeout=${5:-1}
	in_ns "$role" python3 -c "$_XLBT_IPIP_PY" "$outer" "$src" "$vip" "$timeout"
}

start_xlbd() {
	local config=$1
	shift
	require_build build/xlbd
	[ -f "$config" ] || fail "start_xlbd: no config file $config"
	if [ -n "$XLBD_PID" ] && kill -0 "$XLBD_PID" 2>/dev/null; then
		fail "start_xlbd: xlbd already runs (pid $XLBD_PID)"
	fi
	mkdir -p "$XLBD_STATE_DIR"
	rm -f "$XLBD_SOCK"
	echo "=== start_xlbd $(date +%T.%N) $config $*" >>"$XLBD_LOG"
	# Every step execs the next: the PID is xlbd's own.
	topo_exec_argv "$XLBT_PREFIX" lb
	"${TOPO_EXEC[@]}" "${XLBD_WRAP[@]}" "$XLBT_ROOT/build/xlbd" --config "$config" \
		--state-dir "$XLBD_STATE_DIR" --socket "$XLBD_SOCK" --foreground \
		--metrics "$XLBD_METRICS" "$@" </dev/null >>"$XLBD_LOG" 2>&1 &
	XLBD_PID=$!
	echo "$XLBD_PID $(_topo_starttime "$XLBD_PID")" >"$XLBT_RUN/xlbd.pid"
	local deadline=$((SECONDS + 10))
	while [ ! -S "$XLBD_SOCK" ]; do
		if ! kill -0 "$XLBD_PID" 2>/dev/null; then
			wait "$XLBD_PID"
			local rc=$?
			XLBD_PID=
			fail "xlbd exited (rc=$rc) before serving its socket"
		fi
		[ $SECONDS -ge $deadline ] && fail "xlbd: no socket $XLBD_SOCK after 10 s"
		sleep 0.1
	done
}

stop_xlbd() {
	local sig=${1:-TERM} i st
	sig=${sig#-}
	sig=${sig#SIG}
	[ -n "$XLBD_PID" ] || return 0
	st=$(_topo_starttime "$XLBD_PID") || st=
	kill -"$sig" "$XLBD_PID" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		_topo_alive "$XLBD_PID" "$st" || break
		sleep 0.1
	done
	if _topo_alive "$XLBD_PID" "$st"; then
		echo "stop_xlbd: xlbd (pid $XLBD_PID) still runs 10 s after SIG$sig" >&2
		return 1
	fi
	wait "$XLBD_PID" 2>/dev/null
	XLBD_PID=
	rm -f "$XLBT_RUN/xlbd.pid"
	return 0
}

xlbctl_lb() {
	in_ns lb "$XLBT_ROOT/build/xlbctl" --socket "$XLBD_SOCK" "$@"
}

# count BACKEND TALLY: how many of http_tally's answers BACKEND gave
count() { awk -v b="$1" '$2 == b {print $1}' <<<"$2" | grep . || echo 0; }

# metric SERIES: its value in xlbd's own /metrics ("" when absent)
metric() {
	in_ns lb curl -sf --max-time 5 "http://$XLBD_METRICS/metrics" |
		awk -v s="$1" 'index($0, s " ") == 1 { print $2 }'
}

# Backends in service by xlbd's account (xlbctl health), over all VIPs.
up_count() { xlbctl_lb -j health | python3 -c '
import json, sys
print(sum(b["up"] for v in json.load(sys.stdin)["vips"] for b in v["backends"]))'; }
up_is() { [ "$(up_count)" = "$1" ]; }
# Backends in the data path's tables (table_weight > 0), over all VIPs: a
# backend is up (above) a moment before the publish puts it there.
in_table_count() { xlbctl_lb -j health | python3 -c '
import json, sys
print(sum((b.get("table_weight") or 0) > 0 for v in json.load(sys.stdin)["vips"] for b in v["backends"]))'; }
in_table_is() { [ "$(in_table_count)" = "$1" ]; }

jget() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

declare -A _XLBT_LONGCONN=()
longconn_start() {
	local name=$1 host=$2 port=$3 n=$4
	shift 4
	rm -f "$XLBT_RUN/$name".{ready,json,progress}
	bg_in_ns client "$XLBT_RUN/$name.out" python3 "$XLBT_ROOT/tests/lib/longconn.py" client \
		"$host" "$port" --conns "$n" --duration 60 --report "$XLBT_RUN/$name.json" \
		--ready "$XLBT_RUN/$name.ready" --progress "$XLBT_RUN/$name.progress" "$@"
	_XLBT_LONGCONN[$name]=$BG_PID
}
longconn_ready() {
	local f=$XLBT_RUN/$1.ready
	wait_until 20 test -f "$f" || fail "$1: connections not all open in 20 s: $(cat "$XLBT_RUN/$1.out")"
	[ "$(cat "$f")" = "$2" ] || fail "$1: only $(cat "$f") of $2 opened"
}
longconn_stop() {
	local pid=${_XLBT_LONGCONN[$1]:-}
	[ -n "$pid" ] || fail "longconn_stop: no connections named $1"
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	[ -f "$XLBT_RUN/$1.json" ] || fail "$1: no report: $(cat "$XLBT_RUN/$1.out")"
	echo "  $1: $(cat "$XLBT_RUN/$1.out")"
}
longconn_progress() {
	python3 -c 'import json, sys; c = json.load(open(sys.argv[1]))["conns"]; print(eval(sys.argv[2]))' \
		"$XLBT_RUN/$1.progress" "$2"
}

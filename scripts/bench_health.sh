#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# make bench-health: health-checking 5,000 backends of one VIP: xlbd,
# HAProxy and a bare prober, in interleaved rounds.
#
# Topology (scripts/topology.sh, 1 backend, via tests/e2e/lib.sh: per-run
# prefix, everything removed by its trap on every exit path): be1 holds
# N (5000) extra addresses 198.18.32.1.. (250 per /24: 198.18.32.1 to
# 198.18.51.250) on its loopback, all served by one HTTP listener on
# 0.0.0.0:8080 (build/tests/bench_health_server, one epoll loop, which
# counts the requests it answers: the checks each mode made, as the backend
# saw them); the lb routes 198.18.32.0/19 via be1. HTTP checks of every
# backend every 1 s, timeout 500 ms, rise 2, fall 3, +-10 % spreading.
#
# Modes, each run in turn in the lb namespace, ROUNDS (3) rounds, the order
# rotated every round so that no mode always follows the same one (the
# host's noise comes in bursts: only figures from the same minutes compare):
#  - xlbd: one VIP, forward ipip, health_check {type: http, path: /,
#    expect 200-399}, jitter 10 %. Checks counted from its
#    xlb_healthcheck_duration_seconds too.
#  - haproxy: HAProxy (Debian's package; installed with apt-get when
#    missing, on Debian only), 2 threads, one backend of the N servers,
#    "option httpchk" sending GET / HTTP/1.1 with Host, User-Agent, Accept
#    and Connection: close as xlbd does (a fixed Host of the same length:
#    HAProxy has no per-server Host), inter 1s, rise 2, fall 3, timeout
#    connect/check 500ms, spread-checks 10. All N servers must be UP (its
#    stats socket) before and after the window. It ends a check with a FIN,
#    which leaves a TIME_WAIT on the backend for each (counted, be1's side);
#    xlbd and the floor end theirs with an RST (none).
#  - floor: build/tests/bench_health_floor, a bare epoll prober (socket,
#    connect, GET, status line, RST; no libcurl, no libevent) at the same
#    rate: the floor that the kernel and this veth path set for any prober
#    that opens a connection per check.
# Per round and mode: its process's utime+stime (/proc/PID/stat; getrusage
# for the floor) over WINDOW (20) s of steady state, as % of one core, and
# the checks the backend answered in the window. A mode whose backend count
# falls below 90 % of N per second fails the bench. Printed: each round,
# then the median per mode and the ratios xlbd/HAProxy and xlbd/floor of
# the medians, then one JSON line.
#
# After the rounds (DETAILS=1, the default), one more xlbd run measures as
# before:
#  - up_s: xlbd start to all N backends in the table (table_weight > 0).
#  - check latency: hist_p50/p99_ms, quantiles of the histogram over the
#    window, interpolated within buckets as Prometheus'
#    histogram_quantile() does; p50/p99_ms: the latency of each backend's
#    last check, from GET /v1/health, over SNAPSHOTS (3) snapshots.
#  - stop_to_removal_s: one backend address is deleted from be1's
#    loopback (its packets are then dropped, so checks time out); time until
#    GET /v1/health?vip=..&backend=.. shows its table_weight 0, polled every
#    0.2 s; and until xlbd logs the ejection (no polling delay). Expected:
#    fall (3) failed checks, each a 500 ms timeout ~1 s (+-10% jitter) after
#    the last: ~3.5-5 s. back_in_s: the address restored, until it is in
#    the table again (rise checks after the half-open probe, which waits
#    for the ejection time, 5 s by default, configured 2 s here).
#
# Environment: N (5000), WINDOW (20), ROUNDS (3), MODES ("xlbd haproxy
# floor"; FLOOR=1 means MODES=floor), DETAILS (1), SNAPSHOTS (3),
# INTERVAL_MS (1000), XLBD_B=PATH (another xlbd binary, e.g. main's, as
# one more mode, xlbd_b, for A/B rounds), BENCH_PERF=FILE (a perf profile of xlbd's last
# window). Everything is bounded: every wait has a deadline, the server
# exits by itself after 30 minutes. Not part of `make test` (it loads both
# CPUs).
set -uo pipefail
XLBT_PREFIX=${XLBT_PREFIX:-xlbh$$}
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/../tests/e2e/lib.sh"

# BENCH_LOG=FILE keeps xlbd's log there (the run directory goes at exit).
[ -n "${BENCH_LOG:-}" ] && XLBD_LOG=$BENCH_LOG
N=${N:-5000}
WINDOW=${WINDOW:-20}
ROUNDS=${ROUNDS:-3}
MODES=${MODES:-xlbd haproxy floor}
[ "${FLOOR:-0}" = 1 ] && MODES=floor
DETAILS=${DETAILS:-1}
SNAPSHOTS=${SNAPSHOTS:-3}
INTERVAL_MS=${INTERVAL_MS:-1000}
PORT=8080
VIP=198.18.1.100:80/tcp

require_root
require_cmd ip python3 curl ss
if [[ " $MODES " == *" haproxy "* ]] && ! command -v haproxy >/dev/null; then
	grep -qi '^ID=debian' /etc/os-release 2>/dev/null ||
		fail "haproxy is not installed (the bench installs it with apt-get on Debian only)"
	echo "installing haproxy (apt-get)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q haproxy >/dev/null ||
		fail "apt-get install haproxy"
	# the package's own service is not ours: it must not run beside the bench
	systemctl disable --now haproxy >/dev/null 2>&1 || true
fi
require_build build/xlbd build/tests/bench_health_server build/tests/bench_health_floor
[[ $N =~ ^[0-9]+$ ]] && [ "$N" -ge 1 ] && [ "$N" -le 8000 ] || fail "N must be 1..8000"
[[ $WINDOW =~ ^[0-9]+$ ]] && [ "$WINDOW" -ge 5 ] && [ "$WINDOW" -le 600 ] || fail "WINDOW 5..600"
[[ $ROUNDS =~ ^[0-9]+$ ]] && [ "$ROUNDS" -ge 1 ] && [ "$ROUNDS" -le 20 ] || fail "ROUNDS 1..20"
if [ -n "${XLBD_B:-}" ]; then
	[ -x "$XLBD_B" ] || fail "XLBD_B: $XLBD_B is not an executable"
	[[ " $MODES " == *" xlbd_b "* ]] || MODES="$MODES xlbd_b"
fi
for m in $MODES; do
	case $m in xlbd | xlbd_b | haproxy | floor) ;; *) fail "MODES: xlbd, haproxy, floor, xlbd_b (not $m)" ;; esac
done
[[ $INTERVAL_MS =~ ^[0-9]+$ ]] && [ "$INTERVAL_MS" -gt 500 ] && [ "$INTERVAL_MS" -le 60000 ] ||
	fail "INTERVAL_MS 501..60000 (the checks' timeout, 500 ms, must be below it)"

calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }
addr_of() { echo "198.18.$((32 + ($1 / 250))).$(($1 % 250 + 1))"; }

topology_up 1 l2dsr
BE=$(topo_ns "$XLBT_PREFIX" be1)
LB=$(topo_ns "$XLBT_PREFIX" lb)

# N addresses on be1's loopback in one batch; the lb reaches them via be1.
# (no subshell per address: 10,000 forks take minutes on a loaded machine)
for ((i = 0; i < N; i++)); do
	echo "addr add 198.18.$((32 + i / 250)).$((i % 250 + 1))/32 dev lo"
done >"$XLBT_RUN/addrs"
ip -n "$BE" -batch "$XLBT_RUN/addrs" || fail "adding $N addresses to be1"
ip -n "$LB" route add 198.18.32.0/19 via "$(topo_be4 1)" || fail "route to the backends"
# On veth, a packet xlbd sends is carried through the bridge, be1's TCP
# stack and back in the softirq of xlbd's own system call, and charged to
# xlbd. Threaded NAPI on the two veths that run XDP (hence NAPI) moves
# that work to kernel threads, as a real NIC would take it off the host;
# THREADED=0 keeps the default to see the difference.
if [ "${THREADED:-1}" = 1 ]; then
	ip netns exec "$(topo_ns "$XLBT_PREFIX" sw)" sh -c 'echo 1 >/sys/class/net/lb/threaded' ||
		fail "threaded NAPI on the switch's lb port"
fi
bg_in_ns be1 "$XLBT_RUN/server.log" "$XLBT_ROOT/build/tests/bench_health_server" $PORT 1800
SERVER_PID=$BG_PID
echo "$BG_PID $(_topo_starttime "$BG_PID")" >"$XLBT_RUN/bench-server.pid"
wait_until 10 grep -q listening "$XLBT_RUN/server.log" || fail "server did not start"
in_ns lb curl -fsS --max-time 2 "http://$(addr_of $((N - 1))):$PORT/" >/dev/null ||
	fail "the last backend address does not answer from the lb"

# ---- what every mode shares ----

api() { in_ns lb curl -fsS --max-time 10 --unix-socket "$XLBD_SOCK" "http://xlb$1"; }
hist() { in_ns lb curl -fsS --max-time 10 "http://$XLBD_METRICS/metrics" | grep '^xlb_healthcheck_duration_seconds'; }
hist_count() { hist | awk '$1 == "xlb_healthcheck_duration_seconds_count" {print $2}'; }
cpu_ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# served: the requests the backend has answered so far (SIGUSR1: it prints
# "served N" to its log).
served() {
	local before after i
	before=$(grep -c '^served ' "$XLBT_RUN/server.log")
	kill -USR1 "$SERVER_PID" || fail "the bench server is gone"
	for ((i = 0; i < 50; i++)); do
		after=$(grep -c '^served ' "$XLBT_RUN/server.log")
		[ "$after" -gt "$before" ] && break
		sleep 0.05
	done
	[ "$after" -gt "$before" ] || fail "the bench server does not report its count"
	grep '^served ' "$XLBT_RUN/server.log" | tail -1 | cut -d' ' -f2
}
# TIME_WAITs the backend's side entered per second over the last 15 s (or
# WINDOW): those with at least 60 - 15 s of their 60 s left, so that a
# previous mode's, which linger for a minute, do not count.
time_waits() {
	local span=$((WINDOW < 15 ? WINDOW : 15))
	in_ns be1 ss -Htano state time-wait | awk -v span="$span" '
		match($0, /timewait,[0-9a-z]+/) {
			t = substr($0, RSTART + 9, RLENGTH - 9); s = 0
			if (t ~ /min/) { s = 60 * t; sub(/.*min/, "", t) }
			if (t ~ /sec/) s += t + 0
			if (s > 60 - span) n++
		}
		END { printf "%.0f", n / span }'
}

# measure PID: its CPU over WINDOW s, with the backend's count.
# Sets M_CPU M_USER M_SYS M_BE_PER_S M_TW M_SECS M_SLICES ("MED MIN MAX").
measure() {
	local pid=$1 u0 s0 u1 s1 w0 w1 n0 n1 i slices
	n0=$(served)
	read -r u0 s0 < <(cpu_ticks "$pid")
	w0=$(date +%s.%N)
	echo "$w0 $u0 $s0" >"$XLBT_RUN/slices"
	if [ -n "${BENCH_PERF:-}" ] && [ "$2" = xlbd ]; then
		perf record -q -g -p "$pid" -o "$BENCH_PERF" -- sleep "$WINDOW" >/dev/null 2>&1
	else
		slices=$((WINDOW / 5))
		for ((i = 0; i < slices; i++)); do
			sleep "$(calc "$WINDOW / $slices")"
			echo "$(date +%s.%N) $(cpu_ticks "$pid")" >>"$XLBT_RUN/slices"
		done
	fi
	read -r u1 s1 < <(cpu_ticks "$pid")
	w1=$(date +%s.%N)
	n1=$(served)
	M_TW=$(time_waits)
	M_SECS=$(calc "$w1 - $w0")
	M_CPU=$(calc "100 * ($u1 + $s1 - $u0 - $s0) / $hz / $M_SECS")
	M_USER=$(calc "100 * ($u1 - $u0) / $hz / $M_SECS")
	M_SYS=$(calc "100 * ($s1 - $s0) / $hz / $M_SECS")
	M_BE_PER_S=$(calc "($n1 - $n0) / $M_SECS")
	M_SLICES=$(python3 - "$XLBT_RUN/slices" "$hz" <<'PY'
import statistics, sys
rows = [[float(x) for x in l.split()] for l in open(sys.argv[1])]
hz = float(sys.argv[2])
v = [100 * (b[1] + b[2] - a[1] - a[2]) / hz / (b[0] - a[0]) for a, b in zip(rows, rows[1:])]
print("%.2f %.2f %.2f" % (statistics.median(v), min(v), max(v)) if v else "null null null")
PY
)
}

# The backend saw at least 90 % of the checks due: no mode is credited with
# checks it did not make.
# A round short of that is kept (its us/check still compares) but marked,
# and the bench exits 1 after the summary.
SHORT=0
check_count() {
	local mode=$1 per_s=$2 want
	want=$(calc "0.9 * $N * 1000 / $INTERVAL_MS")
	if ! awk -v a="$per_s" -v b="$want" 'BEGIN { exit !(a >= b) }'; then
		echo "  SHORT: $mode: the backend answered $per_s checks/s, under 90 % of $N a second"
		SHORT=1
	fi
}

RESULTS=$XLBT_RUN/results # "MODE ROUND CPU USER SYS BACKEND_PER_S TIME_WAITS_PER_S OWN_PER_S"
: >"$RESULTS"
record() { echo "$1 $2 $M_CPU $M_USER $M_SYS $M_BE_PER_S $M_TW $3" >>"$RESULTS"; }

# ---- xlbd ----

{
	cat <<YAML
interfaces:
  - {name: eth0, mode: native}
vips:
  - vip: "$VIP"
    forward: ipip
    health_check: {type: http, port: $PORT, path: /, expect: "200-399",
                   interval_ms: $INTERVAL_MS, timeout_ms: 500, rise: 2, fall: 3}
    circuit_breaker: {base_ejection_ms: 2000, max_ejection_ms: 10000,
                      max_ejection_percent: 50, slow_start_ms: 0}
    backends:
YAML
	for ((i = 0; i < N; i++)); do
		echo "      - {address: 198.18.$((32 + i / 250)).$((i % 250 + 1))}"
	done
} >"$XLBT_RUN/xlb.yaml"

in_table() {
	api /v1/health | python3 -c '
import json, sys
b = json.load(sys.stdin)["vips"][0]["backends"]
print(sum(1 for x in b if (x.get("table_weight") or 0) > 0), len(b))'
}
all_in() { [ "$(in_table)" = "$N $N" ]; }
# at least 99 % of N: on a host loaded by others, some checks time out (SYNs
# dropped when the veth NAPI threads starve), so a few backends flap
most_in() { in_table | awk -v n="$N" '{ exit !($1 >= 0.99 * n) }'; }
most_up_haproxy() { haproxy_up 2>/dev/null | awk -v n="$N" '{ exit !($1 >= 0.99 * n) }'; }
# table_weight of one backend (None, 0, weight): GET /v1/health for that
# backend alone, so polling does not make xlbd render all N every time.
table_weight() {
	api "/v1/health?vip=198.18.1.100%3A80%2Ftcp&backend=$1" | python3 -c '
import json, sys
for x in json.load(sys.stdin)["vips"][0]["backends"]:
    if x["address"] == sys.argv[1]:
        print(x.get("table_weight"))' "$1"
}

# xlbd_up: start it, wait for all N in the table; sets UP_S.
xlbd_up() {
	local t0 t1
	t0=$(date +%s.%N)
	start_xlbd "$XLBT_RUN/xlb.yaml"
	if ! wait_until 30 all_in; then
		wait_until 90 most_in || fail "not 99 % of $N backends in the table after 120 s: $(in_table)"
		echo "  (xlbd: only $(in_table | cut -d" " -f1) of $N in the table after 30 s: checks time out)"
	fi
	t1=$(date +%s.%N)
	UP_S=$(calc "$t1 - $t0")
	sleep 3 # let the start-up publishing settle
}

round_xlbd() {
	local c0 c1 mode=${2:-xlbd}
	xlbd_up
	c0=$(hist_count)
	measure "$XLBD_PID" xlbd
	c1=$(hist_count)
	record "$mode" "$1" "$(calc "($c1 - $c0) / $M_SECS")"
	check_count "$mode" "$M_BE_PER_S"
	stop_xlbd || fail "stopping xlbd"
}

# XLBD_B=PATH: another xlbd binary (say, main's) as mode xlbd_b, for A/B
# rounds in the same minutes: a wrapper execs it in place of build/xlbd.
round_xlbd_b() {
	printf '#!/bin/sh\nshift\nexec "%s" "$@"\n' "$XLBD_B" >"$XLBT_RUN/xlbd_b"
	chmod +x "$XLBT_RUN/xlbd_b"
	XLBD_WRAP=("$XLBT_RUN/xlbd_b")
	round_xlbd "$1" xlbd_b
	XLBD_WRAP=()
}

# ---- HAProxy ----

{
	cat <<CFG
global
	nbthread 2
	maxconn 4000
	spread-checks 10
	stats socket $XLBT_RUN/haproxy.sock mode 600 level user
defaults
	mode http
	timeout connect 500ms
	timeout check 500ms
	timeout client 5s
	timeout server 5s
backend be
	option httpchk
	http-check send meth GET uri / ver HTTP/1.1 hdr Host 198.18.32.1:8080 hdr User-Agent xlb-health-check/0.1.0 hdr Accept */* hdr Connection close
	http-check expect status 200-399
	default-server check inter 1s rise 2 fall 3
CFG
	for ((i = 0; i < N; i++)); do
		echo "	server b$i $(addr_of "$i"):$PORT"
	done
} >"$XLBT_RUN/haproxy.cfg"
[ "$INTERVAL_MS" = 1000 ] || sed -i "s/inter 1s/inter ${INTERVAL_MS}ms/" "$XLBT_RUN/haproxy.cfg"

# "UP TOTAL" of HAProxy's servers, from its stats socket
haproxy_up() {
	in_ns lb python3 - "$XLBT_RUN/haproxy.sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(b"show stat\n")
buf = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    buf += d
rows = [l.split(",") for l in buf.decode().splitlines() if l and not l.startswith("#")]
srv = [r for r in rows if r[0] == "be" and r[1] not in ("FRONTEND", "BACKEND")]
print(sum(1 for r in srv if r[17].startswith("UP")), len(srv))
PY
}
all_up_haproxy() { [ "$(haproxy_up 2>/dev/null)" = "$N $N" ]; }

round_haproxy() {
	local pid st i
	in_ns lb haproxy -c -q -f "$XLBT_RUN/haproxy.cfg" || fail "haproxy refuses its config"
	bg_in_ns lb "$XLBT_RUN/haproxy.log" haproxy -db -f "$XLBT_RUN/haproxy.cfg"
	pid=$BG_PID
	if ! wait_until 60 all_up_haproxy; then
		wait_until 60 most_up_haproxy ||
			fail "HAProxy: not 99 % of $N servers UP after 120 s: $(haproxy_up 2>&1; tail -3 "$XLBT_RUN/haproxy.log"); the backend: $(tail -1 "$XLBT_RUN/server.log"), answered $(served) so far, $(in_ns lb curl -sS -o /dev/null -w '%{http_code}' --max-time 2 "http://$(addr_of 0):$PORT/" 2>&1) from the lb"
		echo "  (HAProxy: only $(haproxy_up | cut -d' ' -f1) of $N servers UP after 60 s: checks time out)"
	fi
	sleep 3
	measure "$pid" haproxy
	all_up_haproxy || most_up_haproxy ||
		fail "HAProxy: under 99 % of the servers UP after the window: $(haproxy_up)"
	record haproxy "$1" null
	check_count haproxy "$M_BE_PER_S"
	st=$(_topo_starttime "$pid")
	kill -TERM "$pid"
	for ((i = 0; i < 100; i++)); do
		_topo_alive "$pid" "$st" || break
		sleep 0.1
	done
	wait "$pid" 2>/dev/null
}

# ---- the floor ----

round_floor() {
	local n0 n1 floor
	n0=$(served)
	floor=$(in_ns lb "$XLBT_ROOT/build/tests/bench_health_floor" "$(addr_of 0)" "$N" $PORT \
		"$INTERVAL_MS" "$WINDOW") || fail "the floor prober failed"
	n1=$(served)
	read -r M_CPU M_USER M_SYS M_SECS own < <(python3 - "$floor" <<'PY'
import json, sys
j = json.loads(sys.argv[1])
s = j["seconds"]
if j["failures"]:
    print("  floor: %d of %d checks failed" % (j["failures"], j["checks"]), file=sys.stderr)
print("%.2f %.2f %.2f %.2f %.0f" % (100 * (j["user_s"] + j["sys_s"]) / s, 100 * j["user_s"] / s,
                                    100 * j["sys_s"] / s, s, j["checks"] / s))
PY
) || fail "the floor prober's figures: $floor"
	M_BE_PER_S=$(calc "($n1 - $n0) / $M_SECS") # its window is its whole run
	M_TW=$(time_waits)
	record floor "$1" "$own"
	check_count floor "$M_BE_PER_S"
}

# ---- the rounds ----

read -ra mode_list <<<"$MODES"
nm=${#mode_list[@]}
for ((r = 1; r <= ROUNDS; r++)); do
	for ((k = 0; k < nm; k++)); do
		m=${mode_list[$(((k + r - 1) % nm))]}
		"round_$m" "$r"
		tail -1 "$RESULTS" | awk '{printf "round %s %-8s %6.2f %% CPU (user %.2f, sys %.2f), backend %.0f checks/s, %d TIME_WAIT/s on the backend\n", $2, $1, $3, $4, $5, $6, $7}'
	done
done

python3 - "$RESULTS" "$N" "$INTERVAL_MS" "$WINDOW" "${THREADED:-1}" <<'PY' || fail "summary"
import json, statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
n, interval, window = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
med = {}
for m in ("xlbd", "xlbd_b", "haproxy", "floor"):
    r = [x for x in rows if x[0] == m]
    if not r:
        continue
    f = lambda i: statistics.median(float(x[i]) for x in r)
    med[m] = dict(cpu_pct=round(f(2), 2), user_pct=round(f(3), 2), sys_pct=round(f(4), 2),
                  backend_checks_per_s=round(f(5)), time_wait_per_s=round(f(6)), rounds=len(r),
                  cpu_pct_rounds=[float(x[2]) for x in r])
print("%d backends, HTTP checks every %d ms, %d rounds of %d s, medians:" % (
      n, interval, max(v["rounds"] for v in med.values()), window))
print("  %-8s %8s %8s %8s %12s %10s %11s" % ("mode", "CPU %", "user %", "sys %", "checks/s", "us/check", "TIME_WAIT/s"))
for m, v in med.items():
    print("  %-8s %8.2f %8.2f %8.2f %12d %10.1f %11d" % (m, v["cpu_pct"], v["user_pct"], v["sys_pct"],
          v["backend_checks_per_s"], 1e4 * v["cpu_pct"] / max(1, v["backend_checks_per_s"]), v["time_wait_per_s"]))
ratios = {}
if "xlbd" in med:
    for o in ("haproxy", "floor", "xlbd_b"):
        if o in med and med[o]["cpu_pct"] > 0:
            ratios["xlbd/" + o] = round(med["xlbd"]["cpu_pct"] / med[o]["cpu_pct"], 2)
            print("  xlbd / %-7s %.2fx (CPU, medians)" % (o, ratios["xlbd/" + o]))
print(json.dumps(dict(bench="bench-health-rounds", backends=n, interval_ms=interval, window_s=window,
                      threaded_napi=sys.argv[5] == "1", modes=med, ratios=ratios)))
PY

[ "$SHORT" = 0 ] || fail "a mode made under 90 % of its checks in some round (see SHORT above)"
[ "$DETAILS" = 1 ] && [[ " $MODES " == *" xlbd "* ]] || exit 0

# ---- details: one more xlbd run ----

xlbd_up
echo "start: all $N in the table after $UP_S s"
hist >"$XLBT_RUN/hist0"
load0=$(cut -d' ' -f1 /proc/loadavg)
measure "$XLBD_PID" xlbd
hist >"$XLBT_RUN/hist1"
load1=$(cut -d' ' -f1 /proc/loadavg)
read -r slice_med slice_min slice_max <<<"$M_SLICES"
rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$XLBD_PID/status")
fds=$(ls "/proc/$XLBD_PID/fd" | wc -l)

api_ms=
for ((s = 0; s < SNAPSHOTS; s++)); do
	a0=$(date +%s%N)
	api /v1/health >"$XLBT_RUN/health$s.json" || fail "GET /v1/health"
	a1=$(date +%s%N)
	api_ms+="$(((a1 - a0) / 1000000)) "
	sleep 1.1
done

read -r checks_per_s hist_p50 hist_p99 < <(python3 - "$XLBT_RUN/hist0" "$XLBT_RUN/hist1" "$WINDOW" <<'PY'
import re, sys
def load(p):
    b, n = {}, 0
    for line in open(p):
        m = re.match(r'xlb_healthcheck_duration_seconds_bucket\{le="([^"]+)"\} (\S+)', line)
        if m:
            b[m.group(1)] = float(m.group(2))
        m = re.match(r'xlb_healthcheck_duration_seconds_count (\S+)', line)
        if m:
            n = float(m.group(1))
    return b, n
(b0, n0), (b1, n1) = load(sys.argv[1]), load(sys.argv[2])
d = {k: b1[k] - b0.get(k, 0) for k in b1}
total = n1 - n0
def q(f):
    # as Prometheus' histogram_quantile: linear within the bucket
    lo, below = 0.0, 0.0
    for k in sorted(d, key=lambda k: float("inf") if k == "+Inf" else float(k)):
        if d[k] >= f * total and total > 0:
            if k == "+Inf":
                return "%.2f" % (lo * 1000)
            hi = float(k)
            inb = d[k] - below
            return "%.2f" % ((lo + (hi - lo) * ((f * total - below) / inb if inb else 1)) * 1000)
        lo, below = (0.0 if k == "+Inf" else float(k)), d[k]
    return "nan"
print("%.0f" % (total / float(sys.argv[3])), q(0.5), q(0.99))
PY
)
read -r p50 p99 failed < <(python3 - "$XLBT_RUN"/health*.json <<'PY'
import json, sys
lat, failed = [], 0
for p in sys.argv[1:]:
    for b in json.load(open(p))["vips"][0]["backends"]:
        if "latency_ms" in b:
            lat.append(b["latency_ms"])
            failed += b.get("last_result") != "ok"
lat.sort()
pick = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))]
print("%.2f %.2f %d" % (pick(0.5), pick(0.99), failed))
PY
)

# One backend stops answering: its address leaves be1, so its packets are
# dropped there and its checks time out.
victim=$(addr_of $((N / 2)))
[ "$(table_weight "$victim")" -gt 0 ] 2>/dev/null || fail "$victim not in the table before the stop"
echo "=== bench $(date -u +%FT%T.%3NZ): $victim stops answering" >>"$XLBD_LOG"
ts=$(date +%s.%N)
ip -n "$BE" addr del "$victim/32" dev lo || fail "removing $victim"
removed=
for ((i = 0; i < 150; i++)); do # 30 s
	if [ "$(table_weight "$victim")" = 0 ]; then removed=$(date +%s.%N); break; fi
	sleep 0.2
done
[ -n "$removed" ] || fail "$victim still in the table 30 s after it stopped answering"
grep -q "backend $victim: circuit closed -> open" "$XLBD_LOG" || fail "no ejection logged for $victim"
stop_s=$(calc "$removed - $ts")
# The same from xlbd's log: the ejection's time stamp (no polling delay).
ejected=$(grep -m1 "backend $victim: circuit closed -> open" "$XLBD_LOG" | cut -d' ' -f1)
eject_s=$(calc "$(date -d "$ejected" +%s.%N) - $ts")
ts=$(date +%s.%N)
ip -n "$BE" addr add "$victim/32" dev lo || fail "restoring $victim"
back=
for ((i = 0; i < 150; i++)); do
	w=$(table_weight "$victim")
	if [ -n "$w" ] && [ "$w" != None ] && [ "$w" -gt 0 ]; then back=$(date +%s.%N); break; fi
	sleep 0.2
done
[ -n "$back" ] || fail "$victim not back in the table 30 s after it answered again"
back_s=$(calc "$back - $ts")

echo "backends          $N (one VIP, HTTP checks every $INTERVAL_MS ms, timeout 500 ms)"
echo "xlbd CPU          $M_CPU % of one core over ${WINDOW} s: user $M_USER %, system $M_SYS % (this run alone: compare the rounds above)"
[ "$slice_med" = null ] || echo "  in ~5 s slices  median $slice_med %, $slice_min..$slice_max %"
echo "checks            $checks_per_s /s (xlbd's histogram), $M_BE_PER_S /s answered by the backend"
echo "check latency     p50 $hist_p50 ms, p99 $hist_p99 ms (xlb_healthcheck_duration_seconds over the window)"
echo "  from the API    p50 $p50 ms, p99 $p99 ms (last check of each backend, $SNAPSHOTS snapshots; $failed failed)"
echo "stop to removal   $stop_s s seen in the API (polled every 0.2 s); ejection logged after $eject_s s"
echo "back in table     $back_s s (ejection 2 s, half-open probe, rise 2)"
echo "GET /v1/health    $api_ms ms (the $N backends, each snapshot)"
echo "machine load      $load0 -> $load1 (1-min load average over the window; $(nproc) CPUs)"
echo "xlbd memory       RSS $((rss_kb / 1024)) MiB, $fds descriptors"
printf '{"bench":"bench-health-details","backends":%d,"interval_ms":%d,"up_s":%s,"cpu_pct":%s,"cpu_pct_slices":{"median":%s,"min":%s,"max":%s},"user_pct":%s,"sys_pct":%s,"threaded_napi":%s,"checks_per_s":%s,"p50_ms":%s,"p99_ms":%s,"hist_p50_ms":%s,"hist_p99_ms":%s,"failed_checks":%d,"stop_to_removal_s":%s,"stop_to_ejection_log_s":%s,"back_in_table_s":%s,"rss_mib":%d,"loadavg":"%s-%s"}\n' \
	"$N" "$INTERVAL_MS" "$UP_S" "$M_CPU" "$slice_med" "$slice_min" "$slice_max" "$M_USER" "$M_SYS" "${THREADED:-1}" "$checks_per_s" "$p50" "$p99" "$hist_p50" "$hist_p99" \
	"$failed" "$stop_s" "$eject_s" "$back_s" "$((rss_kb / 1024))" "$load0" "$load1"

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# make bench-health: xlbd health-checking 5,000 backends of one VIP.
#
# Topology (scripts/topology.sh, 1 backend, via tests/e2e/lib.sh: per-run
# prefix, everything removed by its trap on every exit path): be1 holds
# N (5000) extra addresses 198.18.32.1.. (250 per /24: 198.18.32.1 to
# 198.18.51.250) on its loopback, all served by one HTTP listener on
# 0.0.0.0:8080 (build/tests/bench_health_server, one epoll loop); the lb
# routes 198.18.32.0/19 via be1. One VIP, forward ipip (so the backends need
# not be on-link), HTTP checks every 1 s, timeout 500 ms, rise 2, fall 3.
#
# Figures (plain lines, then one JSON line):
#  - up_s: xlbd start to all N backends in the table (table_weight > 0).
#  - cpu_pct: xlbd's utime+stime (/proc/PID/stat) over WINDOW (30) s of
#    steady state, as % of one core; nothing queries xlbd in the window.
#    cpu_pct_slices: the median, min and max over ~5 s slices of it (the
#    host's noise comes in bursts).
#  - checks_per_s: the xlb_healthcheck_duration_seconds count over that
#    window; hist_p50/p99_ms: quantiles of that histogram over the window,
#    interpolated within buckets as Prometheus' histogram_quantile() does
#    (the headline figure: nothing disturbs xlbd meanwhile).
#  - p50/p99_ms: the latency of each backend's last check, from GET
#    /v1/health, over SNAPSHOTS (3) snapshots after the window. Serving
#    those 2.5 MB answers is work for xlbd's loop too, so these read higher.
#  - stop_to_removal_s: one backend address is deleted from be1's
#    loopback (its packets are then dropped, so checks time out); time until
#    GET /v1/health?vip=..&backend=.. shows its table_weight 0, polled every
#    0.2 s; and until xlbd logs the ejection (no polling delay). Expected:
#    fall (3) failed checks, each a 500 ms timeout ~1 s (+-10% jitter) after
#    the last: ~3.5-5 s. back_in_s: the address restored, until it is in
#    the table again (rise checks after the half-open probe, which waits
#    for the ejection time, 5 s by default, configured 2 s here).
#
# FLOOR=1 runs build/tests/bench_health_floor in the lb instead of xlbd: a
# bare epoll prober (socket, connect, GET, status line, RST; no libcurl, no
# libevent) over the same backends at the same rate, and prints its CPU over
# WINDOW s: the floor that the kernel and this veth path set for any prober
# that opens a connection per check.
#
# Environment: N (5000), WINDOW (30), SNAPSHOTS (3), INTERVAL_MS (1000).
# Everything is bounded: every wait has a deadline, the server exits by
# itself after 15 minutes. Not part of `make test` (it loads both CPUs).
set -uo pipefail
XLBT_PREFIX=${XLBT_PREFIX:-xlbh$$}
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/../tests/e2e/lib.sh"

# BENCH_LOG=FILE keeps xlbd's log there (the run directory goes at exit).
[ -n "${BENCH_LOG:-}" ] && XLBD_LOG=$BENCH_LOG
N=${N:-5000}
WINDOW=${WINDOW:-30}
SNAPSHOTS=${SNAPSHOTS:-3}
INTERVAL_MS=${INTERVAL_MS:-1000}
PORT=8080
VIP=198.18.1.100:80/tcp

require_root
require_cmd ip python3 curl
require_build build/xlbd build/tests/bench_health_server build/tests/bench_health_floor
[[ $N =~ ^[0-9]+$ ]] && [ "$N" -ge 1 ] && [ "$N" -le 8000 ] || fail "N must be 1..8000"
[[ $WINDOW =~ ^[0-9]+$ ]] && [ "$WINDOW" -ge 5 ] && [ "$WINDOW" -le 600 ] || fail "WINDOW 5..600"
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
bg_in_ns be1 "$XLBT_RUN/server.log" "$XLBT_ROOT/build/tests/bench_health_server" $PORT 900
echo "$BG_PID $(_topo_starttime "$BG_PID")" >"$XLBT_RUN/bench-server.pid"
wait_until 10 grep -q listening "$XLBT_RUN/server.log" || fail "server did not start"
in_ns lb curl -fsS --max-time 2 "http://$(addr_of $((N - 1))):$PORT/" >/dev/null ||
	fail "the last backend address does not answer from the lb"

if [ "${FLOOR:-0}" = 1 ]; then
	floor=$(in_ns lb "$XLBT_ROOT/build/tests/bench_health_floor" "$(addr_of 0)" "$N" $PORT \
		"$INTERVAL_MS" "$WINDOW") || fail "the floor prober failed"
	python3 - "$floor" "$N" "$INTERVAL_MS" <<'PY' || fail "the floor prober's figures: $floor"
import json, sys
j, n, interval = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = j["seconds"]
assert j["checks"] > 0.9 * n * s * 1000 / interval and j["failures"] == 0, "checks missing or failed"
print("floor prober      %.2f %% of one core over %.0f s: user %.2f %%, system %.2f %% "
      "(%d checks, %.0f/s, %d failed; %.1f us a check)" % (
      100 * (j["user_s"] + j["sys_s"]) / s, s, 100 * j["user_s"] / s, 100 * j["sys_s"] / s,
      j["checks"], j["checks"] / s, j["failures"], 1e6 * (j["user_s"] + j["sys_s"]) / j["checks"]))
j.update(backends=n, interval_ms=interval, cpu_pct=round(100 * (j["user_s"] + j["sys_s"]) / s, 2))
print(json.dumps(dict(bench="bench-health-floor", **j)))
PY
	exit 0
fi

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

api() { in_ns lb curl -fsS --max-time 10 --unix-socket "$XLBD_SOCK" "http://xlb$1"; }

# health_summary: "IN_TABLE TOTAL" from GET /v1/health
in_table() {
	api /v1/health | python3 -c '
import json, sys
b = json.load(sys.stdin)["vips"][0]["backends"]
print(sum(1 for x in b if (x.get("table_weight") or 0) > 0), len(b))'
}
all_in() { [ "$(in_table)" = "$N $N" ]; }
# table_weight of one backend (None, 0, weight): GET /v1/health for that
# backend alone, so polling does not make xlbd render all N every time.
table_weight() {
	api "/v1/health?vip=198.18.1.100%3A80%2Ftcp&backend=$1" | python3 -c '
import json, sys
for x in json.load(sys.stdin)["vips"][0]["backends"]:
    if x["address"] == sys.argv[1]:
        print(x.get("table_weight"))' "$1"
}
cpu_ticks() { awk '{print $14, $15}' "/proc/$XLBD_PID/stat"; }
hist() { in_ns lb curl -fsS --max-time 10 "http://$XLBD_METRICS/metrics" | grep '^xlb_healthcheck_duration_seconds'; }

t0=$(date +%s.%N)
start_xlbd "$XLBT_RUN/xlb.yaml"
t_sock=$(date +%s.%N)
wait_until 120 all_in || fail "not all $N backends in the table after 120 s: $(in_table)"
t_up=$(date +%s.%N)
up_s=$(calc "$t_up - $t0")
echo "start: socket after $(calc "$t_sock - $t0") s, all $N in the table after $up_s s"
sleep 3 # let the start-up publishing settle

load0=$(cut -d' ' -f1 /proc/loadavg)
hist >"$XLBT_RUN/hist0"
read -r u0 s0 < <(cpu_ticks)
w0=$(date +%s.%N)
echo "$w0 $u0 $s0" >"$XLBT_RUN/slices"
if [ -n "${BENCH_PERF:-}" ]; then # BENCH_PERF=FILE: a perf profile of the window
	perf record -q -g -p "$XLBD_PID" -o "$BENCH_PERF" -- sleep "$WINDOW" >/dev/null 2>&1
else
	# ~5 s slices: the host's noise comes in bursts; their median shows it
	slices=$((WINDOW / 5))
	for ((i = 0; i < slices; i++)); do
		sleep "$(calc "$WINDOW / $slices")"
		echo "$(date +%s.%N) $(cpu_ticks)" >>"$XLBT_RUN/slices"
	done
fi
read -r u1 s1 < <(cpu_ticks)
w1=$(date +%s.%N)
hist >"$XLBT_RUN/hist1"
load1=$(cut -d' ' -f1 /proc/loadavg)
hz=$(getconf CLK_TCK)
cpu_pct=$(calc "100 * ($u1 + $s1 - $u0 - $s0) / $hz / ($w1 - $w0)")
user_pct=$(calc "100 * ($u1 - $u0) / $hz / ($w1 - $w0)")
sys_pct=$(calc "100 * ($s1 - $s0) / $hz / ($w1 - $w0)")
# "MEDIAN MIN MAX" of the slices' CPU %, or "null null null" without (perf)
read -r slice_med slice_min slice_max < <(python3 - "$XLBT_RUN/slices" "$hz" <<'PY'
import statistics, sys
rows = [[float(x) for x in l.split()] for l in open(sys.argv[1])]
hz = float(sys.argv[2])
v = [100 * (b[1] + b[2] - a[1] - a[2]) / hz / (b[0] - a[0]) for a, b in zip(rows, rows[1:])]
print("%.2f %.2f %.2f" % (statistics.median(v), min(v), max(v)) if v else "null null null")
PY
)
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
echo "xlbd CPU          $cpu_pct % of one core over ${WINDOW} s: user $user_pct %, system $sys_pct % (target <= 10 %)"
[ "$slice_med" = null ] || echo "  in ~5 s slices  median $slice_med %, $slice_min..$slice_max %"
echo "checks            $checks_per_s /s"
echo "check latency     p50 $hist_p50 ms, p99 $hist_p99 ms (xlb_healthcheck_duration_seconds over the window)"
echo "  from the API    p50 $p50 ms, p99 $p99 ms (last check of each backend, $SNAPSHOTS snapshots; $failed failed)"
echo "stop to removal   $stop_s s seen in the API (polled every 0.2 s); ejection logged after $eject_s s"
echo "back in table     $back_s s (ejection 2 s, half-open probe, rise 2)"
echo "GET /v1/health    $api_ms ms (the $N backends, each snapshot)"
echo "machine load      $load0 -> $load1 (1-min load average over the window; $(nproc) CPUs)"
echo "xlbd memory       RSS $((rss_kb / 1024)) MiB, $fds descriptors"
printf '{"backends":%d,"interval_ms":%d,"up_s":%s,"cpu_pct":%s,"cpu_pct_slices":{"median":%s,"min":%s,"max":%s},"user_pct":%s,"sys_pct":%s,"threaded_napi":%s,"checks_per_s":%s,"p50_ms":%s,"p99_ms":%s,"hist_p50_ms":%s,"hist_p99_ms":%s,"failed_checks":%d,"stop_to_removal_s":%s,"stop_to_ejection_log_s":%s,"back_in_table_s":%s,"rss_mib":%d,"loadavg":"%s-%s"}\n' \
	"$N" "$INTERVAL_MS" "$up_s" "$cpu_pct" "$slice_med" "$slice_min" "$slice_max" "$user_pct" "$sys_pct" "${THREADED:-1}" "$checks_per_s" "$p50" "$p99" "$hist_p50" "$hist_p99" \
	"$failed" "$stop_s" "$eject_s" "$back_s" "$((rss_kb / 1024))" "$load0" "$load1"

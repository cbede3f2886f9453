#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# /metrics as an operator's Prometheus sees it. A real `prometheus` server
# runs on loopback in the lb namespace (temporary config and storage under
# $XLBT_RUN), scraping xlbd every second:
#  - `up` is 1 and the live text passes `promtool check metrics`;
#  - after exactly N UDP datagrams to a UDP VIP, xlbd counts N, and after
#    HTTP requests to an IPv4 and an IPv6 VIP, Prometheus' value of
#    xlb_vip_packets_total (and of the backends' sum) for each VIP is
#    xlbd's own once traffic stopped;
#  - every query of the contrib dashboard runs, and the contrib alert rules
#    pass their promtool unit tests and evaluate without error, none firing;
#  - only GET /metrics is served on that port;
#  - scrapers that stall (a request never finished, a response never read)
#    block neither the API (xlbctl status and health answer at once), nor
#    the health checks (their histogram keeps counting), nor Prometheus.
# Prometheus, the stalled sockets and xlbd are ended on every exit path
# (bg_in_ns records them; the trap and topology_down end them).
set -uo pipefail
source "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ethtool python3 curl prometheus promtool
require_build build/xlbd build/xlbctl

UDP_VIP=198.18.1.100:53/udp
TCP_VIP=198.18.1.100:80/tcp
TCP6_VIP=[2001:2::100]:80/tcp
N_UDP=200
N_HTTP=20
PROM=127.0.0.1:9090

cat >"$XLBT_RUN.yaml" <<YAML
interfaces:
  - {name: eth0, mode: native}
vips:
  - vip: "$UDP_VIP"
    forward: l2dsr
    backends:
      - {address: 198.18.0.11}
      - {address: 198.18.0.12}
  - vip: "$TCP_VIP"
    forward: l2dsr
    health_check: {type: tcp, port: 80, interval_ms: 200, timeout_ms: 150}
    backends:
      - {address: 198.18.0.11}
      - {address: 198.18.0.12}
  - vip: "$TCP6_VIP"
    forward: l2dsr
    backends:
      - {address: "2001:2::11"}
      - {address: "2001:2::12"}
YAML

# promql QUERY: the value of a one-series answer from Prometheus ("" when none)
promql() {
	in_ns lb curl -sf --max-time 5 -G --data-urlencode "query=$1" \
		"http://$PROM/api/v1/query" | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if len(r) == 1 else "")'
}
promql_is() { [ "$(promql "$1")" = "$2" ]; }
metric_is() { [ "$(metric "$1")" = "$2" ]; }
# same_in_prometheus SERIES QUERY: Prometheus reports what xlbd reports now
same_in_prometheus() {
	local own
	own=$(metric "$1")
	[ -n "$own" ] && [ "$(promql "$2")" = "$own" ]
}

topology_up 2 l2dsr
mv "$XLBT_RUN.yaml" "$XLBT_RUN/xlb.yaml"
start_xlbd "$XLBT_RUN/xlb.yaml" --conntrack-size 65536
# the table is sized as asked (both families)
for fam in 4 6; do
	size=$(bpftool -j map show pinned "$XLBT_RUN/bpf/lb/xlb/eth0/xlb_flows$fam" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["max_entries"])') ||
		fail "reading the pinned xlb_flows$fam"
	assert_eq 65536 "$size" "xlb_flows$fam max_entries with --conntrack-size 65536"
done

# Prometheus, scraping xlbd every second.
mkdir -p "$XLBT_RUN/prometheus/data"
cat >"$XLBT_RUN/prometheus/prometheus.yml" <<YAML
global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
rule_files: ["$XLBT_ROOT/contrib/prometheus/xlb-alerts.yml"]
scrape_configs:
  - job_name: xlb
    static_configs:
      - targets: ["$XLBD_METRICS"]
YAML
bg_in_ns lb "$XLBT_RUN/prometheus/log" prometheus \
	--config.file="$XLBT_RUN/prometheus/prometheus.yml" \
	--storage.tsdb.path="$XLBT_RUN/prometheus/data" \
	--web.listen-address="$PROM" --log.level=warn
PROM_PID=$BG_PID
prom_ready() { in_ns lb curl -sf --max-time 2 "http://$PROM/-/ready"; }
wait_until 30 prom_ready ||
	fail "prometheus not ready in 30 s: $(tail -n 5 "$XLBT_RUN/prometheus/log")"
wait_until 15 promql_is 'up{job="xlb"}' 1 || fail "up{job=\"xlb\"} is not 1: '$(promql 'up{job="xlb"}')'"
echo "prometheus (pid $PROM_PID) scrapes xlbd: up 1"

# The live text is valid exposition.
in_ns lb curl -sf "http://$XLBD_METRICS/metrics" >"$XLBT_RUN/metrics.txt" || fail "GET /metrics"
out=$(promtool check metrics <"$XLBT_RUN/metrics.txt" 2>&1) || fail "promtool check metrics: $out"
[ -z "$out" ] || fail "promtool check metrics: $out"

# Exactly N_UDP datagrams to the UDP VIP (paced: none lost before XDP).
in_ns client python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[1])):
    s.sendto(b"x", ("198.18.1.100", 53))
    time.sleep(0.002)' "$N_UDP" || fail "sending UDP"
# and HTTP, over IPv4 and IPv6
tally=$(http_tally "$N_HTTP" http://198.18.1.100/) || fail "HTTP over IPv4: $tally"
tally=$(http_tally "$N_HTTP" "http://[2001:2::100]/") || fail "HTTP over IPv6: $tally"
# The last FINs and ACKs counted: the TCP VIPs' counts stop moving.
tcp_counts() { metric 'xlb_vip_packets_total{vip="'$TCP_VIP'"}'; metric 'xlb_vip_packets_total{vip="'$TCP6_VIP'"}'; }
tcp_settled() {
	local a
	a=$(tcp_counts)
	sleep 0.3
	[ "$a" = "$(tcp_counts)" ]
}
wait_until 10 tcp_settled || fail "the TCP VIPs' counts still move 10 s after the requests"

udp='xlb_vip_packets_total{vip="'$UDP_VIP'"}'
wait_until 5 metric_is "$udp" "$N_UDP" ||
	fail "xlbd counts $(metric "$udp") packets to $UDP_VIP, $N_UDP were sent"
for vip in "$UDP_VIP" "$TCP_VIP" "$TCP6_VIP"; do
	series='xlb_vip_packets_total{vip="'$vip'"}'
	wait_until 10 same_in_prometheus "$series" "$series" ||
		fail "$series: xlbd $(metric "$series"), prometheus '$(promql "$series")'"
	own=$(metric "$series")
	[ "$own" -ge "$N_UDP" ] || [ "$vip" != "$UDP_VIP" ] || fail "$series: $own"
	[ "$own" -ge "$((3 * N_HTTP))" ] || [ "$vip" = "$UDP_VIP" ] ||
		fail "$series: $own packets for $N_HTTP HTTP requests"
	# every packet went to some backend
	sum=$(promql 'sum(xlb_backend_packets_total{vip="'$vip'"})')
	assert_eq "$own" "$sum" "sum of backend packets of $vip in prometheus"
	echo "$series: xlbd $own, prometheus $(promql "$series")"
done
# One connection-table entry per flow: the UDP socket's, and one per HTTP
# connection (each its own source port).
ct4='xlb_conntrack_entries{family="ipv4"}'
ct6='xlb_conntrack_entries{family="ipv6"}'
assert_eq "$((1 + N_HTTP))" "$(metric "$ct4")" "$ct4"
assert_eq "$N_HTTP" "$(metric "$ct6")" "$ct6"
wait_until 10 same_in_prometheus "$ct4" "$ct4" || fail "$ct4 in prometheus: '$(promql "$ct4")'"
# The flow caches answered most of the UDP flow's packets (all but its
# first two and every 64th, unless the sender changed CPUs) and some of
# the IPv6 connections'; they are part of the connection table's hits.
h4=$(metric 'xlb_flow_cache_hits_total{family="ipv4"}')
h6=$(metric 'xlb_flow_cache_hits_total{family="ipv6"}')
hits=$(metric 'xlb_conntrack_lookups_total{result="hit"}')
[ "$h4" -ge $((N_UDP / 2)) ] || fail "IPv4 flow cache hits: $h4 for $N_UDP packets of one UDP flow"
[ "$h6" -gt 0 ] || fail "no IPv6 flow cache hit in $N_HTTP HTTP connections"
[ $((h4 + h6)) -le "$hits" ] || fail "flow cache hits $h4 + $h6 above the table's hits $hits"
echo "flow cache hits: IPv4 $h4, IPv6 $h6, of $hits connection-table hits"

# The contrib dashboard: every metric it names is served, every query runs.
python3 - "$XLBT_RUN/metrics.txt" contrib/grafana/xlb-dashboard.json >"$XLBT_RUN/queries" <<'PY' ||
import json, re, sys
served = set(re.findall(r"^# TYPE (\S+)", open(sys.argv[1]).read(), re.M))
dash = json.load(open(sys.argv[2]))
def exprs(panels):
    for p in panels:
        yield from exprs(p.get("panels", []))
        for t in p.get("targets", []):
            yield t["expr"]
n = 0
for e in exprs(dash["panels"]):
    for name in re.findall(r"xlb_[a-z_]+", e):
        base = re.sub(r"_(bucket|sum|count)$", "", name) if name.startswith("xlb_healthcheck") else name
        if base not in served:
            sys.exit("dashboard uses %s, which xlbd does not serve" % name)
    print(e.replace("$__rate_interval", "10s").replace("$instance", ".*").replace("$vip", ".*"))
    n += 1
sys.exit(0 if n else "no queries in the dashboard")
PY
	fail "dashboard: $(cat "$XLBT_RUN/queries")"
while read -r q; do
	st=$(in_ns lb curl -s --max-time 5 -G --data-urlencode "query=$q" "http://$PROM/api/v1/query" |
		python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["status"], r.get("error", ""))')
	[ "$st" = "success " ] || fail "dashboard query '$q': $st"
done <"$XLBT_RUN/queries"
echo "dashboard: $(wc -l <"$XLBT_RUN/queries") queries run"

# The contrib alerts: valid, their unit tests pass (each fires when it
# should), every metric they name is served, and the live Prometheus
# evaluates each without error, none firing on this healthy xlbd.
out=$(promtool check rules contrib/prometheus/xlb-alerts.yml 2>&1) || fail "promtool check rules: $out"
out=$(promtool test rules tests/data/prometheus/xlb-alerts.test.yml 2>&1) ||
	fail "promtool test rules: $out"
for name in $(grep -o 'xlb_[a-z_]*' contrib/prometheus/xlb-alerts.yml | sort -u); do
	grep -q "^# TYPE $name " "$XLBT_RUN/metrics.txt" ||
		fail "the alert rules use $name, which xlbd does not serve"
done
rules_ok() { in_ns lb curl -sf --max-time 5 "http://$PROM/api/v1/rules" | python3 -c '
import json, sys
rules = [r for g in json.load(sys.stdin)["data"]["groups"] for r in g["rules"]]
bad = ["%s: %s %s %s" % (r["name"], r.get("health"), r.get("state"), r.get("lastError", ""))
       for r in rules if r.get("health") != "ok" or r.get("state") != "inactive"]
print("%d rules" % len(rules) + "".join("; " + b for b in bad))
sys.exit(1 if bad or not rules else 0)'; }
wait_until 10 rules_ok >/dev/null || fail "alert rules in prometheus: $(rules_ok)"
echo "alerts: $(rules_ok) evaluated, none firing"

# Only GET /metrics on that port.
code=$(in_ns lb curl -s -o /dev/null -w '%{http_code}' "http://$XLBD_METRICS/")
assert_eq 404 "$code" "GET /"
code=$(in_ns lb curl -s -o /dev/null -w '%{http_code}' -X POST "http://$XLBD_METRICS/metrics")
[ "$code" = 404 ] || [ "$code" = 405 ] || fail "POST /metrics answered $code"

# Stalled scrapers: 5 requests never finished, 5 responses never read.
cat >"$XLBT_RUN/stall.py" <<'PY'
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
held = []
for i in range(5):
    s = socket.create_connection((host, int(port)))
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: xlb\r\n")  # no blank line: never complete
    held.append(s)
for i in range(5):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    s.connect((host, int(port)))
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: xlb\r\n\r\n")  # never read
    held.append(s)
print("holding", len(held), flush=True)
time.sleep(600)
PY
bg_in_ns lb "$XLBT_RUN/stall.log" python3 "$XLBT_RUN/stall.py" "$XLBD_METRICS"
STALL_PID=$BG_PID
wait_until 10 grep -q holding "$XLBT_RUN/stall.log" || fail "stalled scrapers: $(cat "$XLBT_RUN/stall.log")"
checks='xlb_healthcheck_duration_seconds_count'
before=$(metric "$checks")
# The API answers, each request within a 2 s deadline (curl's own, so the
# time is xlbd's and not that of starting processes in the namespace).
api_times=$(in_ns lb bash -c 'for p in status health; do
	curl -sf -o /dev/null -w "%{time_total}\n" --max-time 2 --unix-socket "$1" "http://xlbd/v1/$p" || exit 1
done' _ "$XLBD_SOCK") || fail "the API did not answer within 2 s with stalled scrapers"
ms=$(awk '{ s += $1 } END { printf "%d", s * 1000 }' <<<"$api_times")
xlbctl_lb status >/dev/null || fail "xlbctl status with stalled scrapers"
scraped=$(promql 'timestamp(up{job="xlb"})')
# Health checks go on: their count grows (5 s deadline).
checks_grew() { [ "$(metric "$checks")" -gt "$before" ]; }
wait_until 5 checks_grew || fail "health checks stalled: $checks $before -> $(metric "$checks")"
after=$(metric "$checks")
# Prometheus went on scraping, successfully.
newer() { python3 -c 'import sys; sys.exit(not float(sys.argv[1]) > float(sys.argv[2]))' "$(promql 'timestamp(up{job="xlb"})')" "$scraped"; }
wait_until 5 newer || fail "prometheus stopped scraping with stalled scrapers"
assert_eq 1 "$(promql 'up{job="xlb"}')" "up with stalled scrapers"
echo "with 10 stalled scrapers: API in $ms ms, health checks $before -> $after, up 1"
kill "$STALL_PID" 2>/dev/null
wait "$STALL_PID" 2>/dev/null

# Prometheus is stopped like any other process of the run.
kill "$PROM_PID" && wait "$PROM_PID" 2>/dev/null
echo ok

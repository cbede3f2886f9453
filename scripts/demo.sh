#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# make demo: xlb balancing real HTTP in network namespaces, narrated.
# A client, a load balancer and three backends on one bridge; xlbd with
# examples/xlb.yaml (Maglev, L2 DSR, HTTP health checks). Everything is
# removed on exit, Ctrl-C included. Needs root.
set -uo pipefail
XLBT_PREFIX=xlbdemo$$
source "$(dirname "$0")/../tests/e2e/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "make demo needs root (network namespaces, XDP)" >&2; exit 1; }
VIP=198.18.1.100:80/tcp
URL=http://198.18.1.100/

if [ -t 1 ]; then B=$'\033[1m' N=$'\033[0m'; else B= N=; fi
say() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
# every backend up at full weight (past its slow start)
healthy() { xlbctl_lb -j health | python3 -c '
import json, sys
v = json.load(sys.stdin)["vips"][0]
sys.exit(0 if all(b["up"] and b.get("weight") == 100 for b in v["backends"]) else 1)'; }
# backend_is ADDR KEY VALUE: the backend's field of `xlbctl -j health`
# (circuit, table_weight: its weight in the data path's table, 0 out of it)
backend_is() { xlbctl_lb -j health | python3 -c '
import json, sys
for b in json.load(sys.stdin)["vips"][0]["backends"]:
    if b["address"] == sys.argv[1]:
        sys.exit(0 if str(b.get(sys.argv[2])) == sys.argv[3] else 1)
sys.exit(1)' "$1" "$2" "$3"; }

# N requests on fresh connections from the client; prints "COUNT BACKEND".
requests() {
	in_ns client bash -c "for i in \$(seq $1); do
		curl -s --fail --connect-timeout 2 --max-time 5 $URL || echo FAILED
	done" | sort | uniq -c | awk '{print $1, $2}'
}

chart() { # "COUNT NAME" lines -> bars
	awk '{ bar = ""; for (i = 0; i < $1 / 4; i++) bar = bar "#";
	       printf "   %-7s %4d  %s\n", $2, $1, bar }'
}

say "Building the topology: client, lb and 3 backends in namespaces $XLBT_PREFIX-*"
echo "   client 198.18.0.1 -> VIP 198.18.1.100 (routed via the lb, 198.18.0.2)"
echo "   backends 198.18.0.11-13 run HTTP servers, the VIP on their loopback (L2 DSR)"
topology_up 3 l2dsr

say "Starting xlbd with examples/xlb.yaml (Maglev, L2 DSR, HTTP checks every 500 ms)"
start_xlbd examples/xlb.yaml
wait_until 15 healthy || fail "backends did not become healthy"
xlbctl_lb vip list

say "300 requests from the client through the VIP, each on a new connection"
out=$(requests 300)
echo "$out" | chart
for b in be1 be2 be3; do
	grep -q " $b\$" <<<"$out" || fail "$b served no request"
done
grep -q FAILED <<<"$out" && fail "some requests failed"
echo "   replies went straight from the backends to the client (direct server return)"

say "xlbctl stats"
xlbctl_lb stats
say "A few lines of /metrics (Prometheus)"
in_ns lb curl -s "http://$XLBD_METRICS/metrics" |
	grep -E '^xlb_(vip_packets_total|vip_new_flows_total|backend_up)' | head -8

say "Stopping be2's HTTP server: the health checks fail, the breaker opens"
topo_backend_http "$XLBT_PREFIX" 2 stop
wait_until 10 backend_is 198.18.0.12 circuit open || fail "be2 was not ejected"
# the table follows the breaker at xlbd's next tick (100 ms)
wait_until 5 backend_is 198.18.0.12 table_weight 0 || fail "be2 stayed in the table"
xlbctl_lb health
say "60 more requests: all answered, by be1 and be3"
out=$(requests 60)
echo "$out" | chart
grep -q FAILED <<<"$out" && fail "requests failed after the ejection"
grep -q " be2\$" <<<"$out" && fail "be2 still got requests"

say "Starting be2 again: half-open probes succeed, it comes back (slow start)"
topo_backend_http "$XLBT_PREFIX" 2 start || fail "be2 did not restart"
wait_until 20 backend_is 198.18.0.12 circuit closed || fail "be2 did not come back"
wait_until 10 healthy || fail "be2 did not reach its full weight"
xlbctl_lb health
out=$(requests 60)
echo "$out" | chart
grep -q FAILED <<<"$out" && fail "requests failed after the recovery"
grep -q " be2\$" <<<"$out" || fail "be2 got no requests after coming back"

say "Done. Removing the namespaces, processes and pinned maps"
stop_xlbd TERM
topology_down
echo "   demo ok"

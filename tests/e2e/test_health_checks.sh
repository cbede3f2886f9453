#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The check types against real servers in backend namespaces (not
# loopback), observed through xlbd's health API (last result, detail,
# latency), then slow start end to end:
#  - tcp, http, https and udp checks succeed against running servers (an
#    https check of a plain http port fails the handshake); a udp
#    check sends its payload (seen by nft on be1) and a reply that does not
#    start with the expected response fails it, until `config apply`
#    changes the response;
#  - on the wire, an http check's request carries the handshake's ACK (no
#    bare ACK before it), counted by nft at be1's input;
#  - a stopped server fails each at once ("connect refused", "port
#    unreachable"), well within the timeout;
#  - an HTTP 503 fails the http check, the tcp check of the same server
#    still passes;
#  - a black-holed backend (an nft drop rule in its namespace) fails each
#    check by timeout, after the timeout and not long after;
#  - a stopped backend that comes back ramps up: its effective and
#    published weights rise over successive samples to the configured
#    weight (at least 3 levels between 0 and it seen), and its share of new
#    connections is lower early in the ramp than after it.
# Timing assertions are loose (the machine is shared): a failure must come
# before the timeout, a timeout after it and within 1 s more.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ethtool python3 curl nft openssl
require_build build/xlbd build/xlbctl

HTTP_VIP=198.18.1.100:80/tcp
TCP_VIP=198.18.1.101:80/tcp
UDP_VIP=198.18.1.100:53/udp
UDP_WRONG_VIP=198.18.1.101:53/udp # expects a reply the servers never give
HTTPS_VIP=198.18.1.102:443/tcp      # be1 serves https on 443 (below)
HTTPS_PLAIN_VIP=198.18.1.102:80/tcp # https checks of be1's plain http port
URL=http://198.18.1.100/
TIMEOUT=400
BE1=198.18.0.11 BE2=198.18.0.12 BE3=198.18.0.13

cat >"$XLBT_RUN.yaml" <<YAML
interfaces:
  - {name: eth0, mode: native}
vips:
  - vip: "$HTTP_VIP"
    forward: l2dsr
    health_check: {type: http, port: 80, path: /, expect: "200-399",
                   interval_ms: 600, timeout_ms: $TIMEOUT, rise: 2, fall: 2}
    circuit_breaker: {base_ejection_ms: 1000, max_ejection_ms: 2000,
                      max_ejection_percent: 100, slow_start_ms: 10000}
    backends:
      - {address: $BE1, weight: 100}
      - {address: $BE2, weight: 100}
      - {address: $BE3, weight: 100}
  - vip: "$TCP_VIP"
    forward: l2dsr
    health_check: {type: tcp, port: 80, interval_ms: 600, timeout_ms: $TIMEOUT}
    circuit_breaker: {max_ejection_percent: 100}
    backends:
      - {address: $BE1}
      - {address: $BE2}
      - {address: $BE3}
  - vip: "$UDP_VIP"
    forward: l2dsr
    health_check: {type: udp, port: 53, interval_ms: 600, timeout_ms: $TIMEOUT,
                   payload: "ping", response: "be"}
    circuit_breaker: {max_ejection_percent: 100}
    backends:
      - {address: $BE1}
      - {address: $BE2}
      - {address: $BE3}
  - vip: "$UDP_WRONG_VIP"
    forward: l2dsr
    health_check: {type: udp, port: 53, interval_ms: 600, timeout_ms: $TIMEOUT,
                   response_hex: "78 78"}
    circuit_breaker: {max_ejection_percent: 100}
    backends:
      - {address: $BE1}
  - vip: "$HTTPS_VIP"
    forward: l2dsr
    health_check: {type: https, path: /, interval_ms: 600, timeout_ms: $TIMEOUT}
    circuit_breaker: {max_ejection_percent: 100}
    backends:
      - {address: $BE1}
  - vip: "$HTTPS_PLAIN_VIP"
    forward: l2dsr
    health_check: {type: https, path: /, interval_ms: 600, timeout_ms: $TIMEOUT}
    circuit_breaker: {max_ejection_percent: 100}
    backends:
      - {address: $BE1}
YAML

# be1's https server: a self-signed certificate (not for its address: the
# check does not verify it, as HAProxy's check-ssl with verify none).
cat >"$XLBT_RUN.https.py" <<'PY'
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
import http.server, ssl, sys

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"ok\n")

    def log_message(self, *args):
        pass

server = http.server.HTTPServer((sys.argv[1], 443), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()
PY

# get VIP BACKEND KEY...: the backends' fields from GET /v1/health, one per line
get() {
	xlbctl_lb -j health | python3 -c '
import json, sys
vip, addr, keys = sys.argv[1], sys.argv[2], sys.argv[3:]
for v in json.load(sys.stdin)["vips"]:
    if v["vip"] != vip:
        continue
    for b in v["backends"]:
        if b["address"] == addr:
            for k in keys:
                x = b.get(k)
                print(x if isinstance(x, str) else json.dumps(x))' "$@"
}
# polled by wait_until: the backend's last check says DETAIL
detail_is() { [ "$(get "$1" "$2" detail)" = "$3" ]; }

# expect_check VIP BACKEND RESULT DETAIL MIN_MS MAX_MS: wait (up to 5 s) for
# a check with that detail, then its result and latency must match.
expect_check() {
	local vip=$1 be=$2 result=$3 detail=$4 min=$5 max=$6 out r lat
	wait_until 5 detail_is "$vip" "$be" "$detail" ||
		fail "$vip $be: no check said '$detail' within 5 s (last: $(get "$vip" "$be" detail))"
	out=$(get "$vip" "$be" last_result latency_ms)
	r=$(sed -n 1p <<<"$out")
	lat=$(sed -n 2p <<<"$out")
	assert_eq "$result" "$r" "$vip $be last_result ($detail)"
	python3 -c 'import sys; l, lo, hi = map(float, sys.argv[1:]); sys.exit(not lo <= l <= hi)' \
		"$lat" "$min" "$max" || fail "$vip $be: '$detail' took $lat ms, expected $min..$max"
	echo "  $vip $be: $r, $detail, $lat ms"
}

topology_up 3 l2dsr
mv "$XLBT_RUN.yaml" "$XLBT_RUN/xlb.yaml"
mv "$XLBT_RUN.https.py" "$XLBT_RUN/https.py"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj /CN=www.example.test -keyout "$XLBT_RUN/key.pem" -out "$XLBT_RUN/cert.pem" \
	2>/dev/null || fail "openssl: a test certificate"
bg_in_ns be1 "$XLBT_RUN/https.log" python3 "$XLBT_RUN/https.py" $BE1 \
	"$XLBT_RUN/cert.pem" "$XLBT_RUN/key.pem"
# What the lb sends be1's port 80 over ~10 checks of each VIP, counted
# from xlbd's start, while the checks below are observed: a tcp check is
# SYN, ACK, RST; an http check SYN, request (carrying the handshake's
# ACK), perhaps an ACK of the answer's FIN, RST. So bare ACKs
# beyond one per tcp check (SYNs without a request) are about one per http
# check (requests) at most; sending the handshake's ACK on its own makes it
# two to three (seen: 29 for 10). A bare ACK is at most 80 bytes (IP, TCP
# and its options); a request is more.
in_ns be1 nft -f - <<NFT || fail "nft counters in be1"
table inet xlbt_segs {
	chain input {
		type filter hook input priority 0; policy accept;
		ip saddr $TOPO_LB4 tcp dport 80 tcp flags syn counter
		ip saddr $TOPO_LB4 tcp dport 80 tcp flags == ack meta length <= 80 counter
		ip saddr $TOPO_LB4 tcp dport 80 tcp flags & (syn | rst | fin) == 0 \
			meta length > 80 counter
		ip saddr $TOPO_LB4 udp dport 53 udp length 12 @th,64,32 0x70696e67 counter
	}
}
NFT
seg_counts() {
	in_ns be1 nft list table inet xlbt_segs | sed -n 's/.*counter packets \([0-9]*\).*/\1/p' |
		paste -sd' '
}
# Until 10 http requests and 10 udp checks carrying "ping" were counted
# (~6 s at their intervals, mostly spent by then); 30 s before it fails.
enough_segs() {
	local syns acks reqs pings
	read -r syns acks reqs pings < <(seg_counts)
	[ "${reqs:-0}" -ge 10 ] && [ "${pings:-0}" -ge 10 ]
}
start_xlbd "$XLBT_RUN/xlb.yaml"
SLACK=$((TIMEOUT + 1000))

echo "running servers:"
for be in $BE1 $BE2 $BE3; do
	expect_check "$HTTP_VIP" $be ok "ok HTTP 200" 0 $TIMEOUT
	expect_check "$TCP_VIP" $be ok "ok connected" 0 $TIMEOUT
	expect_check "$UDP_VIP" $be ok "ok reply 4 bytes" 0 $TIMEOUT
done
# The servers answer "beN\n": a check expecting "xx" fails at once.
expect_check "$UDP_WRONG_VIP" $BE1 failed "unexpected reply (4 bytes)" 0 $TIMEOUT
# https: be1's TLS server answers; its plain http port fails the handshake.
expect_check "$HTTPS_VIP" $BE1 ok "ok HTTP 200" 0 $TIMEOUT
wait_until 5 eval '[[ "$(get "$HTTPS_PLAIN_VIP" '$BE1' detail)" == https:* ]]' ||
	fail "$HTTPS_PLAIN_VIP: no TLS failure (last: $(get "$HTTPS_PLAIN_VIP" $BE1 detail))"
assert_eq failed "$(get "$HTTPS_PLAIN_VIP" $BE1 last_result)" "https check of a plain port"
echo "  $HTTPS_PLAIN_VIP $BE1: $(get "$HTTPS_PLAIN_VIP" $BE1 detail)"
# Changed live (config apply), the next checks expect "be" and pass.
sed 's/response_hex: "78 78"/response: "be"/' "$XLBT_RUN/xlb.yaml" >"$XLBT_RUN/fixed.yaml"
plan=$(xlbctl_lb config apply "$XLBT_RUN/fixed.yaml") || fail "config apply: $plan"
grep -q "vip $UDP_WRONG_VIP: health_check changed" <<<"$plan" || fail "apply's plan: $plan"
expect_check "$UDP_WRONG_VIP" $BE1 ok "ok reply 4 bytes" 0 $TIMEOUT

wait_until 30 enough_segs || fail "be1 saw too few checks in 30 s: $(seg_counts) (SYNs, ACKs, requests, pings)"
read -r syns acks reqs pings < <(seg_counts)
in_ns be1 nft delete table inet xlbt_segs || fail "removing the nft counters"
echo "  be1 from the lb: $syns SYNs, $reqs requests, $acks bare ACKs, $pings udp checks saying 'ping'"
python3 -c 'import sys; s, a, r = map(int, sys.argv[1:]); sys.exit(not (r >= 5 and a - (s - r) <= 1.5 * r))' \
	"${syns:-0}" "${acks:-0}" "${reqs:-0}" ||
	fail "http checks sent $((acks - (syns - reqs))) bare ACKs for $reqs requests: the handshake's ACK went alone"

echo "be1 stopped, be2 answering 503, be3 black-holed:"
topo_backend_http "$XLBT_PREFIX" 1 stop
touch "$XLBT_RUN/be2/down"
in_ns be3 nft -f - <<NFT || fail "nft drop rule in be3"
table inet xlbt_blackhole {
	chain input {
		type filter hook input priority 0; policy accept;
		ip saddr $TOPO_LB4 drop
	}
}
NFT
expect_check "$HTTP_VIP" $BE1 failed "connect refused" 0 $TIMEOUT
expect_check "$TCP_VIP" $BE1 failed "connect refused" 0 $TIMEOUT
expect_check "$UDP_VIP" $BE1 failed "port unreachable" 0 $TIMEOUT
expect_check "$HTTP_VIP" $BE2 failed "HTTP 503" 0 $TIMEOUT
assert_eq 503 "$(in_ns lb curl -s -o /dev/null -w '%{http_code}' --max-time 2 http://$BE2/)" \
	"be2's own answer"
expect_check "$TCP_VIP" $BE2 ok "ok connected" 0 $TIMEOUT
expect_check "$UDP_VIP" $BE2 ok "ok reply 4 bytes" 0 $TIMEOUT
for vip in "$HTTP_VIP" "$TCP_VIP" "$UDP_VIP"; do
	expect_check "$vip" $BE3 failed "timeout after $TIMEOUT ms" $TIMEOUT $SLACK
done
# Failed checks move the breakers: each of be1..be3 is out of the http VIP.
for be in $BE1 $BE2 $BE3; do
	wait_until 5 eval '[ "$(get "$HTTP_VIP" '$be' circuit)" != closed ]' ||
		fail "$HTTP_VIP $be still closed after failing checks"
done

echo "all back:"
rm -f "$XLBT_RUN/be2/down"
in_ns be3 nft delete table inet xlbt_blackhole || fail "removing the nft rule"
topo_backend_http "$XLBT_PREFIX" 1 start || fail "be1 server did not restart"
for be in $BE1 $BE2 $BE3; do
	expect_check "$HTTP_VIP" $be ok "ok HTTP 200" 0 $TIMEOUT
	wait_until 30 eval '[ "$(get "$HTTP_VIP" '$be' table_weight)" = 100 ]' ||
		fail "$HTTP_VIP $be not back at full weight after 30 s"
done

# Slow start: stop be1 until ejected, start it, sample its weights.
echo "slow start of be1:"
topo_backend_http "$XLBT_PREFIX" 1 stop
wait_until 10 eval '[ "$(get "$HTTP_VIP" $BE1 table_weight)" = 0 ]' || fail "be1 not ejected"
topo_backend_http "$XLBT_PREFIX" 1 start || fail "be1 server did not restart"
wait_until 20 eval '[ "$(get "$HTTP_VIP" $BE1 table_weight)" -gt 0 ] 2>/dev/null' ||
	fail "be1 not back in the table 20 s after its server started"

# Its weights, sampled every 0.5 s in the background until full (at most
# 60 samples), while the foreground sends requests in the first ramp step
# (10 s in 4 steps: 2.5 s at 10%; the 40 requests take well under that).
(
	for ((i = 0; i < 60; i++)); do
		w=$(get "$HTTP_VIP" $BE1 weight table_weight | paste -sd/)
		echo "$w"
		[ "$w" = 100/100 ] && break
		sleep 0.5
	done >"$XLBT_RUN/samples"
) &
sampler=$!
_XLBT_BG_PIDS+=("$sampler")
# burst N: N requests from one curl, each on its own connection (one
# `ip netns exec` for all: on a loaded machine a process per request is too
# slow to fit many in one ramp step); prints the answering backends.
burst() {
	local urls=() i
	for ((i = 0; i < $1; i++)); do urls+=("$URL"); done
	in_ns client curl -gsS --connect-timeout 2 --max-time 20 -H 'Connection: close' "${urls[@]}"
}
early=$(burst 40) || fail "requests failed early in the ramp: $(sort <<<"$early" | uniq -c)"
early_n=$(grep -c . <<<"$early")
early_be1=$(grep -cx be1 <<<"$early")
wait "$sampler"
mapfile -t samples <"$XLBT_RUN/samples"
echo "  weight/table_weight samples: ${samples[*]}"
python3 - "${samples[@]}" <<'PY' || fail "be1's weights did not ramp up to 100"
import sys
w = [int(s.split("/")[0]) for s in sys.argv[1:]]
t = [int(s.split("/")[1]) for s in sys.argv[1:]]
assert w[-1] == 100 and t[-1] == 100, "never reached 100"
assert all(a <= b for a, b in zip(w, w[1:])), "effective weight went down"
assert all(a <= b for a, b in zip(t, t[1:])), "published weight went down"
levels = sorted(set(x for x in t if 0 < x < 100))
assert len(levels) >= 3, "fewer than 3 ramp levels seen: %s" % levels
PY
late=$(burst 60) || fail "requests failed after the ramp: $(sort <<<"$late" | uniq -c)"
late_be1=$(grep -cx be1 <<<"$late")
echo "  be1's share: early $early_be1/$early_n, after the ramp $late_be1/60"
python3 -c 'import sys; e, en, l = map(int, sys.argv[1:]); sys.exit(not (en >= 10 and e / en < l / 60))' \
	"$early_be1" "$early_n" "$late_be1" ||
	fail "be1's share did not grow: early $early_be1/$early_n, late $late_be1/60"
echo ok

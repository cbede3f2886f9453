#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Health checks and the circuit breaker end to end (L2 DSR, HTTP checks):
#  - a backend whose server stops is ejected: every later request succeeds
#    on the others, and /metrics and `xlbctl health` say so; its counters
#    stay through the ejection and go on from there when it returns;
#  - started again, it comes back through half-open and takes requests;
#  - a new backend stays out of service until its first good check;
#  - max_ejection_percent: the VIP panics instead of ejecting one too many;
#  - drain takes a backend out without the breaker.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ethtool python3 curl
require_build build/xlbd build/xlbctl

VIP=198.18.1.100:80/tcp
URL=http://198.18.1.100/

cat >"$XLBT_RUN.yaml" <<YAML
interfaces:
  - {name: eth0, mode: native}
vips:
  - vip: "$VIP"
    forward: l2dsr
    health_check: {type: http, port: 80, path: /, expect: "200-399",
                   interval_ms: 300, timeout_ms: 250, rise: 2, fall: 2}
    circuit_breaker: {base_ejection_ms: 1500, max_ejection_ms: 10000,
                      max_ejection_percent: 50, slow_start_ms: 600}
    backends:
      - {address: 198.18.0.11}
      - {address: 198.18.0.12}
      - {address: 198.18.0.13}
      - {address: 198.18.0.14}
YAML

# field BACKEND KEY: a backend's field from `xlbctl -j health`
field() {
	xlbctl_lb -j health | python3 -c '
import json, sys
for v in json.load(sys.stdin)["vips"]:
    for b in v["backends"]:
        if b["address"] == sys.argv[1]:
            print(json.dumps(b.get(sys.argv[2])))' "$1" "$2"
}
# polled by wait_until: the value is read anew each time
field_is() { [ "$(field "$1" "$2")" = "$3" ]; }
panic_is() { [ "$(panic)" = "$1" ]; }
panic() { xlbctl_lb -j health | python3 -c 'import json,sys; print(json.load(sys.stdin)["vips"][0]["panic"])'; }

topology_up 5 l2dsr
mv "$XLBT_RUN.yaml" "$XLBT_RUN/xlb.yaml"
start_xlbd "$XLBT_RUN/xlb.yaml"

# New backends start out of service and come in after their first check.
for i in 1 2 3 4; do
	wait_until 5 field_is 198.18.0.1$i up true || fail "be$i never came up"
done
tally=$(http_tally 40 "$URL") || fail "requests failed with all up: $tally"
echo "all up: $(echo $tally)"

# be2 dies: ejected, then nothing fails.
be2_packets='xlb_backend_packets_total{vip="198.18.1.100:80/tcp",backend="198.18.0.12"}'
before=$(metric "$be2_packets")
[ "${before:-0}" -gt 0 ] || fail "be2 forwarded nothing before it stopped: '$before'"
topo_backend_http "$XLBT_PREFIX" 2 stop
wait_until 5 field_is 198.18.0.12 circuit '"open"' || fail "be2 not ejected"
grep -q "backend 198.18.0.12: circuit closed -> open" "$XLBD_LOG" || fail "no log line for the ejection"
# The breaker opens at a check's result; the table follows at xlbd's next
# tick (100 ms, which batches the changes of many backends): requests sent
# in between still reach be2. table_weight is what the data path holds.
wait_until 5 field_is 198.18.0.12 table_weight 0 || fail "be2 still in the table"
tally=$(http_tally 40 "$URL") || fail "requests failed after be2 was ejected: $tally"
assert_eq 0 "$(count be2 "$tally")" "requests to ejected be2"
assert_eq 1 "$(metric 'xlb_backend_circuit{vip="198.18.1.100:80/tcp",backend="198.18.0.12"}')" "circuit metric (1: open)"
[ "$(metric 'xlb_backend_ejections_total{vip="198.18.1.100:80/tcp",backend="198.18.0.12"}')" -ge 1 ] || fail "ejections metric"
assert_eq 0 "$(metric 'xlb_backend_up{vip="198.18.1.100:80/tcp",backend="198.18.0.12"}')" "up metric"
# Out of the table, its counters stay (a counter never goes backwards).
during=$(metric "$be2_packets")
[ "${during:-0}" -ge "$before" ] || fail "be2's packet counter went from $before to '$during' when ejected"

# be2 back: half-open, then closed, then it takes requests again.
topo_backend_http "$XLBT_PREFIX" 2 start || fail "be2 server did not restart"
wait_until 20 field_is 198.18.0.12 circuit '"closed"' || fail "be2 did not close again"
grep -q "backend 198.18.0.12: circuit half_open -> closed" "$XLBD_LOG" || fail "no log line for the recovery"
sleep 1 # slow start over
tally=$(http_tally 60 "$URL") || fail "requests failed after be2 came back: $tally"
[ "$(count be2 "$tally")" -ge 1 ] || fail "be2 takes no requests after recovery: $tally"
after=$(metric "$be2_packets")
[ "${after:-0}" -gt "$during" ] || fail "be2's packet counter after its return: $during -> '$after'"

# A new backend is out until its first good check.
xlbctl_lb backend add "$VIP" 198.18.0.15 || fail "backend add"
wait_until 5 field_is 198.18.0.15 up true || fail "new backend never came up"
# It came in through its first check (the check may beat a status query).
grep -q "backend 198.18.0.15: circuit pending -> closed (first successful check)" "$XLBD_LOG" ||
	fail "new backend was in service before its first check"

# Panic: 5 backends at 50% -> 2 may be out; the third failing one stays in.
for i in 1 3 4; do topo_backend_http "$XLBT_PREFIX" $i stop; done
wait_until 6 panic_is True || fail "VIP did not enter panic mode"
assert_eq 1 "$(metric 'xlb_vip_panic{vip="198.18.1.100:80/tcp"}')" "panic metric"
for i in 1 3 4; do topo_backend_http "$XLBT_PREFIX" $i start || fail "be$i restart"; done
wait_until 10 panic_is False || fail "panic did not end"

# Drain: out of the table without the breaker.
xlbctl_lb backend set "$VIP" 198.18.0.13 --drain || fail "drain"
assert_eq false "$(field 198.18.0.13 up)" "drained backend up"
assert_eq true "$(field 198.18.0.13 drain)" "drain flag"
tally=$(http_tally 40 "$URL") || fail "requests failed with be3 drained: $tally"
assert_eq 0 "$(count be3 "$tally")" "requests to drained be3"
xlbctl_lb health >"$XLBT_RUN/health.txt" || fail "xlbctl health"
grep -q "198.18.0.12" "$XLBT_RUN/health.txt" || fail "xlbctl health lists no backend"
echo ok

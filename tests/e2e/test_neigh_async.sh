#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Backends whose MAC is unknown never stall xlbd. A VIP of 100 backends
# that answer no ARP (addresses nobody holds) is added by `config apply`
# while another VIP is health-checked every 200 ms. xlbd asks the kernel
# for their MACs without waiting (they wait out of the table), so: the
# apply succeeds at once, the API keeps answering in milliseconds, and the
# other VIP's checks keep their interval. (Before, each unknown MAC was
# waited for on the event loop, up to 1 s per backend one after another,
# and the apply failed on the first.) One of them then starts answering
# ARP and enters its VIP's table within a second or so.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ethtool python3 curl
require_build build/xlbd build/xlbctl

INTERVAL_MS=200
checked_vip() {
	cat <<YAML
interfaces:
  - {name: eth0, mode: native}
vips:
  - vip: "198.18.1.100:80/tcp"
    forward: l2dsr
    health_check: {type: http, port: 80, interval_ms: $INTERVAL_MS, timeout_ms: 150, rise: 1, fall: 2}
    circuit_breaker: {slow_start_ms: 0}
    backends:
      - {address: 198.18.0.11}
      - {address: 198.18.0.12}
YAML
}
checked_vip >"$XLBT_RUN.yaml"

topology_up 2 l2dsr
mv "$XLBT_RUN.yaml" "$XLBT_RUN/xlb.yaml"
start_xlbd "$XLBT_RUN/xlb.yaml"
wait_until 5 in_table_is 2 || fail "the checked VIP's backends never in the table"

# + a VIP of 100 dark backends, 198.18.0.100-199: on-link, nobody answers.
{
	checked_vip
	cat <<YAML
  - vip: "198.18.1.101:80/tcp"
    forward: l2dsr
    health_check: {type: none}
    backends:
YAML
	for i in $(seq 100 199); do echo "      - {address: 198.18.0.$i}"; done
} >"$XLBT_RUN/dark.yaml"

t0=$(date +%s%N)
out=$(xlbctl_lb config apply "$XLBT_RUN/dark.yaml" 2>&1) ||
	fail "config apply with 100 dark backends refused: $out"
apply_ms=$((($(date +%s%N) - t0) / 1000000))
# xlbctl in a namespace costs tens of ms; one dark MAC waited for costs 1 s.
[ "$apply_ms" -lt 800 ] || fail "config apply took $apply_ms ms (waiting for MACs?)"
echo "config apply with 100 dark backends: $apply_ms ms"

# While their MACs are asked for: the API, 30 times over 3 s, and the
# checked VIP's last check each time.
in_ns lb bash -c '
for ((i = 0; i < 30; i++)); do
	curl -s -w "\n@@ %{http_code} %{time_total}\n" --max-time 5 \
		--unix-socket "$1" http://xlbd/v1/health
	sleep 0.1
done' _ "$XLBD_SOCK" >"$XLBT_RUN/api.out"
summary=$(python3 - "$XLBT_RUN/api.out" <<'PY'
import json, sys
times, ages, bad, body = [], [], 0, ""
for line in open(sys.argv[1]):
    if not line.startswith("@@ "):
        body += line
        continue
    _, code, t = line.split()
    reply, body = body, ""
    if code != "200":
        bad += 1
        continue
    times.append(float(t))
    for v in json.loads(reply)["vips"]:
        if v["vip"] == "198.18.1.100:80/tcp":
            ages += [b.get("last_check_ms", 10**9) for b in v["backends"]]
times.sort()
print(len(times), bad, "%.4f" % times[len(times) // 2], "%.4f" % times[-1], max(ages))
PY
) || fail "reading the API's answers"
read -r n bad median slowest oldest <<<"$summary"
assert_eq 30 "$n" "API requests answered 200 while MACs were asked for"
# The issue's bound: the API answers within 50 ms (the median, so one
# scheduling hiccup on a shared machine cannot fail it); none may come
# near the 1 s a waited-for MAC costs.
awk -v m="$median" 'BEGIN {exit !(m < 0.05)}' || fail "API median reply $median s"
awk -v m="$slowest" 'BEGIN {exit !(m < 0.3)}' || fail "API stalled: slowest reply $slowest s"
# Checks every 200 ms (+-10 % jitter): the last one is never much older.
[ "$oldest" -le $((INTERVAL_MS * 11 / 10 + 250)) ] ||
	fail "the checked VIP's checks stalled: a last check $oldest ms old (interval $INTERVAL_MS)"
echo "API: 30/30 answered, median ${median} s, slowest ${slowest} s; checked VIP's last check at most $oldest ms old"
grep -q "vip 198.18.1.101:80/tcp: 100 backends (198.18.0.100, ...) wait for their MAC" "$XLBD_LOG" ||
	fail "no line about the backends waiting for their MAC"

# One of them comes to life: be2 takes 198.18.0.100 and answers its ARP.
ip -n "$(topo_ns "$XLBT_PREFIX" be2)" addr add 198.18.0.100/24 dev eth0 ||
	fail "adding 198.18.0.100 to be2"
answers_be2() { [ "$(http_get_from_client http://198.18.1.101/)" = be2 ]; }
wait_until 5 answers_be2 || fail "198.18.0.100 answered ARP but never served its VIP"
grep -q "vip 198.18.1.101:80/tcp: backends that waited for their MAC are in the table" "$XLBD_LOG" ||
	fail "no line about the backend entering the table"
tally=$(http_tally 10 http://198.18.1.101/) || fail "requests to the dark VIP failed: $tally"
assert_eq "10 be2" "$tally" "the dark VIP's one backend with a MAC"
echo ok

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Misbehaving backends (docs/TESTING.md), each behind the same VIP:
#   be1 accepts connections and never answers;
#   be2 resets every connection (RST);
#   be3 answers, but only after 2 s, past the 250 ms check timeout;
#   be4 answers at once, and logs the time of each check.
# Each of be1..be3 is ejected by the breaker, saying why, and none stalls
# the loop: during the checks the API answers in well under the check
# timeout every time, and be4 is checked at its interval (+-10% jitter)
# throughout.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ethtool python3 curl
require_build build/xlbd build/xlbctl

VIP=198.18.1.100:80/tcp
INTERVAL_MS=300
cat >"$XLBT_RUN.yaml" <<YAML
interfaces:
  - {name: eth0, mode: native}
vips:
  - vip: "$VIP"
    forward: l2dsr
    health_check: {type: http, port: 80, path: /, expect: "200-399",
                   interval_ms: $INTERVAL_MS, timeout_ms: 250, rise: 2, fall: 2}
    circuit_breaker: {base_ejection_ms: 60000, max_ejection_percent: 100}
    backends:
      - {address: 198.18.0.11}
      - {address: 198.18.0.12}
      - {address: 198.18.0.13}
      - {address: 198.18.0.14}
YAML

cat >"$XLBT_RUN.py" <<'PY'
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# python3 bad.py MODEFILE LOG: an HTTP server on :80 that behaves as
# MODEFILE says at each connection: good, hang, reset or slow.
import socket, struct, sys, threading, time

modefile, log = sys.argv[1], open(sys.argv[2], "a", buffering=1)
OK = b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n\r\nok\n"


def serve(c, peer):
    mode = open(modefile).read().strip()
    try:
        if mode == "reset":
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()
            return
        c.settimeout(30)
        c.recv(4096)
        if mode == "hang":
            time.sleep(30)
        elif mode == "slow":
            time.sleep(2)
        elif mode == "good":
            log.write("%.3f %s\n" % (time.time(), peer[0]))
        c.sendall(OK)
    except OSError:
        pass
    finally:
        c.close()


s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 80))
s.listen(128)
print("listening", flush=True)
while True:
    c, peer = s.accept()
    threading.Thread(target=serve, args=(c, peer), daemon=True).start()
PY

field() { # field BACKEND KEY
	xlbctl_lb -j health | python3 -c '
import json, sys
for b in json.load(sys.stdin)["vips"][0]["backends"]:
    if b["address"] == sys.argv[1]: print(b.get(sys.argv[2]))' "$1" "$2"
}
field_is() { [ "$(field "$1" "$2")" = "$3" ]; }

topology_up 4 l2dsr
mv "$XLBT_RUN.yaml" "$XLBT_RUN/xlb.yaml"
mv "$XLBT_RUN.py" "$XLBT_RUN/bad.py"
modes=(x hang reset slow good)
for i in 1 2 3 4; do
	topo_backend_http "$XLBT_PREFIX" $i stop
	echo good >"$XLBT_RUN/be$i.mode"
	bg_in_ns be$i "$XLBT_RUN/be$i.out" python3 "$XLBT_RUN/bad.py" "$XLBT_RUN/be$i.mode" "$XLBT_RUN/be$i.checks"
done
for i in 1 2 3 4; do
	wait_until 5 in_ns be$i bash -c "exec 3<>/dev/tcp/198.18.0.1$i/80" || fail "be$i server not listening"
done
start_xlbd "$XLBT_RUN/xlb.yaml"
for i in 1 2 3 4; do
	wait_until 5 field_is 198.18.0.1$i circuit closed || fail "be$i never came up"
done
# All in service; now three go bad.
t_bad=$(date +%s.%N)
for i in 1 2 3; do echo "${modes[$i]}" >"$XLBT_RUN/be$i.mode"; done

# While the checks run: 50 API requests back to back from one process.
in_ns lb bash -c '
for ((i = 0; i < 50; i++)); do
	curl -s -o /dev/null -w "%{http_code} %{time_total}\n" --max-time 5 \
		--unix-socket "$1" http://xlbd/v1/health
	sleep 0.05
done' _ "$XLBD_SOCK" >"$XLBT_RUN/api.times"
api=$(awk '$1 == 200 {n++; if ($2 > max) max = $2} END {printf "%d %.3f", n, max}' "$XLBT_RUN/api.times")
read -r api_ok api_max <<<"$api"
assert_eq 50 "$api_ok" "API requests answered 200 during the checks"
# A blocked loop stalls for at least a check's timeout (250 ms); 0.2 s
# leaves room for a busy machine's scheduling without hiding that.
awk -v m="$api_max" 'BEGIN {exit !(m < 0.2)}' || fail "API stalled: slowest reply $api_max s"
echo "API during the checks: 50/50 answered, slowest ${api_max} s"

for i in 1 2 3; do
	wait_until 10 field_is 198.18.0.1$i circuit open ||
		fail "be$i (${modes[$i]}) not ejected: $(field 198.18.0.1$i circuit) $(field 198.18.0.1$i detail)"
	echo "be$i (${modes[$i]}): ejected; last check: $(field 198.18.0.1$i detail)"
	# the table follows at xlbd's next tick (test_health.sh)
	wait_until 5 field_is 198.18.0.1$i table_weight 0 || fail "be$i still in the table"
done
assert_eq closed "$(field 198.18.0.14 circuit)" "good be4's circuit"
tally=$(http_tally 20 http://198.18.1.100/) || fail "requests failed with be1-3 ejected: $tally"
assert_eq "20 ok" "$tally" "requests with be1-3 ejected"

# be4's checks, from the first one on, kept their interval.
gaps=$(awk -v t="$t_bad" '$2 ~ /198.18.0.2$/ {if (p && $1 > t) printf "%d\n", ($1 - p) * 1000; p = $1}' \
	"$XLBT_RUN/be4.checks" | sort -n)
n=$(grep -c . <<<"$gaps")
[ "$n" -ge 10 ] || fail "be4 checked only $((n + 1)) times"
lo=$(head -1 <<<"$gaps") hi=$(tail -1 <<<"$gaps")
[ "$hi" -le $((INTERVAL_MS * 11 / 10 + 150)) ] || fail "be4's checks stalled: gaps $lo..$hi ms (interval $INTERVAL_MS)"
[ "$lo" -ge $((INTERVAL_MS - 100)) ] || fail "be4's checks bunched: gaps $lo..$hi ms (interval $INTERVAL_MS)"
echo "be4 (good): $n checks since the others went bad, gaps $lo..$hi ms at a $INTERVAL_MS ms interval"
echo ok

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Chaos (docs/TESTING.md): for CHAOS_SECONDS (20 in `make test`, 60 in
# `make chaos`), a random backend's server is stopped or started every 1 to
# 2 s (at most two of four down at once), while a client makes HTTP
# requests through the VIP back to back, each on a new connection. A
# request may fail only if it ran while some backend was in its detection
# window: from its stop until the breaker can have ejected it (fall x
# interval + jitter + timeout + publishing slack). Every failure is
# attributed to such a backend, or the test fails; the report says how many
# there were and whose.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ethtool python3 curl
require_build build/xlbd build/xlbctl

SECS=${CHAOS_SECONDS:-20}
if ! [[ $SECS =~ ^[0-9]+$ ]] || [ "$SECS" -lt 5 ] || [ "$SECS" -gt 600 ]; then
	fail "CHAOS_SECONDS: 5..600"
fi
INTERVAL_MS=200 TIMEOUT_MS=150 FALL=2
# Detection window: the stop may land just after a check, then FALL more
# checks (interval +10% jitter each, failing fast or at the timeout), then
# the table publish. The slack covers the publish and a loaded machine.
WINDOW_MS=$((FALL * (INTERVAL_MS * 11 / 10 + TIMEOUT_MS) + INTERVAL_MS + 1000))

cat >"$XLBT_RUN.yaml" <<YAML
interfaces:
  - {name: eth0, mode: native}
vips:
  - vip: "198.18.1.100:80/tcp"
    forward: l2dsr
    health_check: {type: http, port: 80, path: /, expect: "200-399",
                   interval_ms: $INTERVAL_MS, timeout_ms: $TIMEOUT_MS, rise: 2, fall: $FALL}
    circuit_breaker: {base_ejection_ms: 1000, max_ejection_ms: 4000,
                      max_ejection_percent: 50, slow_start_ms: 0}
    backends:
      - {address: 198.18.0.11}
      - {address: 198.18.0.12}
      - {address: 198.18.0.13}
      - {address: 198.18.0.14}
YAML

# The client: requests back to back until the deadline (and at most
# 200000), one line each: start end result (backend name or error).
cat >"$XLBT_RUN.py" <<'PY'
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
import http.client, sys, time

deadline, out = time.time() + float(sys.argv[1]), open(sys.argv[2], "w", buffering=1)
for _ in range(200000):
    t0 = time.time()
    if t0 >= deadline:
        break
    phase = "connect" # a failure says whether the handshake or the answer failed
    try:
        c = http.client.HTTPConnection("198.18.1.100", 80, timeout=2)
        c.connect()
        phase = "request"
        c.request("GET", "/", headers={"Connection": "close"})
        r = c.getresponse()
        body = r.read().decode().strip()
        res = body if r.status == 200 else "HTTP%d" % r.status
        c.close()
    except Exception as e:
        res = "ERR:%s:%s" % (phase, type(e).__name__)
    out.write("%.3f %.3f %s\n" % (t0, time.time(), res))
PY

# Backends out of service by the breaker's account (a restarted server
# stays ejected until its ejection time is over and it passes rise checks).
ejected() { xlbctl_lb -j health | python3 -c '
import json, sys
print(" ".join(str(int(b["address"].rsplit(".", 1)[1]) - 10) for v in json.load(sys.stdin)["vips"]
               for b in v["backends"] if not b["up"]))'; }

topology_up 4 l2dsr
mv "$XLBT_RUN.yaml" "$XLBT_RUN/xlb.yaml"
mv "$XLBT_RUN.py" "$XLBT_RUN/client.py"
start_xlbd "$XLBT_RUN/xlb.yaml"
wait_until 10 up_is 4 || fail "backends never all came up"

events=$XLBT_RUN/events # time be<i> stop|start
: >"$events"
bg_in_ns client "$XLBT_RUN/client.log" python3 "$XLBT_RUN/client.py" "$SECS" "$XLBT_RUN/requests"
client=$BG_PID
down=()
end=$((SECONDS + SECS))
while [ $SECONDS -lt $((end - 2)) ]; do
	sleep "1.$((RANDOM % 10))"
	i=$((RANDOM % 4 + 1))
	if [[ " ${down[*]} " == *" $i "* ]]; then
		topo_backend_http "$XLBT_PREFIX" "$i" start || fail "be$i did not restart"
		echo "$(date +%s.%N) be$i start" >>"$events"
		rest=()
		for j in "${down[@]}"; do [ "$j" = "$i" ] || rest+=("$j"); done
		down=("${rest[@]}")
	else
		# At most two of four out of service, counting servers stopped
		# and backends still ejected after a restart: a third would put
		# the VIP in panic (max_ejection_percent 50), which keeps failing
		# backends in service by design, so its failures are not the
		# detection-window failures this test bounds.
		out=" ${down[*]} $(ejected) "
		n_out=0
		for j in 1 2 3 4; do [[ $out == *" $j "* ]] && n_out=$((n_out + 1)); done
		[ $n_out -lt 2 ] && [[ $out != *" $i "* ]] || continue
		echo "$(date +%s.%N) be$i stop" >>"$events"
		topo_backend_http "$XLBT_PREFIX" "$i" stop
		down+=("$i")
	fi
done
wait "$client" || fail "client failed: $(cat "$XLBT_RUN/client.log")"
for i in "${down[@]}"; do topo_backend_http "$XLBT_PREFIX" "$i" start; done

# The data path's drop counters, for a failure's evidence.
drops() { xlbctl_lb -j stats | python3 -c '
import json, sys
print(json.dumps(json.load(sys.stdin)["global"]["drops"]))'; }
python3 - "$events" "$XLBT_RUN/requests" "$WINDOW_MS" <<'PY' || fail "unattributed failures; drops: $(drops)"
import collections, sys

events = [l.split() for l in open(sys.argv[1])]
reqs = [l.split(None, 2) for l in open(sys.argv[2])]
window = int(sys.argv[3]) / 1000.0
stops = [(float(t), b) for t, b, what in events if what == "stop"]
n = len(reqs)
failed = [(float(t0), float(t1), res.strip()) for t0, t1, res in reqs
          if not res.strip().startswith("be")]
per_backend, unattributed = collections.Counter(), []
for t0, t1, res in failed:
    # A backend whose stop came before this request ended, and whose
    # detection window was still open when the request started.
    cands = [b for ts, b in stops if ts <= t1 and t0 <= ts + window]
    if cands:
        per_backend[cands[-1]] += 1
    else:
        unattributed.append((t0, t1, res))
served = collections.Counter(r[2].strip() for r in reqs if r[2].strip().startswith("be"))
print("chaos: %d requests in %.0f s, %d stops, %d starts of backend servers"
      % (n, float(reqs[-1][1]) - float(reqs[0][0]) if reqs else 0, len(stops),
         sum(1 for e in events if e[2] == "start")))
print("served: " + ", ".join("%s %d" % kv for kv in sorted(served.items())))
print("failed: %d (%.2f%%), all within a detection window of %.1f s: %s"
      % (len(failed), 100.0 * len(failed) / max(n, 1), window,
         ", ".join("%s %d" % kv for kv in sorted(per_backend.items())) or "none"))
kinds = collections.Counter(r for _, _, r in failed)
if kinds:
    print("failure kinds: " + ", ".join("%s %d" % kv for kv in kinds.most_common()))
if unattributed:
    print("UNATTRIBUTED failures (no backend in its detection window):")
    for f in unattributed[:20]:
        near = ["%+.2f s %s %s" % (float(t) - f[0], b, what) for t, b, what in events
                if abs(float(t) - f[0]) <= 5]
        print("  %.3f..%.3f %s; events within 5 s: %s" % (f + ("; ".join(near) or "none",)))
    sys.exit(1)
if n < 10 * len(stops):
    sys.exit("too few requests (%d) to say anything" % n)
PY
echo ok

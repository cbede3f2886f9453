#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# xlbd restarted while a backend it was serving has gone dark (its link
# down, so it answers neither ARP nor checks): the restart must not fail on
# that backend's MAC. xlbd keeps the MAC the data path had, asks ARP/ND
# again without waiting, says so once the kernel has had its ~3 s to get
# an answer, and the health checks eject the backend (fall 20, so after
# that); every request then goes to the one that is up. (Before the fix
# xlbd refused to start: "did not answer ARP/ND", leaving the data path
# without health checks.)
set -uo pipefail
source "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ethtool python3 curl
require_build build/xlbd build/xlbctl

cat >"$XLBT_RUN.yaml" <<YAML
interfaces:
  - {name: eth0, mode: native}
vips:
  - vip: "198.18.1.100:80/tcp"
    forward: l2dsr
    health_check: {type: http, port: 80, interval_ms: 200, timeout_ms: 100, rise: 1, fall: 20}
    circuit_breaker: {slow_start_ms: 0}
    backends:
      - {address: 198.18.0.11}
      - {address: 198.18.0.12}
YAML


topology_up 2 l2dsr
mv "$XLBT_RUN.yaml" "$XLBT_RUN/xlb.yaml"
start_xlbd "$XLBT_RUN/xlb.yaml"
wait_until 5 up_is 2 || fail "backends never both came up"
# The restart must find both in the data path: wait for the publish too.
wait_until 5 in_table_is 2 || fail "backends never both in the table"
stop_xlbd TERM || fail "xlbd did not stop"

# be2 goes dark; the lb forgets its MAC, so the restart must ask again.
ip -n "$(topo_ns "$XLBT_PREFIX" be2)" link set eth0 down
ip -n "$(topo_ns "$XLBT_PREFIX" lb)" neigh flush all
lines=$(wc -l <"$XLBD_LOG")
start_xlbd "$XLBT_RUN/xlb.yaml" # fails the test if xlbd exits
mac_warned() {
	tail -n +$((lines + 1)) "$XLBD_LOG" |
		grep -q "198.18.0.12: .*not answered ARP/ND.*keeping its last known MAC"
}
wait_until 8 mac_warned || fail "no warning about be2's MAC"
wait_until 10 up_is 1 || fail "be2 was not ejected after the restart"
echo "restarted with be2 dark: $(tail -n +$((lines + 1)) "$XLBD_LOG" | grep -c 'keeping its last known MAC') MAC warning, be2 ejected"

seen=$(for i in $(seq 30); do http_get_from_client "http://198.18.1.100/" 2>/dev/null || echo FAILED; done |
	sort | uniq -c | awk '{printf "%s %s, ", $2, $1}')
assert_eq "be1 30, " "$seen" "answers after be2 was ejected"
echo "30 requests after the ejection: $seen"
echo ok

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The passive health signal: a backend that answers xlbd's TCP checks but
# silently drops clients' SYNs makes clients retransmit them; the data path
# counts SYNs for flows already in its table, and xlbd ejects the backend.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ethtool python3 curl nft
require_build build/xlbd build/xlbctl

cat >"$XLBT_RUN.yaml" <<YAML
interfaces:
  - {name: eth0, mode: native}
vips:
  - vip: "198.18.1.100:80/tcp"
    forward: l2dsr
    health_check: {type: tcp, port: 80, interval_ms: 500, timeout_ms: 400, rise: 2, fall: 1}
    circuit_breaker: {base_ejection_ms: 30000, max_ejection_percent: 50}
    passive: {syn_retransmit_ratio: 0.3, min_syns: 3}
    backends:
      - {address: 198.18.0.11}
      - {address: 198.18.0.12}
      - {address: 198.18.0.13}
YAML
circuit() { xlbctl_lb -j health | python3 -c '
import json, sys
for b in json.load(sys.stdin)["vips"][0]["backends"]:
    if b["address"] == sys.argv[1]: print(b["circuit"], b.get("detail", ""))' "$1"; }
is_open() { circuit "$1" | grep -q '^open'; }

topology_up 3 l2dsr
mv "$XLBT_RUN.yaml" "$XLBT_RUN/xlb.yaml"
start_xlbd "$XLBT_RUN/xlb.yaml"
wait_until 10 bash -c "[ \$(grep -c 'pending -> closed' '$XLBD_LOG') -ge 3 ]" || fail "backends never came up"

# be2 drops the client's SYNs (the lb's checks still pass).
in_ns be2 nft add table inet t || fail "nft"
in_ns be2 nft add chain inet t in '{ type filter hook input priority 0; }'
in_ns be2 nft add rule inet t in ip saddr 198.18.0.1 tcp flags syn drop

# Clients keep connecting; those sent to be2 retransmit their SYN after 1 s.
bg_in_ns client "$XLBT_RUN/clients" bash -c \
	'for r in $(seq 8); do for i in $(seq 12); do
		curl -s -o /dev/null --connect-timeout 2 http://198.18.1.100/ &
	 done; wait; done'
# a backend's counters: new flows and SYN retransmissions (for a failure's evidence)
syns() { xlbctl_lb -j stats | python3 -c '
import json, sys
for b in json.load(sys.stdin)["vips"][0]["backends"]:
    if b["address"] == sys.argv[1]: print("new_flows", b["new_flows"], "syn_retransmits", b["syn_retransmits"])' "$1"; }
wait_until 20 is_open 198.18.0.12 ||
	fail "be2 not ejected by the passive signal: $(circuit 198.18.0.12); $(syns 198.18.0.12)"
grep -q "backend 198.18.0.12: circuit closed -> open.*passive" "$XLBD_LOG" || fail "no log line"
for i in 1 3; do
	circuit 198.18.0.1$i | grep -q '^closed' || fail "be$i ejected too: $(circuit 198.18.0.1$i)"
done
tally=$(http_tally 30 http://198.18.1.100/) || fail "requests failed after the ejection: $tally"
echo "after the ejection: $(echo $tally)"
grep -q be2 <<<"$tally" && fail "be2 still takes requests"
echo ok

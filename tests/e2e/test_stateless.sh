#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# A stateless VIP (`stateless: true`): real TCP connections through it, each
# of their packets sent by the Maglev hash alone, so every connection works
# and every backend gets its share while the connection table stays empty.
# `xlbctl vip list` and `xlbctl explain` say so; the setting survives a
# restart (state file), and turned off live, the flows are recorded again.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ethtool python3 curl
require_build build/xlbd build/xlbctl

VIP=198.18.1.100
write_config() { # STATELESS
	cat >"$XLBT_RUN/xlb.yaml" <<-YAML
	interfaces:
	  - {name: eth0, mode: native}
	vips:
	  - vip: "$VIP:80/tcp"
	    forward: l2dsr
	    stateless: $1
	    health_check: {type: none}
	    backends:
	      - {address: 198.18.0.11}
	      - {address: 198.18.0.12}
	      - {address: 198.18.0.13}
	YAML
}
CT='xlb_conntrack_entries{family="ipv4"}'

# N connections all answered, each backend >= MIN of them; the tally echoed.
shares() { # N MIN WHAT
	local tally got
	tally=$(http_tally "$1" "http://$VIP/") || fail "$3: failed requests: $(echo $tally)"
	for be in be1 be2 be3; do
		got=$(count "$be" "$tally")
		[ "${got:-0}" -ge "$2" ] || fail "$3: $be served ${got:-0} of $1: $(echo $tally)"
	done
	echo "$3: $(echo $tally)"
}

topology_up 3 l2dsr
write_config true
start_xlbd "$XLBT_RUN/xlb.yaml"
wait_until 5 in_table_is 3 || fail "backends never in the table"
xlbctl_lb vip list | grep -q "^$VIP:80/tcp  *maglev, stateless  *l2dsr " ||
	fail "vip list: $(xlbctl_lb vip list)"
xlbctl_lb explain "$VIP:80/tcp" 198.18.0.1:40001 | grep -q "a stateless VIP: every packet by Maglev slot" ||
	fail "explain: $(xlbctl_lb explain "$VIP:80/tcp" 198.18.0.1:40001)"

shares 60 8 "stateless"
[ "$(metric "$CT")" = 0 ] || fail "stateless: $(metric "$CT") connection-table entries, want 0"

# Kept across a restart: the state file carries it.
stop_xlbd TERM || fail "xlbd did not stop"
start_xlbd "$XLBT_RUN/xlb.yaml"
xlbctl_lb vip list | grep -q "maglev, stateless" || fail "not stateless after the restart"
shares 30 4 "stateless, after a restart"
[ "$(metric "$CT")" = 0 ] || fail "after the restart: $(metric "$CT") entries, want 0"

# Off, live: each new connection is recorded again.
write_config false
xlbctl_lb config apply "$XLBT_RUN/xlb.yaml" >/dev/null || fail "config apply stateless: false"
xlbctl_lb vip list | grep -q "stateless" && fail "still stateless: $(xlbctl_lb vip list)"
shares 30 4 "recorded"
n=$(metric "$CT")
[ "${n:-0}" -ge 30 ] || fail "recorded: ${n:-none} connection-table entries, want >= 30"
grep -q "vip $VIP:80/tcp: records its flows again" "$XLBD_LOG" || fail "no log line for the change"
echo ok

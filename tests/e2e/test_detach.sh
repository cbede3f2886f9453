#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# xlb's XDP program removed from under a running xlbd (`ip link set dev
# eth0 xdp off`, as a careless script or another loader would): VIP traffic
# stops being balanced, and xlbd must say so within about a second (an
# error line, xlb_interface_attached 0, `xlbctl status`) rather than report
# a healthy data path. It does not attach again by itself; the same
# program attached again is noticed, and a restart attaches it, keeping
# the flows.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ethtool python3 curl bpftool
require_build build/xlbd build/xlbctl

cat >"$XLBT_RUN.yaml" <<YAML
interfaces:
  - {name: eth0, mode: native}
vips:
  - vip: "198.18.1.100:80/tcp"
    forward: l2dsr
    health_check: {type: none}
    backends:
      - {address: 198.18.0.11}
      - {address: 198.18.0.12}
YAML
ATTACHED='xlb_interface_attached{interface="eth0"}'
status_line() { xlbctl_lb status | awk '$1 == "eth0"'; }
attached_is() { [ "$(metric "$ATTACHED")" = "$1" ]; }

topology_up 2 l2dsr
mv "$XLBT_RUN.yaml" "$XLBT_RUN/xlb.yaml"
start_xlbd "$XLBT_RUN/xlb.yaml"
wait_until 5 in_table_is 2 || fail "backends never in the table"
attached_is 1 || fail "attached at start: '$(metric "$ATTACHED")'"
status_line | grep -q ' yes$' || fail "xlbctl status at start: $(status_line)"
prog=$(xlbctl_lb -j status | python3 -c 'import json, sys; print(json.load(sys.stdin)["interfaces"][0]["prog_id"])')
[ "$prog" -gt 0 ] || fail "status has no program id: '$prog'"
http_tally 10 http://198.18.1.100/ >/dev/null || fail "requests failed before the detach"

in_ns lb ip link set dev eth0 xdp off || fail "ip link set xdp off"
wait_until 3 attached_is 0 || fail "xlb_interface_attached still '$(metric "$ATTACHED")' 3 s after the detach"
grep -q "interface eth0: xlb's XDP program $prog is no longer attached" "$XLBD_LOG" ||
	fail "no error line about the detach"
status_line | grep -q 'NO, restart xlbd$' || fail "xlbctl status after the detach: $(status_line)"
# What the operator is warned about: the VIP no longer answers.
http_get_from_client http://198.18.1.100/ >/dev/null 2>&1 && fail "the VIP still answers without the program"
echo "detached: xlb_interface_attached 0, logged, the VIP unanswered"

# The same program attached again (by id) is noticed.
in_ns lb bpftool net attach xdpdrv id "$prog" dev eth0 || fail "bpftool net attach"
wait_until 3 attached_is 1 || fail "not seen attached again"
grep -q "interface eth0: xlb's XDP program $prog is attached again" "$XLBD_LOG" ||
	fail "no line about the program attached again"
http_tally 10 http://198.18.1.100/ >/dev/null || fail "requests failed after attaching it again"

# Detached again, then a restart attaches it (adopting the pinned maps).
in_ns lb ip link set dev eth0 xdp off || fail "ip link set xdp off"
wait_until 3 attached_is 0 || fail "second detach not seen"
stop_xlbd TERM || fail "xlbd did not stop"
start_xlbd "$XLBT_RUN/xlb.yaml"
attached_is 1 || fail "not attached after the restart: '$(metric "$ATTACHED")'"
status_line | grep -q ' yes$' || fail "xlbctl status after the restart: $(status_line)"
tally=$(http_tally 20 http://198.18.1.100/) || fail "requests failed after the restart: $tally"
echo "after the restart: $(echo $tally)"

# The interface's MAC changed under a running xlbd: the data path acts only
# on frames to its own MAC, so it must follow within its one-second tick,
# or every VIP frame would pass to the kernel unbalanced.
in_ns lb ip link set dev eth0 address 02:00:5e:10:00:99 || fail "set MAC"
in_ns client ip neigh flush dev eth0
wait_until 3 grep -q "eth0: the interface MAC is now 02:00:5e:10:00:99" "$XLBD_LOG" ||
	fail "xlbd did not follow the new MAC"
tally=$(http_tally 10 http://198.18.1.100/) || fail "requests failed after the MAC change: $tally"
echo "MAC changed under xlbd: followed, $(echo $tally)"
echo ok

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# A state directory that refuses writes (docs/TESTING.md): a 64 KiB tmpfs
# as the state directory, filled up, then remounted read-only. Each time a
# change (add a VIP, add a backend, config apply) is refused with an error
# naming the problem, and nothing of the running state moves: the state
# file is byte-identical, no temporary is left, the API's view, the VIP map
# and the backends that answer are as before, and the change never reached
# the data path, not even for a moment (xlbd writes the new state file
# before it touches the maps). Once the disk takes writes again, the same
# changes go through.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ethtool python3 curl bpftool mount umount
require_build build/xlbd build/xlbctl

V1=198.18.1.100:80/tcp
V2=198.18.1.101:80/tcp

# No slow start: a backend is answering at full weight once up, so the
# snapshots' "answering" line does not change while a weight ramps.
cat >"$XLBT_RUN.yaml" <<YAML
interfaces:
  - {name: eth0, mode: native}
vips:
  - vip: "$V1"
    forward: l2dsr
    health_check: {type: http, port: 80, interval_ms: 200, timeout_ms: 150, rise: 1, fall: 2}
    circuit_breaker: {slow_start_ms: 0}
    backends:
      - {address: 198.18.0.11}
YAML

# The tmpfs goes before the topology's own teardown (which would not cross
# into it), with xlbd stopped first so nothing holds it.
_state_mounted=0
_statedir_exit() {
	local rc=$?
	if [ $_state_mounted = 1 ]; then
		stop_xlbd >/dev/null 2>&1
		umount "$XLBD_STATE_DIR" 2>/dev/null || umount -l "$XLBD_STATE_DIR"
	fi
	(exit $rc)
	_xlbt_on_exit
}
trap _statedir_exit EXIT

map_vips() {
	in_ns lb bpftool -j map dump pinned /sys/fs/bpf/xlb/eth0/xlb_vips4 | python3 -c '
import json, socket, struct, sys
print(" ".join(sorted("%s:%d" % (socket.inet_ntoa(struct.pack("=I", e["formatted"]["key"]["addr"])),
                                 socket.ntohs(e["formatted"]["key"]["port"]))
                      for e in json.load(sys.stdin))))'
}
answering() { # the backends answering 16 requests to VIP address $1
	local i
	for ((i = 0; i < 16; i++)); do
		http_get_from_client "http://$1/" 2>/dev/null || echo FAILED
	done | sort -u | tr '\n' ' '
}
snapshot() {
	echo "state $(sha256sum <"$XLBD_STATE_DIR/state.yaml")"
	echo "files $(find "$XLBD_STATE_DIR" -mindepth 1 ! -name fill -printf '%f ' | sort)"
	echo "api $(xlbctl_lb config export | sha256sum)"
	echo "map $(map_vips)"
	echo "answering $(answering 198.18.1.100)"
}

# refused WHAT EXPECTED_ERROR CMD...: the change fails, saying why, and
# nothing moves.
refused() {
	local what=$1 want=$2 out t0 ms
	shift 2
	t0=$(date +%s%N)
	lines=$(wc -l <"$XLBD_LOG")
	out=$(xlbctl_lb "$@" 2>&1) && fail "$what: accepted: $out"
	ms=$((($(date +%s%N) - t0) / 1000000))
	grep -q "$want" <<<"$out" || fail "$what: error does not say '$want': $out"
	grep -q "state not saved, nothing changed" <<<"$out" ||
		fail "$what: error does not say the state was kept: $out"
	# Refused before the data path was touched: it never served the change
	# (a refused backend del would have re-chosen that backend's flows).
	tail -n +$((lines + 1)) "$XLBD_LOG" | grep -E "vip .* (added|removed|now)|rolling back" &&
		fail "$what: the refused change reached the data path"
	assert_eq "$before" "$(snapshot)" "$what: running state after the refusal"
	echo "  refused in $ms ms: $what: $out"
	refusals=$((refusals + 1))
}

topology_up 2 l2dsr
mv "$XLBT_RUN.yaml" "$XLBT_RUN/xlb.yaml"
mkdir -p "$XLBD_STATE_DIR"
mount -t tmpfs -o size=64k,mode=0700 xlbt-state "$XLBD_STATE_DIR" || fail "mount tmpfs"
_state_mounted=1
start_xlbd "$XLBT_RUN/xlb.yaml"
wait_until 5 up_is 1 || fail "be1 never came up"
refusals=0

echo "state directory full:"
dd if=/dev/zero of="$XLBD_STATE_DIR/fill" bs=4k 2>/dev/null
[ "$(df --output=avail "$XLBD_STATE_DIR" | tail -1)" -eq 0 ] || fail "tmpfs not full"
before=$(snapshot)
refused "vip add" "No space left on device" vip add "$V2" --forward l2dsr
refused "backend add" "No space left on device" backend add "$V1" 198.18.0.12
cat >"$XLBT_RUN/b.yaml" <<YAML
interfaces:
  - {name: eth0, mode: native}
vips:
  - vip: "$V1"
    forward: l2dsr
    health_check: {type: http, port: 80, interval_ms: 200, timeout_ms: 150, rise: 1, fall: 2}
    circuit_breaker: {slow_start_ms: 0}
    backends:
      - {address: 198.18.0.12}
YAML
refused "config apply" "No space left on device" config apply "$XLBT_RUN/b.yaml"
kill -HUP "$XLBD_PID" # the same through a reload of the (unchanged) config: no change, no write
rm -f "$XLBD_STATE_DIR/fill"
xlbctl_lb backend add "$V1" 198.18.0.12 || fail "backend add with room again"
wait_until 5 up_is 2 || fail "be2 never came up"
before=$(snapshot)

echo "state directory read-only:"
mount -o remount,ro "$XLBD_STATE_DIR" || fail "remount ro"
refused "vip add" "Read-only file system" vip add "$V2" --forward l2dsr
refused "backend del" "Read-only file system" backend del "$V1" 198.18.0.12
refused "config apply" "Read-only file system" config apply "$XLBT_RUN/b.yaml"
xlbctl_lb status >/dev/null || fail "API down"
mount -o remount,rw "$XLBD_STATE_DIR" || fail "remount rw"
xlbctl_lb vip add "$V2" --forward l2dsr || fail "vip add with a writable disk again"
[ "$(map_vips)" = "198.18.1.100:80 198.18.1.101:80" ] || fail "VIP map after the add: $(map_vips)"
grep -q "198.18.1.101:80/tcp" "$XLBD_STATE_DIR/state.yaml" || fail "new VIP not saved"
echo "$refusals changes refused on a full or read-only state directory, running state unchanged each time"
echo ok

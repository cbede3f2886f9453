#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# A normal start logs nothing alarming. libxdp's dispatcher cannot load on
# some kernels (docs/KERNEL.md) and libxdp then attaches xlb directly; the
# libbpf lines of that refusal ("BPF program load failed", "ulimit -l",
# "failed to load object ... xdp-dispatcher.o") must not reach the log at
# the default level. xlbd says it once, in its own words, and keeps
# libbpf's detail for --log-level debug.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

require_root
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
YAML
ALARMS="libbpf|libxdp|failed to load|load failed|ulimit|xdp-dispatcher\\.o|Operation not permitted"
OURS="libxdp's dispatcher is not usable here .*; xlb is attached directly, so it must be eth0's only XDP program"

topology_up 1 l2dsr
mv "$XLBT_RUN.yaml" "$XLBT_RUN/xlb.yaml"
start_xlbd "$XLBT_RUN/xlb.yaml"
stop_xlbd TERM || fail "xlbd did not stop"
# Everything but xlb's own line about the dispatcher.
if grep -v -E "$OURS" "$XLBD_LOG" | grep -E "$ALARMS"; then
	fail "a normal start logs the library's lines above"
fi
n=$(grep -c -E "$OURS" "$XLBD_LOG")
# The kernel may accept the dispatcher; then there is nothing to say.
if [ "$n" = 0 ]; then
	in_ns lb ip -d link show dev eth0 | grep -q 'prog/xdp id' || fail "xlb not attached"
	echo "libxdp's dispatcher works on this kernel: no line expected"
else
	assert_eq 1 "$n" "xlb's lines about the dispatcher"
fi
grep -E "$OURS" "$XLBD_LOG"

# --log-level debug keeps libbpf's detail (a fresh attach: libxdp again).
in_ns lb "$XLBT_ROOT/build/xlbd" --cleanup eth0 >>"$XLBD_LOG" 2>&1 || fail "xlbd --cleanup"
lines=$(wc -l <"$XLBD_LOG")
start_xlbd "$XLBT_RUN/xlb.yaml" --log-level debug
stop_xlbd TERM || fail "xlbd did not stop"
if [ "$n" != 0 ]; then
	tail -n +$((lines + 1)) "$XLBD_LOG" | grep -q -E "debug +libbpf: .*(load failed|failed to load)" ||
		fail "--log-level debug does not show libbpf's detail"
fi
echo ok

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The per-VIP rate limit end to end: a UDP VIP limited to 2,000 packets/s
# with a burst of 200 takes a flood from many source ports for 5 s (trafgen
# in the client namespace at full speed: well over 100,000 packets/s). The
# backends must receive 2,000/s over the time the flood lasted plus the
# burst, within 5% (counted by nft at each backend's input). A limit
# changed on the live VIP (xlbctl config apply) then holds as well.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ethtool python3 nft trafgen
require_build build/xlbd build/xlbctl

PPS=2000
BURST=200
SECONDS_SENT=5

config() { # PPS BURST
	cat <<YAML
interfaces:
  - {name: eth0, mode: native}
vips:
  - vip: "198.18.1.100:53/udp"
    forward: l2dsr
    rate_limit: {pps: $1, burst: $2}
    backends:
      - {address: 198.18.0.11}
      - {address: 198.18.0.12}
YAML
}

topology_up 2 l2dsr
config $PPS $BURST >"$XLBT_RUN/xlb.yaml"
start_xlbd "$XLBT_RUN/xlb.yaml"

# Count, at each backend, the datagrams for the VIP that reach it.
for be in be1 be2; do
	in_ns $be nft add table inet rl || fail "nft on $be"
	in_ns $be nft add chain inet rl in '{ type filter hook input priority 0; }'
	in_ns $be nft add rule inet rl in ip daddr 198.18.1.100 udp dport 53 counter
done
delivered() {
	local be n sum=0
	for be in be1 be2; do
		n=$(in_ns $be nft list chain inet rl in | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
		sum=$((sum + ${n:-0}))
	done
	echo $sum
}
# The backends' counts have stopped moving: the flood's last packets landed.
settled() {
	local a
	a=$(delivered)
	sleep 0.2
	[ "$a" = "$(delivered)" ]
}

# UDP to the VIP from random source ports (each a new flow), to the lb's MAC.
lb_mac=$(in_ns lb cat /sys/class/net/eth0/address) || fail "lb MAC"
client_mac=$(in_ns client cat /sys/class/net/eth0/address) || fail "client MAC"
cat >"$XLBT_RUN/flood.cfg" <<CFG
{
  eth(da=$lb_mac, sa=$client_mac, type=0x0800),
  ipv4(saddr=198.18.0.1, daddr=198.18.1.100, ttl=64, df),
  udp(sport=drnd(), dport=53, csum=0),
  fill(0x41, 32),
}
CFG

# flood SECONDS: trafgen as fast as it goes (far above any limit here, and
# never idle long enough for a bucket to fill and waste tokens, which a
# paced sender on a busy machine can be) for SECONDS; prints how long it
# sent, by its own count ("5 sec, 1346 usec on CPU0"), and how many packets.
flood() {
	local log=$XLBT_RUN/trafgen.log sent secs

	in_ns client timeout -s INT "$1" trafgen --dev eth0 --conf "$XLBT_RUN/flood.cfg" \
		--cpus 1 --no-sock-mem >"$log" 2>&1
	sent=$(grep -ao '[0-9][0-9]* packets outgoing' "$log" | tail -n 1 | cut -d' ' -f1)
	secs=$(grep -ao '[0-9][0-9]* sec, [0-9][0-9]* usec on CPU' "$log" | tail -n 1 |
		awk '{ printf "%.3f", $1 + $3 / 1e6 }')
	[ -n "$sent" ] && [ -n "$secs" ] || fail "trafgen: $(tail -n 3 "$log")"
	echo "$secs $sent"
}

# check WHAT PPS BURST SENT_S DELIVERED: within 5% of PPS * SENT_S + BURST.
check() {
	python3 - "$@" <<'PY'
import sys
what, pps, burst, secs, got = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
want = pps * secs + burst
print(f"{what}: {got} delivered in {secs:.2f} s, expected {want:.0f} (+-5%)")
sys.exit(0 if abs(got - want) <= 0.05 * want else 1)
PY
}

before=$(delivered)
read -r secs sent < <(flood $SECONDS_SENT) || exit 1
wait_until 5 settled || fail "the backends' counts still move 5 s after the flood"
got=$(($(delivered) - before))
echo "flood: $sent packets in $secs s"
[ "$sent" -gt $((10 * (PPS * SECONDS_SENT + BURST))) ] || fail "the flood was only $sent packets"
check "2000/s burst 200" $PPS $BURST "$secs" "$got" || fail "delivered $got packets"

# Changed on the live VIP: 500/s, burst 50. Idle long enough to fill it.
config 500 50 >"$XLBT_RUN/xlb2.yaml"
xlbctl_lb config apply "$XLBT_RUN/xlb2.yaml" >/dev/null || fail "config apply"
sleep 1 # not a wait for an event: the test needs the bucket idle, and full, for 1 s
before=$(delivered)
read -r secs sent < <(flood 3) || exit 1
wait_until 5 settled || fail "the backends' counts still move 5 s after the flood"
got=$(($(delivered) - before))
check "500/s burst 50 (changed live)" 500 50 "$secs" "$got" || fail "delivered $got packets after the change"
echo ok

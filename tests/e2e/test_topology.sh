#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The test topology itself (scripts/topology.sh), without xlbd: hosts,
# addresses, routes, the veth-trap settings (docs/KERNEL.md) and the backends' servers in
# l2dsr mode, and a further balancer namespace (add-lb); in ipip mode,
# xlb-decap attached on every backend and really decapsulating; after each
# `down`, nothing left.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ethtool python3 curl

our_namespaces() {
	ip netns list | awk '{print $1}' | grep -E "^$XLBT_PREFIX-" | sort | tr '\n' ' '
}

expect_gone() {
	assert_eq "" "$(our_namespaces)" "namespaces left after down"
	[ ! -e "$XLBT_RUN" ] || fail "$XLBT_RUN left after down"
	! grep -q " $XLBT_RUN/" /proc/mounts || fail "mounts left under $XLBT_RUN"
}

# ---- l2dsr ---------------------------------------------------------------
topology_up 3 l2dsr
p=$XLBT_PREFIX
assert_eq "$p-be1 $p-be2 $p-be3 $p-client $p-lb $p-sw " "$(our_namespaces)" "namespaces"

for i in 1 2 3; do
	assert_eq "be$i" "$(http_get_from_client "http://198.18.0.1$i/")" "be$i over IPv4"
	assert_eq "be$i" "$(http_get_from_client "http://[2001:2::1$i]/")" "be$i over IPv6"
	in_ns "be$i" ip -br addr show lo | grep -q '198.18.1.100/32' || fail "be$i: no VIP on lo"
	in_ns "be$i" ip -br addr show lo | grep -q '2001:2::100/128' || fail "be$i: no VIPv6 on lo"
	assert_eq 1 "$(in_ns "be$i" sysctl -n net.ipv4.conf.eth0.arp_ignore)" "be$i arp_ignore"
	assert_eq 2 "$(in_ns "be$i" sysctl -n net.ipv4.conf.eth0.arp_announce)" "be$i arp_announce"
done
# The lb reaches the backends too (health checks will).
assert_eq be2 "$(in_ns lb curl -sS --max-time 5 http://198.18.0.12/)" "be2 from the lb"
# /bytes/N, and a backend's server can be stopped and started.
assert_eq 100000 "$(http_get_from_client http://198.18.0.13/bytes/100000 | wc -c)" "/bytes"
topo_backend_http "$p" 3 stop
http_get_from_client http://198.18.0.13/ >/dev/null 2>&1 && fail "be3 answers after stop"
topo_backend_http "$p" 3 start || fail "be3 server did not restart"
assert_eq be3 "$(http_get_from_client http://198.18.0.13/)" "be3 after restart"
touch "$XLBT_RUN/be3/down"
http_get_from_client http://198.18.0.13/ >/dev/null 2>&1 && fail "be3 answers 2xx while down"
rm "$XLBT_RUN/be3/down"

# The VIPs go to the lb; trap 2 and trap 1 are set up.
in_ns client ip route get 198.18.1.100 | grep -q 'via 198.18.0.2' || fail "client: VIP not via lb"
in_ns client ip -6 route get 2001:2::100 | grep -q 'via 2001:2::2' || fail "client: VIPv6 not via lb"
grep -q '^tx-checksumming: off' <<<"$(in_ns client ethtool -k eth0)" || fail "client: tx checksum offload on"
in_ns sw ip -d link show lb | grep -q 'prog/xdp.*name xdp_pass' || fail "sw: no xdp_pass on lb port"

# add-lb: another balancer's namespace on the bridge (make bench-e2e),
# reachable, with xdp_pass on its port when asked; bad names refused; and
# `down` below removes it with the rest.
topo_add_lb "$p" lbx 198.18.0.5 xdp-pass || fail "add-lb"
assert_eq be1 "$(in_ns lbx curl -sS --max-time 5 --interface 198.18.0.5 http://198.18.0.11/)" "be1 from lbx"
in_ns sw ip -d link show lbx | grep -q 'prog/xdp.*name xdp_pass' || fail "sw: no xdp_pass on lbx port"
mountpoint -q "$XLBT_RUN/bpf/lbx" || fail "lbx: no bpffs of its own"
topo_add_lb "$p" lbx 198.18.0.6 2>/dev/null && fail "add-lb of an existing role succeeded"
topo_add_lb "$p" bex 198.18.0.6 2>/dev/null && fail "add-lb of a role not named lb* succeeded"
topo_add_lb "$p" lby 198.18.0.11 2>/dev/null && fail "add-lb on a backend's address succeeded"
assert_eq "$p-be1 $p-be2 $p-be3 $p-client $p-lb $p-lbx $p-sw " "$(our_namespaces)" "namespaces with lbx"

# A second `up` of the same prefix is refused and leaves the first alone.
topo_up "$p" 1 l2dsr 2>/dev/null && fail "second up of $p succeeded"
assert_eq be1 "$(http_get_from_client http://198.18.0.11/)" "be1 after a refused up"

topology_down || fail "down failed"
expect_gone
topology_down || fail "second down failed"

# ---- ipip ----------------------------------------------------------------
topology_up 3 ipip
for i in 1 2 3; do
	in_ns "be$i" ip -d link show eth0 | grep -q 'prog/xdp.*name xlb_decap' ||
		fail "be$i: decap program not attached"
	assert_eq "198.18.1.100 198.18.1.101 2001:2::100 2001:2::101" \
		"$(in_ns "be$i" build/xlb-decap list eth0 | sort | tr '\n' ' ' | sed 's/ $//')" \
		"be$i decap VIPs"
	# Traffic to a backend's own address passes the decap program.
	assert_eq "be$i" "$(http_get_from_client "http://198.18.0.1$i/")" "be$i through decap"
done
# Decapsulation really happens: 4in4, 6in6, 4in6.
assert_eq be1 "$(ipip_udp_probe client 198.18.0.11 198.18.0.1 198.18.1.100)" "4in4 to be1"
assert_eq be2 "$(ipip_udp_probe client 2001:2::12 2001:2::1 2001:2::100)" "6in6 to be2"
assert_eq be3 "$(ipip_udp_probe client 2001:2::13 198.18.0.1 198.18.1.101)" "4in6 to be3"
# A VIP taken off a backend is no longer decapsulated.
in_ns be1 build/xlb-decap del eth0 198.18.1.101 || fail "xlb-decap del"
ipip_udp_probe client 198.18.0.11 198.18.0.1 198.18.1.101 0.5 >/dev/null 2>&1 &&
	fail "be1 still decapsulates for a deleted VIP"

decap_pids=$(cat "$XLBT_RUN"/be*/decap.pid | awk '{print $1}')
topology_down || fail "down failed"
expect_gone
for pid in $decap_pids; do
	_topo_starttime "$pid" >/dev/null && fail "xlb-decap $pid still runs after down"
done
echo "ok"

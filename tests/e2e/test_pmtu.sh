#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Path MTU through IPIP end to end. The lb's link is given the clients' MTU
# (1,500), so a full-size client segment no longer fits once encapsulated
# (4in4: 20 bytes more). A 1 MiB upload from the client must still arrive
# whole: xlb answers the first full-size segments with ICMP "fragmentation
# needed" (MTU 1,480) from the VIP, the client's kernel lowers its path MTU
# for the VIP and sends smaller segments. Without the reply the upload
# stalls: the oversized frames are dropped on the link.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ethtool python3
require_build build/xlbd build/xlbctl build/xlb-decap

VIP4=198.18.1.100
PORT=8080
BYTES=1048576

topology_up 1 ipip
# The lb's link, both ends, at the clients' MTU (the topology gives ipip 1600).
sw=$(topo_ns "$XLBT_PREFIX" sw)
ip -n "$sw" link set lb mtu 1500 || fail "MTU of the switch's lb port"
in_ns lb ip link set eth0 mtu 1500 || fail "MTU of the lb"
cat >"$XLBT_RUN/xlb.yaml" <<YAML
interfaces:
  - {name: eth0, mode: native}
vips:
  - vip: "$VIP4:$PORT/tcp"
    forward: ipip
    backends:
      - {address: 198.18.0.11}
YAML
start_xlbd "$XLBT_RUN/xlb.yaml"

# The backend reads a connection to its end and answers with the byte count.
bg_in_ns be1 "$XLBT_RUN/server.log" python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("'$VIP4'", '$PORT')); s.listen(4)
while True:
    c, _ = s.accept(); n = 0
    while True:
        b = c.recv(65536)
        if not b: break
        n += len(b)
    c.sendall(str(n).encode()); c.close()'
wait_until 5 in_ns be1 python3 -c "import socket; socket.create_connection(('$VIP4', $PORT)).close()" ||
	fail "the backend's server did not start"

got=$(in_ns client timeout 30 python3 -c '
import socket
c = socket.create_connection(("'$VIP4'", '$PORT'), timeout=20)
c.sendall(b"x" * '$BYTES'); c.shutdown(socket.SHUT_WR)
print(c.recv(64).decode())') || fail "the upload did not complete (path MTU)"
assert_eq "$BYTES" "$got" "bytes the backend received"

sent=$(xlbctl_lb -j stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["global"]["tx_too_big"])')
[ "${sent:-0}" -gt 0 ] || fail "no ICMP too big counted"
in_ns client ip route get $VIP4 | grep -q "mtu 1480" ||
	fail "the client did not learn the path MTU: $(in_ns client ip route get $VIP4)"
echo "1 MiB upload through 4in4 at MTU 1500: $sent ICMP too big sent, client path MTU 1480"
echo ok

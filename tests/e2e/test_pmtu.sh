#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Path MTU through IPIP end to end. The lb's link is given the clients' MTU
# (1,500), so a full-size client segment no longer fits once encapsulated
# (4in4: 20 bytes more, 6in6: 40). A 1 MiB HTTP upload from the client, to
# an IPv4 and to an IPv6 VIP, must still arrive whole: xlb answers the first
# full-size segments with ICMP "fragmentation needed" (MTU 1,480) or ICMPv6
# "packet too big" (1,460) from the VIP, the client's kernel lowers its path
# MTU for the VIP and sends smaller segments. Without the reply the upload
# stalls: the oversized frames are dropped on the link.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ethtool python3
require_build build/xlbd build/xlbctl build/xlb-decap

VIP4=198.18.1.100
VIP6=2001:2::100
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
  - vip: "[$VIP6]:$PORT/tcp"
    forward: ipip
    backends:
      - {address: "2001:2::11"}
YAML
start_xlbd "$XLBT_RUN/xlb.yaml"

# The backend answers a POST with the number of body bytes it read.
bg_in_ns be1 "$XLBT_RUN/server.log" python3 -c '
import http.server, socket
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n, left = 0, int(self.headers["Content-Length"])
        while left:
            b = self.rfile.read(min(left, 65536))
            if not b: break
            n += len(b); left -= len(b)
        body = str(n).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
class S(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()
S(("::", '$PORT'), H).serve_forever()'
for vip in $VIP4 $VIP6; do
	wait_until 5 in_ns be1 python3 -c "import socket; socket.create_connection(('$vip', $PORT)).close()" ||
		fail "the backend's server did not start on $vip"
done

# upload VIP: a 1 MiB HTTP POST from the client; prints what the backend read.
upload() {
	in_ns client timeout 30 python3 -c '
import http.client
c = http.client.HTTPConnection("'"$1"'", '$PORT', timeout=20)
c.request("POST", "/", body=b"x" * '$BYTES')
print(c.getresponse().read().decode())'
}

too_big() {
	xlbctl_lb -j stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["global"]["tx_too_big"])'
}

before=$(too_big)
got=$(upload $VIP4) || fail "the IPv4 upload did not complete (path MTU)"
assert_eq "$BYTES" "$got" "bytes the backend received over IPv4"
sent4=$(($(too_big) - before))
[ "$sent4" -gt 0 ] || fail "no ICMP too big counted for IPv4"
in_ns client ip route get $VIP4 | grep -q "mtu 1480" ||
	fail "the client did not learn the IPv4 path MTU: $(in_ns client ip route get $VIP4)"

before=$(too_big)
got=$(upload $VIP6) || fail "the IPv6 upload did not complete (path MTU)"
assert_eq "$BYTES" "$got" "bytes the backend received over IPv6"
sent6=$(($(too_big) - before))
[ "$sent6" -gt 0 ] || fail "no ICMPv6 packet too big counted"
in_ns client ip -6 route get $VIP6 | grep -q "mtu 1460" ||
	fail "the client did not learn the IPv6 path MTU: $(in_ns client ip -6 route get $VIP6)"
echo "1 MiB HTTP upload at MTU 1500: 4in4 $sent4 ICMP too big, client path MTU 1480;" \
	"6in6 $sent6 ICMPv6 too big, path MTU 1460"
echo ok

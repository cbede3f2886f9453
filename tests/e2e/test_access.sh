#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Who may use xlbd, and what it keeps (docs/OPERATIONS.md, "Privileges"):
#  - the API socket is root:root 0600, or root:GROUP 0660 with
#    --socket-group; an unknown group stops xlbd at startup;
#  - every API request is checked against the peer's credentials: a user
#    who is not root and not in the group gets 403 (and a log line) even
#    when the socket's mode would let them connect; a member (primary or
#    supplementary group) is served;
#  - request header and body limits on the API and on /metrics (413), and
#    /metrics serves nothing but metrics, on loopback;
#  - after setup xlbd holds CAP_BPF and CAP_NET_ADMIN only, with
#    no_new_privs, and adding a VIP, a backend, draining, deleting and a
#    SIGHUP reload still work, traffic included.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ethtool python3 curl setpriv stat
require_build build/xlbd build/xlbctl

GROUP=users # any group nobody is not in
GID=$(getent group "$GROUP" | cut -d: -f3)
[ -n "$GID" ] || skip "needs a group '$GROUP'"
NOBODY=$(id -u nobody 2>/dev/null) || skip "needs the user nobody"
NOGROUP=$(id -g nobody)
[ "$NOGROUP" != "$GID" ] || skip "nobody's group is $GROUP"

cat >"$XLBT_RUN.yaml" <<YAML
interfaces:
  - {name: eth0, mode: native}
vips:
  - vip: "198.18.1.100:80/tcp"
    forward: l2dsr
    health_check: {type: http, port: 80, interval_ms: 300, timeout_ms: 250, rise: 1, fall: 2}
    backends:
      - {address: 198.18.0.11}
YAML

# as UID GID [SUPPLEMENTARY_GIDS] CMD...: CMD in the lb namespace as that user.
as() {
	local uid=$1 gid=$2 groups=$3
	shift 3
	local g=(--clear-groups)
	[ -n "$groups" ] && g=(--groups "$groups")
	in_ns lb setpriv --reuid "$uid" --regid "$gid" "${g[@]}" --inh-caps=-all "$@"
}
api_status() { # api_status UID GID GROUPS: HTTP status of GET /v1/status
	as "$1" "$2" "$3" curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
		--unix-socket "$XLBD_SOCK" http://xlbd/v1/status
}
mode_owner() { stat -c '%a %U:%G' "$XLBD_SOCK"; }

topology_up 2 l2dsr
mv "$XLBT_RUN.yaml" "$XLBT_RUN/xlb.yaml"

# An unknown group: a clear error, before anything is touched.
out=$(in_ns lb build/xlbd --config "$XLBT_RUN/xlb.yaml" --state-dir "$XLBD_STATE_DIR" \
	--socket "$XLBD_SOCK" --foreground --socket-group xlb-no-such-group 2>&1)
rc=$?
assert_eq 2 "$rc" "xlbd exit code with an unknown group"
grep -q "xlb-no-such-group: no such group" <<<"$out" || fail "unclear error: $out"
[ -e "$XLBD_SOCK" ] && fail "socket created despite the bad group"
[ -e "$XLBD_STATE_DIR/state.yaml" ] && fail "state written despite the bad group"
echo "unknown group: refused ($out)"

# Root only: root:root 0600, nobody cannot connect at all.
start_xlbd "$XLBT_RUN/xlb.yaml"
assert_eq "600 root:root" "$(mode_owner)" "socket mode and owner"
xlbctl_lb status >/dev/null || fail "root refused"
assert_eq 000 "$(api_status "$NOBODY" "$NOGROUP" "")" "nobody on a 0600 socket"
# The credential check, with the file mode opened behind xlbd's back.
chmod 0666 "$XLBD_SOCK"
assert_eq 403 "$(api_status "$NOBODY" "$NOGROUP" "")" "nobody on a 0666 socket"
out=$(as "$NOBODY" "$NOGROUP" "" build/xlbctl --socket "$XLBD_SOCK" vip del 198.18.1.100:80/tcp 2>&1) &&
	fail "nobody deleted a VIP: $out"
grep -q "permission denied" <<<"$out" || fail "xlbctl does not say why: $out"
grep -q "api: refused DELETE .* from uid $NOBODY" "$XLBD_LOG" || fail "refusal not logged"
grep -q 198.18.1.100 <<<"$(xlbctl_lb vip list)" || fail "the VIP is gone"
echo "root only: 0600 root:root, nobody refused (403 with 0666: $out)"

# Request limits on the API: headers over 8 KiB (libevent answers 400),
# a body over 1 MiB (413).
big=$(head -c 10000 /dev/zero | tr '\0' a)
code=$(in_ns lb curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "X-Big: $big" \
	--unix-socket "$XLBD_SOCK" http://xlbd/v1/status)
assert_eq 400 "$code" "API reply to 10 kB of headers"
head -c $((1024 * 1024 + 100)) /dev/zero | tr '\0' ' ' >"$XLBT_RUN/big.json"
code=$(in_ns lb curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST \
	--data-binary @"$XLBT_RUN/big.json" --unix-socket "$XLBD_SOCK" http://xlbd/v1/config)
assert_eq 413 "$code" "API reply to a 1 MiB + 100 body"
xlbctl_lb status >/dev/null || fail "API down after oversized requests"
# /metrics: loopback only, metrics only, no body, same header limit.
in_ns lb ss -Hltn "sport = :${XLBD_METRICS##*:}" | awk '{print $4}' >"$XLBT_RUN/listen"
assert_eq "$XLBD_METRICS" "$(cat "$XLBT_RUN/listen")" "/metrics listener"
M=http://$XLBD_METRICS
code=$(in_ns lb curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "X-Big: $big" "$M/metrics")
assert_eq 400 "$code" "/metrics reply to 10 kB of headers"
code=$(in_ns lb curl -s -o /dev/null -w '%{http_code}' --max-time 5 --data-binary x "$M/metrics")
assert_eq 413 "$code" "/metrics reply to a body"
for p in /v1/status /v1/vips /v1/config /; do
	code=$(in_ns lb curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$M$p")
	assert_eq 404 "$code" "/metrics listener on $p"
done
# Read it all before grep: grep -q exits at the first match, and with
# pipefail curl's EPIPE on the rest would fail the check.
grep -q '^xlb_' <<<"$(in_ns lb curl -sf --max-time 5 "$M/metrics")" || fail "no metrics"
echo "limits: 400 for big headers, 413 for big bodies, on both; /metrics on $XLBD_METRICS only"

# Privileges after setup.
caps() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$XLBD_PID/status"; }
want=$(printf '%016x' $(((1 << 39) | (1 << 12)))) # CAP_BPF | CAP_NET_ADMIN
assert_eq "$want" "$(caps CapEff)" CapEff
assert_eq "$want" "$(caps CapPrm)" CapPrm
assert_eq "$want" "$(caps CapBnd)" CapBnd
assert_eq 0000000000000000 "$(caps CapInh)" CapInh
assert_eq 0000000000000000 "$(caps CapAmb)" CapAmb
assert_eq 1 "$(caps NoNewPrivs)" NoNewPrivs
echo "capabilities: CapEff=$(caps CapEff) CapBnd=$(caps CapBnd) NoNewPrivs=1"

# Changes still work without the dropped capabilities.
stop_xlbd || fail "stop"
start_xlbd "$XLBT_RUN/xlb.yaml" --socket-group "$GROUP"
assert_eq "660 root:$GROUP" "$(mode_owner)" "socket mode and owner with a group"
assert_eq "$want" "$(caps CapEff)" "CapEff with a group"
assert_eq 200 "$(api_status "$NOBODY" "$GID" "")" "member by primary group"
assert_eq 200 "$(api_status "$NOBODY" "$NOGROUP" "$GID")" "member by supplementary group"
chmod 0666 "$XLBD_SOCK"
assert_eq 403 "$(api_status "$NOBODY" "$NOGROUP" "")" "non-member"
chmod 0660 "$XLBD_SOCK"
ctl() { as "$NOBODY" "$NOGROUP" "$GID" build/xlbctl --socket "$XLBD_SOCK" "$@"; }
V2=198.18.1.101:80/tcp
ctl vip add $V2 --forward l2dsr || fail "vip add as a member"
ctl backend add $V2 198.18.0.12 || fail "backend add"
ctl backend add 198.18.1.100:80/tcp 198.18.0.12 || fail "backend add to the first VIP"
up() { xlbctl_lb -j health | python3 -c '
import json, sys
print(sum(b["up"] for v in json.load(sys.stdin)["vips"] if v["vip"] == sys.argv[1] for b in v["backends"]))' "$1"; }
vip_up_is() { [ "$(up "$1")" = "$2" ]; }
wait_until 5 vip_up_is $V2 1 || fail "new backend never came up"
wait_until 5 vip_up_is 198.18.1.100:80/tcp 2 || fail "be2 never came up in the first VIP"
assert_eq be2 "$(http_get_from_client http://198.18.1.101/)" "traffic to the new VIP"
# explain reads a VIP's table back: through the fd xlbd kept, not by id
# (that would need CAP_SYS_ADMIN).
grep -q 198.18.0.12 <<<"$(ctl -j explain $V2 198.18.0.1:40001)" || fail "explain after the drop"
ctl backend set 198.18.1.100:80/tcp 198.18.0.11 --drain || fail "drain"
tally=$(http_tally 10 http://198.18.1.100/) || fail "requests failed after drain: $tally"
assert_eq "10 be2" "$tally" "after draining be1"
ctl backend set 198.18.1.100:80/tcp 198.18.0.11 --undrain || fail "undrain"
ctl backend del $V2 198.18.0.12 || fail "backend del"
ctl vip del $V2 || fail "vip del"
kill -HUP "$XLBD_PID"
wait_until 5 grep -q "reload applied" "$XLBD_LOG" || fail "SIGHUP reload failed"
assert_eq "$want" "$(caps CapEff)" "CapEff after the changes"
sed -n '/privileges dropped/,$p' "$XLBD_LOG" | grep -i "not permitted\|EPERM\|error" &&
	fail "something was refused for want of a capability"
echo "changes as a group member after the drop: vip add, backend add, explain, drain, undrain, del, reload: ok"
echo ok

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# contrib/systemd/xlbd.service, as `make install` writes it: systemd accepts
# it (`systemd-analyze verify`), and xlbd run the way it says (--foreground,
# its CapabilityBoundingSet and LimitNOFILE) starts, drops to CAP_BPF and
# CAP_NET_ADMIN, serves, takes changes, hands the API socket to its group,
# reloads on SIGHUP (ExecReload), leaves the data path forwarding on SIGTERM
# and, restarted under the same bounding set, adopts the pinned maps. Without
# CAP_SYS_ADMIN it refuses to start with a message (libxdp would crash).
#
# contrib/systemd/xlb-decap@.service likewise, on be1 (instance eth0): run
# as it says (ExecStart with XLB_DECAP_ARGS from its environment file, its
# bounding set) xlb-decap decapsulates an IPIP probe, keeps doing so after
# SIGTERM (stop), and restarted adopts its pins and replaces the program in
# place; `xlb-decap detach eth0` then removes both.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ethtool python3 curl systemd-analyze setpriv prlimit getent
require_build build/xlbd build/xlbctl build/xlb-decap

PREFIX_DIR=$XLBT_RUN/prefix
UNIT=$PREFIX_DIR/lib/systemd/system/xlbd.service
unit_value() { sed -n "s/^$1=//p" "$UNIT"; }

cat >"$XLBT_RUN.yaml" <<YAML
interfaces:
  - {name: eth0, mode: native}
vips:
  - vip: "198.18.1.100:80/tcp"
    forward: l2dsr
    health_check: {type: http, port: 80, interval_ms: 500, timeout_ms: 200}
    backends:
      - {address: 198.18.0.11}
      - {address: 198.18.0.12}
YAML
topology_up 3 l2dsr
mv "$XLBT_RUN.yaml" "$XLBT_RUN/xlb.yaml"

make -s install PREFIX="$PREFIX_DIR" >"$XLBT_RUN/install.log" 2>&1 ||
	fail "make install: $(tail -5 "$XLBT_RUN/install.log")"
[ -f "$UNIT" ] || fail "make install wrote no $UNIT"
grep -q "^ExecStart=$PREFIX_DIR/sbin/xlbd " "$UNIT" || fail "ExecStart not under PREFIX: $(unit_value ExecStart)"
# verify also runs man on the unit's Documentation= pages: the installed ones
out=$(MANPATH=$PREFIX_DIR/share/man systemd-analyze verify "$UNIT" 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify says: $out"
# Type=simple: xlbd must stay in the foreground.
[ "$(unit_value Type)" = simple ] && unit_value ExecStart | grep -q -- ' --foreground' ||
	fail "Type=simple without --foreground: $(unit_value Type) / $(unit_value ExecStart)"

caps=$(unit_value CapabilityBoundingSet)
[ -n "$caps" ] || fail "no CapabilityBoundingSet"
bset=-all
for c in $caps; do
	c=${c#CAP_}
	bset+=",+${c,,}"
done
nofile=$(unit_value LimitNOFILE)
# This host may cap the hard limit below the unit's (systemd would refuse
# to start the unit then too): as much of it as can be had.
[ "$nofile" -le "$(ulimit -Hn)" ] || nofile=$(ulimit -Hn)
group=$(getent group nogroup | cut -d: -f1) || skip "no group 'nogroup' for --socket-group"

# Without CAP_SYS_ADMIN: a clear refusal, nothing attached.
out=$(in_ns lb setpriv --bounding-set "${bset/,+sys_admin/}" --inh-caps=-all \
	"$XLBT_ROOT/build/xlbd" --config "$XLBT_RUN/xlb.yaml" --foreground \
	--state-dir "$XLBT_RUN/nostate" --socket "$XLBT_RUN/no.sock" 2>&1)
rc=$?
[ $rc = 1 ] || fail "without CAP_SYS_ADMIN: rc $rc, want 1: $out"
grep -q "attaching XDP needs CAP_SYS_ADMIN and CAP_NET_ADMIN at start" <<<"$out" ||
	fail "without CAP_SYS_ADMIN, no message saying so: $out"
in_ns lb ip -d link show dev eth0 | grep -q 'prog/xdp' && fail "a program got attached anyway"
echo "without CAP_SYS_ADMIN: refused, $(grep -o 'attaching XDP needs [^(]*' <<<"$out")"

XLBD_WRAP=(prlimit --nofile="1024:$nofile" setpriv --bounding-set "$bset" --inh-caps=-all)
start_xlbd "$XLBT_RUN/xlb.yaml" --socket-group "$group"
wait_until 5 in_table_is 2 || fail "backends never in the table"
grep -q "privileges dropped: keeping CAP_BPF and CAP_NET_ADMIN only" "$XLBD_LOG" ||
	fail "xlbd kept its privileges under the unit's bounding set"
[ "$(stat -c %G "$XLBD_SOCK")" = "$group" ] || fail "API socket group $(stat -c %G "$XLBD_SOCK"), want $group"
# xlbd raises its soft limit to the hard one
grep -q "^Max open files *$nofile *$nofile " "/proc/$XLBD_PID/limits" ||
	fail "open files: $(grep '^Max open files' "/proc/$XLBD_PID/limits"), want $nofile"
tally=$(http_tally 20 http://198.18.1.100/) || fail "requests failed: $(echo $tally)"
xlbctl_lb backend add 198.18.1.100:80/tcp 198.18.0.13 || fail "backend add after the privilege drop"
wait_until 5 in_table_is 3 || fail "the added backend never in the table"
echo "under the unit's bounding set: $(echo $tally), a backend added after the drop"

# ExecReload: SIGHUP re-reads the config (be3 goes again, be2 drained).
sed -i 's/{address: 198.18.0.12}/{address: 198.18.0.12, drain: true}/' "$XLBT_RUN/xlb.yaml"
kill -HUP "$XLBD_PID"
wait_until 5 in_table_is 1 || fail "SIGHUP: config not reloaded ($(in_table_count) in the table)"
tally=$(http_tally 10 http://198.18.1.100/) || fail "after the reload: $(echo $tally)"
[ "$(echo $tally)" = "10 be1" ] || fail "after the reload, want be1 only: $(echo $tally)"

# SIGTERM: xlbd goes, the data path stays.
stop_xlbd TERM || fail "xlbd did not stop on SIGTERM"
tally=$(http_tally 10 http://198.18.1.100/) || fail "xlbd stopped, VIP unanswered: $(echo $tally)"
start_xlbd "$XLBT_RUN/xlb.yaml" --socket-group "$group"
grep -q "replaced xlb program [0-9]* on eth0 atomically" "$XLBD_LOG" ||
	fail "restart under the bounding set did not replace the program in place"
wait_until 5 in_table_is 1 || fail "after the restart: $(in_table_count) in the table"
tally=$(http_tally 10 http://198.18.1.100/) || fail "after the restart: $(echo $tally)"
echo "reload, stop (VIP still answered) and restart: ok"

# ---- xlb-decap@.service ------------------------------------------------------
DUNIT=$PREFIX_DIR/lib/systemd/system/xlb-decap@.service
dunit_value() { sed -n "s/^$1=//p" "$DUNIT"; }
[ -f "$DUNIT" ] || fail "make install wrote no $DUNIT"
out=$(MANPATH=$PREFIX_DIR/share/man systemd-analyze verify "$DUNIT" 2>&1) || fail "systemd-analyze verify xlb-decap@: $out"
[ -z "$out" ] || fail "systemd-analyze verify xlb-decap@ says: $out"
[ "$(dunit_value Type)" = simple ] || fail "xlb-decap@: Type $(dunit_value Type), want simple (attach stays)"
[ "$(dunit_value EnvironmentFile)" = "/etc/xlb/decap-%i.env" ] ||
	fail "xlb-decap@: EnvironmentFile $(dunit_value EnvironmentFile)"
# ExecStart for instance eth0, with what /etc/xlb/decap-eth0.env would say
XLB_DECAP_ARGS="--gue-port 19523 $TOPO_VIP4"
dexec=$(dunit_value ExecStart)
[[ $dexec == "$PREFIX_DIR/sbin/xlb-decap attach %i \$XLB_DECAP_ARGS" ]] || fail "xlb-decap@: ExecStart $dexec"
dexec=${dexec//%i/eth0}
read -r -a dargv <<<"${dexec//\$XLB_DECAP_ARGS/$XLB_DECAP_ARGS}"
dbset=-all
for c in $(dunit_value CapabilityBoundingSet); do
	c=${c#CAP_}
	dbset+=",+${c,,}"
done
decap_probe() { ipip_udp_probe client "$(topo_be4 1)" "$TOPO_CLIENT4" "$TOPO_VIP4"; }
decap_start() {
	bg_in_ns be1 "$XLBT_RUN/decap-unit.$1.log" setpriv --bounding-set "$dbset" --inh-caps=-all "${dargv[@]}"
	DECAP_PID=$BG_PID
	wait_until 10 in_ns be1 build/xlb-decap list eth0 ||
		fail "xlb-decap under the unit's bounding set did not start: $(cat "$XLBT_RUN/decap-unit.$1.log")"
}
decap_probe >/dev/null 2>&1 && fail "be1 answers an IPIP probe without xlb-decap"
decap_start 1
assert_eq be1 "$(decap_probe)" "IPIP probe through xlb-decap@eth0"
kill -TERM "$DECAP_PID"
wait "$DECAP_PID" || fail "xlb-decap exited $? on SIGTERM"
assert_eq be1 "$(decap_probe)" "IPIP probe with xlb-decap@eth0 stopped"
decap_start 2
grep -q "replaced xlb_decap program [0-9]* on eth0 atomically" "$XLBT_RUN/decap-unit.2.log" ||
	fail "restarted xlb-decap did not replace the program in place: $(cat "$XLBT_RUN/decap-unit.2.log")"
assert_eq be1 "$(decap_probe)" "IPIP probe after the restart"
in_ns be1 build/xlb-decap detach eth0 || fail "xlb-decap detach"
wait "$DECAP_PID" || fail "xlb-decap exited $? on detach"
decap_probe >/dev/null 2>&1 && fail "be1 still decapsulates after detach"
in_ns be1 test -e /sys/fs/bpf/xlb-decap/eth0 && fail "pins left after detach"
echo "xlb-decap@eth0 as the unit runs it: decapsulates, survives stop and restart, detach removes it: ok"
echo ok

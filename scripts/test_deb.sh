#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# The Debian package end to end (`make test-deb`, run by .ci/run; ~2 min):
# build it (scripts/deb.sh, lintian included), install it with dpkg -i,
# check what it put where (programs and their version, man pages, units,
# conffile, completion; the service neither enabled nor started), purge it
# with dpkg -P and check nothing is left. The purge runs on every exit path.
# It refuses to run where xlb is installed already, from a package or by
# hand under /usr, rather than replace it: it leaves the machine as it was.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/deb

die() { echo "test-deb: FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (dpkg -i)"
status() { dpkg-query -W -f='${db:Status-Abbrev}' xlb 2>/dev/null | tr -d ' ' || true; }
[ -z "$(status)" ] || [ "$(status)" = un ] || die "package xlb is on this machine ($(status)); not touching it"
for f in /usr/sbin/xlbd /usr/sbin/xlbctl /usr/sbin/xlb-decap /etc/xlb /lib/systemd/system/xlbd.service \
	/lib/systemd/system/xlb-decap@.service /usr/share/man/man8/xlbd.8.gz \
	/usr/share/bash-completion/completions/xlbctl; do
	[ ! -e "$f" ] || die "$f exists already; not touching it"
done

installed=0
cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	if [ $installed = 1 ] && [ -n "$(status)" ] && [ "$(status)" != un ]; then
		dpkg -P xlb >/dev/null 2>&1 || { echo "test-deb: dpkg -P xlb failed" >&2; rc=1; }
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash scripts/deb.sh "$out"
deb=$(ls "$out"/xlb_*.deb)
version=$(dpkg-deb -f "$deb" Version)

installed=1
dpkg -i "$deb" >"$out/dpkg-i.log" 2>&1 || die "dpkg -i: $(tail -n 5 "$out/dpkg-i.log")"
[ "$(status)" = ii ] || die "after dpkg -i the package is '$(status)'"

/usr/sbin/xlbd --help | grep -q -- '--config FILE' || die "xlbd --help"
for p in xlbd xlbctl xlb-decap; do
	got=$("/usr/sbin/$p" --version)
	[ "$got" = "$p $version" ] || die "$p --version says '$got', the package is $version"
done
for page in xlbd xlbctl xlb-decap; do
	[ "$(man -w "$page")" = "/usr/share/man/man8/$page.8.gz" ] || die "man -w $page: $(man -w "$page" 2>&1)"
done
[ "$(man -w 5 xlb.yaml)" = /usr/share/man/man5/xlb.yaml.5.gz ] || die "man -w 5 xlb.yaml"
dpkg-query -W -f='${Conffiles}\n' xlb | grep -q '^ /etc/xlb/xlb.yaml ' || die "/etc/xlb/xlb.yaml is not a conffile"
grep -q '^ExecStart=/usr/sbin/xlbd --config /etc/xlb/xlb.yaml ' /lib/systemd/system/xlbd.service ||
	die "unit's ExecStart: $(grep ExecStart /lib/systemd/system/xlbd.service)"
grep -q '^ExecStart=/usr/sbin/xlb-decap attach %i ' /lib/systemd/system/xlb-decap@.service ||
	die "xlb-decap unit's ExecStart: $(grep ExecStart /lib/systemd/system/xlb-decap@.service)"
[ ! -e /etc/systemd/system/multi-user.target.wants/xlbd.service ] || die "the package enabled xlbd"
if command -v systemd-analyze >/dev/null; then
	for u in xlbd.service xlb-decap@.service; do
		out=$(systemd-analyze verify "/lib/systemd/system/$u" 2>&1) && [ -z "$out" ] ||
			die "systemd-analyze verify of the installed $u: $out"
	done
fi
for p in $(pgrep -x xlbd || true); do
	[ "$(readlink "/proc/$p/exe" 2>/dev/null)" != /usr/sbin/xlbd ] || die "the package started /usr/sbin/xlbd"
done
bash -c 'source /usr/share/bash-completion/completions/xlbctl && complete -p xlbctl' >/dev/null ||
	die "the bash completion does not load"
[ -f /usr/share/doc/xlb/contrib/systemd/xlbd.service ] || die "no contrib/ in /usr/share/doc/xlb"
echo "test-deb: installed $version: programs, version, man pages, unit, conffile, completion, docs ok"

dpkg -P xlb >"$out/dpkg-P.log" 2>&1 || die "dpkg -P: $(tail -n 5 "$out/dpkg-P.log")"
installed=0
[ -z "$(status)" ] || [ "$(status)" = un ] || die "after dpkg -P the package is '$(status)'"
for f in /usr/sbin/xlbd /etc/xlb /lib/systemd/system/xlbd.service /lib/systemd/system/xlb-decap@.service \
	/usr/share/doc/xlb \
	/usr/share/man/man8/xlbd.8.gz /usr/share/bash-completion/completions/xlbctl; do
	[ ! -e "$f" ] || die "dpkg -P left $f"
done
echo "test-deb ok: built, lintian clean of errors, installed, checked and purged"

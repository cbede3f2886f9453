#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# A test that cannot run must not pass unseen. The three runners
# (tests/run.sh, tests/fuzz/sanitize.sh, tests/fuzz/run.sh) run fake tests
# here: one that exits 77 with its reason, one cmocka binary that skipped
# a test inside and exited 0, one that passes. Locally the run passes and
# its summary lists both skips with their reasons; with CI=true it fails
# and says why. Needs no root and no network.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d /tmp/xlb-skips.XXXXXX) || fail "mktemp"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/e2e" "$tmp/fuzz"

fake() { # fake FILE BODY: an executable shell script
	printf '#!/bin/sh\n%s\n' "$2" >"$1"
	chmod +x "$1"
}
fake "$tmp/bin/test_passes" 'echo "[  PASSED  ] 1 test(s)."'
fake "$tmp/bin/test_cannot" 'echo "needs a frobnicator"; exit 77'
fake "$tmp/bin/test_inside" 'echo "[  SKIPPED ] test_ipv6"; echo "[  PASSED  ] 1 test(s)."'
fake "$tmp/e2e/test_e2e_cannot.sh" 'echo "needs veth"; exit 77'
fake "$tmp/fuzz/fuzz_cannot" 'echo "needs root"; exit 77'

# check WHAT OUT RC WANT_RC PATTERN...: rc and lines of a runner's output
check() {
	local what=$1 out=$2 rc=$3 want=$4 p
	shift 4
	[ "$rc" = "$want" ] || { echo "$out"; fail "$what: exit $rc, expected $want"; }
	for p in "$@"; do
		grep -q -E -- "$p" <<<"$out" || { echo "$out"; fail "$what: no line /$p/"; }
	done
}

runner_run() { XLB_E2E_DIR="$tmp/e2e" bash tests/run.sh "$tmp/bin" 2>&1; }
sanitize() { bash tests/fuzz/sanitize.sh "$tmp/bin" 2>&1; }
fuzz() { (cd "$tmp" && mkdir -p tests/fuzz && bash "$OLDPWD/tests/fuzz/run.sh" --test 1 "$tmp/fuzz/fuzz_cannot" 2>&1); }

for r in runner_run sanitize fuzz; do
	for ci in false true; do
		out=$(CI=$ci $r)
		rc=$?
		want=0
		[ $ci = true ] && want=1
		case $r in
		fuzz) check "fuzz/run.sh CI=$ci" "$out" $rc $want \
			"fuzz/cannot: needs root" ;;
		*) check "$r CI=$ci" "$out" $rc $want \
			"test_cannot: needs a frobnicator" \
			"test_inside: skipped inside: test_ipv6" ;;
		esac
		[ $r = runner_run ] && check "run.sh CI=$ci" "$out" $rc $want "test_e2e_cannot: needs veth"
		[ $ci = true ] && check "$r CI=true" "$out" $rc $want "CI=true: [0-9]+ skipped test\(s\) fail the run"
	done
	echo "$r: skips listed locally, fail under CI=true"
done
echo ok

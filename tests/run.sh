#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# Runs every test binary in DIR (build/tests/test_*) and every end-to-end
# test script (tests/e2e/test_*.sh). Exit code 77 from a test means
# "skipped" (e.g. not root; its last line says why), and so do cmocka tests
# skipped inside a binary; anything else non-zero is a failure. Skips are
# listed at the end, and fail the run under CI=true (tests/skips.sh).
set -u
dir=${1:-build/tests}
e2e=${XLB_E2E_DIR:-tests/e2e} # another directory: tests/e2e/test_skips.sh
# shellcheck source=tests/skips.sh
source "$(dirname "$0")/skips.sh"
pass=0 fail=0 skip=0 failed=()

run() {
	local name=$1
	shift
	local t0=$SECONDS
	"$@" >"$dir/$name.log" 2>&1
	local rc=$?
	local dt=$((SECONDS - t0))
	local why
	if [ $rc = 0 ] && why=$(cmocka_skipped "$dir/$name.log"); then
		rc=77
		why="skipped inside: $why (see $dir/$name.log)"
	elif [ $rc = 77 ]; then
		why=$(tail -n1 "$dir/$name.log")
	fi
	case $rc in
	0) pass=$((pass + 1)); printf '  PASS  %-32s %3ss\n' "$name" "$dt" ;;
	77) skip=$((skip + 1)); skips_add "$name" "$why"
	    printf '  SKIP  %-32s (%s)\n' "$name" "$why" ;;
	*) fail=$((fail + 1)); failed+=("$name")
	   printf '  FAIL  %-32s %3ss (rc=%d)\n' "$name" "$dt" "$rc"
	   sed 's/^/        /' "$dir/$name.log" | tail -n 40 ;;
	esac
}

for t in "$dir"/test_*; do
	[ -x "$t" ] || continue
	case $t in *.log|*.o|*.h) continue ;; esac
	run "$(basename "$t")" "$t"
done
for t in "$e2e"/test_*.sh; do
	[ -f "$t" ] || continue
	run "$(basename "$t" .sh)" bash "$t"
done

echo "tests: $pass passed, $fail failed, $skip skipped"
skips_report || fail=$((fail + 1))
[ ${#failed[@]} -eq 0 ] || echo "failed: ${failed[*]}"
[ $fail -eq 0 ] || exit 1

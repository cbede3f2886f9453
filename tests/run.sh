#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# Runs every test binary in DIR (build/tests/test_*) and every end-to-end
# test script (tests/e2e/test_*.sh). Exit code 77 from a test means
# "skipped" (e.g. not root); anything else non-zero is a failure.
set -u
dir=${1:-build/tests}
pass=0 fail=0 skip=0 failed=()

run() {
	local name=$1
	shift
	local t0=$SECONDS
	"$@" >"$dir/$name.log" 2>&1
	local rc=$?
	local dt=$((SECONDS - t0))
	case $rc in
	0) pass=$((pass + 1)); printf '  PASS  %-32s %3ss\n' "$name" "$dt" ;;
	77) skip=$((skip + 1)); printf '  SKIP  %-32s (%s)\n' "$name" "$(tail -n1 "$dir/$name.log")" ;;
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
for t in tests/e2e/test_*.sh; do
	[ -f "$t" ] || continue
	run "$(basename "$t" .sh)" bash "$t"
done

echo "tests: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ] || { echo "failed: ${failed[*]}"; exit 1; }

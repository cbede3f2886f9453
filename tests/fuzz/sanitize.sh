#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# Runs the unit tests built with ASan+UBSan (DIR, default build/asan/tests:
# `make test-asan`). Any sanitizer report, leaks included, fails the test.
# Exit code 77 from a test, or a cmocka test skipped inside it, means
# "skipped", listed at the end and failing the run under CI=true, as in
# tests/run.sh. Only the cmocka unit tests: the end-to-end scripts run
# once, from tests/run.sh.
set -u
dir=${1:-build/asan/tests}
# shellcheck source=tests/skips.sh
source "$(dirname "$0")/../skips.sh"
pass=0 fail=0 skip=0 failed=()

# halt on the first report; a report is the test's failure, never a warning.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

for t in "$dir"/test_*; do
	[ -x "$t" ] || continue
	case $t in *.log) continue ;; esac
	name=$(basename "$t")
	t0=$SECONDS
	"$t" >"$dir/$name.log" 2>&1
	rc=$?
	dt=$((SECONDS - t0))
	if [ $rc = 0 ] && why=$(cmocka_skipped "$dir/$name.log"); then
		rc=77
		why="skipped inside: $why (see $dir/$name.log)"
	elif [ $rc = 77 ]; then
		why=$(tail -n1 "$dir/$name.log")
	fi
	case $rc in
	0) pass=$((pass + 1)); printf '  PASS  %-32s %3ss\n' "asan/$name" "$dt" ;;
	77) skip=$((skip + 1)); skips_add "asan/$name" "$why"
	    printf '  SKIP  %-32s (%s)\n' "asan/$name" "$why" ;;
	*) fail=$((fail + 1)); failed+=("$name")
	   printf '  FAIL  %-32s %3ss (rc=%d)\n' "asan/$name" "$dt" "$rc"
	   # the sanitizer's summary and the first frames of its report
	   grep -m1 -A25 -E '^(==[0-9]+==ERROR|.*runtime error)' "$dir/$name.log" |
		   sed 's/^/        /'
	   grep -q -E '^(==[0-9]+==ERROR|.*runtime error)' "$dir/$name.log" ||
		   sed 's/^/        /' "$dir/$name.log" | tail -n 40 ;;
	esac
done

echo "asan tests: $pass passed, $fail failed, $skip skipped (logs in $dir)"
skips_report || fail=$((fail + 1))
[ ${#failed[@]} -eq 0 ] || echo "failed under sanitizers: ${failed[*]}"
[ $fail -eq 0 ] || exit 1

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Runs libFuzzer targets (build/fuzz/fuzz_NAME) for SECONDS each, one after
# the other, seeded by the committed corpus tests/fuzz/corpus/NAME/ (never
# written to) and the dictionary tests/fuzz/NAME.dict if there is one.
#
#   run.sh SECONDS FUZZER...         `make fuzz`: new inputs accumulate in
#                                    build/fuzz/corpus/NAME/ across runs
#   run.sh --test SECONDS FUZZER...  `make test`: a fresh scratch corpus and a
#                                    fixed seed, so only the committed corpus
#                                    counts
#
# A crash, a sanitizer report or a broken invariant fails the run; the input
# is saved as build/fuzz/artifacts/NAME-crash-<sha1> and the report is in
# build/fuzz/NAME.log. Exit code 77 from a target means "skipped" (e.g. the
# packet target without root): listed at the end, and failing the run
# under CI=true (tests/skips.sh). Each `make fuzz` run is appended to
# build/fuzz/history.tsv (date, target, seconds, executions, result), and
# the totals so far are printed at the end.
set -u
# shellcheck source=tests/skips.sh
source "$(dirname "$0")/../skips.sh"

test_mode=0
if [ "${1:-}" = --test ]; then
	test_mode=1
	shift
fi
[ $# -ge 2 ] || { echo "usage: $0 [--test] SECONDS FUZZER..." >&2; exit 2; }
seconds=$1
shift

out=build/fuzz
history=$out/history.tsv
mkdir -p "$out/artifacts"
pass=0 fail=0 skip=0 failed=()

for bin in "$@"; do
	name=$(basename "$bin")
	name=${name#fuzz_}
	seeds=tests/fuzz/corpus/$name
	log=$out/$name.log
	opts=(-max_total_time="$seconds" -timeout=10 -error_exitcode=1 -timeout_exitcode=1
	      -artifact_prefix="$out/artifacts/$name-" -print_final_stats=1)
	[ -f "tests/fuzz/$name.dict" ] && opts+=(-dict="tests/fuzz/$name.dict")
	case $name in
	packet) opts+=(-max_len=1600) ;;
	*) opts+=(-max_len=4096) ;;
	esac
	if [ $test_mode = 1 ]; then
		work=$out/test-corpus/$name
		rm -rf "$work"
		opts+=(-seed=1)
	else
		work=$out/corpus/$name
	fi
	mkdir -p "$work" "$seeds"
	before=$(find "$work" -type f | wc -l)

	t0=$SECONDS
	"$bin" "${opts[@]}" "$work" "$seeds" >"$log" 2>&1
	rc=$?
	dt=$((SECONDS - t0))

	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
	execs=${execs:-0}
	cov=$(grep -a -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n1)
	after=$(find "$work" -type f | wc -l)
	case $rc in
	0) pass=$((pass + 1)); result=pass
	   printf '  PASS  %-32s %3ss  %s execs, %s, corpus %s+%s new\n' "fuzz/$name" "$dt" \
		  "$execs" "${cov:-cov: ?}" "$(find "$seeds" -type f | wc -l)" "$((after - before))" ;;
	77) skip=$((skip + 1)); result=skip
	    why=$(grep -a -v '^INFO' "$log" | tail -n1)
	    skips_add "fuzz/$name" "$why"
	    printf '  SKIP  %-32s (%s)\n' "fuzz/$name" "$why" ;;
	*) fail=$((fail + 1)); failed+=("$name"); result=fail
	   printf '  FAIL  %-32s %3ss  %s execs (rc=%d), log %s\n' "fuzz/$name" "$dt" "$execs" \
		  "$rc" "$log"
	   # what broke: an invariant, a sanitizer, or libFuzzer itself (leak, timeout)
	   grep -a -m1 -A12 -E 'FUZZ INVARIANT BROKEN|^==[0-9]+==ERROR|runtime error:' "$log" |
		   sed 's/^/        /'
	   grep -a -E '^SUMMARY|Test unit written to|^Base64:' "$log" | sed 's/^/        /'
	   artifact=$(sed -n 's/.*Test unit written to //p' "$log" | tail -n1)
	   [ -n "$artifact" ] && echo "        reproduce: $bin $artifact" ;;
	esac
	[ $test_mode = 1 ] ||
		printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$name" "$dt" "$execs" \
			"$result" >>"$history"
done

echo "fuzz: $pass passed, $fail failed, $skip skipped (${seconds}s each; logs in $out)"
if [ $test_mode = 0 ]; then
	echo "fuzz totals so far ($history):"
	awk -F'\t' '$5 != "skip" { s[$2] += $3; e[$2] += $4 }
		END { for (n in s) printf "  %-10s %8.2f h  %14d execs\n", n, s[n] / 3600, e[n] }' \
		"$history" | sort
	echo "keep new inputs: build/fuzz/fuzz_NAME -merge=1 tests/fuzz/corpus/NAME build/fuzz/corpus/NAME"
fi
skips_report || fail=$((fail + 1))
[ ${#failed[@]} -eq 0 ] || echo "fuzz findings: ${failed[*]}"
[ $fail -eq 0 ] || exit 1

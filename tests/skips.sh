# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# shellcheck shell=bash
#
# Skipped tests, for the runners (tests/run.sh, tests/fuzz/sanitize.sh,
# tests/fuzz/run.sh). A test that cannot run must not pass unseen: each
# skip is listed with its reason in the summary, and under CI (CI=true in
# the environment) any skip fails the run.
#
#   skips_add NAME REASON    record a skip
#   cmocka_skipped LOG       the cmocka tests LOG says were skipped, on one
#                            line ("" and non-zero when none)
#   skips_report             print the list; non-zero under CI if any

_SKIPS=()

skips_add() {
	_SKIPS+=("$1: ${2:-no reason given}")
}

cmocka_skipped() {
	local names
	names=$(sed -n 's/^\[  SKIPPED \] \(test_[A-Za-z0-9_]*\)$/\1/p' "$1" | sort -u | paste -sd ' ')
	[ -n "$names" ] || return 1
	echo "$names"
}

skips_report() {
	local s
	[ ${#_SKIPS[@]} -eq 0 ] && return 0
	echo "skipped (a test that cannot run tests nothing):"
	for s in "${_SKIPS[@]}"; do
		echo "  $s"
	done
	if [ "${CI:-}" = true ]; then
		echo "CI=true: ${#_SKIPS[@]} skipped test(s) fail the run"
		return 1
	fi
	return 0
}

/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Shared by the libFuzzer targets (tests/fuzz/fuzz_*.c). A broken invariant
 * is a finding: it prints why and aborts, so libFuzzer saves the input as a
 * crash artifact, as it does for a sanitizer report.
 */
#ifndef XLB_TESTS_FUZZ_H
#define XLB_TESTS_FUZZ_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_SKIP 77 /* exit code: the target cannot run here (tests/run.sh) */

static inline void __attribute__((noreturn, format(printf, 1, 2))) fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "\nFUZZ INVARIANT BROKEN: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

#define fuzz_assert(cond, ...)                                                                     \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fuzz_fail(__VA_ARGS__);                                                    \
	} while (0)

/*
 * An invariant that a reported, not yet fixed defect breaks: checked only
 * with FUZZ_STRICT=1 in the environment (to reproduce it), so that until the
 * fix the fuzzer goes on looking for new findings and `make test` stays
 * green. Make it a fuzz_assert() with the fix.
 */
#define fuzz_assert_known(cond, ...)                                                               \
	do {                                                                                       \
		if (!(cond) && getenv("FUZZ_STRICT"))                                              \
			fuzz_fail(__VA_ARGS__);                                                    \
	} while (0)

#endif /* XLB_TESTS_FUZZ_H */

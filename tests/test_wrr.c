/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Unit tests of the smooth weighted round-robin sequence builder: nginx's
 * order, gcd reduction, shares, spreading, scaling under the cap, bad input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "maps/xlb_maps.h"
#include "userspace/lib/wrr.h"

static __u32 seq[XLB_WRR_SEQ_MAX];

static int build(const __u32 *w, size_t n, __u32 cap)
{
	__u32 ids[XLB_MAX_BACKENDS_PER_VIP];

	for (size_t i = 0; i < n; i++)
		ids[i] = 100 + i; /* ids are not positions */
	memset(seq, 0xff, sizeof(seq));
	return xlb_wrr__build(ids, w, n, cap, seq);
}

/* nginx's smooth wrr for {a:5, b:1, c:1} is a a b a c a a; for 1:2:3 it is
 * C B A C B C (ties to the first backend).
 */
static void test_smooth_order(void **state)
{
	static const __u32 w1[] = { 5, 1, 1 }, e1[] = { 100, 100, 101, 100, 102, 100, 100 };
	static const __u32 w2[] = { 1, 2, 3 }, e2[] = { 102, 101, 100, 102, 101, 102 };

	(void)state;
	assert_int_equal(build(w1, 3, XLB_WRR_SEQ_MAX), 7);
	assert_memory_equal(seq, e1, sizeof(e1));
	assert_int_equal(build(w2, 3, XLB_WRR_SEQ_MAX), 6);
	assert_memory_equal(seq, e2, sizeof(e2));
	assert_int_equal(seq[6], 0xffffffffU); /* nothing written past the end */
}

/* Weights with a common factor give the same, shortest cycle. */
static void test_gcd_reduced(void **state)
{
	static const __u32 w[] = { 200, 400, 600 }, e[] = { 102, 101, 100, 102, 101, 102 };
	static const __u32 eq[] = { 100, 100, 100, 100 };

	(void)state;
	assert_int_equal(build(w, 3, XLB_WRR_SEQ_MAX), 6);
	assert_memory_equal(seq, e, sizeof(e));
	assert_int_equal(build(eq, 4, XLB_WRR_SEQ_MAX), 4); /* rr */
	for (int i = 0; i < 4; i++)
		assert_int_equal(seq[i], 100 + i);
}

/* Each backend appears weight times per cycle, and its turns are spread:
 * after any k choices it has had within 2 of its exact share k * w / sum
 * (smooth wrr stays within about 1; blocks of 13 would be 8.8 off).
 */
static void test_shares_and_spread(void **state)
{
	static const __u32 w[] = { 7, 3, 11, 1, 5, 13 };
	const size_t n = sizeof(w) / sizeof(w[0]);
	int count[6] = {};
	double worst = 0;
	__u32 sum = 0;
	int len;

	(void)state;
	for (size_t i = 0; i < n; i++)
		sum += w[i];
	len = build(w, n, XLB_WRR_SEQ_MAX);
	assert_int_equal(len, sum);
	for (int k = 0; k < len; k++) {
		assert_true(seq[k] >= 100 && seq[k] < 100 + n);
		count[seq[k] - 100]++;
		for (size_t i = 0; i < n; i++) {
			double off = count[i] - (double)(k + 1) * w[i] / sum;

			if (off < 0)
				off = -off;
			if (off > worst)
				worst = off;
		}
	}
	for (size_t i = 0; i < n; i++)
		assert_int_equal(count[i], w[i]);
	if (worst >= 2)
		fail_msg("a backend strayed %.2f turns from its share", worst);
}

/* Over the cap the weights are scaled: the cycle fits, every backend keeps
 * a turn, and the shares stay within a turn of the exact ones.
 */
static void test_cap_scales(void **state)
{
	static __u32 w[XLB_MAX_BACKENDS_PER_VIP];
	const size_t n = 1000;
	const __u32 cap = 4096;
	__u64 total = 0;
	int len;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		w[i] = 1 + (i * 7919) % XLB_WEIGHT_MAX; /* w[0] = 1: the smallest */
		total += w[i];
	}
	len = build(w, n, cap);
	assert_true(len > 0 && len <= (int)cap);
	for (size_t i = 0; i < n; i++) {
		int count = 0;
		double exact = (double)w[i] * len / total;

		for (int k = 0; k < len; k++)
			count += seq[k] == 100 + i;
		assert_true(count >= 1);
		assert_true(count >= exact - 2 && count <= exact + 2);
	}
	/* the largest pool at the largest spread still fits XLB_WRR_SEQ_MAX */
	for (size_t i = 0; i < XLB_MAX_BACKENDS_PER_VIP; i++)
		w[i] = XLB_WEIGHT_MAX - i;
	len = build(w, XLB_MAX_BACKENDS_PER_VIP, XLB_WRR_SEQ_MAX);
	assert_true(len >= XLB_MAX_BACKENDS_PER_VIP && len <= XLB_WRR_SEQ_MAX);
}

/* nginx's loop as written: the reference the builder must equal exactly. */
static void reference(const __u32 *w, size_t n, __u32 *out)
{
	long long score[64] = {}, sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += w[i];
	for (long long k = 0; k < sum; k++) {
		size_t best = 0;

		for (size_t i = 0; i < n; i++) {
			score[i] += w[i];
			if (score[i] > score[best])
				best = i;
		}
		score[best] -= sum;
		out[k] = 100 + best;
	}
}

/* Random pools (weights coprime or not, ties and all): the same sequence as
 * nginx's loop, entry for entry.
 */
static void test_equals_reference(void **state)
{
	static __u32 want[XLB_WRR_SEQ_MAX];
	int compared = 0;
	__u32 w[64];

	(void)state;
	srand(5);
	for (int round = 0; round < 500; round++) {
		size_t n = 1 + rand() % 40;
		__u32 g = 1 + rand() % 3, sum = 0;
		int len;

		for (size_t i = 0; i < n; i++) {
			w[i] = g * (1 + rand() % (round % 2 ? 5 : 60));
			sum += w[i] / g;
		}
		/* the builder reduces by the gcd; so does the reference then */
		for (size_t i = 0; i < n; i++)
			w[i] /= g;
		len = build(w, n, XLB_WRR_SEQ_MAX);
		assert_true(len > 0 && (__u32)len <= sum);
		if ((__u32)len == sum) { /* already reduced: compare directly */
			reference(w, n, want);
			if (memcmp(seq, want, len * sizeof(*seq)))
				fail_msg("round %d: n %zu: differs from nginx's order", round, n);
			compared++;
		}
	}
	assert_true(compared > 400);
}

static void test_bad_input(void **state)
{
	static const __u32 ok[] = { 1, 2 }, zero[] = { 1, 0 }, big[] = { 1, 65536 };
	__u32 ids[2] = { 1, 2 };

	(void)state;
	assert_int_equal(build(zero, 2, XLB_WRR_SEQ_MAX), -EINVAL);
	assert_int_equal(build(big, 2, XLB_WRR_SEQ_MAX), -EINVAL);
	assert_int_equal(build(ok, 0, XLB_WRR_SEQ_MAX), -EINVAL);
	assert_int_equal(build(ok, 2, 1), -EINVAL); /* cap below n */
	assert_int_equal(xlb_wrr__build(NULL, ok, 2, 16, seq), -EINVAL);
	assert_int_equal(xlb_wrr__build(ids, NULL, 2, 16, seq), -EINVAL);
	assert_int_equal(xlb_wrr__build(ids, ok, 2, 16, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smooth_order),	 cmocka_unit_test(test_gcd_reduced),
		cmocka_unit_test(test_shares_and_spread), cmocka_unit_test(test_cap_scales),
		cmocka_unit_test(test_bad_input),	 cmocka_unit_test(test_equals_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

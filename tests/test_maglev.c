/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Unit tests of the weighted Maglev table builder: balance, weights,
 * disruption on removal, independence from input order and ids, bad input.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "maps/xlb_maps.h"
#include "userspace/lib/maglev.h"

#define SIZE XLB_MAGLEV_DEFAULT_SIZE
#define SENTINEL 0xdeadbeefU

/* 198.18.0.10 + i */
static struct xlb_maglev_backend backend4(__u32 i, __u32 id, __u16 weight)
{
	struct xlb_maglev_backend b = {
		.id = id,
		.family = XLB_AF_INET,
		.weight = weight,
	};

	b.addr[0] = htonl(0xc6120000U + 10 + i);
	return b;
}

/* 2001:2::10 + i */
static struct xlb_maglev_backend backend6(__u32 i, __u32 id, __u16 weight)
{
	struct xlb_maglev_backend b = {
		.id = id,
		.family = XLB_AF_INET6,
		.weight = weight,
	};

	b.addr[0] = htonl(0x20010002U);
	b.addr[3] = htonl(0x10 + i);
	return b;
}

static __u32 *alloc_table(size_t entries)
{
	__u32 *t = malloc(entries * sizeof(*t));

	assert_non_null(t);
	return t;
}

/* Entries per id; ids are 0..n-1 in these tests. */
static void count_ids(const __u32 *table, __u32 size, __u32 *counts, size_t n)
{
	__u32 i;

	memset(counts, 0, n * sizeof(*counts));
	for (i = 0; i < size; i++) {
		assert_true(table[i] < n);
		counts[table[i]]++;
	}
}

/* Every backend's count is within 1% (relative) of size * weight / sum. */
static void assert_shares(const struct xlb_maglev_backend *b, size_t n, const __u32 *table,
			  __u32 size, const char *what)
{
	__u32 *counts = calloc(n, sizeof(*counts));
	double sum = 0, max_ratio = 0, min_ratio = 1e9;
	size_t i;

	assert_non_null(counts);
	for (i = 0; i < n; i++)
		sum += b[i].weight;
	count_ids(table, size, counts, n);
	for (i = 0; i < n; i++) {
		double want = size * (b[i].weight / sum);
		double ratio = counts[b[i].id] / want;

		if (ratio > max_ratio)
			max_ratio = ratio;
		if (ratio < min_ratio)
			min_ratio = ratio;
		if (counts[b[i].id] < want * 0.99 || counts[b[i].id] > want * 1.01)
			fail_msg("%s: backend %zu has %u entries, want %.2f +-1%%", what, i,
				 counts[b[i].id], want);
	}
	print_message("%s: max/expected %.4f, min/expected %.4f\n", what, max_ratio, min_ratio);
	free(counts);
}

static void test_is_prime(void **state)
{
	(void)state;
	assert_true(xlb_maglev__is_prime(2));
	assert_true(xlb_maglev__is_prime(3));
	assert_true(xlb_maglev__is_prime(251));
	assert_true(xlb_maglev__is_prime(65537));
	assert_true(xlb_maglev__is_prime(655373));
	assert_true(xlb_maglev__is_prime(4294967291U));
	assert_false(xlb_maglev__is_prime(0));
	assert_false(xlb_maglev__is_prime(1));
	assert_false(xlb_maglev__is_prime(4));
	assert_false(xlb_maglev__is_prime(25));
	assert_false(xlb_maglev__is_prime(65536));
	assert_false(xlb_maglev__is_prime(65539 * 3));
	/* 3 * 5 * 17 * 257 * 65537: the loop must not overflow near 2^32 */
	assert_false(xlb_maglev__is_prime(4294967295U));
}

static void test_equal_shares(void **state)
{
	static const size_t ns[] = { 3, 10, 100, 1000 };
	struct xlb_maglev_backend *b = calloc(1000, sizeof(*b));
	__u32 *table = alloc_table(SIZE);
	char what[64];
	size_t k, i;

	(void)state;
	assert_non_null(b);
	for (k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
		for (i = 0; i < ns[k]; i++)
			b[i] = backend4(i, i, 1);
		assert_int_equal(xlb_maglev__build(b, ns[k], SIZE, table), 0);
		snprintf(what, sizeof(what), "IPv4 N=%zu size=%u", ns[k], SIZE);
		assert_shares(b, ns[k], table, SIZE, what);
	}
	/* Equal weights other than 1 are the same thing. */
	for (i = 0; i < 100; i++)
		b[i] = backend6(i, i, 500);
	assert_int_equal(xlb_maglev__build(b, 100, SIZE, table), 0);
	assert_shares(b, 100, table, SIZE, "IPv6 N=100 size=65537");
	free(table);
	free(b);
}

static void test_small_tables(void **state)
{
	struct xlb_maglev_backend b[3] = { backend4(0, 7, 1), backend4(1, 8, 1),
					   backend4(2, 9, 1) };
	__u32 table[7], counts[10];
	__u32 i;

	(void)state;
	/* One backend owns everything. */
	assert_int_equal(xlb_maglev__build(b, 1, 7, table), 0);
	for (i = 0; i < 7; i++)
		assert_int_equal(table[i], 7);
	/* size == n: one entry each. */
	assert_int_equal(xlb_maglev__build(b, 3, 3, table), 0);
	count_ids(table, 3, counts, 10);
	assert_int_equal(counts[7], 1);
	assert_int_equal(counts[8], 1);
	assert_int_equal(counts[9], 1);
}

static void test_weighted_shares(void **state)
{
	struct xlb_maglev_backend b[40], scaled[3];
	__u32 *table = alloc_table(SIZE), *table2 = alloc_table(SIZE);
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++)
		b[i] = backend4(i, i, i + 1);
	assert_int_equal(xlb_maglev__build(b, 3, SIZE, table), 0);
	assert_shares(b, 3, table, SIZE, "weights 1:2:3");

	/* Only the ratios of the weights matter. */
	for (i = 0; i < 3; i++)
		scaled[i] = backend4(i, i, 1000 * (i + 1));
	assert_int_equal(xlb_maglev__build(scaled, 3, SIZE, table2), 0);
	assert_memory_equal(table, table2, SIZE * sizeof(*table));

	/* Skewed weights (one at 1000, 39 at 1) take the heap path. */
	b[0] = backend4(0, 0, 1000);
	for (i = 1; i < 40; i++)
		b[i] = backend6(i, i, 1);
	assert_int_equal(xlb_maglev__build(b, 40, SIZE, table), 0);
	assert_shares(b, 40, table, SIZE, "weights 1000:1x39");

	/* The largest weight against the smallest still gives the light one
	 * its share: 65537 / 65536 rounds to one entry.
	 */
	b[0] = backend4(0, 0, XLB_WEIGHT_MAX);
	b[1] = backend4(1, 1, 1);
	assert_int_equal(xlb_maglev__build(b, 2, SIZE, table), 0);
	assert_shares(b, 2, table, SIZE, "weights 65535:1");
	free(table2);
	free(table);
}

static void test_remove_one_churn(void **state)
{
	struct xlb_maglev_backend b[100];
	__u32 *before = alloc_table(SIZE), *after = alloc_table(SIZE);
	const __u32 gone = 42;
	__u32 i, others = 0, moved = 0;

	(void)state;
	for (i = 0; i < 100; i++)
		b[i] = backend4(i, i, 1);
	assert_int_equal(xlb_maglev__build(b, 100, SIZE, before), 0);
	b[gone] = b[99];
	assert_int_equal(xlb_maglev__build(b, 99, SIZE, after), 0);

	for (i = 0; i < SIZE; i++) {
		assert_int_not_equal(after[i], gone);
		if (before[i] == gone)
			continue;
		others++;
		if (after[i] != before[i])
			moved++;
	}
	print_message("remove 1 of 100: %u of %u entries of the others moved (%.3f%%)\n", moved,
		      others, 100.0 * moved / others);
	assert_true(moved <= others / 100);
	free(after);
	free(before);
}

/* xorshift32: a fixed shuffle, the same on every run. */
static void shuffle(struct xlb_maglev_backend *b, size_t n, __u32 *seed)
{
	size_t i;

	for (i = n - 1; i > 0; i--) {
		struct xlb_maglev_backend t;
		size_t j;

		*seed ^= *seed << 13;
		*seed ^= *seed >> 17;
		*seed ^= *seed << 5;
		j = *seed % (i + 1);
		t = b[i];
		b[i] = b[j];
		b[j] = t;
	}
}

static void test_order_independent(void **state)
{
	struct xlb_maglev_backend b[200];
	__u32 *ref = alloc_table(SIZE), *table = alloc_table(SIZE);
	__u32 seed = 2463534242U, i;
	int round;

	(void)state;
	/* Mixed families and weights, so both the sort and the credit order
	 * are exercised.
	 */
	for (i = 0; i < 100; i++)
		b[i] = backend4(i, i, 1 + i % 3);
	for (i = 100; i < 200; i++)
		b[i] = backend6(i, i, 1 + i % 5);
	assert_int_equal(xlb_maglev__build(b, 200, SIZE, ref), 0);
	assert_shares(b, 200, ref, SIZE, "mixed IPv4/IPv6, weights 1..5");
	for (round = 0; round < 5; round++) {
		shuffle(b, 200, &seed);
		memset(table, 0, SIZE * sizeof(*table));
		assert_int_equal(xlb_maglev__build(b, 200, SIZE, table), 0);
		assert_memory_equal(ref, table, SIZE * sizeof(*table));
	}

	/* Bytes after an IPv4 address are not part of it. */
	for (i = 0; i < 100; i++)
		if (b[i].family == XLB_AF_INET)
			b[i].addr[3] = htonl(0xffff0000U + i);
	assert_int_equal(xlb_maglev__build(b, 200, SIZE, table), 0);
	assert_memory_equal(ref, table, SIZE * sizeof(*table));
	free(table);
	free(ref);
}

/* The permutation follows the address, not the id: relabelling ids only
 * relabels entries, so hosts that number backends differently still agree.
 */
static void test_ids_only_label(void **state)
{
	struct xlb_maglev_backend b[100];
	__u32 *ref = alloc_table(SIZE), *table = alloc_table(SIZE);
	__u32 i;

	(void)state;
	for (i = 0; i < 100; i++)
		b[i] = backend4(i, i, 1);
	assert_int_equal(xlb_maglev__build(b, 100, SIZE, ref), 0);
	for (i = 0; i < 100; i++)
		b[i].id = 1000 + (i * 37) % 100;
	assert_int_equal(xlb_maglev__build(b, 100, SIZE, table), 0);
	for (i = 0; i < SIZE; i++)
		assert_int_equal(table[i], 1000 + (ref[i] * 37) % 100);
	free(table);
	free(ref);
}

/* Enough room for any size the tests pass, so a wrong write is seen. */
#define BAD_ROOM 700000

static void assert_einval_untouched(const struct xlb_maglev_backend *b, size_t n, __u32 size,
				    __u32 *table)
{
	__u32 i;

	for (i = 0; i < BAD_ROOM; i++)
		table[i] = SENTINEL;
	assert_int_equal(xlb_maglev__build(b, n, size, table), -EINVAL);
	for (i = 0; i < BAD_ROOM; i++)
		if (table[i] != SENTINEL)
			fail_msg("entry %u written on error", i);
}

static void test_bad_input(void **state)
{
	struct xlb_maglev_backend *b = calloc(XLB_MAX_BACKENDS_PER_VIP + 1, sizeof(*b));
	__u32 *table = alloc_table(BAD_ROOM);
	__u32 i;

	(void)state;
	assert_non_null(b);
	for (i = 0; i <= XLB_MAX_BACKENDS_PER_VIP; i++)
		b[i] = backend4(i, i, 1);

	assert_einval_untouched(b, 3, 65536, table);  /* not prime */
	assert_einval_untouched(b, 3, 0, table);
	assert_einval_untouched(b, 3, 1, table);
	assert_einval_untouched(b, 5, 3, table);      /* size < n */
	assert_einval_untouched(b, 3, 655379, table); /* prime > max */
	assert_einval_untouched(b, 0, SIZE, table);   /* n == 0 */
	assert_einval_untouched(NULL, 3, SIZE, table);
	assert_int_equal(xlb_maglev__build(b, 3, SIZE, NULL), -EINVAL);
	assert_einval_untouched(b, XLB_MAX_BACKENDS_PER_VIP + 1, SIZE, table);

	b[1].weight = 0;
	assert_einval_untouched(b, 3, SIZE, table);
	b[1].weight = 1;

	b[1].family = 5;
	assert_einval_untouched(b, 3, SIZE, table);
	b[1].family = XLB_AF_INET;

	/* Same address, different id: which would own the entries? */
	b[2] = backend4(0, 2, 1);
	assert_einval_untouched(b, 3, SIZE, table);
	b[2] = backend6(0, 2, 1);
	b[1] = backend6(0, 1, 3);
	assert_einval_untouched(b, 3, SIZE, table);

	/* The limits themselves are fine. */
	for (i = 0; i < 3; i++)
		b[i] = backend4(i, i, 1);
	assert_int_equal(xlb_maglev__build(b, 3, XLB_MAGLEV_MAX_SIZE, table), 0);
	for (i = 0; i < XLB_MAX_BACKENDS_PER_VIP; i++)
		b[i] = backend4(i, i, 1);
	assert_int_equal(xlb_maglev__build(b, XLB_MAX_BACKENDS_PER_VIP, SIZE, table), 0);
	free(table);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_prime),
		cmocka_unit_test(test_equal_shares),
		cmocka_unit_test(test_small_tables),
		cmocka_unit_test(test_weighted_shares),
		cmocka_unit_test(test_remove_one_churn),
		cmocka_unit_test(test_order_independent),
		cmocka_unit_test(test_ids_only_label),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

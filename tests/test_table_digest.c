/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Unit tests of the table digest (userspace/lib/table_digest.h): it is exactly
 * the documented FNV-1a over size, families and addresses (checked against
 * a reference written here from the definition), it sees backend addresses
 * and not the ids in the table, and any change of a slot changes it.
 */
#include <arpa/inet.h>
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
#include "userspace/lib/table_digest.h"

#define SIZE 1021 /* prime */

/* FNV-1a 64 as published (offset basis 14695981039346656037, prime 2^40 + 2^8 + 0xb3). */
static __u64 ref_fnv1a(const __u8 *p, size_t n)
{
	__u64 h = 14695981039346656037ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static struct xlb_maglev_backend mb(const char *addr, __u32 id, __u16 weight)
{
	struct xlb_maglev_backend b = { .id = id, .weight = weight };

	if (inet_pton(AF_INET, addr, b.addr) == 1)
		b.family = XLB_AF_INET;
	else if (inet_pton(AF_INET6, addr, b.addr) == 1)
		b.family = XLB_AF_INET6;
	else
		fail_msg("bad address in test: %s", addr);
	return b;
}

/* The digest of table (ids of b[0..n-1]), each id looked up in b. */
static __u64 digest(const __u32 *table, __u32 size, const struct xlb_maglev_backend *b, size_t n)
{
	__u64 d = xlb_table_digest__begin(size);

	for (__u32 i = 0; i < size; i++) {
		size_t k = 0;

		while (k < n && b[k].id != table[i])
			k++;
		if (k == n)
			fail_msg("slot %u holds id %u, no backend's", i, table[i]);
		d = xlb_table_digest__slot(d, b[k].family, b[k].addr);
	}
	return d;
}

static void test_reference_fnv(void **state)
{
	(void)state;
	/* The published test vectors, so the reference below is FNV-1a. */
	assert_true(ref_fnv1a((const __u8 *)"", 0) == 0xcbf29ce484222325ULL);
	assert_true(ref_fnv1a((const __u8 *)"a", 1) == 0xaf63dc4c8601ec8cULL);
	assert_true(ref_fnv1a((const __u8 *)"foobar", 6) == 0x85944171f73967e8ULL);
}

/* Three slots: 198.18.0.11, 2001:2::11, 198.18.0.11, spelled out byte by byte. */
static void test_definition(void **state)
{
	static const __u8 bytes[] = {
		0, 0, 0, 3,				     /* size, big-endian */
		4, 198, 18, 0, 11,			     /* family, IPv4 */
		6, 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11, /* IPv6 */
		4, 198, 18, 0, 11,
	};
	struct xlb_maglev_backend a = mb("198.18.0.11", 0, 1), b = mb("2001:2::11", 1, 1);
	char hex[XLB_TABLE_DIGEST_STR];
	__u64 d;

	(void)state;
	d = xlb_table_digest__begin(3);
	d = xlb_table_digest__slot(d, a.family, a.addr);
	d = xlb_table_digest__slot(d, b.family, b.addr);
	d = xlb_table_digest__slot(d, a.family, a.addr);
	assert_true(d == ref_fnv1a(bytes, sizeof(bytes)));
	/* Whatever follows an IPv4 address in its array is not part of it. */
	{
		__be32 clean[4] = { a.addr[0] };

		a.addr[1] = 0xffffffff;
		assert_true(xlb_table_digest__slot(d, XLB_AF_INET, a.addr) ==
			    xlb_table_digest__slot(d, XLB_AF_INET, clean));
	}
	/* 16 hex digits, leading zeros kept */
	assert_string_equal(xlb_table_digest__format(0xab, hex), "00000000000000ab");
	assert_string_equal(xlb_table_digest__format(0xfedcba9876543210ULL, hex),
			    "fedcba9876543210");
}

/* The same backends given in another order, under other ids: the same digest. */
static void test_ids_and_order_do_not_count(void **state)
{
	struct xlb_maglev_backend a[] = {
		mb("198.18.0.11", 0, 100), mb("198.18.0.12", 1, 50), mb("2001:2::11", 2, 200),
		mb("2001:2::12", 3, 1),	   mb("198.18.0.13", 4, 100),
	};
	struct xlb_maglev_backend b[] = {
		mb("2001:2::12", 907, 1),     mb("198.18.0.13", 12, 100), mb("2001:2::11", 5, 200),
		mb("198.18.0.12", 131071, 50), mb("198.18.0.11", 44, 100),
	};
	__u32 *ta = calloc(SIZE, sizeof(*ta)), *tb = calloc(SIZE, sizeof(*tb));

	(void)state;
	assert_int_equal(xlb_maglev__build(a, 5, SIZE, ta), 0);
	assert_int_equal(xlb_maglev__build(b, 5, SIZE, tb), 0);
	assert_memory_not_equal(ta, tb, SIZE * sizeof(*ta)); /* the ids differ... */
	assert_true(digest(ta, SIZE, a, 5) == digest(tb, SIZE, b, 5)); /* ...the table does not */
	free(ta);
	free(tb);
}

/* Any other backend set, weight or size changes the digest; so does one slot. */
static void test_changes_show(void **state)
{
	struct xlb_maglev_backend a[] = {
		mb("198.18.0.11", 0, 100), mb("198.18.0.12", 1, 100), mb("2001:2::11", 2, 100),
	};
	__u32 *t = calloc(SIZE, sizeof(*t));
	__u64 base, d;

	(void)state;
	assert_int_equal(xlb_maglev__build(a, 3, SIZE, t), 0);
	base = digest(t, SIZE, a, 3);

	a[1] = mb("198.18.0.14", 1, 100); /* another address */
	assert_int_equal(xlb_maglev__build(a, 3, SIZE, t), 0);
	assert_true(digest(t, SIZE, a, 3) != base);
	a[1] = mb("198.18.0.12", 1, 101); /* another weight */
	assert_int_equal(xlb_maglev__build(a, 3, SIZE, t), 0);
	assert_true(digest(t, SIZE, a, 3) != base);
	a[1].weight = 100;
	assert_int_equal(xlb_maglev__build(a, 2, SIZE, t), 0); /* one backend fewer */
	assert_true(digest(t, SIZE, a, 2) != base);
	assert_int_equal(xlb_maglev__build(a, 3, 1019, t), 0); /* another size */
	assert_true(digest(t, 1019, a, 3) != base);

	assert_int_equal(xlb_maglev__build(a, 3, SIZE, t), 0);
	assert_true(digest(t, SIZE, a, 3) == base);
	/* two slots swapped: the same multiset, another table */
	for (__u32 i = 1; i < SIZE; i++) {
		if (t[i] != t[0]) {
			__u32 x = t[i];

			t[i] = t[0];
			t[0] = x;
			break;
		}
	}
	d = digest(t, SIZE, a, 3);
	assert_true(d != base);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_fnv),
		cmocka_unit_test(test_definition),
		cmocka_unit_test(test_ids_and_order_do_not_count),
		cmocka_unit_test(test_changes_show),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

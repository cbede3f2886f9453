/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The rate-limit arithmetic of maps/xlb_ratelimit.h, as the data path runs it:
 * token-bucket refill and take, burst cap, long idle, the clock going back,
 * rates far above line rate, the sliding window's boundaries and the lease
 * size. Pure functions of their inputs, time included: no root, no sleeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <arpa/inet.h>

#include "maps/xlb_ratelimit.h"

#define MS 1000000ULL
#define S 1000000000ULL
#define T0 (1000 * S) /* an arbitrary uptime */

static __u32 tokens(const struct xlb_tb *b)
{
	return (__u32)(b->units / XLB_TB_SCALE);
}

/* Admits while it can; returns how many it admitted (at most max). */
static __u64 drain(struct xlb_tb *b, __u64 now, __u32 rate, __u32 burst, __u64 max)
{
	__u64 n = 0;

	while (n < max && xlb_tb_admit(b, now, rate, burst))
		n++;
	return n;
}

static void test_new_bucket_is_full_then_empty(void **state)
{
	struct xlb_tb b;

	(void)state;
	xlb_tb_init(&b, T0, 10);
	assert_int_equal(tokens(&b), 10);
	assert_int_equal(drain(&b, T0, 100, 10, 1000), 10);
	assert_false(xlb_tb_admit(&b, T0, 100, 10));
	assert_int_equal(b.units, 0);
}

static void test_refill_is_exact(void **state)
{
	struct xlb_tb b;

	(void)state;
	xlb_tb_init(&b, T0, 10);
	drain(&b, T0, 100, 10, 1000);
	/* 100/s: one token per 10 ms, fractions kept between refills */
	assert_false(xlb_tb_admit(&b, T0 + 9 * MS, 100, 10));
	assert_true(xlb_tb_admit(&b, T0 + 10 * MS, 100, 10));
	assert_false(xlb_tb_admit(&b, T0 + 10 * MS, 100, 10));
	for (__u64 ns = 0; ns < 10 * MS; ns += MS / 3) /* many small refills */
		xlb_tb_refill(&b, T0 + 10 * MS + ns, 100, 10);
	assert_int_equal(drain(&b, T0 + 20 * MS, 100, 10, 1000), 1);
	/* 50 ms: 5 tokens */
	assert_int_equal(drain(&b, T0 + 70 * MS, 100, 10, 1000), 5);
	/* rate 3/s: 1 s gives exactly 3, not 2.999 */
	xlb_tb_init(&b, T0, 1000);
	drain(&b, T0, 3, 1000, 10000);
	assert_int_equal(drain(&b, T0 + S, 3, 1000, 10000), 3);
	assert_int_equal(drain(&b, T0 + S + S / 3 - 1, 3, 1000, 10000), 0);
	assert_int_equal(drain(&b, T0 + S + S / 3 + 1, 3, 1000, 10000), 1);
}

static void test_burst_caps_refill(void **state)
{
	struct xlb_tb b;

	(void)state;
	xlb_tb_init(&b, T0, 10);
	drain(&b, T0, 100, 10, 1000);
	assert_int_equal(drain(&b, T0 + 5 * S, 100, 10, 1000), 10);
	/* a lowered burst caps what is already in the bucket */
	xlb_tb_init(&b, T0, 1000);
	xlb_tb_refill(&b, T0 + 1, 100, 10);
	assert_int_equal(tokens(&b), 10);
	/* a raised burst fills at the rate, not at once */
	drain(&b, T0 + 1, 100, 10, 1000);
	assert_int_equal(drain(&b, T0 + 1 + S, 100, 1000, 100000), 100);
}

static void test_long_idle(void **state)
{
	struct xlb_tb b;

	(void)state;
	/* days, years and a clock wrapped to 2^64 - 1: full, never more */
	const __u64 idle[] = { 4 * S, 5 * S, 86400 * S, 100ULL * 365 * 86400 * S,
			       UINT64_MAX - T0 };

	for (size_t i = 0; i < sizeof(idle) / sizeof(idle[0]); i++) {
		xlb_tb_init(&b, T0, 1000);
		b.units = 0;
		xlb_tb_refill(&b, T0 + idle[i], 100, 1000);
		assert_int_equal(tokens(&b), idle[i] >= 10 * S ? 1000 : idle[i] / (10 * MS));
		/* the largest rate and burst */
		b.units = 0;
		b.last_ns = T0;
		xlb_tb_refill(&b, T0 + idle[i], UINT32_MAX, UINT32_MAX);
		assert_int_equal(tokens(&b), UINT32_MAX);
		/* a slow rate with a huge burst: the division branch, not full */
		b.units = 0;
		b.last_ns = T0;
		xlb_tb_refill(&b, T0 + idle[i], 1, UINT32_MAX);
		assert_int_equal(b.units, idle[i] > (__u64)UINT32_MAX * S ? (__u64)UINT32_MAX * S
									  : idle[i]);
	}
	/* a fresh bucket (never refilled: last 0) at any uptime */
	b.units = 0;
	b.last_ns = 0;
	xlb_tb_refill(&b, UINT64_MAX, 7, 9);
	assert_int_equal(tokens(&b), 9);
}

static void test_clock_backwards(void **state)
{
	struct xlb_tb b;

	(void)state;
	xlb_tb_init(&b, T0, 10);
	drain(&b, T0, 100, 10, 1000);
	/* a small step back (another CPU's earlier read): no credit, and the
	 * interval is not counted twice when the clock catches up
	 */
	assert_false(xlb_tb_admit(&b, T0 - 5 * MS, 100, 10));
	assert_int_equal(b.last_ns, T0);
	assert_false(xlb_tb_admit(&b, T0 + 9 * MS, 100, 10));
	assert_true(xlb_tb_admit(&b, T0 + 10 * MS, 100, 10));
	/* a big step back (a new clock): counting restarts from it, no stall */
	assert_false(xlb_tb_admit(&b, 5 * S, 100, 10));
	assert_int_equal(b.last_ns, 5 * S);
	assert_true(xlb_tb_admit(&b, 5 * S + 10 * MS, 100, 10));
	/* nor does it ever give more than the burst */
	assert_int_equal(drain(&b, 5 * S + 100 * S, 100, 10, 1000), 10);
}

static void test_huge_rates(void **state)
{
	struct xlb_tb b;
	const __u32 line = 150000000; /* 100 Gbit/s of 64-byte frames, about */

	(void)state;
	xlb_tb_init(&b, T0, line / 1000);
	drain(&b, T0, line, line / 1000, UINT64_MAX);
	/* 1 us at 150 Mpps: 150 packets; 1 ms: 150,000 (the burst) */
	assert_int_equal(drain(&b, T0 + 1000, line, line / 1000, UINT64_MAX), 150);
	xlb_tb_refill(&b, T0 + 1000 + MS, line, line / 1000);
	assert_int_equal(tokens(&b), line / 1000);
	/* the top of the range: 4.29e9/s, burst 4.29e9, 1 ns and 4.3 s */
	xlb_tb_init(&b, T0, UINT32_MAX);
	assert_int_equal(xlb_tb_take(&b, UINT32_MAX), UINT32_MAX);
	xlb_tb_refill(&b, T0 + 1, UINT32_MAX, UINT32_MAX);
	assert_int_equal(tokens(&b), 4);
	b.units = 0;
	xlb_tb_refill(&b, T0 + 1 + 0xffffffffULL, UINT32_MAX, UINT32_MAX);
	assert_int_equal(tokens(&b), UINT32_MAX);
}

static void test_take_leases(void **state)
{
	struct xlb_tb b;

	(void)state;
	xlb_tb_init(&b, T0, 100);
	assert_int_equal(xlb_tb_take(&b, 64), 64);
	assert_int_equal(xlb_tb_take(&b, 64), 36); /* what is left */
	assert_int_equal(xlb_tb_take(&b, 64), 0);
	/* a fraction of a token is not a token */
	b.units = XLB_TB_SCALE - 1;
	assert_int_equal(xlb_tb_take(&b, 1), 0);
	assert_int_equal(b.units, XLB_TB_SCALE - 1);
	b.units = 2 * XLB_TB_SCALE + 5;
	assert_int_equal(xlb_tb_take(&b, 3), 2);
	assert_int_equal(b.units, 5);
}

static void test_next_token(void **state)
{
	struct xlb_tb b = { .units = 0, .last_ns = T0 };

	(void)state;
	assert_int_equal(xlb_tb_next_token_ns(&b, 100), T0 + 10 * MS);
	b.units = XLB_TB_SCALE / 2;
	assert_int_equal(xlb_tb_next_token_ns(&b, 100), T0 + 5 * MS);
	assert_int_equal(xlb_tb_next_token_ns(&b, 3), T0 + 166666667); /* rounded up */
	/* and then it really is there, not one ns earlier */
	xlb_tb_refill(&b, T0 + 166666666, 3, 10);
	assert_int_equal(tokens(&b), 0);
	xlb_tb_refill(&b, T0 + 166666667, 3, 10);
	assert_int_equal(tokens(&b), 1);
	b.units = XLB_TB_SCALE;
	assert_int_equal(xlb_tb_next_token_ns(&b, 3), b.last_ns); /* already in */
	b.units = 0;
	assert_int_equal(xlb_tb_next_token_ns(&b, UINT32_MAX), b.last_ns + 1);
	b.last_ns = UINT64_MAX - 5;
	assert_int_equal(xlb_tb_next_token_ns(&b, 1), UINT64_MAX); /* saturates */
	assert_int_equal(xlb_tb_next_token_ns(&b, 0), UINT64_MAX);
}

static void test_lease_size(void **state)
{
	(void)state;
	assert_int_equal(xlb_rl_lease_auto(1, 2), 1);
	assert_int_equal(xlb_rl_lease_auto(200, 2), 12);   /* burst / 16 */
	assert_int_equal(xlb_rl_lease_auto(200, 0), 25);   /* no CPU count: one */
	assert_int_equal(xlb_rl_lease_auto(10000, 2), 64); /* capped */
	assert_int_equal(xlb_rl_lease_auto(UINT32_MAX, 1), XLB_RL_LEASE_MAX);
	assert_int_equal(xlb_rl_lease_auto(100, 4096), 1);
	/* what leases can hold idle stays within an eighth of the burst */
	for (__u32 burst = 8; burst < 100000; burst = burst * 3 + 1)
		for (__u32 cpus = 1; cpus <= 256; cpus *= 2)
			if (burst >= 8 * cpus)
				assert_true((__u64)xlb_rl_lease_auto(burst, cpus) * cpus <= burst / 8);
}

/* Sliding window: limit per second, weighted by the previous window. */
static __u32 sw_drain(struct xlb_sw *w, __u64 now, __u32 limit, __u32 max)
{
	__u32 n = 0;

	while (n < max && xlb_sw_admit(w, now, limit))
		n++;
	return n;
}

static void test_window_basics(void **state)
{
	struct xlb_sw w;

	(void)state;
	xlb_sw_init(&w, T0);
	assert_int_equal(sw_drain(&w, T0, 10, 100), 10);
	assert_int_equal(sw_drain(&w, T0 + S - 1, 10, 100), 0);
	/* next window, at its start the last one weighs all it had */
	assert_int_equal(sw_drain(&w, T0 + S, 10, 100), 0);
	/* a quarter in, it weighs 3/4: 10 * 3/4 = 7.5, so 2 more */
	assert_int_equal(sw_drain(&w, T0 + S + S / 4, 10, 100), 2);
	/* half-way: 10 * 1/2 + 2 = 7, 3 more */
	assert_int_equal(sw_drain(&w, T0 + S + S / 2, 10, 100), 3);
	/* the window after: prev = 5, at 0.9 it weighs 0.5; cur 0 -> 9 */
	assert_int_equal(sw_drain(&w, T0 + 2 * S + 9 * S / 10, 10, 100), 9);
	assert_int_equal(w.prev, 5);
	/* idle for two windows and more: both forgotten */
	assert_int_equal(sw_drain(&w, T0 + 5 * S, 10, 100), 10);
	assert_int_equal(w.prev, 0);
}

static void test_window_boundaries(void **state)
{
	struct xlb_sw w;

	(void)state;
	/* exactly at one window: rolls once; one ns before: does not */
	xlb_sw_init(&w, T0);
	sw_drain(&w, T0, 4, 100);
	assert_int_equal(sw_drain(&w, T0 + S - 1, 4, 100), 0);
	assert_int_equal(w.start_ns, T0);
	xlb_sw_admit(&w, T0 + S, 4);
	assert_int_equal(w.start_ns, T0 + S);
	assert_int_equal(w.prev, 4);
	/* exactly two windows after its start: both empty */
	xlb_sw_init(&w, T0);
	sw_drain(&w, T0, 4, 100);
	assert_int_equal(sw_drain(&w, T0 + 2 * S, 4, 100), 4);
	assert_int_equal(w.prev, 0);
	/* between one and two windows: the window moves by exactly one */
	xlb_sw_init(&w, T0);
	sw_drain(&w, T0, 4, 100);
	xlb_sw_admit(&w, T0 + 2 * S - 1, 4);
	assert_int_equal(w.start_ns, T0 + S);
	/* under constant demand: the limit per second, no burst above it */
	{
		__u64 total = 0;

		xlb_sw_init(&w, T0);
		for (__u64 t = T0; t < T0 + 10 * S; t += S / 100) {
			total += sw_drain(&w, t, 50, 1000);
			assert_true(w.cur <= 50);
		}
		assert_true(total >= 10 * 50 - 15 && total <= 10 * 50); /* 491 */
	}
}

static void test_window_extremes(void **state)
{
	struct xlb_sw w;

	(void)state;
	/* the largest limit with full windows: no overflow in the weighting */
	xlb_sw_init(&w, T0);
	w.cur = UINT32_MAX - 1;
	assert_true(xlb_sw_admit(&w, T0, UINT32_MAX));
	assert_false(xlb_sw_admit(&w, T0, UINT32_MAX));
	w.prev = UINT32_MAX;
	assert_false(xlb_sw_admit(&w, T0, UINT32_MAX));
	w.cur = 0;
	assert_false(xlb_sw_admit(&w, T0, UINT32_MAX)); /* prev weighs all of it */
	assert_true(xlb_sw_admit(&w, T0 + S / 2, UINT32_MAX));
	/* the clock back a little: nothing rolls; a lot: a new clock */
	xlb_sw_init(&w, T0);
	sw_drain(&w, T0, 3, 100);
	assert_int_equal(sw_drain(&w, T0 - MS, 3, 100), 0);
	assert_int_equal(w.start_ns, T0);
	assert_int_equal(sw_drain(&w, 2 * S, 3, 100), 0); /* counts kept */
	assert_int_equal(w.start_ns, 2 * S);
	assert_int_equal(sw_drain(&w, 3 * S, 3, 100), 0); /* prev weighs all */
	assert_int_equal(sw_drain(&w, 4 * S, 3, 100), 3);
	/* idle for years */
	assert_int_equal(sw_drain(&w, UINT64_MAX, 3, 100), 3);
}

/* The per-source key: the first bits of the address, the rest zero. */
static void test_source_prefix(void **state)
{
	static const struct {
		int family;
		const char *in;
		__u32 prefix;
		const char *want;
	} rows[] = {
		{ 4, "198.51.100.77", 32, "198.51.100.77" },
		{ 4, "198.51.100.77", 0, "198.51.100.77" }, /* a meta from before */
		{ 4, "198.51.100.77", 24, "198.51.100.0" },
		{ 4, "198.51.100.77", 1, "128.0.0.0" },
		{ 4, "198.51.100.77", 20, "198.51.96.0" },
		{ 6, "2001:db8:1:2:a:b:c:d", 64, "2001:db8:1:2::" },
		{ 6, "2001:db8:1:2:a:b:c:d", 56, "2001:db8:1::" },
		{ 6, "2001:db8:1:2ff:a:b:c:d", 56, "2001:db8:1:200::" },
		{ 6, "2001:db8:1:2:a:b:c:d", 128, "2001:db8:1:2:a:b:c:d" },
		{ 6, "2001:db8:1:2:a:b:c:d", 0, "2001:db8:1:2:a:b:c:d" },
		{ 6, "2001:db8:1:2:a:b:fedc:ba98", 100, "2001:db8:1:2:a:b:f000:0" },
		{ 6, "ffff:db8:1:2:a:b:c:d", 1, "8000::" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		__be32 a[4] = {}, want[4] = {};
		int af = rows[i].family == 4 ? AF_INET : AF_INET6;

		assert_int_equal(inet_pton(af, rows[i].in, a), 1);
		assert_int_equal(inet_pton(af, rows[i].want, want), 1);
		xlb_src_prefix(a, rows[i].family == 4 ? XLB_AF_INET : XLB_AF_INET6, rows[i].prefix);
		if (memcmp(a, want, sizeof(a)))
			fail_msg("%s/%u: %08x %08x %08x %08x", rows[i].in, rows[i].prefix,
				 ntohl(a[0]), ntohl(a[1]), ntohl(a[2]), ntohl(a[3]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_bucket_is_full_then_empty),
		cmocka_unit_test(test_refill_is_exact),
		cmocka_unit_test(test_burst_caps_refill),
		cmocka_unit_test(test_long_idle),
		cmocka_unit_test(test_clock_backwards),
		cmocka_unit_test(test_huge_rates),
		cmocka_unit_test(test_take_leases),
		cmocka_unit_test(test_next_token),
		cmocka_unit_test(test_lease_size),
		cmocka_unit_test(test_window_basics),
		cmocka_unit_test(test_window_boundaries),
		cmocka_unit_test(test_window_extremes),
		cmocka_unit_test(test_source_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Unit tests of the circuit breaker with a fake clock: every transition at
 * its exact instant, backoff doubling and cap, the reset after a healthy
 * period, slow-start weights, pending backends, panic mode, names.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "userspace/lib/breaker.h"

/* rise 2, fall 3, interval 1 s, ejection 1 s doubling to 4 s, ramp 8 s */
static const struct xlb_breaker_params P = {
	.rise = 2,
	.fall = 3,
	.interval_ms = 1000,
	.base_ejection_ms = 1000,
	.max_ejection_ms = 4000,
	.slow_start_ms = 8000,
};

#define T0 1000000ULL /* any origin: the clock is the caller's */

static void init_closed(struct xlb_breaker *b, __u64 now)
{
	assert_int_equal(xlb_breaker__init(b, &P, now, XLB_BREAKER_CLOSED), 0);
}

/* Feed n results at now; the last one must (or must not) transition. */
static int feed(struct xlb_breaker *b, __u64 now, bool ok, unsigned int n,
		struct xlb_breaker_event *ev)
{
	int r = 0;

	while (n--)
		r = xlb_breaker__on_result(b, now, ok, ev);
	return r;
}

static void assert_event(const struct xlb_breaker_event *ev, enum xlb_breaker_state from,
			 enum xlb_breaker_state to, enum xlb_breaker_reason reason, __u32 ej)
{
	assert_int_equal(ev->from, from);
	assert_int_equal(ev->to, to);
	assert_int_equal(ev->reason, reason);
	assert_int_equal(ev->ejection_ms, ej);
}

/* CLOSED -> OPEN at the fall-th failure, at now; returns the ejection. */
static __u32 eject(struct xlb_breaker *b, __u64 now)
{
	struct xlb_breaker_event ev;

	assert_int_equal(feed(b, now, false, P.fall - 1, &ev), 0);
	assert_int_equal(b->state, XLB_BREAKER_CLOSED);
	assert_int_equal(xlb_breaker__on_result(b, now, false, &ev), 1);
	assert_event(&ev, XLB_BREAKER_CLOSED, XLB_BREAKER_OPEN, XLB_BREAKER_R_FAILURES,
		     ev.ejection_ms);
	return ev.ejection_ms;
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(xlb_breaker__state_name(XLB_BREAKER_CLOSED), "closed");
	assert_string_equal(xlb_breaker__state_name(XLB_BREAKER_OPEN), "open");
	assert_string_equal(xlb_breaker__state_name(XLB_BREAKER_HALF_OPEN), "half_open");
	assert_string_equal(xlb_breaker__state_name(XLB_BREAKER_PENDING), "pending");
	assert_string_equal(xlb_breaker__state_name(XLB_BREAKER_STATE_MAX), "?");
	assert_string_equal(xlb_breaker__state_name((enum xlb_breaker_state)-1), "?");
	assert_string_equal(xlb_breaker__reason_name(XLB_BREAKER_R_FAILURES), "failures");
	assert_string_equal(xlb_breaker__reason_name(XLB_BREAKER_R_EJECTION_OVER),
			    "ejection_over");
	assert_string_equal(xlb_breaker__reason_name(XLB_BREAKER_R_RECOVERED), "recovered");
	assert_string_equal(xlb_breaker__reason_name(XLB_BREAKER_R_PROBE_FAILED), "probe_failed");
	assert_string_equal(xlb_breaker__reason_name(XLB_BREAKER_R_FIRST_SUCCESS),
			    "first_success");
	assert_string_equal(xlb_breaker__reason_name(XLB_BREAKER_R_MAX), "?");
}

static void test_bad_params(void **state)
{
	struct xlb_breaker b;
	struct xlb_breaker_params p;

	(void)state;
	p = P, p.rise = 0;
	assert_int_equal(xlb_breaker__init(&b, &p, T0, XLB_BREAKER_CLOSED), -EINVAL);
	p = P, p.fall = 0;
	assert_int_equal(xlb_breaker__init(&b, &p, T0, XLB_BREAKER_CLOSED), -EINVAL);
	p = P, p.interval_ms = 0;
	assert_int_equal(xlb_breaker__init(&b, &p, T0, XLB_BREAKER_CLOSED), -EINVAL);
	p = P, p.base_ejection_ms = 0;
	assert_int_equal(xlb_breaker__init(&b, &p, T0, XLB_BREAKER_CLOSED), -EINVAL);
	p = P, p.max_ejection_ms = P.base_ejection_ms - 1;
	assert_int_equal(xlb_breaker__init(&b, &p, T0, XLB_BREAKER_CLOSED), -EINVAL);
	assert_int_equal(xlb_breaker__init(&b, &P, T0, XLB_BREAKER_OPEN), -EINVAL);
	assert_int_equal(xlb_breaker__init(&b, &P, T0, XLB_BREAKER_HALF_OPEN), -EINVAL);
	assert_int_equal(xlb_breaker__init(&b, NULL, T0, XLB_BREAKER_CLOSED), -EINVAL);
	assert_int_equal(xlb_breaker__init(&b, &P, T0, XLB_BREAKER_PENDING), 0);
	p = P, p.fall = 0;
	assert_int_equal(xlb_breaker__set_params(&b, &p), -EINVAL);
	assert_int_equal(b.p.fall, P.fall);
}

static void test_params_from_config(void **state)
{
	struct xlb_config_health_check hc = {
		.type = XLB_CONFIG_HC_HTTP,
		.interval_ms = 500,
		.timeout_ms = 200,
		.rise = 4,
		.fall = 2,
	};
	struct xlb_config_circuit_breaker cb = {
		.base_ejection_ms = 5000,
		.max_ejection_ms = 300000,
		.max_ejection_percent = 50,
		.slow_start_ms = 10000,
	};
	struct xlb_breaker_params p;

	(void)state;
	assert_int_equal(xlb_breaker__params_from_config(&hc, &cb, &p), 0);
	assert_int_equal(p.rise, 4);
	assert_int_equal(p.fall, 2);
	assert_int_equal(p.interval_ms, 500);
	assert_int_equal(p.base_ejection_ms, 5000);
	assert_int_equal(p.max_ejection_ms, 300000);
	assert_int_equal(p.slow_start_ms, 10000);
	cb.max_ejection_ms = 4999;
	assert_int_equal(xlb_breaker__params_from_config(&hc, &cb, &p), -EINVAL);
}

/* The whole cycle, each change at its exact millisecond. */
static void test_transitions(void **state)
{
	struct xlb_breaker b;
	struct xlb_breaker_event ev;
	__u64 t = T0;

	(void)state;
	init_closed(&b, t);
	assert_true(xlb_breaker__in_service(&b));
	assert_false(b.slow_start); /* started CLOSED: no ramp */
	assert_int_equal(xlb_breaker__effective_weight(&b, 100, t), 100);
	assert_int_equal(xlb_breaker__next_deadline(&b, t), XLB_BREAKER_NEVER);

	/* Two failures, a success: the run is broken, nothing happens. */
	assert_int_equal(feed(&b, t, false, 2, &ev), 0);
	assert_int_equal(b.failures, 2);
	assert_int_equal(xlb_breaker__on_result(&b, t, true, &ev), 0);
	assert_int_equal(b.failures, 0);
	assert_int_equal(b.successes, 1);

	/* CLOSED -> OPEN at the third consecutive failure. */
	t += 1000;
	assert_int_equal(eject(&b, t), 1000);
	assert_int_equal(b.state, XLB_BREAKER_OPEN);
	assert_false(xlb_breaker__in_service(&b));
	assert_int_equal(xlb_breaker__effective_weight(&b, 100, t), 0);
	assert_int_equal(b.ejections, 1);
	assert_int_equal(b.failures, 3);
	assert_int_equal(b.open_until_ms, t + 1000);
	assert_int_equal(b.out_since_ms, t);
	assert_int_equal(xlb_breaker__next_deadline(&b, t), t + 1000);
	assert_int_equal(xlb_breaker__time_to_change(&b, t + 400), 600);
	assert_int_equal(xlb_breaker__next_check_delay(&b, t + 400), 600);

	/* Results while OPEN are ignored. */
	assert_int_equal(feed(&b, t + 10, true, 5, &ev), 0);
	assert_int_equal(b.state, XLB_BREAKER_OPEN);
	assert_int_equal(b.successes, 0);
	assert_int_equal(b.failures, 3);

	/* OPEN -> HALF_OPEN exactly when the ejection is over. */
	assert_int_equal(xlb_breaker__tick(&b, t + 999, &ev), 0);
	assert_int_equal(b.state, XLB_BREAKER_OPEN);
	assert_int_equal(xlb_breaker__time_to_change(&b, t + 1000), 0);
	assert_int_equal(xlb_breaker__next_check_delay(&b, t + 1000), 0);
	t += 1000;
	assert_int_equal(xlb_breaker__tick(&b, t, &ev), 1);
	assert_event(&ev, XLB_BREAKER_OPEN, XLB_BREAKER_HALF_OPEN, XLB_BREAKER_R_EJECTION_OVER, 0);
	assert_int_equal(b.state, XLB_BREAKER_HALF_OPEN);
	assert_false(xlb_breaker__in_service(&b));
	assert_int_equal(xlb_breaker__next_check_delay(&b, t), 500);
	assert_int_equal(xlb_breaker__time_to_change(&b, t), XLB_BREAKER_NEVER);
	assert_int_equal(xlb_breaker__next_deadline(&b, t), XLB_BREAKER_NEVER);
	assert_int_equal(xlb_breaker__tick(&b, t + 100000, &ev), 0); /* time alone: nothing */

	/* HALF_OPEN -> CLOSED at the rise-th consecutive success. */
	t += 500;
	assert_int_equal(xlb_breaker__on_result(&b, t, true, &ev), 0);
	assert_int_equal(b.state, XLB_BREAKER_HALF_OPEN);
	t += 500;
	assert_int_equal(xlb_breaker__on_result(&b, t, true, &ev), 1);
	assert_event(&ev, XLB_BREAKER_HALF_OPEN, XLB_BREAKER_CLOSED, XLB_BREAKER_R_RECOVERED, 0);
	assert_true(xlb_breaker__in_service(&b));
	assert_true(b.slow_start);
	assert_int_equal(b.since_ms, t);
	assert_int_equal(xlb_breaker__effective_weight(&b, 100, t), 10);
	assert_int_equal(xlb_breaker__next_check_delay(&b, t), 1000);
	assert_int_equal(b.ejections, 1);
}

static void test_half_open_failure_doubles_and_caps(void **state)
{
	struct xlb_breaker b;
	struct xlb_breaker_event ev;
	__u64 t = T0;
	const __u32 want[] = {1000, 2000, 4000, 4000, 4000};
	unsigned int i;

	(void)state;
	init_closed(&b, t);
	assert_int_equal(eject(&b, t), want[0]);
	for (i = 1; i < sizeof(want) / sizeof(want[0]); i++) {
		t = b.open_until_ms;
		assert_int_equal(xlb_breaker__tick(&b, t, &ev), 1);
		assert_int_equal(b.state, XLB_BREAKER_HALF_OPEN);
		/* One success, then a failure: back to OPEN, doubled. */
		t += 500;
		assert_int_equal(xlb_breaker__on_result(&b, t, true, &ev), 0);
		t += 500;
		assert_int_equal(xlb_breaker__on_result(&b, t, false, &ev), 1);
		assert_event(&ev, XLB_BREAKER_HALF_OPEN, XLB_BREAKER_OPEN,
			     XLB_BREAKER_R_PROBE_FAILED, want[i]);
		assert_int_equal(b.open_until_ms, t + want[i]);
		assert_int_equal(b.last_ejection_ms, want[i]);
		assert_int_equal(b.ejections, i + 1);
		assert_int_equal(xlb_breaker__tick(&b, t + want[i] - 1, &ev), 0);
	}
	/* out_since stays the first ejection's: it never came back. */
	assert_int_equal(b.out_since_ms, T0);
}

/* Re-ejection soon after closing doubles too; a long healthy period resets. */
static void test_backoff_reset(void **state)
{
	struct xlb_breaker b;
	struct xlb_breaker_event ev;
	__u64 t = T0, closed;

	(void)state;
	init_closed(&b, t);
	assert_int_equal(eject(&b, t), 1000);
	t = b.open_until_ms;
	assert_int_equal(xlb_breaker__tick(&b, t, &ev), 1);
	assert_int_equal(feed(&b, t, true, 2, &ev), 1);
	assert_int_equal(b.state, XLB_BREAKER_CLOSED);
	closed = t;
	assert_int_equal(b.backoff_ms, 2000);

	/* Healthy for less than 10 x 1000 ms: the next ejection is doubled. */
	t = closed + 9999;
	assert_int_equal(xlb_breaker__tick(&b, t, &ev), 0);
	assert_int_equal(b.backoff_ms, 2000);
	assert_int_equal(eject(&b, t), 2000);

	/* Back, and healthy for exactly 10 x 2000 ms: reset to base. */
	t = b.open_until_ms;
	assert_int_equal(xlb_breaker__tick(&b, t, &ev), 1);
	assert_int_equal(feed(&b, t, true, 2, &ev), 1);
	closed = t;
	assert_int_equal(b.backoff_ms, 4000);
	assert_int_equal(xlb_breaker__next_deadline(&b, closed + 8000), closed + 20000);
	assert_int_equal(xlb_breaker__tick(&b, closed + 19999, &ev), 0);
	assert_int_equal(b.backoff_ms, 4000);
	assert_int_equal(xlb_breaker__tick(&b, closed + 20000, &ev), 0); /* silent */
	assert_int_equal(b.backoff_ms, 1000);
	assert_int_equal(xlb_breaker__next_deadline(&b, closed + 20000), XLB_BREAKER_NEVER);
	assert_int_equal(eject(&b, closed + 30000), 1000);
	assert_int_equal(b.ejections, 3);

	/* Without a tick, a result after the period sees the reset too. */
	t = b.open_until_ms;
	assert_int_equal(xlb_breaker__tick(&b, t, &ev), 1);
	assert_int_equal(feed(&b, t, true, 2, &ev), 1);
	assert_int_equal(b.backoff_ms, 2000);
	assert_int_equal(eject(&b, t + 10000), 1000);
}

static void test_slow_start_weights(void **state)
{
	struct xlb_breaker b;
	struct xlb_breaker_event ev;
	__u64 t = T0, c;

	(void)state;
	assert_int_equal(xlb_breaker__init(&b, &P, t, XLB_BREAKER_PENDING), 0);
	t += 250;
	assert_int_equal(xlb_breaker__on_result(&b, t, true, &ev), 1);
	assert_event(&ev, XLB_BREAKER_PENDING, XLB_BREAKER_CLOSED, XLB_BREAKER_R_FIRST_SUCCESS, 0);
	c = t;

	/* 8 s ramp in 4 steps of 2 s: 10%, 32.5%, 55%, 77.5%, then 100%. */
	assert_int_equal(xlb_breaker__effective_weight(&b, 100, c), 10);
	assert_int_equal(xlb_breaker__effective_weight(&b, 100, c + 1999), 10);
	assert_int_equal(xlb_breaker__next_deadline(&b, c), c + 2000);
	assert_int_equal(xlb_breaker__effective_weight(&b, 100, c + 2000), 32);
	assert_int_equal(xlb_breaker__next_deadline(&b, c + 2000), c + 4000);
	assert_int_equal(xlb_breaker__effective_weight(&b, 100, c + 3999), 32);
	assert_int_equal(xlb_breaker__effective_weight(&b, 100, c + 4000), 55);
	assert_int_equal(xlb_breaker__effective_weight(&b, 100, c + 6000), 77);
	assert_int_equal(xlb_breaker__effective_weight(&b, 100, c + 7999), 77);
	assert_int_equal(xlb_breaker__next_deadline(&b, c + 7999), c + 8000);
	assert_int_equal(xlb_breaker__effective_weight(&b, 100, c + 8000), 100);
	assert_int_equal(xlb_breaker__next_deadline(&b, c + 8000), XLB_BREAKER_NEVER);
	/* Other weights scale; never below 1. */
	assert_int_equal(xlb_breaker__effective_weight(&b, 65535, c), 6553);
	assert_int_equal(xlb_breaker__effective_weight(&b, 65535, c + 6000), 50789);
	assert_int_equal(xlb_breaker__effective_weight(&b, 1, c), 1);
	assert_int_equal(xlb_breaker__effective_weight(&b, 3, c + 2000), 1);
	assert_int_equal(xlb_breaker__effective_weight(&b, 3, c + 4000), 1);
	assert_int_equal(xlb_breaker__effective_weight(&b, 3, c + 6000), 2);

	/* The ramp's end clears the flag. */
	assert_true(b.slow_start);
	assert_int_equal(xlb_breaker__tick(&b, c + 8000, &ev), 0);
	assert_false(b.slow_start);
	assert_int_equal(xlb_breaker__effective_weight(&b, 100, c + 8000), 100);

	/* A ramp that does not divide evenly: steps at ceil(k * 10 / 4) ms. */
	{
		struct xlb_breaker_params p = P;

		p.slow_start_ms = 10;
		assert_int_equal(xlb_breaker__init(&b, &p, T0, XLB_BREAKER_PENDING), 0);
		assert_int_equal(xlb_breaker__on_result(&b, T0, true, &ev), 1);
		assert_int_equal(xlb_breaker__next_deadline(&b, T0), T0 + 3);
		assert_int_equal(xlb_breaker__effective_weight(&b, 100, T0 + 2), 10);
		assert_int_equal(xlb_breaker__effective_weight(&b, 100, T0 + 3), 32);
		assert_int_equal(xlb_breaker__next_deadline(&b, T0 + 3), T0 + 5);
		assert_int_equal(xlb_breaker__effective_weight(&b, 100, T0 + 5), 55);
		assert_int_equal(xlb_breaker__next_deadline(&b, T0 + 5), T0 + 8);
		assert_int_equal(xlb_breaker__effective_weight(&b, 100, T0 + 8), 77);
		assert_int_equal(xlb_breaker__next_deadline(&b, T0 + 8), T0 + 10);
		assert_int_equal(xlb_breaker__effective_weight(&b, 100, T0 + 10), 100);
	}

	/* slow_start_ms 0: full weight at once. */
	{
		struct xlb_breaker_params p = P;

		p.slow_start_ms = 0;
		assert_int_equal(xlb_breaker__init(&b, &p, T0, XLB_BREAKER_PENDING), 0);
		assert_int_equal(xlb_breaker__on_result(&b, T0, true, &ev), 1);
		assert_false(b.slow_start);
		assert_int_equal(xlb_breaker__effective_weight(&b, 100, T0), 100);
		assert_int_equal(xlb_breaker__next_deadline(&b, T0), XLB_BREAKER_NEVER);
	}
}

static void test_pending(void **state)
{
	struct xlb_breaker b;
	struct xlb_breaker_event ev;
	__u64 t = T0;

	(void)state;
	assert_int_equal(xlb_breaker__init(&b, &P, t, XLB_BREAKER_PENDING), 0);
	assert_false(xlb_breaker__in_service(&b));
	assert_int_equal(xlb_breaker__effective_weight(&b, 100, t), 0);
	assert_int_equal(xlb_breaker__next_check_delay(&b, t), 1000);
	assert_int_equal(xlb_breaker__next_deadline(&b, t), XLB_BREAKER_NEVER);
	assert_int_equal(xlb_breaker__time_to_change(&b, t), XLB_BREAKER_NEVER);

	/* Failures, many more than fall: still pending, never ejected. */
	assert_int_equal(feed(&b, t + 1000, false, 10, &ev), 0);
	assert_int_equal(b.state, XLB_BREAKER_PENDING);
	assert_int_equal(b.failures, 10);
	assert_int_equal(b.ejections, 0);
	assert_int_equal(xlb_breaker__tick(&b, t + 100000, &ev), 0);
	assert_int_equal(b.state, XLB_BREAKER_PENDING);

	/* The first success admits it (one, not rise), with a ramp. */
	t += 200000;
	assert_int_equal(xlb_breaker__on_result(&b, t, true, &ev), 1);
	assert_event(&ev, XLB_BREAKER_PENDING, XLB_BREAKER_CLOSED, XLB_BREAKER_R_FIRST_SUCCESS, 0);
	assert_true(xlb_breaker__in_service(&b));
	assert_true(b.slow_start);
	assert_int_equal(b.backoff_ms, 1000);
	/* Then it is an ordinary CLOSED backend. */
	assert_int_equal(eject(&b, t + 1000), 1000);
}

static void test_set_params(void **state)
{
	struct xlb_breaker b;
	struct xlb_breaker_params p = P;
	struct xlb_breaker_event ev;

	(void)state;
	init_closed(&b, T0);
	assert_int_equal(eject(&b, T0), 1000);
	assert_int_equal(b.backoff_ms, 2000);
	p.base_ejection_ms = 3000;
	p.max_ejection_ms = 3000;
	p.fall = 1;
	assert_int_equal(xlb_breaker__set_params(&b, &p), 0);
	assert_int_equal(b.backoff_ms, 3000);
	assert_int_equal(b.open_until_ms, T0 + 1000); /* the running ejection stands */
	assert_int_equal(xlb_breaker__tick(&b, T0 + 1000, &ev), 1);
	assert_int_equal(xlb_breaker__on_result(&b, T0 + 1000, false, &ev), 1);
	assert_int_equal(ev.ejection_ms, 3000);
}

/* Four backends, 50%: two may be out, the third stays in with panic. */
static void test_panic_threshold(void **state)
{
	struct xlb_breaker be[4], *v[4] = {&be[0], &be[1], &be[2], &be[3]};
	struct xlb_breaker_event ev;
	bool panic = true;
	__u64 t = T0;
	unsigned int i;

	(void)state;
	for (i = 0; i < 4; i++)
		init_closed(&be[i], t);
	assert_int_equal(xlb_breaker__vip_apply_panic(v, 4, 50, &panic), 0);
	assert_false(panic);

	eject(&be[0], t + 1000);
	assert_int_equal(xlb_breaker__vip_apply_panic(v, 4, 50, &panic), 0);
	assert_false(panic);
	assert_false(xlb_breaker__in_service(&be[0]));

	eject(&be[1], t + 2000);
	assert_int_equal(xlb_breaker__vip_apply_panic(v, 4, 50, &panic), 0);
	assert_false(panic);
	assert_false(xlb_breaker__in_service(&be[1]));

	/* The third would make 75% > 50%: it stays in, at full weight. */
	eject(&be[2], t + 3000);
	assert_false(xlb_breaker__in_service(&be[2])); /* until panic decides */
	assert_int_equal(xlb_breaker__vip_apply_panic(v, 4, 50, &panic), 1);
	assert_true(panic);
	assert_true(be[2].panic_kept);
	assert_int_equal(be[2].state, XLB_BREAKER_OPEN);
	assert_true(xlb_breaker__in_service(&be[2]));
	assert_int_equal(xlb_breaker__effective_weight(&be[2], 100, t + 3000), 100);
	assert_false(xlb_breaker__in_service(&be[0]));
	assert_false(xlb_breaker__in_service(&be[1]));
	assert_true(xlb_breaker__in_service(&be[3]));
	/* Idempotent. */
	assert_int_equal(xlb_breaker__vip_apply_panic(v, 4, 50, &panic), 0);
	assert_true(panic);

	/* The fourth too: kept in as well. */
	eject(&be[3], t + 3500);
	assert_int_equal(xlb_breaker__vip_apply_panic(v, 4, 50, &panic), 1);
	assert_true(panic);
	assert_true(xlb_breaker__in_service(&be[3]));

	/* Sticky: be[0] goes OPEN -> HALF_OPEN -> OPEN again (more recent
	 * transition than be[2]'s) and still stays out; be[2] stays in.
	 */
	assert_int_equal(xlb_breaker__tick(&be[0], t + 2000, &ev), 1);
	assert_int_equal(xlb_breaker__on_result(&be[0], t + 4000, false, &ev), 1);
	assert_int_equal(xlb_breaker__tick(&be[2], t + 4000, &ev), 1);
	assert_int_equal(xlb_breaker__vip_apply_panic(v, 4, 50, &panic), 0);
	assert_false(xlb_breaker__in_service(&be[0]));
	assert_true(xlb_breaker__in_service(&be[2]));
	assert_int_equal(be[2].state, XLB_BREAKER_HALF_OPEN);

	/* be[1] recovers: room for one ejection; the longest out of the kept
	 * ones (be[2], out since t+3000) leaves the table, be[3] stays.
	 */
	assert_int_equal(xlb_breaker__tick(&be[1], t + 4000, &ev), 1);
	assert_int_equal(feed(&be[1], t + 5000, true, 2, &ev), 1);
	assert_int_equal(be[1].state, XLB_BREAKER_CLOSED);
	assert_int_equal(xlb_breaker__vip_apply_panic(v, 4, 50, &panic), 1);
	assert_true(panic);
	assert_false(xlb_breaker__in_service(&be[2]));
	assert_true(xlb_breaker__in_service(&be[3]));

	/* be[3], kept in all along, recovers: no ramp, panic is over. */
	assert_int_equal(xlb_breaker__tick(&be[3], t + 6000, &ev), 1);
	assert_int_equal(feed(&be[3], t + 6000, true, 2, &ev), 1);
	assert_int_equal(be[3].state, XLB_BREAKER_CLOSED);
	assert_false(be[3].slow_start);
	assert_false(be[3].panic_kept);
	assert_int_equal(xlb_breaker__effective_weight(&be[3], 100, t + 6000), 100);
	assert_int_equal(xlb_breaker__vip_apply_panic(v, 4, 50, &panic), 0);
	assert_false(panic);
	assert_false(xlb_breaker__in_service(&be[0]));
	assert_false(xlb_breaker__in_service(&be[2]));
}

/* Pending backends count as out; ties go to the later index. */
static void test_panic_pending_and_edges(void **state)
{
	struct xlb_breaker be[4], *v[4] = {&be[0], &be[1], &be[2], &be[3]};
	bool panic;
	unsigned int i;

	(void)state;
	/* A new VIP: all four pending at once, 50%: two kept in. */
	for (i = 0; i < 4; i++)
		assert_int_equal(xlb_breaker__init(&be[i], &P, T0, XLB_BREAKER_PENDING), 0);
	assert_int_equal(xlb_breaker__vip_apply_panic(v, 4, 50, &panic), 2);
	assert_true(panic);
	assert_false(xlb_breaker__in_service(&be[0]));
	assert_false(xlb_breaker__in_service(&be[1]));
	assert_true(xlb_breaker__in_service(&be[2]));
	assert_true(xlb_breaker__in_service(&be[3]));

	/* 100%: everything may go. */
	assert_int_equal(xlb_breaker__vip_apply_panic(v, 4, 100, &panic), 2);
	assert_false(panic);
	for (i = 0; i < 4; i++)
		assert_false(xlb_breaker__in_service(&be[i]));
	assert_int_equal(xlb_breaker__vip_apply_panic(v, 4, 1000, &panic), 0);

	/* 0%: nothing may go. */
	assert_int_equal(xlb_breaker__vip_apply_panic(v, 4, 0, &panic), 4);
	assert_true(panic);
	for (i = 0; i < 4; i++)
		assert_true(xlb_breaker__in_service(&be[i]));

	/* One backend at 50%: never ejected (it would be 100%). */
	init_closed(&be[0], T0);
	eject(&be[0], T0);
	assert_int_equal(xlb_breaker__vip_apply_panic(v, 1, 50, &panic), 1);
	assert_true(panic);
	assert_true(xlb_breaker__in_service(&be[0]));

	/* 3 backends at 34%: floor(1.02) = 1 may go. */
	for (i = 0; i < 3; i++)
		init_closed(&be[i], T0);
	eject(&be[0], T0 + 1);
	eject(&be[1], T0 + 2);
	assert_int_equal(xlb_breaker__vip_apply_panic(v, 3, 34, NULL), 1);
	assert_false(xlb_breaker__in_service(&be[0]));
	assert_true(xlb_breaker__in_service(&be[1]));

	/* Empty VIP; bad input. */
	assert_int_equal(xlb_breaker__vip_apply_panic(NULL, 0, 50, &panic), 0);
	assert_false(panic);
	assert_int_equal(xlb_breaker__vip_apply_panic(NULL, 2, 50, &panic), -EINVAL);
	v[1] = NULL;
	assert_int_equal(xlb_breaker__vip_apply_panic(v, 2, 50, &panic), -EINVAL);
}

static void test_event_str(void **state)
{
	struct xlb_breaker b;
	struct xlb_breaker_event ev;
	char buf[160];

	(void)state;
	init_closed(&b, T0);
	eject(&b, T0);
	assert_int_equal(xlb_breaker__on_result(&b, T0, false, &ev), 0);
	b.failures = 3;
	ev = (struct xlb_breaker_event){XLB_BREAKER_CLOSED, XLB_BREAKER_OPEN,
					XLB_BREAKER_R_FAILURES, 1000};
	xlb_breaker__event_str(&ev, &b, buf, sizeof(buf));
	assert_string_equal(buf,
			    "circuit closed -> open (3 consecutive failures), ejected for 1000 ms");

	assert_int_equal(xlb_breaker__tick(&b, T0 + 1000, &ev), 1);
	xlb_breaker__event_str(&ev, &b, buf, sizeof(buf));
	assert_string_equal(buf, "circuit open -> half_open (ejection of 1000 ms over), probing");

	assert_int_equal(feed(&b, T0 + 1000, true, 2, &ev), 1);
	xlb_breaker__event_str(&ev, &b, buf, sizeof(buf));
	assert_string_equal(buf, "circuit half_open -> closed (2 consecutive successes), "
				 "slow start over 8000 ms");

	eject(&b, T0 + 2000);
	assert_int_equal(xlb_breaker__tick(&b, T0 + 4000, &ev), 1);
	assert_int_equal(xlb_breaker__on_result(&b, T0 + 4000, false, &ev), 1);
	xlb_breaker__event_str(&ev, &b, buf, sizeof(buf));
	assert_string_equal(buf, "circuit half_open -> open (check failed while probing), "
				 "ejected for 4000 ms");

	assert_int_equal(xlb_breaker__init(&b, &P, T0, XLB_BREAKER_PENDING), 0);
	assert_int_equal(xlb_breaker__on_result(&b, T0, true, &ev), 1);
	xlb_breaker__event_str(&ev, &b, buf, sizeof(buf));
	assert_string_equal(buf, "circuit pending -> closed (first successful check), "
				 "slow start over 8000 ms");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_params_from_config),
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_half_open_failure_doubles_and_caps),
		cmocka_unit_test(test_backoff_reset),
		cmocka_unit_test(test_slow_start_weights),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_set_params),
		cmocka_unit_test(test_panic_threshold),
		cmocka_unit_test(test_panic_pending_and_edges),
		cmocka_unit_test(test_event_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
